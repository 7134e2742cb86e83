package registry

import (
	"context"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"

	iot "cloud.google.com/go/iot/apiv1"
	"cloud.google.com/go/iot/apiv1/iotpb"
	"golang.org/x/sync/errgroup"
	"google.golang.org/api/iterator"
	"google.golang.org/api/option"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"

	"github.com/ltk-dev/ltk/internal/device"
)

// IoTCoreConfig says where an IoT-Core-API registry is.
type IoTCoreConfig struct {
	// Endpoint is the Device Manager service: host:port (TLS, with Google
	// Application Default Credentials), or grpc://host:port for a plaintext
	// endpoint without credentials (a local emulator). Empty is Google's
	// own endpoint, which was retired with Cloud IoT Core in 2023.
	Endpoint string
	Project  string
	Region   string
	Registry string
	// Timeout bounds each call; default DefaultIoTCoreTimeout.
	Timeout time.Duration
	// Parallel is how many devices are created or deleted at once; default 16.
	Parallel int
}

// DefaultIoTCoreTimeout bounds one Device Manager call.
const DefaultIoTCoreTimeout = 30 * time.Second

var pathElem = regexp.MustCompile(`^[A-Za-z0-9][-A-Za-z0-9_.:+%~]*$`)

// Validate checks the configuration; errors name the setting.
func (c *IoTCoreConfig) Validate() error {
	for _, f := range []struct{ name, env, v string }{
		{"project", "LTK_TARGET_PROJECT_ID", c.Project},
		{"region", "LTK_TARGET_REGION", c.Region},
		{"registry", "LTK_TARGET_REGISTRY_ID", c.Registry},
	} {
		if !pathElem.MatchString(f.v) {
			return fmt.Errorf("IoT Core registry %s %q (%s): want letters, digits, '-', '_' or '.'", f.name, f.v, f.env)
		}
	}
	return nil
}

// Parent is the registry's resource name: projects/P/locations/R/registries/G.
func (c *IoTCoreConfig) Parent() string {
	return fmt.Sprintf("projects/%s/locations/%s/registries/%s", c.Project, c.Region, c.Registry)
}

// ClientOptions are the client library options for Endpoint.
func (c *IoTCoreConfig) ClientOptions() ([]option.ClientOption, error) {
	ep := c.Endpoint
	if ep == "" {
		return nil, nil
	}
	if u, err := url.Parse(ep); err == nil && u.Scheme != "" && u.Host != "" {
		switch u.Scheme {
		case "grpc", "http":
			return []option.ClientOption{
				option.WithEndpoint(u.Host),
				option.WithoutAuthentication(),
				option.WithGRPCDialOption(grpc.WithTransportCredentials(insecure.NewCredentials())),
			}, nil
		case "grpcs", "https":
			ep = u.Host
		default:
			return nil, fmt.Errorf("registry endpoint %q: want host:port, grpc://host:port (plaintext) or https://host:port", c.Endpoint)
		}
	}
	if !strings.Contains(ep, ":") {
		ep += ":443"
	}
	return []option.ClientOption{option.WithEndpoint(ep)}, nil
}

// IoTCore is a registry kept by an IoT-Core-API Device Manager service:
// devices are created with their public keys as credentials, which the
// service's MQTT bridge checks device JWTs against. The IDs are read once,
// when it is opened, and kept up to date by Add and Delete.
//
// Its methods run under the context given to OpenIoTCore; it is safe for
// concurrent use. Close releases the connection.
type IoTCore struct {
	cfg    IoTCoreConfig
	ctx    context.Context // bounds every call; the CLI command's context
	client *iot.DeviceManagerClient

	mu  sync.Mutex // Guards ids.
	ids []string   // registered device IDs, sorted
}

// OpenIoTCore connects to the registry of cfg and lists its devices.
func OpenIoTCore(ctx context.Context, cfg IoTCoreConfig) (*IoTCore, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultIoTCoreTimeout
	}
	if cfg.Parallel <= 0 {
		cfg.Parallel = 16
	}
	opts, err := cfg.ClientOptions()
	if err != nil {
		return nil, err
	}
	client, err := iot.NewDeviceManagerClient(ctx, opts...)
	if err != nil {
		return nil, fmt.Errorf("connect to the IoT Core registry at %s: %w", cfg.endpointName(), err)
	}
	r := &IoTCore{cfg: cfg, ctx: ctx, client: client}
	if r.ids, err = r.list(); err != nil {
		client.Close()
		return nil, err
	}
	return r, nil
}

func (c *IoTCoreConfig) endpointName() string {
	if c.Endpoint == "" {
		return "cloudiot.googleapis.com"
	}
	return c.Endpoint
}

// Name describes the registry for messages: its resource name and endpoint.
func (r *IoTCore) Name() string { return r.cfg.Parent() + " at " + r.cfg.endpointName() }

// Close closes the connection to the service.
func (r *IoTCore) Close() error { return r.client.Close() }

// list reads every device ID of the registry, page by page.
func (r *IoTCore) list() ([]string, error) {
	ctx, cancel := context.WithTimeout(r.ctx, r.cfg.Timeout)
	defer cancel()
	it := r.client.ListDevices(ctx, &iotpb.ListDevicesRequest{Parent: r.cfg.Parent()})
	var ids []string
	for {
		d, err := it.Next()
		if errors.Is(err, iterator.Done) {
			break
		}
		if err != nil {
			return nil, r.wrap("list the devices of", err)
		}
		ids = append(ids, d.GetId())
	}
	slices.Sort(ids)
	return ids, nil
}

