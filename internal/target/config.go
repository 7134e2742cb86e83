package target

import (
	"crypto"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/ltk-dev/ltk/internal/echo"
	"github.com/ltk-dev/ltk/internal/runset"
)

// Defaults of Config. The IoT-Core path pieces match the tutorial's .env.
const (
	DefaultAddr           = ":1883"
	DefaultTLSAddr        = ":8883" // typical; TLS is off unless TLSAddr is set
	DefaultMetricsAddr    = ":9883" // what `ltk target` uses; metrics are off unless MetricsAddr is set
	DefaultProject        = "ltk-project"
	DefaultRegion         = "local"
	DefaultRegistry       = "ltk-registry"
	DefaultMaxJWTLifetime = 24 * time.Hour
	DefaultBackendPrefix  = "ltk-echo"
	// DefaultMaxPendingWrites is each client's outbound queue length. mochi's
	// own default (8192) costs 64 KiB per connection before any message is
	// sent, too much for fleets of tens of thousands of devices.
	DefaultMaxPendingWrites = 1024
	// DefaultConnectTimeout is how long a new connection may take to send its
	// whole CONNECT packet before the target closes it.
	DefaultConnectTimeout = 10 * time.Second
	// DefaultMaxConnectSize caps a CONNECT packet (fixed header included),
	// the only packet read before authentication: an IoT-Core client id,
	// an RS256 JWT and a small Will fit many times over.
	DefaultMaxConnectSize = 16 << 10
	// DefaultMaxPacketSize caps every packet of an authenticated client
	// (fixed header included); larger ones close the connection.
	DefaultMaxPacketSize = 256 << 10
	// DefaultMaxRetained caps the retained messages the target keeps; beyond it
	// a retained publish is delivered but not retained.
	DefaultMaxRetained = 1000
	// DefaultMaxRetainedSize caps one retained message's payload; a larger
	// retained publish is delivered but not retained.
	DefaultMaxRetainedSize = 16 << 10
	// DefaultMaxInflight caps each client's unacknowledged QoS 1 and 2
	// messages, in each direction.
	DefaultMaxInflight = 1024
	// ClockSkew is how far in the future a JWT's iat may be, to forgive device
	// clocks that run a little fast.
	ClockSkew = time.Minute
)

// Auth modes.
const (
	AuthJWT  = "jwt"  // IoT-Core style: client id names the device, password is a JWT signed with its key
	AuthNone = "none" // any client id, no password; topic ACL still applies
	// AuthCert is AWS IoT Core's: a client certificate that chains to
	// ClientCA, whose subject CN is the client id, for the key Keys holds
	// for that device; no password.
	AuthCert = "x509"
	// AuthSAS is Azure IoT Hub's: client id D, username HUB/D/?api-version=…,
	// password a SAS token signed with the symmetric key Secrets holds for D;
	// or, for a D that Secrets holds no key for (a CA-signed X.509 device),
	// with ClientCA set, as AuthCert: a client certificate that chains to
	// ClientCA, its CN D, for the key Keys holds; no password.
	AuthSAS = "sas"
	// AuthDevicePassword is a broker's per-device passwords: client id D,
	// password one whose SHA-256 Secrets holds for D.
	AuthDevicePassword = "device-password"
)

// SecretStore finds a registered device's secret: its symmetric key
// (AuthSAS) or its password's hash (AuthDevicePassword). Implementations
// must be safe for concurrent use.
type SecretStore interface {
	Secret(deviceID string) (string, bool)
}

// KeyStore finds a registered device's public key (*rsa.PublicKey or
// *ecdsa.PublicKey). Implementations must be safe for concurrent use.
type KeyStore interface {
	PublicKey(deviceID string) (crypto.PublicKey, bool)
}

