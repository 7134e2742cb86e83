package sim

import (
	"fmt"
	"slices"
	"strings"

	"github.com/ltk-dev/ltk/internal/pace"
	"github.com/ltk-dev/ltk/internal/runset"
)

// A Behavior builds the Program of a built-in behaviour for devices
// configured like cfg: its QoS, waits, timeouts and payload size (defaults
// applied). Devices configured alike share one Program: build it once per
// fleet and give it to every device in Config.Program.
type Behavior func(cfg *Config) *Program

// The built-in behaviours.
var (
	// Echo is the tutorial's behaviour, the default: see EchoProgram.
	Echo Behavior = EchoProgram
	// Telemetry publishes every wait interval and expects no reply: see
	// TelemetryProgram.
	Telemetry Behavior = TelemetryProgram
)

// behaviors maps the names accepted by BehaviorByName to behaviours.
var behaviors = map[string]Behavior{
	"echo":      Echo,
	"telemetry": Telemetry,
}

// BehaviorNames returns the names BehaviorByName accepts, sorted.
func BehaviorNames() []string {
	names := make([]string, 0, len(behaviors))
	for name := range behaviors {
		names = append(names, name)
	}
	slices.Sort(names)
	return names
}

// BehaviorByName returns the built-in behaviour called name; "" is "echo".
// An unknown name is an error listing the known ones.
func BehaviorByName(name string) (Behavior, error) {
	if name == "" {
		return Echo, nil
	}
	if b, ok := behaviors[strings.ToLower(name)]; ok {
		return b, nil
	}
	return nil, fmt.Errorf("unknown device behaviour %q: use one of %s", name, strings.Join(BehaviorNames(), ", "))
}

// EchoProgram is the tutorial's echo behaviour for devices configured like
// cfg:
//
//   - subscribe to /devices/D/commands/# ("MQTT subscribe"; the topics are
//     Config.Topics', IoT Core's by default);
//   - every wait interval, if the last echo came back, publish the next
//     numbered payload to /devices/D/events ("MQTT publish");
//   - a command carrying the awaited number is "echo receive", timed from
//     the publish's intended send time, so a late schedule shows in the RTT;
//   - no echo within Config.EchoTimeout is an "echo timeout" failure (no
//     response time), and the next interval publishes again;
//   - the echo of a message that already timed out is "echo late", a
//     success timed by its age: its timeout was already counted as the
//     failure, so counting it again would double count;
//   - on stop, wait up to Config.LastMessageTimeout for the echo in flight,
//     else "last message timeout".
//
// Commands whose payload is not this device's are ignored.
func EchoProgram(cfg *Config) *Program {
	p := TelemetryProgram(cfg)
	c := settled(cfg)
	p.Periodic[0].Expect = &Expect{
		Filter:          commandsFilter(c.Topics),
		SentKey:         sentSeq,
		RecvKey:         echoSeq,
		Timeout:         c.EchoTimeout,
		Exclusive:       true,
		Match:           EventEchoReceive,
		Miss:            EventEchoTimeout,
		Late:            EventEchoLate,
		LastMiss:        EventLastMessageTimeout,
		MissMessage:     msgEchoTimeout,
		LastMissMessage: msgLastEchoTimeout,
	}
	return p
}

// TelemetryProgram publishes the echo behaviour's payload to
// /devices/D/events every wait interval and expects no reply, so it records
// "MQTT publish" only. It subscribes to the command topic as the echo
// behaviour does, and ignores the commands.
func TelemetryProgram(cfg *Config) *Program {
	c := settled(cfg)
	return &Program{
		Subscribe: []Subscription{{Filter: commandsFilter(c.Topics), QoS: c.QoS}},
		Periodic: []*Publish{{
			Event:   EventPublish,
			Message: Message{Topic: eventsTopic(c.Topics), Payload: echoPayload(c.PayloadSize), QoS: c.QoS},
			Every:   pace.Interval{Min: c.WaitMin, Max: c.WaitMax}.Next,
		}},
		AckTimeout: c.EchoTimeout,
	}
}

// settled returns cfg with its defaults applied.
func settled(cfg *Config) Config {
	c := *cfg
	c.setDefaults()
	return c
}

// commandsFilter is the echo behaviour's command subscription under t,
// for any device.
func commandsFilter(t runset.Topics) Template {
	return TemplateFunc(func(dst []byte, v *Vars) []byte { return t.AppendCommandsFilter(dst, v.DeviceID) })
}

// eventsTopic is the echo behaviour's events topic under t, for any device.
func eventsTopic(t runset.Topics) Template {
	return TemplateFunc(func(dst []byte, v *Vars) []byte { return t.AppendEvents(dst, v.DeviceID) })
}

// echoPayload renders the tutorial's payload padded to size (see payload).
type echoPayload int

// Append appends the payload numbered v.Seq, intended for v.Now.
func (size echoPayload) Append(dst []byte, v *Vars) []byte {
	return payload{deviceID: v.DeviceID, clientID: v.ClientID, size: int(size)}.appendTo(dst, v.Seq, v.Now)
}

// sentSeq is the key of a sent echo payload: its sequence number.
func sentSeq(v *Vars) (uint64, bool) { return v.Seq, true }

// echoSeq is the key of a received echo: the sequence number in its
// payload, if the payload is this device's.
func echoSeq(v *Vars) (uint64, bool) {
	return payload{deviceID: v.DeviceID, clientID: v.ClientID}.seq(v.Payload)
}

var _ Template = echoPayload(0)
