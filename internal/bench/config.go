package bench

import (
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/ltk-dev/ltk/internal/runset"
	"github.com/ltk-dev/ltk/internal/scenario"
	"github.com/ltk-dev/ltk/internal/sim"
	"github.com/ltk-dev/ltk/internal/srcaddr"
)

// Defaults of Config.
const (
	DefaultDevices   = 1000
	DefaultInterval  = time.Second
	DefaultDuration  = 30 * time.Second
	DefaultSpawnRate = 2000
	DefaultAlg       = "ES256"
	// fdReserve is kept free of device sockets: files of the runtime,
	// standard streams, pipes to the target.
	fdReserve = 100
)

// Transports of Config.Transport.
const (
	TransportTCP       = "tcp"
	TransportWebSocket = "ws"
)

// Algorithms Config.Alg accepts: a JWT signed with an ES256 or RS256 key
// per device (the target verifies each), or no authentication.
var algs = []string{"ES256", "RS256", "none"}

// Config describes one benchmark run.
type Config struct {
	// Devices is the fleet size. Each device holds one socket in this
	// process and the target one in its own, so both must stay below the
	// open-file limit. Zero = DefaultDevices.
	Devices int `json:"devices"`
	// Interval is each device's wait between publishes: 1 s for the
	// tutorial's load, 60 s for a mostly idle fleet. With a Scenario it
	// replaces the schedule of every periodic publish, and zero keeps the
	// scenario's own; without one, zero = DefaultInterval.
	Interval time.Duration `json:"interval"`
	// Duration is the measurement window, after every device connected.
	// Zero = DefaultDuration.
	Duration time.Duration `json:"duration"`
	// SpawnRate is how many devices start per second during the ramp;
	// negative = all at once. Zero = DefaultSpawnRate.
	SpawnRate float64 `json:"spawn_rate"`
	// Scenario, when set, is what the devices do: each device runs the
	// program of its kind (Plan().KindOf of its fleet index). Nil = the
	// built-in echo behaviour. Back-end kinds run only with Alg "none"
	// (with device auth on they would need the target's back-end token,
	// which a device cannot be given yet); otherwise they are left out and
	// Result.Skipped says so.
	Scenario *scenario.Scenario `json:"-"`
	// Client is the MQTT client engine: sim.ClientLean or sim.ClientPaho.
	// Empty = sim.ClientLean.
	Client string `json:"client"`
	// Alg is "ES256" or "RS256" (devices authenticate with JWTs, keys made
	// for the run) or "none". Empty = DefaultAlg.
	Alg string `json:"alg"`
	// Profile is the devices' platform: "" or runset.ProfileIoTCore (JWTs
	// of Alg keys), runset.ProfileAWS (mutual TLS with an ES256 key and a
	// certificate per device from a CA made for the run) or
	// runset.ProfileAzure (SAS tokens of a symmetric key per device). The
	// target emulates its auth.
	Profile string `json:"profile"`
	// QoS of publishes and of the command subscription: 0, 1 or 2. The
	// tutorial's is runset.DefaultQoS; the zero value is QoS 0.
	QoS byte `json:"qos"`
	// MQTTVersion is the devices' MQTT version: runset.MQTTVersion311 or
	// runset.MQTTVersion5. Empty = 3.1.1.
	MQTTVersion string `json:"mqtt_version"`
	// Transport is how devices reach the target: TransportTCP or
	// TransportWebSocket. Empty = TCP.
	Transport string `json:"transport"`
	// PerSource is how many connections one loopback source address carries;
	// more devices than that are spread over 127.0.0.2, 127.0.0.3, …
	// Zero = srcaddr.DefaultPerSource().
	PerSource int `json:"per_source"`

	// TargetCommand is the target's command line without its flags: the ltk
	// executable and "target". Required.
	TargetCommand []string `json:"-"`
	// TargetEnv is added to the target's environment (tests).
	TargetEnv []string `json:"-"`
	// HeapProfile, if set, is a file to write a pprof heap profile of this
	// process to at the end of the window, with the devices still running.
	HeapProfile string `json:"-"`
	// Progress receives a line per step and per second of the ramp. Nil =
	// discard.
	Progress io.Writer `json:"-"`
}

