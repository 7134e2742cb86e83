package worker

import (
	"errors"
	"fmt"
	"time"

	"github.com/ltk-dev/ltk/internal/device"
	"github.com/ltk-dev/ltk/internal/runset"
	"github.com/ltk-dev/ltk/internal/sim"
)

// checkSettings reports run settings this worker's devices could not run
// with: runset's checks, and the behaviour and MQTT client names that sim
// knows (a newer master may send one this worker does not).
func checkSettings(s *runset.Settings) error {
	_, behaviorErr := sim.BehaviorByName(s.Behavior)
	return errors.Join(s.Validate(), behaviorErr, sim.CheckClient(s.MQTTClient))
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

// deviceConfigs builds one sim.Config per device of block under s, which
// checkSettings accepted, all reporting to rec.
func deviceConfigs(s *runset.Settings, block []device.Device, rec sim.Recorder) ([]sim.Config, error) {
	behavior, _ := sim.BehaviorByName(s.Behavior)
	tlsCfg, err := s.TLSConfig()
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
			Client:             mqttClient(s),
			Recorder:           rec,
		}
		switch s.Auth {
		case runset.AuthJWT:
			if d.Key == nil {
				return nil, fmt.Errorf("device %s has no private key: JWT auth needs the keys from devicelist.csv", d.ID)
			}
			c.Credentials = device.NewJWTSource(d, s.Project, s.TokenTTL)
		case runset.AuthPassword:
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
