package sim

import (
	"time"
)

// Event names a measured step of a device's life. Its Type and Name keep the
// tutorial's Locust request names so its users recognise them.
type Event uint16

// The events a device records. Disconnect is a failure only; Connect,
// Subscribe and Publish are recorded as a success or a failure; the echo
// events are described on the echo behaviour.
const (
	EventConnect Event = iota
	EventSubscribe
	EventPublish
	EventEchoReceive
	EventEchoTimeout
	EventEchoLate
	EventLastMessageTimeout
	EventDisconnect
	numEvents
)

var eventNames = [numEvents]string{
	EventConnect:            "MQTT connect",
	EventSubscribe:          "MQTT subscribe",
	EventPublish:            "MQTT publish",
	EventEchoReceive:        "echo receive",
	EventEchoTimeout:        "echo timeout",
	EventEchoLate:           "echo late",
	EventLastMessageTimeout: "last message timeout",
	EventDisconnect:         "MQTT disconnect",
}

// Type returns the Locust request type of the event: "MQTT" for the
// connection events and "echo" for the round-trip ones.
func (e Event) Type() string {
	switch e {
	case EventConnect, EventSubscribe, EventPublish, EventDisconnect:
		return "MQTT"
	case EventEchoReceive, EventEchoTimeout, EventEchoLate, EventLastMessageTimeout:
		return "echo"
	}
	return "unknown"
}

// Name returns the Locust request name of the event, such as "MQTT connect"
// or "echo receive".
func (e Event) Name() string {
	if e < numEvents {
		return eventNames[e]
	}
	return "unknown event"
}

// String returns Name.
func (e Event) String() string { return e.Name() }

// Recorder receives every measured event of a device. Implementations must be
// safe for concurrent use (a device records from its behaviour and from its
// connection supervisor, and many devices share one Recorder) and should not
// allocate: Success is on the hot path.
type Recorder interface {
	// Success records a successful event that took d, carrying size bytes
	// (the payload size for publishes and echoes, 0 otherwise).
	Success(ev Event, d time.Duration, size int)
	// Failure records a failed event of device (its id, which does not
	// change after the call) that took d, and why it failed (f.Message is
	// the failure's row; it is formatted only for a broker's refusal). d is
	// NoDuration for a failure that is no response time, such as an awaited
	// reply that never came (it must not count in percentiles), and 0 for
	// one that has no duration of its own, such as a lost connection.
	Failure(ev Event, d time.Duration, device string, f Fault)
}

// NoDuration is the d of a Failure that carries no response time: an
// expectation's miss ("echo timeout", "last message timeout").
const NoDuration time.Duration = -1

// discard is the Recorder used when Config.Recorder is nil.
type discard struct{}

func (discard) Success(Event, time.Duration, int)           {}
func (discard) Failure(Event, time.Duration, string, Fault) {}

// Credentials yields the MQTT password for a connect. Password is called
// before every connect with the current time; it returns the password and
// the moment it stops being valid (the zero time for never). A device
// reconnects on its own a little before that moment, without recording a
// failure, because brokers such as IoT Core drop a device whose JWT expired.
// Implementations must be safe for concurrent use; errors are recorded as a
// failed "MQTT connect".
type Credentials interface {
	Password(now time.Time) (password string, expires time.Time, err error)
}

// CredentialsFunc adapts a function to Credentials.
type CredentialsFunc func(now time.Time) (password string, expires time.Time, err error)

// Password calls f.
func (f CredentialsFunc) Password(now time.Time) (string, time.Time, error) { return f(now) }

var _ Credentials = CredentialsFunc(nil)

// NumEvents is the number of distinct events; Event values are 0..NumEvents-1,
// so a recorder can keep one slot per event in an array.
const NumEvents = int(numEvents)
