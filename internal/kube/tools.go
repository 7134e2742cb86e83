package kube

import (
	"fmt"
	"strings"
)

// installHints say how to install each tool ltk setup uses.
var installHints = map[string]string{
	"gcloud":  "install the Google Cloud CLI (https://cloud.google.com/sdk/docs/install), then run 'gcloud auth login'",
	"kubectl": "run 'gcloud components install kubectl' or 'apt-get install kubectl' (https://kubernetes.io/docs/tasks/tools/)",
	"docker":  "install Docker Engine (https://docs.docker.com/engine/install/, or 'apt-get install docker.io') and start its daemon",
}

// MissingToolsError lists the tools that are not on PATH, with how to get each.
type MissingToolsError struct {
	Tools []string
}

// Error names every missing tool and how to install it.
func (e *MissingToolsError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "missing %s on PATH:", strings.Join(e.Tools, ", "))
	for _, t := range e.Tools {
		fmt.Fprintf(&b, "\n  %s: %s", t, installHints[t])
	}
	return b.String()
}

// CheckTools reports the tools of names that are not on pathList.
func CheckTools(pathList string, names ...string) error {
	var missing []string
	for _, n := range names {
		if _, err := LookPath(n, pathList); err != nil {
			missing = append(missing, n)
		}
	}
	if len(missing) > 0 {
		return &MissingToolsError{Tools: missing}
	}
	return nil
}