// Config configures a Target. The zero value plus a KeyStore is a valid
// IoT-Core-style target on :1883 with the echo app.
type Config struct {
	Addr    string `json:"addr"`     // MQTT over TCP; default ":1883"
	TLSAddr string `json:"tls_addr"` // MQTT over TLS; "" (default) = off
	TLSCert string `json:"tls_cert"` // PEM certificate chain file, needed with TLSAddr
	TLSKey  string `json:"tls_key"`  // PEM private key file, needed with TLSAddr
	// TLSCertificate is the TLS listener's certificate in place of TLSCert
	// and TLSKey (one the test CA signs at start).
	TLSCertificate *tls.Certificate `json:"-"`
	// ClientCA is the PEM CA bundle device certificates must chain to, with
	// AuthCert (which needs TLSAddr), and with AuthSAS for X.509 devices
	// (optional there; with it, AuthSAS needs Keys and TLSAddr too).
	ClientCA []byte `json:"-"`
	// Hub is the IoT Hub host name SAS tokens and usernames must name, with
	// AuthSAS; default runset.DefaultAzureHub.
	Hub string `json:"hub"`
	// Topics are the devices' topics, which the topic ACL and the echo app
	// follow (the profile's); the zero value is IoT Core's.
	Topics runset.Topics `json:"-"`
	WSAddr string        `json:"ws_addr"` // MQTT over WebSocket (any path, subprotocol mqtt); "" (default) = off

	Auth     string      `json:"auth"`     // AuthJWT (default) or AuthNone
	Project  string      `json:"project"`  // JWT aud and first client-id element
	Region   string      `json:"region"`   // client-id "locations" element
	Registry string      `json:"registry"` // client-id "registries" element
	Keys     KeyStore    `json:"-"`        // device public keys; required with AuthJWT and AuthCert
	Secrets  SecretStore `json:"-"`        // device secrets; required with AuthSAS and AuthDevicePassword
	// MaxJWTLifetime is the largest exp - iat accepted; default 24h (IoT Core's limit).
	MaxJWTLifetime time.Duration `json:"max_jwt_lifetime"`

	// BackendPrefix marks back-end clients (such as `ltk echo`): a client whose
	// id starts with it is not a device and may subscribe to and publish on any
	// topic. With AuthNone it needs no password; with AuthJWT its password must
	// equal BackendToken, and an empty BackendToken refuses back ends.
	// Default "ltk-echo" (ltk echo's default client id is ltk-echo-<random>).
	BackendPrefix string `json:"backend_prefix"`
	BackendToken  string `json:"-"`

	MetricsAddr string `json:"metrics_addr"` // HTTP for /metrics; "" (default) = off

	// MaxPendingWrites bounds the messages queued for one client; beyond it
	// messages to that client are dropped and counted in
	// ltk_target_messages_dropped_total. Default DefaultMaxPendingWrites.
	MaxPendingWrites int `json:"max_pending_writes"`

	// Limits against hostile or broken clients; zero means the default. See
	// the Default* constants.
	ConnectTimeout  time.Duration `json:"connect_timeout"`   // accept to whole CONNECT
	MaxConnectSize  int           `json:"max_connect_size"`  // bytes, before authentication
	MaxPacketSize   int           `json:"max_packet_size"`   // bytes, after authentication
	MaxRetained     int           `json:"max_retained"`      // retained messages kept
	MaxRetainedSize int           `json:"max_retained_size"` // bytes of one retained payload
	MaxInflight     int           `json:"max_inflight"`      // unacknowledged QoS > 0 messages per client and direction

	Echo        echo.Config `json:"echo"`         // the in-process echo app
	DisableEcho bool        `json:"disable_echo"` // run the broker without the echo app
}

func (c *Config) setDefaults() {
	if c.Addr == "" {
		c.Addr = DefaultAddr
	}
	if c.Auth == "" {
		c.Auth = AuthJWT
	}
	if c.Project == "" {
		c.Project = DefaultProject
	}
	if c.Region == "" {
		c.Region = DefaultRegion
	}
	if c.Registry == "" {
		c.Registry = DefaultRegistry
	}
	if c.Hub == "" {
		c.Hub = runset.DefaultAzureHub
	}
	if c.MaxJWTLifetime == 0 {
		c.MaxJWTLifetime = DefaultMaxJWTLifetime
	}
	if c.MaxPendingWrites == 0 {
		c.MaxPendingWrites = DefaultMaxPendingWrites
	}
	if c.BackendPrefix == "" {
		c.BackendPrefix = DefaultBackendPrefix
	}
	setDefault(&c.ConnectTimeout, DefaultConnectTimeout)
	setDefault(&c.MaxConnectSize, DefaultMaxConnectSize)
	setDefault(&c.MaxPacketSize, DefaultMaxPacketSize)
	setDefault(&c.MaxRetained, DefaultMaxRetained)
	setDefault(&c.MaxRetainedSize, DefaultMaxRetainedSize)
	setDefault(&c.MaxInflight, DefaultMaxInflight)
}

