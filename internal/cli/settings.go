package cli

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/ltk-dev/ltk/internal/device"
	"github.com/ltk-dev/ltk/internal/runset"
	"github.com/ltk-dev/ltk/internal/sim"
	"github.com/ltk-dev/ltk/internal/target"
)

// addSettingsFlags binds the flags that say how devices connect and behave.
func addSettingsFlags(fs *pflag.FlagSet, s *runset.Settings) {
	fs.Var((*brokerURL)(&s.Broker), "broker", "MQTT broker to drive: tcp://host:1883, ssl://host:8883, or ws://host:8080/mqtt and wss://host:443/mqtt (MQTT over WebSocket, lean client) (empty: start the embedded target in-process)")
	fs.StringVar(&s.CAFile, "ca", "", "PEM CA bundle to verify an ssl:// broker")
	fs.BoolVar(&s.Insecure, "insecure", false, "skip TLS certificate verification (self-signed test brokers only)")
	fs.Var((*profile)(&s.Profile), "profile", "IoT platform the devices talk to: iotcore (default), clearblade, aws (mutual TLS), azure (SAS tokens) or generic (per-device passwords); sets --auth, --client-id-format and the topics")
	fs.StringVar(&s.Auth, "auth", "", "device auth (default: the profile's): jwt (IoT Core style, signed with each device's key), x509 (client certificates), sas (Azure SAS tokens), device-password (devicelist.csv's username and password columns), password (--password for every device), or none")
	fs.StringVar(&s.Username, "username", sim.DefaultUsername, "MQTT username (IoT Core ignored it)")
	fs.StringVar(&s.Password, "password", "", "MQTT password for every device with --auth password")
	fs.StringVar(&s.BackendPassword, "backend-password", "", "MQTT password of a scenario's back-end clients that name none (ltk run's embedded target makes its own)")
	fs.StringVar(&s.Project, "project", target.DefaultProject, "target project: the JWT audience and the client id's projects/ element (also LTK_TARGET_PROJECT_ID)")
	fs.StringVar(&s.Region, "region", target.DefaultRegion, "target region: the client id's locations/ element (also LTK_TARGET_REGION)")
	fs.StringVar(&s.Registry, "registry-id", target.DefaultRegistry, "target registry: the client id's registries/ element (also LTK_TARGET_REGISTRY_ID)")
	// --registry was the registry id here while ltk devices --registry names
	// a registry backend: kept as a deprecated alias.
	fs.StringVar(&s.Registry, "registry", target.DefaultRegistry, "deprecated alias of --registry-id")
	_ = fs.MarkHidden("registry")
	fs.StringVar(&s.Hub, "hub", "", "Azure IoT Hub host name of SAS tokens (default: the broker's host if it is NAME.azure-devices.net, else "+runset.DefaultAzureHub+")")
	fs.StringVar(&s.ClientIDFormat, "client-id-format", "", "client ids (default: the profile's): iotcore (projects/P/locations/R/registries/G/devices/D) or plain (D)")
	fs.DurationVar(&s.TokenTTL, "jwt-ttl", device.DefaultTokenTTL, "lifetime of device JWTs (at most 24h); devices reconnect with a fresh one before it expires")
	s.Behavior = "echo"
	fs.Var((*behavior)(&s.Behavior), "behavior", "device behaviour: echo (publish, await the echo) or telemetry (publish only)")
	fs.Uint8Var(&s.QoS, "qos", runset.DefaultQoS, "MQTT QoS of publishes and subscriptions: 0, 1 or 2 (2: lean client only)")
	fs.DurationVar(&s.WaitMin, "wait-min", sim.DefaultWait, "shortest wait between a device's publishes")
	fs.DurationVar(&s.WaitMax, "wait-max", sim.DefaultWait, "longest wait between a device's publishes (uniform between min and max)")
	fs.DurationVar(&s.EchoTimeout, "echo-timeout", sim.DefaultEchoTimeout, "how long a device awaits an echo before recording 'echo timeout'")
	fs.DurationVar(&s.LastMessageTimeout, "last-message-timeout", sim.DefaultLastMessageTimeout, "on stop, how long a device waits for its last echo")
	fs.IntVar(&s.PayloadSize, "payload-size", 0, "pad each published payload to this many bytes (0: natural size, about 60 bytes)")
	s.MQTTClient = sim.ClientLean
	s.MQTTVersion = runset.MQTTVersion311
	fs.Var((*mqttVersion)(&s.MQTTVersion), "mqtt-version", "MQTT version every device speaks: 3.1.1 or 5 (5: lean client only)")
	fs.Var((*mqttClient)(&s.MQTTClient), "mqtt-client", "MQTT client engine of every device: lean (ltk's own, least CPU and memory) or paho (Eclipse Paho); a master's choice holds for its workers")
}

