package kube

import (
	"fmt"
	"io"
	"regexp"
	"strings"
	"time"
)

// Defaults of Config.
const (
	DefaultCluster     = "ltk"
	DefaultRepository  = "ltk"
	DefaultMachineType = "e2-standard-4"
	DefaultNodes       = 2
	DefaultPlatform    = "linux/amd64"
	DefaultWaitTimeout = 10 * time.Minute
	DefaultPoll        = 3 * time.Second
	// MaxWorkers is the most worker pods setup deploys.
	MaxWorkers = 1000
)

// Config is what ltk setup does.
type Config struct {
	// UseContext deploys to the current kubectl context (any Kubernetes)
	// instead of a GKE cluster that setup creates when it is missing.
	UseContext bool
	Project    string // GKE and Artifact Registry project (LTK_DRIVER_PROJECT_ID)
	Zone       string // GKE zone (LTK_DRIVER_ZONE); its region hosts the image repository
	Cluster    string // GKE cluster name
	Nodes      int    // GKE nodes (LTK_NUM_GKE_NODES)
	// MachineType is the GKE nodes' machine type.
	MachineType string

	// Image is the image to deploy; empty means
	// REGION-docker.pkg.dev/PROJECT/ltk/ltk:TAG in Artifact Registry.
	Image string
	Tag   string // the default image's tag
	// Build builds Image from Source (a directory holding ltk's Dockerfile)
	// for Platform and pushes it; without it Image must exist already.
	Build    bool
	Source   string
	Platform string

	// Values are the manifests' values; Image is filled in by setup.
	Values Values
	// Secrets are the Secrets' values; an empty cluster token or web
	// password is taken from the cluster when it has one, else generated.
	Secrets Secrets
	// RegistryCSV is the local registry (public keys) for an in-cluster
	// target (Values.Target).
	RegistryCSV []byte

	// StatePath is where setup records what it made (see StateFile).
	StatePath string
	// WaitTimeout bounds the wait for the pods and the UI's address; Poll
	// is how often their state is read.
	WaitTimeout, Poll time.Duration
	// Out receives progress lines.
	Out io.Writer
	// Path is the PATH list the tools are looked up on (empty: the process's).
	Path string
	// DryRun prints the commands and manifests and runs nothing.
	DryRun bool
}

func (c *Config) setDefaults() {
	if c.Cluster == "" {
		c.Cluster = DefaultCluster
	}
	if c.Nodes == 0 {
		c.Nodes = DefaultNodes
	}
	if c.MachineType == "" {
		c.MachineType = DefaultMachineType
	}
	if c.Platform == "" {
		c.Platform = DefaultPlatform
	}
	if c.Tag == "" {
		c.Tag = "latest"
	}
	if c.WaitTimeout <= 0 {
		c.WaitTimeout = DefaultWaitTimeout
	}
	if c.Poll <= 0 {
		c.Poll = DefaultPoll
	}
	if c.Out == nil {
		c.Out = io.Discard
	}
	c.Values.DeviceParts = Parts(c.Secrets.DeviceList)
	if c.Values.Target {
		c.Values.RegistryParts = Parts(c.RegistryCSV)
	}
	if c.Values.ImagePullPolicy == "" {
		c.Values.ImagePullPolicy = c.defaultPullPolicy()
	}
	c.Values.setDefaults()
}

var (
	gcpProject = regexp.MustCompile(`^[a-z][-a-z0-9:.]{4,61}[a-z0-9]$`)
	gcpZone    = regexp.MustCompile(`^[a-z]+-[a-z]+[0-9]+-[a-z]$`)
	imageTag   = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$`)
)

// gke reports whether setup works with GKE and Artifact Registry (gcloud).
func (c *Config) gke() bool { return !c.UseContext }

// usesArtifactRegistry reports whether the image lives in Artifact Registry.
func (c *Config) usesArtifactRegistry() bool {
	return c.Image == "" || strings.Contains(strings.SplitN(c.Image, "/", 2)[0], "-docker.pkg.dev")
}

// Validate checks c after defaults; errors name the setting to fix.
func (c *Config) Validate() error {
	needProject := c.gke() || (c.Build && c.usesArtifactRegistry()) || c.Image == ""
	if needProject {
		if c.Project == "" {
			if c.UseContext {
				return fmt.Errorf("with --use-context, name the image to deploy (--image) or a project for Artifact Registry (LTK_DRIVER_PROJECT_ID)")
			}
			return fmt.Errorf("no project: set LTK_DRIVER_PROJECT_ID (or --driver-project-id), or deploy to the current kubectl context with --use-context")
		}
		if !gcpProject.MatchString(c.Project) {
			return fmt.Errorf("project %q (LTK_DRIVER_PROJECT_ID) is not a Google Cloud project id", c.Project)
		}
		if c.Zone == "" {
			return fmt.Errorf("no zone: set LTK_DRIVER_ZONE (or --driver-zone), e.g. us-west1-a")
		}
		if !gcpZone.MatchString(c.Zone) {
			return fmt.Errorf("zone %q (LTK_DRIVER_ZONE) is not a zone such as us-west1-a", c.Zone)
		}
	}
	if !dnsLabel.MatchString(c.Cluster) {
		return fmt.Errorf("cluster name %q: want lowercase letters, digits and '-'", c.Cluster)
	}
	if c.Nodes < 1 || c.Nodes > 1000 {
		return fmt.Errorf("nodes %d: want 1 to 1000 (LTK_NUM_GKE_NODES)", c.Nodes)
	}
	if !imageTag.MatchString(c.Tag) {
		return fmt.Errorf("image tag %q: want letters, digits, '_', '.' and '-'", c.Tag)
	}
	if c.Build && c.Source == "" {
		return fmt.Errorf("no build context: name the directory holding ltk's Dockerfile (--source)")
	}
	if len(c.Secrets.DeviceList) == 0 && !c.DryRun {
		return fmt.Errorf("the device list is empty: make devices first (ltk devices create 1 100)")
	}
	if c.Values.Target && len(c.RegistryCSV) == 0 && !c.DryRun {
		return fmt.Errorf("--target needs the local registry of public keys: make devices first (ltk devices create 1 100)")
	}
	v := c.Values
	v.Image = c.image()
	return v.Validate()
}

// defaultPullPolicy is Always for an image setup builds and pushes (its tag,
// the ltk version, is pushed again by the next build), and IfNotPresent for an
// image deployed as it is: one loaded onto the nodes (kind load, ctr images
// import, an air-gapped cluster) has no registry to be pulled from, and a
// pushed one is pulled once per node.
func (c *Config) defaultPullPolicy() string {
	if c.Build {
		return PullAlways
	}
	return PullIfNotPresent
}

// region is the zone's region: us-west1-a is in us-west1.
func (c *Config) region() string {
	if i := strings.LastIndexByte(c.Zone, '-'); i > 0 {
		return c.Zone[:i]
	}
	return c.Zone
}

// registryHost is the Artifact Registry Docker host of the region.
func (c *Config) registryHost() string { return c.region() + "-docker.pkg.dev" }

// image is the image to deploy.
func (c *Config) image() string {
	if c.Image != "" {
		return c.Image
	}
	return fmt.Sprintf("%s/%s/%s/ltk:%s", c.registryHost(), c.Project, DefaultRepository, c.Tag)
}

// gkeContext is the kubectl context name that gcloud get-credentials writes.
func (c *Config) gkeContext() string {
	return fmt.Sprintf("gke_%s_%s_%s", c.Project, c.Zone, c.Cluster)
}