func setDefault[T int | time.Duration](v *T, def T) {
	if *v == 0 {
		*v = def
	}
}

// Validate reports a Config that cannot work. It expects defaults to be set
// (New sets them).
func (c *Config) Validate() error {
	var errs []error
	switch c.Auth {
	case AuthJWT:
		if c.Keys == nil {
			errs = append(errs, errors.New("auth jwt needs the device registry (create devices with 'ltk devices create', or use --auth none)"))
		}
	case AuthCert:
		if c.Keys == nil || len(c.ClientCA) == 0 || c.TLSAddr == "" {
			errs = append(errs, errors.New("auth x509 needs the device registry, the devices' CA and a TLS listener (create devices with 'ltk devices create --profile aws')"))
		} else if !x509.NewCertPool().AppendCertsFromPEM(c.ClientCA) {
			errs = append(errs, errors.New("auth x509: the devices' CA bundle holds no PEM certificate"))
		}
	case AuthSAS, AuthDevicePassword:
		if c.Secrets == nil {
			errs = append(errs, fmt.Errorf("auth %s needs the device registry's secrets (create devices with 'ltk devices create --profile azure' or 'generic')", c.Auth))
		}
		if c.Auth == AuthSAS && len(c.ClientCA) > 0 {
			if c.Keys == nil || c.TLSAddr == "" {
				errs = append(errs, errors.New("auth sas with X.509 devices needs the device registry's keys and a TLS listener (--tls-addr)"))
			} else if !x509.NewCertPool().AppendCertsFromPEM(c.ClientCA) {
				errs = append(errs, errors.New("auth sas: the X.509 devices' CA bundle holds no PEM certificate"))
			}
		}
	case AuthNone:
	default:
		errs = append(errs, fmt.Errorf("auth %q is unknown (use jwt, x509, sas, device-password or none)", c.Auth))
	}
	if c.TLSAddr != "" && c.TLSCertificate == nil && (c.TLSCert == "" || c.TLSKey == "") {
		errs = append(errs, fmt.Errorf("TLS on %s needs a certificate and key file (--tls-cert, --tls-key)", c.TLSAddr))
	}
	if c.MaxPendingWrites < 1 || c.MaxPendingWrites > math.MaxInt32 {
		errs = append(errs, fmt.Errorf("max pending writes %d: want 1 or more", c.MaxPendingWrites))
	}
	if c.ConnectTimeout < 0 {
		errs = append(errs, fmt.Errorf("connect timeout %v is negative", c.ConnectTimeout))
	}
	if c.MaxConnectSize < 64 || c.MaxConnectSize > c.MaxPacketSize {
		errs = append(errs, fmt.Errorf("max connect size %d: want 64 bytes up to the max packet size (%d)", c.MaxConnectSize, c.MaxPacketSize))
	}
	if c.MaxPacketSize < 64 || c.MaxPacketSize > maxMQTTPacket {
		errs = append(errs, fmt.Errorf("max packet size %d: want 64 bytes up to %d", c.MaxPacketSize, maxMQTTPacket))
	}
	if c.MaxRetained < 0 || c.MaxRetainedSize < 0 {
		errs = append(errs, fmt.Errorf("max retained %d and max retained size %d: want 0 or more", c.MaxRetained, c.MaxRetainedSize))
	}
	if c.MaxInflight < 1 || c.MaxInflight > math.MaxUint16 {
		errs = append(errs, fmt.Errorf("max inflight %d: want 1 to %d", c.MaxInflight, math.MaxUint16))
	}
	if c.MaxJWTLifetime < 0 {
		errs = append(errs, fmt.Errorf("max JWT lifetime %v is negative", c.MaxJWTLifetime))
	}
	for name, v := range map[string]string{"project": c.Project, "region": c.Region, "registry": c.Registry} {
		if !validPathElement(v) {
			errs = append(errs, fmt.Errorf("%s %q must not contain '/', '+' or '#'", name, v))
		}
	}
	if err := c.Echo.Validate(); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// maxMQTTPacket is the largest packet MQTT can frame: a 4-byte remaining
// length (268,435,455) plus the 5-byte fixed header.
const maxMQTTPacket = 268_435_455 + 5

func validPathElement(s string) bool {
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '/', '+', '#':
			return false
		}
	}
	return true
}