// brokerURL is the --broker flag: an MQTT URL runset.CheckBroker accepts,
// refused at parsing otherwise (so LTK_BROKER is checked the same way, and
// "127.0.0.1:1883" is a usage error before anything starts).
type brokerURL string

func (b *brokerURL) String() string { return string(*b) }
func (b *brokerURL) Type() string   { return "url" }
func (b *brokerURL) Set(s string) error {
	if s == "" {
		*b = "" // the embedded target
		return nil
	}
	if err := runset.CheckBroker(s); err != nil {
		return err
	}
	*b = brokerURL(s)
	return nil
}

// profile is the --profile flag: one of runset.ProfileNames, refused at
// parsing otherwise (so LTK_PROFILE is checked the same way).
type profile string

func (p *profile) String() string { return string(*p) }
func (p *profile) Type() string   { return "string" }
func (p *profile) Set(s string) error {
	if err := runset.CheckProfile(s); err != nil {
		return err
	}
	*p = profile(strings.ToLower(s))
	return nil
}

// warnDeprecatedRegistry warns when the registry id came through the
// deprecated --registry (or LTK_REGISTRY) of run and master.
func warnDeprecatedRegistry(env *Env, cmd *cobra.Command) {
	if f := cmd.Flags().Lookup("registry"); f != nil && f.Changed {
		fmt.Fprintf(env.Stderr, "ltk: warning: --registry (LTK_REGISTRY) of %s is deprecated for the registry id: use --registry-id (LTK_REGISTRY_ID); ltk devices --registry names a registry backend\n", cmd.Name())
	}
}

// mqttClient is the --mqtt-client flag: one of sim.ClientNames, refused at
// parsing otherwise (so LTK_MQTT_CLIENT is checked the same way).
type mqttClient string

func (c *mqttClient) String() string { return string(*c) }
func (c *mqttClient) Type() string   { return "string" }
func (c *mqttClient) Set(s string) error {
	if s == "" {
		return fmt.Errorf("empty: use %s", strings.Join(sim.ClientNames(), " or "))
	}
	if err := sim.CheckClient(s); err != nil {
		return err
	}
	*c = mqttClient(s)
	return nil
}

// mqttVersion is the --mqtt-version flag: one of runset.MQTTVersions,
// refused at parsing otherwise (so LTK_MQTT_VERSION is checked the same
// way).
type mqttVersion string

func (v *mqttVersion) String() string { return string(*v) }
func (v *mqttVersion) Type() string   { return "version" }
func (v *mqttVersion) Set(s string) error {
	if s == "" {
		return fmt.Errorf("empty: use %s", strings.Join(runset.MQTTVersions(), " or "))
	}
	if err := runset.CheckMQTTVersion(s); err != nil {
		return err
	}
	*v = mqttVersion(s)
	return nil
}

// behavior is the --behavior flag: a name sim.BehaviorByName knows, refused
// at parsing otherwise (so LTK_BEHAVIOR is checked the same way).
type behavior string

func (b *behavior) String() string { return string(*b) }
func (b *behavior) Type() string   { return "string" }
func (b *behavior) Set(s string) error {
	if _, err := sim.BehaviorByName(s); err != nil {
		return err
	}
	*b = behavior(s)
	return nil
}

// targetEnvFallbacks are the tutorial's names for the target identity flags,
// read when neither the flag nor its LTK_* twin is set.
var targetEnvFallbacks = map[string]string{
	"project":     "LTK_TARGET_PROJECT_ID",
	"region":      "LTK_TARGET_REGION",
	"registry-id": "LTK_TARGET_REGISTRY_ID",
}

// applyEnvFallbacks sets flags of cmd from the tutorial's variable names.
func applyEnvFallbacks(env *Env, cmd *cobra.Command, fallbacks map[string]string) error {
	for flag, name := range fallbacks {
		f := cmd.Flags().Lookup(flag)
		if f == nil || f.Changed {
			continue
		}
		if _, ok := env.lookup(EnvName(flag)); ok {
			continue
		}
		if v, ok := env.lookup(name); ok && v != "" {
			if err := f.Value.Set(v); err != nil {
				return usageError(fmt.Errorf("%s=%q: %w", name, v, err))
			}
		}
	}
	return nil
}

// timespan is a duration flag that also takes Locust's bare seconds ("300").
type timespan time.Duration

func (t *timespan) String() string { return time.Duration(*t).String() }
func (t *timespan) Type() string   { return "duration" }
func (t *timespan) Set(s string) error {
	if n, err := strconv.ParseFloat(s, 64); err == nil {
		*t = timespan(n * float64(time.Second))
		return nil
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return fmt.Errorf("%q is not a time span (e.g. 300s, 20m, 1h30m)", s)
	}
	*t = timespan(d)
	return nil
}
