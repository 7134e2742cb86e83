package cli

import (
	"context"
	"fmt"
	"io"
	"net/url"
	"slices"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/ltk-dev/ltk/internal/registry"
	"github.com/ltk-dev/ltk/internal/target"
)

// Registry backends of ltk devices --registry.
const (
	registryLocal   = "local"   // registry.csv, read by the embedded target
	registryIoTCore = "iotcore" // an IoT-Core-API-compatible device manager
	registryAzure   = "azure"   // an Azure IoT Hub's device registry (REST)
	registryAWS     = "aws"     // AWS IoT's thing registry (aws-sdk-go-v2)
)

// registryBackends are the accepted values of ltk devices --registry.
var registryBackends = []string{registryLocal, registryIoTCore, registryAzure, registryAWS}

// googleIoTEndpoint is Cloud IoT Core's device-manager endpoint (retired in
// 2023), and googleMQTTBridge its MQTT bridge.
const (
	googleIoTEndpoint = "cloudiot.googleapis.com:443"
	googleMQTTBridge  = "ssl://mqtt.googleapis.com:8883"
)

// registryBackend is the configured backend: LTK_REGISTRY_BACKEND, else
// LTK_REGISTRY when it names a backend, else local.
func registryBackend(env *Env) string {
	if v, ok := env.lookup("LTK_REGISTRY_BACKEND"); ok && v != "" {
		return v
	}
	if v, _ := env.lookup("LTK_REGISTRY"); v == registryIoTCore {
		return v
	}
	return registryLocal
}

// iotcoreDefaultBroker is the MQTT bridge of the IoT-Core-API service when
// that is the configured registry backend: LTK_MQTT_BRIDGE, else the bridge
// that goes with LTK_REGISTRY_ENDPOINT (Google's, or ssl://HOST:8883).
func iotcoreDefaultBroker(env *Env) (string, bool) {
	if registryBackend(env) != registryIoTCore {
		return "", false
	}
	if b, ok := env.lookup("LTK_MQTT_BRIDGE"); ok && b != "" {
		return b, true
	}
	ep, _ := env.lookup("LTK_REGISTRY_ENDPOINT")
	return mqttBridgeFor(ep), true
}

// mqttBridgeFor returns the MQTT bridge that goes with a device-manager
// endpoint: Google's for Google's endpoint (or none), else TLS on port 8883
// of the endpoint's host.
func mqttBridgeFor(endpoint string) string {
	host := endpoint
	if u, err := url.Parse(endpoint); err == nil && u.Host != "" {
		host = u.Host
	}
	if h, _, ok := strings.Cut(host, ":"); ok {
		host = h
	}
	if host == "" || host == "cloudiot.googleapis.com" {
		return googleMQTTBridge
	}
	if region, ok := strings.CutSuffix(host, ".clearblade.com"); ok && !strings.Contains(region, ".") {
		return "ssl://" + region + "-mqtt.clearblade.com:8883" // ClearBlade IoT Core's regional MQTT bridge
	}
	return "ssl://" + host + ":8883"
}

// ClearBlade IoT Core, the IoT-Core-compatible service: its regional API
// host REGION.clearblade.com (whose MQTT bridge is REGION-mqtt.clearblade.com)
// and the region used when the registry's is ltk's local default.
const clearbladeDefaultRegion = "us-central1"

// clearbladeEndpoint returns ClearBlade's device-manager endpoint for region.
func clearbladeEndpoint(region string) string {
	if region == "" || region == target.DefaultRegion {
		region = clearbladeDefaultRegion
	}
	return region + ".clearblade.com:443"
}

// registryFlags choose where ltk devices registers devices.
type registryFlags struct {
	backend string                 // --registry: local, iotcore or azure
	iot     registry.IoTCoreConfig // --registry-endpoint and the IoT Core parent
	azure   registry.AzureConfig   // --azure-connection-string (--registry-endpoint overrides its host)
	aws     registry.AWSConfig     // --aws-region, --aws-policy (--registry-endpoint overrides AWS's)
	// awsRegisterCA registers the test CA with AWS IoT and the device
	// certificates under it (--aws-register-ca).
	awsRegisterCA bool
}

