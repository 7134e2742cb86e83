package kube

import (
	"context"
	"errors"
	"fmt"
	"strings"
)

// cluster picks the kubectl context: the current one with UseContext, else
// the GKE cluster, created when it does not exist.
func (s *setup) cluster(ctx context.Context) error {
	if s.cfg.UseContext {
		out, err := s.r.Run(ctx, Cmd{Name: "kubectl", Args: []string{"config", "current-context"}, Query: true})
		switch {
		case errors.Is(err, ErrDryRun):
			s.kctx = "CURRENT-CONTEXT"
		case err != nil:
			return fmt.Errorf("no current kubectl context (point kubectl at a cluster, or drop --use-context to create one on GKE): %w", err)
		default:
			s.kctx = strings.TrimSpace(string(out))
		}
		if s.state.Context != s.kctx {
			s.state = State{Namespace: s.state.Namespace, Image: s.state.Image} // another cluster: nothing of the old state applies
		}
		s.state.Context = s.kctx
		s.printf("using kubectl context %s", s.kctx)
		return nil
	}
	c := &s.cfg
	s.kctx = c.gkeContext()
	where := []string{"--zone", c.Zone, "--project", c.Project}
	sameCluster := s.state.Project == c.Project && s.state.Zone == c.Zone && s.state.Cluster == c.Cluster
	if !sameCluster {
		s.state.CreatedCluster = false
	}
	s.state.Project, s.state.Zone, s.state.Cluster, s.state.Context = c.Project, c.Zone, c.Cluster, s.kctx
	exists, err := s.exists(ctx, Cmd{Name: "gcloud", Args: append([]string{"container", "clusters", "describe", c.Cluster,
		"--format=value(name)"}, where...)})
	if err != nil {
		return fmt.Errorf("look for GKE cluster %s: %w", c.Cluster, err)
	}
	if exists {
		s.printf("GKE cluster %s exists in %s", c.Cluster, c.Zone)
	} else {
		s.printf("creating GKE cluster %s (%d × %s) in %s; this takes a few minutes", c.Cluster, c.Nodes, c.MachineType, c.Zone)
		if _, err := s.r.Run(ctx, Cmd{Name: "gcloud", Args: []string{"services", "enable", "container.googleapis.com", "--project", c.Project}}); err != nil {
			return fmt.Errorf("enable the Kubernetes Engine API: %w", err)
		}
		create := Cmd{Name: "gcloud", Stream: true, Args: append([]string{"container", "clusters", "create", c.Cluster,
			"--num-nodes", fmt.Sprint(c.Nodes), "--machine-type", c.MachineType, "--quiet"}, where...)}
		if _, err := s.r.Run(ctx, create); err != nil {
			return fmt.Errorf("create GKE cluster %s: %w", c.Cluster, err)
		}
		s.state.CreatedCluster = true
		if err := s.saveState(); err != nil {
			return err
		}
	}
	creds := Cmd{Name: "gcloud", Args: append([]string{"container", "clusters", "get-credentials", c.Cluster}, where...)}
	if _, err := s.r.Run(ctx, creds); err != nil {
		return fmt.Errorf("get credentials for GKE cluster %s: %w", c.Cluster, err)
	}
	return nil
}

// exists runs a describe command and tells found from not found; other
// failures (no login, no permission) are errors. A dry run assumes absent.
func (s *setup) exists(ctx context.Context, describe Cmd) (bool, error) {
	describe.Query = true
	_, err := s.r.Run(ctx, describe)
	var ce *CmdError
	switch {
	case err == nil:
		return true, nil
	case errors.Is(err, ErrDryRun):
		return false, nil
	case errors.As(err, &ce) && notFound(ce.Stderr):
		return false, nil
	}
	return false, err
}

// notFound reports whether a gcloud error says the resource does not exist.
func notFound(stderr string) bool {
	l := strings.ToLower(stderr)
	return strings.Contains(l, "not found") || strings.Contains(l, "not_found") || strings.Contains(l, "code=404")
}

// image builds the image and pushes it, creating the Artifact Registry
// repository when needed. A failed push stops setup before anything is applied.
func (s *setup) image(ctx context.Context) error {
	c := &s.cfg
	img := s.state.Image
	if !c.Build {
		s.printf("deploying image %s (not built: --build=false)", img)
		return nil
	}
	if c.usesArtifactRegistry() {
		if err := s.repository(ctx); err != nil {
			return err
		}
		login := Cmd{Name: "gcloud", Args: []string{"auth", "configure-docker", c.registryHost(), "--quiet"}}
		if _, err := s.r.Run(ctx, login); err != nil {
			return fmt.Errorf("let docker push to %s: %w", c.registryHost(), err)
		}
	}
	s.printf("building image %s", img)
	build := Cmd{Name: "docker", Stream: true, Args: []string{"build", "--platform", c.Platform,
		"--build-arg", "VERSION=" + c.Tag, "--tag", img, c.Source}}
	if _, err := s.r.Run(ctx, build); err != nil {
		return fmt.Errorf("build image %s (nothing was applied): %w", img, err)
	}
	s.printf("pushing image %s", img)
	if _, err := s.r.Run(ctx, Cmd{Name: "docker", Stream: true, Args: []string{"push", img}}); err != nil {
		hint := "check that docker is logged in to the registry"
		if c.usesArtifactRegistry() {
			hint = fmt.Sprintf("check 'gcloud auth configure-docker %s' and that your account may write to the repository (roles/artifactregistry.writer)", c.registryHost())
		}
		return fmt.Errorf("push image %s failed, so nothing was applied; %s: %w", img, hint, err)
	}
	return nil
}

// repository makes sure the Artifact Registry Docker repository exists.
func (s *setup) repository(ctx context.Context) error {
	c := &s.cfg
	where := []string{"--location", c.region(), "--project", c.Project}
	if s.state.Region != c.region() || s.state.Repository != DefaultRepository {
		s.state.CreatedRepository = false
	}
	s.state.Region, s.state.Repository = c.region(), DefaultRepository
	exists, err := s.exists(ctx, Cmd{Name: "gcloud", Args: append([]string{"artifacts", "repositories", "describe",
		DefaultRepository, "--format=value(name)"}, where...)})
	if err != nil {
		return fmt.Errorf("look for Artifact Registry repository %s: %w", DefaultRepository, err)
	}
	if exists {
		return nil
	}
	s.printf("creating Artifact Registry repository %s in %s", DefaultRepository, c.region())
	if _, err := s.r.Run(ctx, Cmd{Name: "gcloud", Args: []string{"services", "enable", "artifactregistry.googleapis.com", "--project", c.Project}}); err != nil {
		return fmt.Errorf("enable the Artifact Registry API: %w", err)
	}
	create := Cmd{Name: "gcloud", Args: append([]string{"artifacts", "repositories", "create", DefaultRepository,
		"--repository-format=docker", "--description=ltk load-test images"}, where...)}
	if _, err := s.r.Run(ctx, create); err != nil {
		return fmt.Errorf("create Artifact Registry repository %s: %w", DefaultRepository, err)
	}
	s.state.CreatedRepository = true
	return s.saveState()
}
