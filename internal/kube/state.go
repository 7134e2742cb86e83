package kube

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// StateFile is the name of the file, in the ltk root, where ltk setup records
// what it made so that ltk teardown deletes that and nothing else.
const StateFile = ".ltk-setup.json"

// State is what ltk setup made. It holds no secrets.
type State struct {
	Context   string `json:"context"`   // kubectl context the manifests went to
	Namespace string `json:"namespace"` // namespace holding everything ltk applied
	Image     string `json:"image,omitempty"`

	Project string `json:"project,omitempty"` // GKE project, zone and cluster
	Zone    string `json:"zone,omitempty"`
	Cluster string `json:"cluster,omitempty"`
	// CreatedCluster is true when setup created the cluster: only then does
	// teardown delete it.
	CreatedCluster bool `json:"createdCluster,omitempty"`

	Region     string `json:"region,omitempty"`     // Artifact Registry location
	Repository string `json:"repository,omitempty"` // Artifact Registry repository
	// CreatedRepository is true when setup created the repository.
	CreatedRepository bool `json:"createdRepository,omitempty"`
}

// LoadState reads the state file at path; ok is false when there is none.
func LoadState(path string) (st State, ok bool, err error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return State{}, false, nil
	}
	if err != nil {
		return State{}, false, fmt.Errorf("read %s: %w", path, err)
	}
	if err := json.Unmarshal(b, &st); err != nil {
		return State{}, false, fmt.Errorf("read %s: %w (fix or remove the file; it records what ltk setup made)", path, err)
	}
	return st, true, nil
}

// Save writes st to path atomically (mode 0644).
func (st State) Save(path string) error {
	b, err := json.MarshalIndent(st, "", "  ")
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".ltk-setup-*.json")
	if err != nil {
		return fmt.Errorf("record setup state: %w", err)
	}
	defer os.Remove(tmp.Name()) // after the rename, a no-op
	if _, err := tmp.Write(append(b, '\n')); err != nil {
		tmp.Close()
		return fmt.Errorf("record setup state: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("record setup state: %w", err)
	}
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		return fmt.Errorf("record setup state: %w", err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("record setup state: %w", err)
	}
	return nil
}
