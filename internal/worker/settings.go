package worker

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/ltk-dev/ltk/internal/device"
	"github.com/ltk-dev/ltk/internal/sim"
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

// Settings say how a worker's devices connect and behave. They are plain data
// so that a master can send them to remote workers.
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

	Behavior           string // sim.BehaviorByName: "echo" or "telemetry"
	QoS                byte
	WaitMin, WaitMax   time.Duration
	EchoTimeout        time.Duration
	LastMessageTimeout time.Duration
	PayloadSize        int
	// MQTTClient is the devices' MQTT client engine: sim.ClientLean or
	// sim.ClientPaho. Empty = sim.ClientLean (what a master that predates
	// the setting sends).
	MQTTClient string
}

// Validate reports settings a device could not run with, naming the setting.
func (s *Settings) Validate() error {
	var errs []error
	if s.Broker == "" {
		errs = append(errs, errors.New("no broker URL (want tcp://host:port or ssl://host:port)"))
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
	if s.QoS > 1 {
		errs = append(errs, fmt.Errorf("QoS %d is not supported (want 0 or 1)", s.QoS))
	}
	if s.WaitMin < 0 || s.WaitMax < s.WaitMin {
		errs = append(errs, fmt.Errorf("wait interval %v..%v is not a range (want 0 <= min <= max)", s.WaitMin, s.WaitMax))
	}
	if s.PayloadSize < 0 {
		errs = append(errs, fmt.Errorf("payload size %d is negative", s.PayloadSize))
	}
	if _, err := sim.BehaviorByName(s.Behavior); err != nil {
		errs = append(errs, err)
	}
	if err := sim.CheckClient(s.MQTTClient); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// Client returns the MQTT client engine the devices run on: MQTTClient, or
// sim.ClientLean when it is empty.
func (s *Settings) Client() string {
	if s.MQTTClient == "" {
		return sim.ClientLean
	}
	return s.MQTTClient
}

// ClientID returns the MQTT client id of device id under these settings.
func (s *Settings) ClientID(id string) string {
	if s.ClientIDFormat == ClientIDPlain {
		return id
	}
	return "projects/" + s.Project + "/locations/" + s.Region + "/registries/" + s.Registry + "/devices/" + id
}

// tlsConfig returns the TLS configuration for an ssl:// broker, or nil.
func (s *Settings) tlsConfig() (*tls.Config, error) {
	if s.CAFile == "" && len(s.CAPEM) == 0 && !s.Insecure {
		return nil, nil
	}
	cfg := &tls.Config{InsecureSkipVerify: s.Insecure} //nolint:gosec // asked for explicitly, for self-signed test brokers
	pem, err := s.caPEM()
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

// caPEM returns the CA bundle: CAPEM, else CAFile's contents, else nil.
func (s *Settings) caPEM() ([]byte, error) {
	if len(s.CAPEM) > 0 || s.CAFile == "" {
		return s.CAPEM, nil
	}
	pem, err := os.ReadFile(s.CAFile)
	if err != nil {
		return nil, fmt.Errorf("read CA file: %w", err)
	}
	return pem, nil
}

// simConfigs builds one sim.Config per device of block under s, all reporting to rec.
func (s *Settings) simConfigs(block []device.Device, rec sim.Recorder) ([]sim.Config, error) {
	if err := s.Validate(); err != nil {
		return nil, err
	}
	behavior, _ := sim.BehaviorByName(s.Behavior)
	tlsCfg, err := s.tlsConfig()
	if err != nil {
		return nil, err
	}
	cfgs := make([]sim.Config, len(block))
	var prog *sim.Program
	for i, d := range block {
		c := sim.Config{
			Broker:             s.Broker,
			TLS:                tlsCfg,
			DeviceID:           d.ID,
			ClientID:           s.ClientID(d.ID),
			Username:           s.Username,
			QoS:                s.QoS,
			WaitMin:            s.WaitMin,
			WaitMax:            s.WaitMax,
			EchoTimeout:        s.EchoTimeout,
			LastMessageTimeout: s.LastMessageTimeout,
			PayloadSize:        s.PayloadSize,
			Behavior:           behavior,
			Client:             s.Client(),
			Recorder:           rec,
		}
		switch s.Auth {
		case AuthJWT:
			if d.Key == nil {
				return nil, fmt.Errorf("device %s has no private key: JWT auth needs the keys from devicelist.csv", d.ID)
			}
			c.Credentials = device.NewJWTSource(d, s.Project, s.TokenTTL)
		case AuthPassword:
			c.Credentials = staticPassword(s.Password)
		}
		if prog == nil { // one Program for the block: every device is configured alike
			prog = behavior(&c)
		}
		c.Program = prog
		cfgs[i] = c
	}
	return cfgs, nil
}

// staticPassword is a password that never expires.
type staticPassword string

func (p staticPassword) Password(time.Time) (string, time.Time, error) {
	return string(p), time.Time{}, nil
}