// addRegistryFlags registers the registry backend flags on fs. The IoT-Core
// path flags are named after the tutorial's variables, which they read.
func addRegistryFlags(fs *pflag.FlagSet, f *registryFlags) {
	fs.StringVar(&f.backend, "registry", registryLocal,
		"where devices are registered: local (registry.csv, for the embedded target), iotcore (an IoT-Core-API service at --registry-endpoint), azure (an IoT Hub, with --azure-connection-string) or aws (AWS IoT things, with the AWS credentials of AWS_ACCESS_KEY_ID or AWS_PROFILE); also LTK_REGISTRY_BACKEND")
	fs.StringVar(&f.azure.ConnectionString, "azure-connection-string", "",
		"with --registry azure: an IoT Hub policy's connection string, HostName=HUB.azure-devices.net;SharedAccessKeyName=registryReadWrite;SharedAccessKey=KEY")
	fs.StringVar(&f.iot.Endpoint, "registry-endpoint", "",
		"the registry's API: for iotcore the Device Manager, host:port (TLS, Application Default Credentials) or grpc://host:port (plaintext, no credentials); for azure and aws a base URL in place of the hub's or AWS's")
	fs.StringVar(&f.aws.Region, "aws-region", "", "with --registry aws: the AWS region of the things (default AWS_REGION, else AWS_DEFAULT_REGION)")
	fs.StringVar(&f.aws.Policy, "aws-policy", "",
		"with --registry aws: the IoT policy attached to each device certificate, which must exist (default "+registry.DefaultAWSPolicy+", created when absent: connect as the thing, publish to its events topic, subscribe to its commands)")
	fs.BoolVar(&f.awsRegisterCA, "aws-register-ca", false,
		"with --registry aws: register ltk's test CA (ltk-ca.pem; its key stays here) with AWS IoT, and the device certificates under it, not each alone")
	fs.StringVar(&f.iot.Project, "target-project-id", target.DefaultProject, "IoT Core project of the registry")
	fs.StringVar(&f.iot.Region, "target-region", target.DefaultRegion, "IoT Core region of the registry")
	fs.StringVar(&f.iot.Registry, "target-registry-id", target.DefaultRegistry, "IoT Core registry id")
}

// resolve settles the backend: the --registry flag, else LTK_REGISTRY_BACKEND,
// else LTK_REGISTRY when it names a backend (it is also run's registry id,
// which the devices commands ignore), else local.
func (f *registryFlags) resolve(cmd *cobra.Command, env *Env) error {
	flag := cmd.Flags().Lookup("registry")
	if flag != nil && flag.Changed {
		if !slices.Contains(registryBackends, f.backend) {
			return usageError(fmt.Errorf("--registry %q: want local, iotcore, azure or aws (the registry id is --target-registry-id)", f.backend))
		}
		return nil
	}
	f.backend = registryBackend(env)
	if !slices.Contains(registryBackends, f.backend) {
		return usageError(fmt.Errorf("LTK_REGISTRY_BACKEND=%q: want local, iotcore, azure or aws", f.backend))
	}
	return nil
}

// openRegistry opens the registry backend of f and returns it with its name
// for messages. Close it with closeRegistry.
func openRegistry(ctx context.Context, env *Env, f *devicesFlags) (deviceRegistry, string, error) {
	if f.reg.backend == registryAzure {
		cfg := f.reg.azure
		cfg.Endpoint = f.reg.iot.Endpoint
		r, err := registry.OpenAzure(ctx, cfg)
		if err != nil {
			return nil, "IoT Hub", withHint(err, "give an IoT Hub policy's connection string: --azure-connection-string (LTK_AZURE_CONNECTION_STRING, or --azure-connection-string-file)")
		}
		name := r.Name()
		return r, name, nil
	}
	if f.reg.backend == registryAWS {
		return openAWSRegistry(ctx, env, &f.reg)
	}
	if f.reg.backend != registryIoTCore {
		return openDeviceRegistry(env, &f.fleet)
	}
	r, err := registry.OpenIoTCore(ctx, f.reg.iot)
	if err != nil {
		return nil, f.reg.iot.Parent(), withHint(err, "point --registry-endpoint (LTK_REGISTRY_ENDPOINT) at the IoT-Core-API service, or use --registry local")
	}
	name := r.Name()
	return r, name, nil
}

// closeRegistry releases a registry that holds a connection.
func closeRegistry(r deviceRegistry) {
	if c, ok := r.(io.Closer); ok {
		_ = c.Close()
	}
}
