package runset

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
	"time"
)

// Auth modes a device can connect with.
const (
	AuthJWT      = "jwt"      // IoT-Core style: password is a JWT signed with the device's key
	AuthPassword = "password" // a fixed username and password for every device
	AuthNone     = "none"     // no password
)

// Client id formats.
const (
	ClientIDIoTCore = "iotcore" // projects/P/locations/R/registries/G/devices/D
	ClientIDPlain   = "plain"   // D
)

// Settings say how a test's devices connect and behave. They are plain data
// so that a master can send them to remote workers (see ltkv1.EncodeSettings).
type Settings struct {
	Broker         string // tcp://host:port or ssl://host:port
	CAFile         string // PEM CA bundle for ssl:// brokers; empty = system roots
	CAPEM          []byte // the CA bundle's contents; when set, CAFile is not read (a master sends these)
	Insecure       bool   // skip TLS verification (self-signed test brokers)
	Auth           string // AuthJWT, AuthPassword or AuthNone
	Username       string // with AuthPassword; IoT Core ignored it ("unused")
	Password       string // with AuthPassword
	Project        string // IoT-Core path pieces; Project is also the JWT audience
	Region         string
	Registry       string
	ClientIDFormat string // ClientIDIoTCore or ClientIDPlain
	TokenTTL       time.Duration

	Behavior           string // a name sim.BehaviorByName knows: "echo" or "telemetry"
	QoS                byte   // CheckQoS
	WaitMin, WaitMax   time.Duration
	EchoTimeout        time.Duration
	LastMessageTimeout time.Duration
	PayloadSize        int
	// MQTTClient is the devices' MQTT client engine, a name sim.CheckClient
	// accepts. Empty = sim's default (what a master that predates the
	// setting sends).
	MQTTClient string
	// MQTTVersion is the MQTT version devices speak: MQTTVersion311 or
	// MQTTVersion5. Empty = 3.1.1 (what a master that predates the setting
	// sends).
	MQTTVersion string
	// Scenario is a scenario file's text (YAML, see package scenario):
	// what the devices do, in place of Behavior. Empty = Behavior.
	Scenario string
	// BackendPassword is the password of a scenario's back-end clients
	// (its count: kinds) whose scenario names none: on ltk's embedded
	// target, its back-end token. A secret, like Password.
	BackendPassword string
}

// Validate reports settings a device could not run with, naming each. The
// behaviour and MQTT client names are sim's to check.
func (s *Settings) Validate() error {
	var errs []error
	if s.Broker == "" {
		errs = append(errs, errors.New("no broker URL (want tcp://host:port or ssl://host:port)"))
	} else if err := CheckBroker(s.Broker); err != nil {
		errs = append(errs, err)
	}
	switch s.Auth {
	case AuthJWT, AuthPassword, AuthNone:
	default:
		errs = append(errs, fmt.Errorf("auth %q is not one of jwt, password, none", s.Auth))
	}
	switch s.ClientIDFormat {
	case ClientIDIoTCore, ClientIDPlain:
	default:
		errs = append(errs, fmt.Errorf("client id format %q is not one of iotcore, plain", s.ClientIDFormat))
	}
	errs = append(errs, CheckQoS(s.QoS), CheckMQTTVersion(s.MQTTVersion), CheckWait(s.WaitMin, s.WaitMax), CheckPayloadSize(s.PayloadSize))
	return errors.Join(errs...)
}

// ClientID returns the MQTT client id of device id under these settings.
func (s *Settings) ClientID(id string) string {
	if s.ClientIDFormat == ClientIDPlain {
		return id
	}
	return "projects/" + s.Project + "/locations/" + s.Region + "/registries/" + s.Registry + "/devices/" + id
}

// TLSConfig returns the TLS configuration for an ssl:// broker, or nil for
// the system roots.
func (s *Settings) TLSConfig() (*tls.Config, error) {
	if s.CAFile == "" && len(s.CAPEM) == 0 && !s.Insecure {
		return nil, nil
	}
	cfg := &tls.Config{InsecureSkipVerify: s.Insecure} //nolint:gosec // asked for explicitly, for self-signed test brokers
	pem, err := s.CABundle()
	if err != nil {
		return nil, err
	}
	if len(pem) > 0 {
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			name := s.CAFile
			if len(s.CAPEM) > 0 {
				name = "sent by the master"
			}
			return nil, fmt.Errorf("CA bundle (%s) holds no PEM certificate: give --ca a PEM file", name)
		}
		cfg.RootCAs = pool
	}
	return cfg, nil
}

// CABundle returns the CA bundle: CAPEM, else CAFile's contents, else nil.
func (s *Settings) CABundle() ([]byte, error) {
	if len(s.CAPEM) > 0 || s.CAFile == "" {
		return s.CAPEM, nil
	}
	pem, err := os.ReadFile(s.CAFile)
	if err != nil {
		return nil, fmt.Errorf("read CA file: %w", err)
	}
	return pem, nil
}