func (c *Config) setDefaults() {
	if c.Devices == 0 {
		c.Devices = DefaultDevices
	}
	if c.Interval == 0 && c.Scenario == nil {
		c.Interval = DefaultInterval
	}
	if c.Duration == 0 {
		c.Duration = DefaultDuration
	}
	if c.SpawnRate == 0 {
		c.SpawnRate = DefaultSpawnRate
	}
	if c.Client == "" {
		c.Client = sim.ClientLean
	}
	if c.Alg == "" {
		c.Alg = DefaultAlg
	}
	if c.MQTTVersion == "" {
		c.MQTTVersion = runset.MQTTVersion311
	}
	if c.Transport == "" {
		c.Transport = TransportTCP
	}
	if c.PerSource == 0 {
		c.PerSource = srcaddr.DefaultPerSource()
	}
	if c.Progress == nil {
		c.Progress = io.Discard
	}
}

// Validate reports what is wrong with the configuration; fdLimit is the
// process's open-file limit (0 = unknown).
func (c *Config) Validate(fdLimit int) error {
	var errs []error
	if c.Devices < 1 {
		errs = append(errs, fmt.Errorf("devices %d: run at least 1", c.Devices))
	} else if fdLimit > 0 && c.Devices > fdLimit-fdReserve {
		errs = append(errs, fmt.Errorf("%d devices need %d sockets in this process (and as many in the target's), but a process may open %d files: run at most %d devices, or raise the limit (ulimit -n)",
			c.Devices, c.Devices, fdLimit, fdLimit-fdReserve))
	}
	if c.Interval < time.Millisecond && (c.Interval != 0 || c.Scenario == nil) {
		errs = append(errs, fmt.Errorf("interval %v: use at least 1ms", c.Interval))
	}
	if c.Duration < time.Second {
		errs = append(errs, fmt.Errorf("duration %v: measure for at least 1s", c.Duration))
	}
	if err := sim.CheckClient(c.Client); err != nil {
		errs = append(errs, err)
	}
	switch c.Profile {
	case "", runset.ProfileIoTCore:
	case runset.ProfileAWS, runset.ProfileAzure:
		if c.Alg == "none" {
			errs = append(errs, fmt.Errorf("profile %s authenticates every device: drop alg none", c.Profile))
		}
	default:
		errs = append(errs, fmt.Errorf("profile %q: use iotcore, aws or azure", c.Profile))
	}
	if !slices.Contains(algs, c.Alg) {
		errs = append(errs, fmt.Errorf("alg %q: use %s", c.Alg, strings.Join(algs, ", ")))
	}
	if err := runset.CheckQoS(c.QoS); err != nil {
		errs = append(errs, err)
	}
	if err := runset.CheckMQTTVersion(c.MQTTVersion); err != nil {
		errs = append(errs, err)
	}
	switch c.Transport {
	case "", TransportTCP, TransportWebSocket:
	default:
		errs = append(errs, fmt.Errorf("transport %q: use %s or %s", c.Transport, TransportTCP, TransportWebSocket))
	}
	broker := "tcp://127.0.0.1:1"
	if c.Transport == TransportWebSocket {
		broker = "ws://127.0.0.1:1/mqtt"
	}
	var plan *sim.Plan
	if c.Scenario != nil {
		plan = c.Scenario.Plan()
	}
	if err := sim.CheckRun(c.Client, broker, c.MQTTVersion, c.QoS, plan); err != nil {
		errs = append(errs, err)
	}
	if c.PerSource < 0 {
		errs = append(errs, fmt.Errorf("connections per source address %d: use at least 1, or 0 for the default", c.PerSource))
	}
	if len(c.TargetCommand) == 0 {
		errs = append(errs, errors.New("no target command: give the ltk executable and \"target\""))
	}
	return errors.Join(errs...)
}

// sources returns how many loopback source addresses the fleet needs.
func (c *Config) sources() int { return srcaddr.Needed(c.Devices, c.PerSource) }
