package sim

import (
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/ltk-dev/ltk/internal/runset"
)

// MQTT client engines a device can run on (Config.Client).
const (
	// ClientLean is ltk's own lean connection (package mqttlean): no
	// goroutine per device, a few hundred bytes of state, sockets served by
	// the Engine's event loops. The default.
	ClientLean = "lean"
	// ClientPaho is the Eclipse Paho Go client, a few goroutines and buffers
	// per connection: the reference to compare the lean client with.
	ClientPaho = "paho"
)

// ClientNames returns the accepted values of Config.Client.
func ClientNames() []string { return []string{ClientLean, ClientPaho} }

// CheckClient reports whether name is an MQTT client engine a device can
// run on (one of ClientNames, or empty for the default), naming the
// accepted ones when it is not.
func CheckClient(name string) error {
	if name == "" || slices.Contains(ClientNames(), name) {
		return nil
	}
	return fmt.Errorf("MQTT client %q is not one of %s", name, strings.Join(ClientNames(), ", "))
}

// CheckClientFeatures reports whether the MQTT client engine client (one
// of ClientNames, or empty for the default) speaks MQTT version (one of
// runset.MQTTVersions, or empty for 3.1.1) at QoS up to qos. The paho
// client runs MQTT 3.1.1 at QoS 0 and 1 only.
func CheckClientFeatures(client, version string, qos byte) error {
	if client != ClientPaho {
		return nil
	}
	var missing []string
	if version == runset.MQTTVersion5 {
		missing = append(missing, "MQTT 5")
	}
	if qos == 2 {
		missing = append(missing, "QoS 2")
	}
	if len(missing) == 0 {
		return nil
	}
	return fmt.Errorf("the paho MQTT client runs MQTT 3.1.1 at QoS 0 or 1 only, not %s: use the lean client (--mqtt-client lean)", strings.Join(missing, " or "))
}

// checkClientTransport reports whether client can reach broker, a URL
// runset.CheckBroker accepted: ltk dials paho's connections itself, over
// TCP and TLS only.
func checkClientTransport(client, broker string) error {
	scheme, _, _ := strings.Cut(broker, "://")
	if client == ClientPaho && runset.WebSocketSchemes[strings.ToLower(scheme)] {
		return fmt.Errorf("broker %s: the paho MQTT client runs over TCP and TLS only, not WebSocket: use the lean client (--mqtt-client lean)", broker)
	}
	return nil
}

// Defaults applied by Config to its zero fields.
const (
	DefaultUsername           = "unused" // IoT Core ignored the username
	DefaultQoS                = 1        // what the CLI offers; the zero value of Config.QoS is QoS 0
	DefaultWait               = time.Second
	DefaultEchoTimeout        = 120 * time.Second
	DefaultLastMessageTimeout = 10 * time.Second
	DefaultKeepAlive          = 60 * time.Second
	DefaultConnectTimeout     = 30 * time.Second
	DefaultReconnectMin       = time.Second
	DefaultReconnectMax       = 30 * time.Second
)

// Config describes one simulated device. Zero fields take the defaults above.
type Config struct {
	// Broker is the MQTT broker URL: "tcp://host:port" (also "mqtt://"),
	// "ssl://host:port" (also "tls://", "mqtts://"), or MQTT over a
	// WebSocket, "ws://host:port/path" or "wss://host:port/path" (lean
	// client only).
	Broker string
	// TLS configures ssl:// brokers; nil uses the system roots and the
	// broker's host name.
	TLS *tls.Config
	// Client is the MQTT client engine: ClientLean or ClientPaho. Empty =
	// ClientLean.
	Client string
	// LocalAddr is the source address the device dials from; the zero value
	// lets the system choose. Spreading a large fleet over several loopback
	// addresses (127.0.0.2, 127.0.0.3, …) keeps one address's ephemeral ports
	// from running out.
	LocalAddr netip.Addr

	// DeviceID names the device in its topics: /devices/DeviceID/events and
	// /devices/DeviceID/commands/#. It must not contain '/', '+' or '#'.
	DeviceID string
	// Topics are the built-in behaviours' topics (the profile's); the zero
	// value is IoT Core's. A scenario's Program names its own.
	Topics runset.Topics
	// Certificate is the device's TLS client certificate (mutual TLS, as
	// AWS IoT Core authenticates devices); nil = none. The device dials
	// with a copy of TLS that presents it, made once per device.
	Certificate *tls.Certificate
	// ClientID is the MQTT client id (IoT Core style:
	// projects/P/locations/L/registries/R/devices/D). Empty = DeviceID.
	ClientID string
	// Username is the MQTT user name. Empty = "unused".
	Username string
	// Credentials yields the password before each connect; nil = no password.
	// A back end (Program.Backend) never uses it.
	Credentials Credentials
	// BackendPassword is the password a back-end client (Program.Backend)
	// connects with when its Program sets no Password; empty = none. On
	// ltk's embedded target it is the target's back-end token
	// (target.Config.BackendToken), and a back end's client id must start
	// with its back-end prefix (target.Config.BackendPrefix, "ltk-echo" by
	// default).
	BackendPassword string

	// QoS is the MQTT QoS of publishes and of the command subscription, 0,
	// 1 or 2. The zero value is QoS 0; DefaultQoS is 1.
	QoS byte
	// MQTTVersion is the MQTT version the device speaks:
	// runset.MQTTVersion311 or runset.MQTTVersion5. Empty = 3.1.1. The
	// paho client speaks 3.1.1 only.
	MQTTVersion string
	// WaitMin and WaitMax bound the wait between publishes, drawn uniformly
	// like Locust's between(). Both zero = 1 s; WaitMax zero = WaitMin.
	WaitMin, WaitMax time.Duration
	// EchoTimeout is how long the echo behaviour waits for an echo before it
	// records "echo timeout" and moves on, and how long any publish waits for
	// the broker's acknowledgement (unless Program.AckTimeout says
	// otherwise). Zero = 120 s.
	EchoTimeout time.Duration
	// LastMessageTimeout is how long a stopping device waits for the
	// replies and acknowledgements still in flight. Zero = 10 s.
	LastMessageTimeout time.Duration
	// PayloadSize pads each payload with spaces to this many bytes; 0 (or a
	// size below the natural one) sends the natural size, about 90 bytes.
	PayloadSize int

	// KeepAlive is the MQTT keepalive. Zero = 60 s.
	KeepAlive time.Duration
	// ConnectTimeout bounds the TCP/TLS dial and the MQTT handshake, each, and
	// the subscribe. Zero = 30 s.
	ConnectTimeout time.Duration
	// ReconnectMin and ReconnectMax bound the jittered exponential backoff
	// between reconnect attempts (see pace.Backoff). Zero = 1 s and 30 s.
	ReconnectMin, ReconnectMax time.Duration

	// Program is what the device does, shared by every device of its kind.
	// Nil = Behavior's Program for this Config (one per device: give a
	// fleet one shared Program instead).
	Program *Program
	// Behavior builds the Program when Program is nil. Nil = Echo.
	Behavior Behavior
	// Index, Worker and Columns are the device's Vars.Index, Vars.Worker
	// and Vars.Columns: its index in the fleet, the worker's ordinal and
	// its extra devicelist.csv columns.
	Index, Worker int
	Columns       []string
	// Engine runs the device: its loops and timing wheel, shared with the
	// owner's other devices. Nil = a default Engine shared by every device
	// given none.
	Engine *Engine
	// Recorder receives every measured event. Nil = discard.
	Recorder Recorder
	// Logger receives debug lines about connects and losses. Nil = discard.
	Logger *slog.Logger
}

