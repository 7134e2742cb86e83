package worker

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/ltk-dev/ltk/internal/device"
	"github.com/ltk-dev/ltk/internal/runset"
	"github.com/ltk-dev/ltk/internal/scenario"
	"github.com/ltk-dev/ltk/internal/sim"
)

// checkSettings reports run settings this worker's devices could not run
// with: runset's checks, the behaviour and MQTT client names that sim
// knows, and the scenario, which it loads (a newer master may send a name or
// a scenario version this worker does not know). It returns the scenario's
// plan, nil when the settings name none.
func checkSettings(s *runset.Settings) (*sim.Plan, error) {
	s.SetDefaults() // a master that predates profiles sends none
	_, behaviorErr := sim.BehaviorByName(s.Behavior)
	err := errors.Join(s.Validate(), behaviorErr, sim.CheckClient(s.MQTTClient))
	if err != nil || s.Scenario == "" {
		return nil, err
	}
	sc, err := scenario.Load("the master's scenario", []byte(s.Scenario))
	if err != nil {
		return nil, fmt.Errorf("this worker (scenario format version %d) cannot run it: %w", scenario.Version, err)
	}
	return sc.Plan(), nil
}

// mqttClient returns the MQTT client engine s runs devices on: its
// MQTTClient, or sim.ClientLean when it is empty (a master that predates
// the setting sends none).
func mqttClient(s *runset.Settings) string {
	if s.MQTTClient == "" {
		return sim.ClientLean
	}
	return s.MQTTClient
}

// deviceConfigs builds one sim.Config per device of b under s, which
// checkSettings accepted, all reporting to rec. With a scenario's plan, a
// device runs the program of its kind (by its fleet index) and reads the
// columns the plan names; without one, every device runs s's behaviour.
func deviceConfigs(s *runset.Settings, b Block, plan *sim.Plan, rec sim.Recorder) ([]sim.Config, error) {
	behavior, _ := sim.BehaviorByName(s.Behavior)
	tlsCfg, err := s.TLSConfig()
	if err != nil {
		return nil, err
	}
	var pick columnPicker
	if plan != nil {
		if pick, err = newColumnPicker(plan.Columns, b.Columns); err != nil {
			return nil, err
		}
	}
	topics := s.Topics()
	cfgs := make([]sim.Config, len(b.Devices))
	var prog *sim.Program
	for i, d := range b.Devices {
		c := sim.Config{
			Broker:             s.Broker,
			TLS:                tlsCfg,
			DeviceID:           d.ID,
			Topics:             topics,
			ClientID:           s.ClientID(d.ID),
			Username:           s.Username,
			QoS:                s.QoS,
			WaitMin:            s.WaitMin,
			WaitMax:            s.WaitMax,
			EchoTimeout:        s.EchoTimeout,
			LastMessageTimeout: s.LastMessageTimeout,
			PayloadSize:        s.PayloadSize,
			Behavior:           behavior,
			Client:             mqttClient(s),
			Recorder:           rec,
			Index:              b.First + i,
			Worker:             b.Ordinal,
			BackendPassword:    s.BackendPassword,
		}
		if plan != nil {
			c.Program = plan.Kinds[plan.KindOf(c.Index)]
			c.Columns = pick.values(d.Values)
		}
		if c.Program == nil || !c.Program.Backend {
			if err := credentials(&c, s, d, b.Columns); err != nil {
				return nil, err
			}
		}
		if c.Program == nil {
			if prog == nil { // one Program for the block: every device is configured alike
				prog = behavior(&c)
			}
			c.Program = prog
		}
		cfgs[i] = c
	}
	return cfgs, nil
}

// credentials gives c the credentials of device d under s's auth: its
// password, username or client certificate; columns name d's Values.
func credentials(c *sim.Config, s *runset.Settings, d device.Device, columns []string) error {
	column := func(name string) (string, error) {
		v, ok := device.Column(columns, d.Values, name)
		if !ok {
			return "", fmt.Errorf("device %s has no %s in devicelist.csv: auth %s (profile %s) needs one; make devices with ltk devices create --profile %s",
				d.ID, name, s.Auth, s.Profile, s.Profile)
		}
		return v, nil
	}
	switch s.Auth {
	case runset.AuthJWT:
		if d.Key == nil {
			return fmt.Errorf("device %s has no private key: JWT auth needs the keys from devicelist.csv", d.ID)
		}
		c.Credentials = device.NewJWTSource(d, s.Project, s.TokenTTL)
	case runset.AuthPassword:
		c.Credentials = staticPassword(s.Password)
	case runset.AuthCert:
		pem, err := column(device.ColumnCertificate)
		if err != nil {
			return err
		}
		if c.Certificate, err = device.TLSCertificate(d, pem); err != nil {
			return err
		}
		if s.Profile == runset.ProfileAzure { // IoT Hub's X.509 devices: its username, no password
			c.Username = device.SASUsername(s.AzureHub(), d.ID)
		}
	case runset.AuthSAS:
		key, err := column(device.ColumnSymmetricKey)
		if err != nil {
			return err
		}
		hub := s.AzureHub()
		src, err := device.NewSASSource(hub, d.ID, key, s.TokenTTL)
		if err != nil {
			return err
		}
		c.Username, c.Credentials = device.SASUsername(hub, d.ID), src
	case runset.AuthDevicePassword:
		user, err := column(device.ColumnUsername)
		if err != nil {
			return err
		}
		pw, err := column(device.ColumnPassword)
		if err != nil {
			return err
		}
		c.Username, c.Credentials = user, staticPassword(pw)
	}
	return nil
}

// columnPicker maps a device's devicelist.csv values to the columns a plan
// reads, in the plan's order.
type columnPicker struct {
	at       []int // at[k]: the device value of the plan's column k
	identity bool  // the plan reads the file's columns in the file's order
}

func newColumnPicker(want, have []string) (columnPicker, error) {
	p := columnPicker{at: make([]int, len(want)), identity: slices.Equal(want, have)}
	for k, name := range want {
		p.at[k] = slices.Index(have, name)
		if p.at[k] < 0 {
			return p, fmt.Errorf("the scenario reads column %q, which devicelist.csv does not name (its header names: %s): add it to the header row, e.g. id,private_key,%s",
				name, strings.Join(append([]string{"id", "private_key"}, have...), ","), name)
		}
	}
	return p, nil
}

// values returns the plan's columns of a device whose file values are v; a
// value the row leaves out is empty.
func (p columnPicker) values(v []string) []string {
	if len(p.at) == 0 {
		return nil
	}
	if p.identity && len(v) == len(p.at) {
		return v
	}
	out := make([]string, len(p.at))
	for k, i := range p.at {
		if i < len(v) {
			out[k] = v[i]
		}
	}
	return out
}

// staticPassword is a password that never expires.
type staticPassword string

func (p staticPassword) Password(time.Time) (string, time.Time, error) {
	return string(p), time.Time{}, nil
}
