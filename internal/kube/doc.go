// Package kube puts ltk on Kubernetes and takes it off again: the manifests
// (embedded templates, rendered from Values), the Secrets that hold device
// keys and credentials, and the steps of ltk setup and ltk teardown — tool
// checks, the GKE cluster, the image build and push to Artifact Registry,
// kubectl apply, waiting for the pods and diagnosing the ones that are stuck.
//
// Every external command goes through a Runner, so that a dry run prints
// the commands instead and tests run recording stand-ins for gcloud, kubectl
// and docker.
package kube
