package kube

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"sigs.k8s.io/yaml"
)

var update = flag.Bool("update", false, "rewrite the deploy/ manifests from the templates")

// deployHeader starts every generated file in deploy/.
const deployHeader = "# Generated from internal/kube/manifests (go test ./internal/kube -update); edit the templates, not this file.\n"

// deployDir is the repository's deploy/ directory.
var deployDir = filepath.Join("..", "..", "deploy")

// deployPath is where a rendered manifest lives in deploy/: the target in
// its own kustomize component, the rest in the base.
func deployPath(m Manifest) string {
	if m.Name == "target.yaml" {
		return filepath.Join(deployDir, "target", m.Name)
	}
	return filepath.Join(deployDir, "base", m.Name)
}

func TestDeployMatchesTemplates(t *testing.T) {
	ms, err := Render(DeployValues())
	require.NoError(t, err)
	for _, m := range ms {
		want := deployHeader + string(m.Data)
		path := deployPath(m)
		if *update {
			require.NoError(t, os.WriteFile(path, []byte(want), 0o644))
			continue
		}
		got, err := os.ReadFile(path)
		require.NoError(t, err, "run go test ./internal/kube -update")
		require.Equal(t, want, string(got), "%s is stale: run go test ./internal/kube -update", path)
		decode(t, got)
	}
}

func TestDeployKustomizations(t *testing.T) {
	t.Parallel()
	ms, err := Render(DeployValues())
	require.NoError(t, err)
	lists := map[string][]string{}
	for _, m := range ms {
		dir := filepath.Dir(deployPath(m))
		lists[dir] = append(lists[dir], m.Name)
	}
	for dir, files := range lists {
		b, err := os.ReadFile(filepath.Join(dir, "kustomization.yaml"))
		require.NoError(t, err)
		var k struct {
			Kind      string   `json:"kind"`
			Resources []string `json:"resources"`
		}
		require.NoError(t, yaml.Unmarshal(b, &k), dir)
		require.ElementsMatch(t, files, k.Resources, "%s/kustomization.yaml lists every manifest", dir)
	}
	// deploy/example patches the master's --expect-workers argument by index.
	o := decode(t, ms[2].Data)
	require.True(t, strings.HasPrefix(o.deployments[0].Spec.Template.Spec.Containers[0].Args[5], "--expect-workers="))
	ex, err := os.ReadFile(filepath.Join(deployDir, "example", "kustomization.yaml"))
	require.NoError(t, err)
	require.Contains(t, string(ex), "path: /spec/template/spec/containers/0/args/5")
	for _, f := range []string{"base/kustomization.yaml", "target/kustomization.yaml"} {
		b, err := os.ReadFile(filepath.Join(deployDir, f))
		require.NoError(t, err)
		require.NotContains(t, string(b), "PRIVATE", f)
	}
}