// setDefaults fills the zero fields.
func (c *Config) setDefaults() {
	if c.Client == "" {
		c.Client = ClientLean
	}
	if c.ClientID == "" {
		c.ClientID = c.DeviceID
	}
	if c.Username == "" {
		c.Username = DefaultUsername
	}
	if c.WaitMin == 0 && c.WaitMax == 0 {
		c.WaitMin, c.WaitMax = DefaultWait, DefaultWait
	}
	if c.WaitMax == 0 {
		c.WaitMax = c.WaitMin
	}
	setDefault(&c.EchoTimeout, DefaultEchoTimeout)
	setDefault(&c.LastMessageTimeout, DefaultLastMessageTimeout)
	setDefault(&c.KeepAlive, DefaultKeepAlive)
	setDefault(&c.ConnectTimeout, DefaultConnectTimeout)
	setDefault(&c.ReconnectMin, DefaultReconnectMin)
	setDefault(&c.ReconnectMax, DefaultReconnectMax)
	if c.Engine == nil {
		c.Engine = defaultEngine()
	}
	if c.Recorder == nil {
		c.Recorder = discard{}
	}
	if c.Logger == nil {
		c.Logger = discardLogger
	}
}

// discardLogger is the Logger of devices given none: one for all of them.
var discardLogger = slog.New(slog.DiscardHandler)

func setDefault(d *time.Duration, def time.Duration) {
	if *d == 0 {
		*d = def
	}
}

// Validate reports what is wrong with the configuration, naming the field
// and what to do. It expects defaults to have been applied (New does both).
func (c *Config) Validate() error {
	var errs []error
	if err := runset.CheckBroker(c.Broker); err != nil {
		errs = append(errs, err)
	}
	if err := CheckClient(c.Client); err != nil {
		errs = append(errs, err)
	}
	if c.DeviceID == "" {
		errs = append(errs, errors.New("device id is empty: give every device an id such as LTK00001"))
	} else if strings.ContainsAny(c.DeviceID, "/+#") {
		errs = append(errs, fmt.Errorf("device id %q contains '/', '+' or '#', which would break its MQTT topics: use letters, digits, '-' or '_'", c.DeviceID))
	}
	for _, err := range []error{runset.CheckQoS(c.QoS), runset.CheckMQTTVersion(c.MQTTVersion), runset.CheckWait(c.WaitMin, c.WaitMax), runset.CheckPayloadSize(c.PayloadSize)} {
		if err != nil {
			errs = append(errs, fmt.Errorf("device %s: %w", c.DeviceID, err))
		}
	}
	for _, d := range []struct {
		name string
		v    time.Duration
	}{
		{"echo timeout", c.EchoTimeout},
		{"last message timeout", c.LastMessageTimeout}, {"keepalive", c.KeepAlive},
		{"connect timeout", c.ConnectTimeout}, {"reconnect min", c.ReconnectMin},
		{"reconnect max", c.ReconnectMax},
	} {
		if d.v < 0 {
			errs = append(errs, fmt.Errorf("device %s: %s %v is negative: use a positive duration, or 0 for the default", c.DeviceID, d.name, d.v))
		}
	}
	if c.KeepAlive > 0 && c.KeepAlive < time.Second {
		errs = append(errs, fmt.Errorf("device %s: keepalive %v is below MQTT's 1 s resolution: use at least 1s", c.DeviceID, c.KeepAlive))
	}
	return errors.Join(errs...)
}

// version returns the MQTT version the device speaks: its Program's, else
// its own, else 3.1.1. Program is set.
func (c *Config) version() string {
	switch {
	case c.Program.MQTTVersion != "":
		return c.Program.MQTTVersion
	case c.MQTTVersion != "":
		return c.MQTTVersion
	}
	return runset.MQTTVersion311
}
