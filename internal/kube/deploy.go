package kube

// DeployValues are the values the kustomize base in the repository's deploy/
// directory is rendered from (a test keeps the two in step): a plain image
// name for kustomize's images: to replace, IfNotPresent, two workers, and an
// empty ltk-settings ConfigMap for an overlay to fill.
func DeployValues() Values {
	return Values{Image: "ltk", ImagePullPolicy: "IfNotPresent", Workers: DefaultWorkers, Target: true}
}
