package ltkv1

import (
	"time"

	"github.com/ltk-dev/ltk/internal/runset"
)

// EncodeSettings returns s as a message, with the CA bundle's contents in
// place of its path, so that a remote worker needs no copy of the file.
func EncodeSettings(s *runset.Settings) (*Settings, error) {
	ca, err := s.CABundle()
	if err != nil {
		return nil, err
	}
	return &Settings{
		Broker:               s.Broker,
		CaPem:                ca,
		Insecure:             s.Insecure,
		Auth:                 s.Auth,
		Username:             s.Username,
		Password:             s.Password,
		Project:              s.Project,
		Region:               s.Region,
		Registry:             s.Registry,
		ClientIdFormat:       s.ClientIDFormat,
		TokenTtlMs:           s.TokenTTL.Milliseconds(),
		Behavior:             s.Behavior,
		Qos:                  uint32(s.QoS),
		WaitMinMs:            s.WaitMin.Milliseconds(),
		WaitMaxMs:            s.WaitMax.Milliseconds(),
		EchoTimeoutMs:        s.EchoTimeout.Milliseconds(),
		LastMessageTimeoutMs: s.LastMessageTimeout.Milliseconds(),
		PayloadSize:          int32(s.PayloadSize),
		MqttClient:           s.MQTTClient,
		MqttVersion:          s.MQTTVersion,
		Scenario:             s.Scenario,
		BackendPassword:      s.BackendPassword,
		Profile:              s.Profile,
		Hub:                  s.Hub,
	}, nil
}

// DecodeSettings returns the settings m carries. They come from another
// process: check them before use.
func DecodeSettings(m *Settings) runset.Settings {
	ms := func(v int64) time.Duration { return time.Duration(v) * time.Millisecond }
	qos := m.GetQos()
	if qos > 255 {
		qos = 255 // runset.CheckQoS refuses it
	}
	return runset.Settings{
		Broker:             m.GetBroker(),
		CAPEM:              m.GetCaPem(),
		Insecure:           m.GetInsecure(),
		Auth:               m.GetAuth(),
		Username:           m.GetUsername(),
		Password:           m.GetPassword(),
		Project:            m.GetProject(),
		Region:             m.GetRegion(),
		Registry:           m.GetRegistry(),
		ClientIDFormat:     m.GetClientIdFormat(),
		TokenTTL:           ms(m.GetTokenTtlMs()),
		Behavior:           m.GetBehavior(),
		QoS:                byte(qos),
		WaitMin:            ms(m.GetWaitMinMs()),
		WaitMax:            ms(m.GetWaitMaxMs()),
		EchoTimeout:        ms(m.GetEchoTimeoutMs()),
		LastMessageTimeout: ms(m.GetLastMessageTimeoutMs()),
		PayloadSize:        int(m.GetPayloadSize()),
		MQTTClient:         m.GetMqttClient(),
		MQTTVersion:        m.GetMqttVersion(),
		Scenario:           m.GetScenario(),
		BackendPassword:    m.GetBackendPassword(),
		Profile:            m.GetProfile(),
		Hub:                m.GetHub(),
	}
}
