package runset

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net/url"
	"os"
	"slices"
	"strings"
	"time"
)

// Auth modes a device can connect with.
const (
	AuthJWT      = "jwt"      // IoT-Core style: password is a JWT signed with the device's key
	AuthPassword = "password" // a fixed username and password for every device
	AuthNone     = "none"     // no password
	// AuthCert is mutual TLS with the device's X.509 certificate (its CN
	// the client id) and no password: AWS IoT Core.
	AuthCert = "x509"
	// AuthSAS is Azure IoT Hub's: username HUB/D/?api-version=…, password a
	// SAS token signed with the device's symmetric key.
	AuthSAS = "sas"
	// AuthDevicePassword is each device's own username and password, from
	// devicelist.csv's username and password columns.
	AuthDevicePassword = "device-password"
)

// AuthModes returns the accepted values of Settings.Auth.
func AuthModes() []string {
	return []string{AuthJWT, AuthPassword, AuthNone, AuthCert, AuthSAS, AuthDevicePassword}
}

// Client id formats.
const (
	ClientIDIoTCore = "iotcore" // projects/P/locations/R/registries/G/devices/D
	ClientIDPlain   = "plain"   // D
)

// Settings say how a test's devices connect and behave. They are plain data
// so that a master can send them to remote workers (see ltkv1.EncodeSettings).
type Settings struct {
	// Profile is the platform the devices talk to (Profile* constants):
	// it gives Auth, ClientIDFormat and the topics when they are empty
	// (SetDefaults). Empty = ProfileIoTCore.
	Profile        string
	Broker         string // tcp://host:port or ssl://host:port
	CAFile         string // PEM CA bundle for ssl:// brokers; empty = system roots
	CAPEM          []byte // the CA bundle's contents; when set, CAFile is not read (a master sends these)
	Insecure       bool   // skip TLS verification (self-signed test brokers)
	Auth           string // one of AuthModes; empty = the profile's
	Username       string // with AuthPassword; IoT Core ignored it ("unused")
	Password       string // with AuthPassword
	Project        string // IoT-Core path pieces; Project is also the JWT audience
	Region         string
	Registry       string
	ClientIDFormat string // ClientIDIoTCore or ClientIDPlain; empty = the profile's
	// Hub is the Azure IoT Hub host name of SAS tokens and usernames
	// (HUB.azure-devices.net). Empty = the broker's host when it is an
	// *.azure-devices.net name, else DefaultAzureHub (see AzureHub).
	Hub      string
	TokenTTL time.Duration

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

// SetDefaults fills Auth and ClientIDFormat from the profile where they
// are empty. An unknown profile is left for Validate to report.
func (s *Settings) SetDefaults() {
	p, err := ProfileByName(s.Profile)
	if err != nil {
		return
	}
	if s.Auth == "" {
		s.Auth = p.Auth
	}
	if s.ClientIDFormat == "" {
		s.ClientIDFormat = p.ClientIDFormat
	}
}

// Validate reports settings a device could not run with, naming each. The
// behaviour and MQTT client names are sim's to check.
func (s *Settings) Validate() error {
	var errs []error
	if s.Broker == "" {
		errs = append(errs, errors.New("no broker URL (want tcp://host:port or ssl://host:port)"))
	} else if err := CheckBroker(s.Broker); err != nil {
		errs = append(errs, err)
	} else if s.Auth == AuthCert && !s.tlsBroker() {
		errs = append(errs, fmt.Errorf("auth x509 (mutual TLS) needs a TLS broker: write ssl://%s", hostPort(s.Broker)))
	}
	if err := CheckProfile(s.Profile); err != nil {
		errs = append(errs, err)
	}
	if !slices.Contains(AuthModes(), s.Auth) {
		errs = append(errs, fmt.Errorf("auth %q is not one of %s", s.Auth, strings.Join(AuthModes(), ", ")))
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

// Topics returns the profile's device topics.
func (s *Settings) Topics() Topics {
	p, _ := ProfileByName(s.Profile)
	return p.Topics
}

// AzureHub returns the IoT Hub host name of SAS tokens: Hub, else the
// broker's host when it ends in .azure-devices.net, else DefaultAzureHub.
func (s *Settings) AzureHub() string {
	if s.Hub != "" {
		return s.Hub
	}
	if u, err := url.Parse(s.Broker); err == nil && strings.HasSuffix(u.Hostname(), ".azure-devices.net") {
		return u.Hostname()
	}
	return DefaultAzureHub
}

// tlsBroker reports whether the broker's scheme is a TLS one.
func (s *Settings) tlsBroker() bool {
	scheme, _, _ := strings.Cut(s.Broker, "://")
	return BrokerSchemes[strings.ToLower(scheme)]
}

// hostPort returns the host:port of a broker URL.
func hostPort(broker string) string {
	_, rest, _ := strings.Cut(broker, "://")
	hp, _, _ := strings.Cut(rest, "/")
	return hp
}

// alpn returns the ALPN protocols to offer: the profile's on port 443.
func (s *Settings) alpn() []string {
	p, _ := ProfileByName(s.Profile)
	if u, err := url.Parse(s.Broker); err == nil && p.ALPN443 != "" && u.Port() == "443" {
		return []string{p.ALPN443}
	}
	return nil
}

// TLSConfig returns the TLS configuration for an ssl:// broker, or nil for
// the system roots and no ALPN. Devices share it; a device's client
// certificate (AuthCert) is added per device by sim.
func (s *Settings) TLSConfig() (*tls.Config, error) {
	alpn := s.alpn()
	if s.CAFile == "" && len(s.CAPEM) == 0 && !s.Insecure && alpn == nil {
		return nil, nil
	}
	cfg := &tls.Config{InsecureSkipVerify: s.Insecure, NextProtos: alpn, MinVersion: tls.VersionTLS12} //nolint:gosec // asked for explicitly, for self-signed test brokers
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