// wrap says which call failed on which registry, and what to do for the
// usual causes.
func (r *IoTCore) wrap(what string, err error) error {
	msg := fmt.Sprintf("%s IoT Core registry %s: %v", what, r.Name(), err)
	switch status.Code(err) {
	case codes.NotFound:
		msg += " (check LTK_TARGET_PROJECT_ID, LTK_TARGET_REGION and LTK_TARGET_REGISTRY_ID, and that the registry exists)"
	case codes.Unavailable, codes.DeadlineExceeded:
		msg += " (is --registry-endpoint right and the service up?)"
	case codes.Unauthenticated, codes.PermissionDenied:
		msg += " (check the credentials: gcloud auth application-default login, or GOOGLE_APPLICATION_CREDENTIALS)"
	}
	return fmt.Errorf("%s: %w", msg, err)
}

// IDs returns the registered device IDs, sorted.
func (r *IoTCore) IDs() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.ids)
}

// Add registers entries with their public keys. It refuses (with
// *ExistsError, creating nothing) IDs that are registered or repeated; if a
// creation fails, the devices it created are deleted again, so that Add
// registers all of entries or none.
func (r *IoTCore) Add(entries []Entry) error {
	if err := refuseExisting(r.Name(), r.IDs(), entries); err != nil {
		return err
	}
	devs := make([]*iotpb.Device, len(entries))
	for i, e := range entries {
		d, err := iotDevice(e)
		if err != nil {
			return err
		}
		devs[i] = d
	}
	var (
		mu      sync.Mutex
		created []string
	)
	err := r.each(len(devs), func(ctx context.Context, i int) error {
		_, err := r.client.CreateDevice(ctx, &iotpb.CreateDeviceRequest{Parent: r.cfg.Parent(), Device: devs[i]})
		if err != nil {
			return r.wrap("register "+devs[i].GetId()+" in", err)
		}
		mu.Lock()
		created = append(created, devs[i].GetId())
		mu.Unlock()
		return nil
	})
	if err != nil {
		if _, undo := r.deleteIDs(created); undo != nil {
			return fmt.Errorf("%w; removing the %d devices registered before that also failed: %w", err, len(created), undo)
		}
		return err
	}
	r.mu.Lock()
	r.ids = append(r.ids, created...)
	slices.Sort(r.ids)
	r.mu.Unlock()
	return nil
}

// iotDevice is e as a Device Manager device with its key as credential.
func iotDevice(e Entry) (*iotpb.Device, error) {
	if err := e.validate(); err != nil {
		return nil, err
	}
	der, err := x509.MarshalPKIXPublicKey(e.Public)
	if err != nil {
		return nil, fmt.Errorf("device %s: %w", e.ID, err)
	}
	format := iotpb.PublicKeyFormat_RSA_PEM
	if e.Alg == device.ES256 {
		format = iotpb.PublicKeyFormat_ES256_PEM
	}
	key := string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}))
	return &iotpb.Device{Id: e.ID, Credentials: []*iotpb.DeviceCredential{{
		Credential: &iotpb.DeviceCredential_PublicKey{PublicKey: &iotpb.PublicKeyCredential{Format: format, Key: key}},
	}}}, nil
}

// Delete unregisters the devices with the given IDs and returns how many
// were registered. IDs that are not registered are ignored.
func (r *IoTCore) Delete(ids []string) (int, error) {
	return r.deleteIDs(registeredOf(r.IDs(), ids))
}

// DeleteAll unregisters every device and returns how many there were.
func (r *IoTCore) DeleteAll() (int, error) { return r.deleteIDs(r.IDs()) }

// deleteIDs deletes devices; one already gone counts as deleted.
func (r *IoTCore) deleteIDs(ids []string) (int, error) {
	var (
		mu   sync.Mutex
		gone = map[string]bool{}
	)
	err := r.each(len(ids), func(ctx context.Context, i int) error {
		err := r.client.DeleteDevice(ctx, &iotpb.DeleteDeviceRequest{Name: r.cfg.Parent() + "/devices/" + ids[i]})
		if err != nil && status.Code(err) != codes.NotFound {
			return r.wrap("unregister "+ids[i]+" from", err)
		}
		mu.Lock()
		gone[ids[i]] = true
		mu.Unlock()
		return nil
	})
	r.mu.Lock()
	r.ids = slices.DeleteFunc(r.ids, func(id string) bool { return gone[id] })
	r.mu.Unlock()
	return len(gone), err
}

// each runs call for 0…n-1, cfg.Parallel at a time, each under the call
// timeout; the first error stops the calls not yet started. Calls already
// started run to their end, so the caller knows what each of them did (a
// cancelled create may still have created the device).
func (r *IoTCore) each(n int, call func(ctx context.Context, i int) error) error {
	g, failed := errgroup.WithContext(r.ctx)
	g.SetLimit(r.cfg.Parallel)
	for i := range n {
		if failed.Err() != nil {
			break
		}
		g.Go(func() error {
			cctx, cancel := context.WithTimeout(r.ctx, r.cfg.Timeout)
			defer cancel()
			return call(cctx, i)
		})
	}
	return g.Wait()
}
