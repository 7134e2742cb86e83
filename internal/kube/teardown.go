package kube

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
)

// TeardownConfig is what ltk teardown deletes.
type TeardownConfig struct {
	// StatePath is the record ltk setup wrote; without one, teardown only
	// deletes Namespace in the current kubectl context.
	StatePath string
	Namespace string // used when there is no state file; default DefaultNamespace
	// Confirm is asked with the plan before anything is deleted; false
	// stops teardown. Nil deletes without asking (--yes).
	Confirm func(plan string) bool
	Out     io.Writer
	Path    string // PATH list for the tools (empty: the process's)
	DryRun  bool
}

// ErrNotConfirmed is returned when the user does not confirm the teardown.
var ErrNotConfirmed = errors.New("teardown not confirmed; nothing was deleted")

// Teardown deletes what Setup made: the namespace (with the pods, Services,
// load balancer and Secrets), then the GKE cluster and the Artifact Registry
// repository, each only if setup created it.
func Teardown(ctx context.Context, cfg TeardownConfig, r Runner) error {
	if cfg.Out == nil {
		cfg.Out = io.Discard
	}
	if cfg.Namespace == "" {
		cfg.Namespace = DefaultNamespace
	}
	st, ok, err := LoadState(cfg.StatePath)
	if err != nil {
		return err
	}
	tools := []string{"kubectl"}
	if st.CreatedCluster || st.CreatedRepository {
		tools = append(tools, "gcloud")
	}
	if err := CheckTools(cfg.Path, tools...); err != nil && !cfg.DryRun {
		return err
	}
	if !ok {
		st.Namespace = cfg.Namespace
		out, err := r.Run(ctx, Cmd{Name: "kubectl", Args: []string{"config", "current-context"}, Query: true})
		switch {
		case errors.Is(err, ErrDryRun):
			st.Context = "CURRENT-CONTEXT"
		case err != nil:
			return fmt.Errorf("no record of ltk setup (%s) and no current kubectl context: nothing to delete: %w", cfg.StatePath, err)
		default:
			st.Context = strings.TrimSpace(string(out))
		}
		fmt.Fprintf(cfg.Out, "LTK: no record of ltk setup at %s; only namespace %s in context %s will be deleted\n",
			cfg.StatePath, st.Namespace, st.Context)
	}
	plan := teardownPlan(st)
	fmt.Fprint(cfg.Out, plan)
	if !cfg.DryRun && cfg.Confirm != nil && !cfg.Confirm(plan) {
		return ErrNotConfirmed
	}
	del := Cmd{Name: "kubectl", Stream: true, Args: []string{"--context", st.Context, "delete", "namespace", st.Namespace,
		"--ignore-not-found", "--wait=true", "--timeout=10m"}}
	if _, err := r.Run(ctx, del); err != nil {
		return fmt.Errorf("delete namespace %s: %w (re-run ltk teardown to try again)", st.Namespace, err)
	}
	if st.CreatedCluster {
		c := Cmd{Name: "gcloud", Stream: true, Args: []string{"container", "clusters", "delete", st.Cluster,
			"--zone", st.Zone, "--project", st.Project, "--quiet"}}
		if _, err := r.Run(ctx, c); err != nil {
			var ce *CmdError
			if !errors.As(err, &ce) || !notFound(ce.Stderr) {
				return fmt.Errorf("delete GKE cluster %s: %w (re-run ltk teardown to try again)", st.Cluster, err)
			}
		}
	}
	if st.CreatedRepository {
		c := Cmd{Name: "gcloud", Args: []string{"artifacts", "repositories", "delete", st.Repository,
			"--location", st.Region, "--project", st.Project, "--quiet"}}
		if _, err := r.Run(ctx, c); err != nil {
			var ce *CmdError
			if !errors.As(err, &ce) || !notFound(ce.Stderr) {
				return fmt.Errorf("delete Artifact Registry repository %s: %w (re-run ltk teardown to try again)", st.Repository, err)
			}
		}
	}
	if cfg.DryRun {
		fmt.Fprintln(cfg.Out, "LTK: dry run: nothing was deleted.")
		return nil
	}
	if ok {
		if err := os.Remove(cfg.StatePath); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("remove %s: %w", cfg.StatePath, err)
		}
	}
	fmt.Fprintln(cfg.Out, "LTK: Test teardown complete.")
	return nil
}

// teardownPlan lists what Teardown deletes, and what it keeps.
func teardownPlan(st State) string {
	var b strings.Builder
	b.WriteString("ltk teardown will delete:\n")
	fmt.Fprintf(&b, "  - namespace %s in kubectl context %s (master, workers, target, Services with the load balancer, Secrets)\n",
		st.Namespace, st.Context)
	if st.CreatedCluster {
		fmt.Fprintf(&b, "  - GKE cluster %s in %s, project %s (ltk setup created it)\n", st.Cluster, st.Zone, st.Project)
	} else if st.Cluster != "" {
		fmt.Fprintf(&b, "It keeps GKE cluster %s, which ltk setup did not create.\n", st.Cluster)
	}
	if st.CreatedRepository {
		fmt.Fprintf(&b, "  - Artifact Registry repository %s in %s, with its images (ltk setup created it)\n", st.Repository, st.Region)
	}
	return b.String()
}
