package kube_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ltk-dev/ltk/internal/kube"
	"github.com/ltk-dev/ltk/internal/kube/kubetest"
	"github.com/ltk-dev/ltk/internal/syncbuf"
)

func TestTeardown(t *testing.T) {
	t.Parallel()
	for name, tc := range map[string]struct {
		state     kube.State
		confirm   bool
		wantCalls []string
		wantErr   error
	}{
		"made by setup": {
			state: kube.State{Context: "gke_p-123_us-west1-a_ltk", Namespace: "ltk", Project: "p-123", Zone: "us-west1-a", Cluster: "ltk",
				CreatedCluster: true, Region: "us-west1", Repository: "ltk", CreatedRepository: true},
			confirm: true,
			wantCalls: []string{
				"kubectl --context gke_p-123_us-west1-a_ltk delete namespace ltk --ignore-not-found --wait=true --timeout=10m",
				"gcloud container clusters delete ltk --zone us-west1-a --project p-123 --quiet",
				"gcloud artifacts repositories delete ltk --location us-west1 --project p-123 --quiet",
			},
		},
		"cluster existed before": {
			state: kube.State{Context: "gke_p-123_us-west1-a_ltk", Namespace: "ltk", Project: "p-123", Zone: "us-west1-a", Cluster: "ltk",
				Region: "us-west1", Repository: "ltk"},
			confirm:   true,
			wantCalls: []string{"kubectl --context gke_p-123_us-west1-a_ltk delete namespace ltk --ignore-not-found --wait=true --timeout=10m"},
		},
		"not confirmed": {
			state:   kube.State{Context: "kind-ltk", Namespace: "ltk"},
			wantErr: kube.ErrNotConfirmed,
		},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			tl := kubetest.Install(t)
			tl.Set(t, "cluster", "")
			tl.Set(t, "repo", "")
			path := filepath.Join(t.TempDir(), kube.StateFile)
			require.NoError(t, tc.state.Save(path))
			var out syncbuf.Buffer
			var asked string
			cfg := kube.TeardownConfig{StatePath: path, Out: &out, Path: tl.Path(),
				Confirm: func(plan string) bool { asked = plan; return tc.confirm }}
			err := kube.Teardown(t.Context(), cfg, runner(tl))
			require.Contains(t, asked, "namespace ltk in kubectl context "+tc.state.Context)
			if tc.wantErr != nil {
				require.ErrorIs(t, err, tc.wantErr)
				require.Empty(t, tl.Calls(t))
				require.FileExists(t, path, "the record stays until the teardown is done")
				return
			}
			require.NoError(t, err, out.String())
			require.Equal(t, tc.wantCalls, tl.Calls(t))
			require.Equal(t, !tc.state.CreatedCluster, tl.Has("cluster"))
			require.NoFileExists(t, path)
			require.Contains(t, out.String(), "LTK: Test teardown complete.")
			if !tc.state.CreatedCluster {
				require.Contains(t, asked, "It keeps GKE cluster ltk")
			}
		})
	}
}

func TestTeardownWithoutState(t *testing.T) {
	t.Parallel()
	tl := kubetest.Install(t)
	tl.Set(t, "context", "minikube\n")
	var out syncbuf.Buffer
	cfg := kube.TeardownConfig{StatePath: filepath.Join(t.TempDir(), kube.StateFile), Out: &out, Path: tl.Path()}
	require.NoError(t, kube.Teardown(t.Context(), cfg, runner(tl)))
	require.Equal(t, []string{
		"kubectl config current-context",
		"kubectl --context minikube delete namespace ltk --ignore-not-found --wait=true --timeout=10m",
	}, tl.Calls(t))
	require.Contains(t, out.String(), "no record of ltk setup")
}

func TestTeardownClusterGoneAlready(t *testing.T) {
	t.Parallel()
	tl := kubetest.Install(t) // no cluster, no repository: deleted by hand
	path := filepath.Join(t.TempDir(), kube.StateFile)
	require.NoError(t, kube.State{Context: "gke_p-123_us-west1-a_ltk", Namespace: "ltk", Project: "p-123", Zone: "us-west1-a",
		Cluster: "ltk", CreatedCluster: true, Region: "us-west1", Repository: "ltk", CreatedRepository: true}.Save(path))
	var out syncbuf.Buffer
	require.NoError(t, kube.Teardown(t.Context(), kube.TeardownConfig{StatePath: path, Out: &out, Path: tl.Path()}, runner(tl)))
	require.Len(t, tl.Calls(t), 3)
	_, err := os.Stat(path)
	require.True(t, os.IsNotExist(err))
}

func TestTeardownDryRun(t *testing.T) {
	t.Parallel()
	tl := kubetest.Install(t)
	path := filepath.Join(t.TempDir(), kube.StateFile)
	require.NoError(t, kube.State{Context: "c", Namespace: "ltk", Project: "p-123", Zone: "us-west1-a", Cluster: "ltk", CreatedCluster: true}.Save(path))
	var out syncbuf.Buffer
	cfg := kube.TeardownConfig{StatePath: path, Out: &out, Path: tl.Path(), DryRun: true,
		Confirm: func(string) bool { t.Error("a dry run asks nothing"); return false }}
	require.NoError(t, kube.Teardown(t.Context(), cfg, &kube.DryRunner{Out: &out}))
	require.Empty(t, tl.Calls(t))
	require.FileExists(t, path)
	require.Contains(t, out.String(), "$ gcloud container clusters delete ltk --zone us-west1-a --project p-123 --quiet")
}
