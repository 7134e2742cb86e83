package sim

import (
	"math/rand/v2"
	"time"
)

// A Program is what every device of one kind does, in data: how it
// connects, what it subscribes to, what it publishes and when, which
// replies it awaits and how it reacts to messages. The engine runs any
// Program on either MQTT client; the built-in echo and telemetry
// behaviours are Programs too, and package scenario compiles a user's
// scenario file into Programs. A Program is compiled once and shared,
// read-only, by every device of its kind: a device holds only its own
// state (Vars).
type Program struct {
	// Kind names the device kind, such as "sensor"; Vars.Kind carries it.
	Kind string
	// Backend marks a kind of back-end clients (a scenario's "count:"
	// kinds): a few clients that take the fleet's first indices, before
	// the devices. A back end connects with Config.BackendPassword (the
	// embedded target's back-end token), or with Password when it is set,
	// and never with a device's Config.Credentials.
	Backend bool

	// ClientID, Username and Password, when set, replace Config.ClientID,
	// Config.Username and the password of Config.Credentials (which is
	// then not asked). They are rendered before each connect.
	ClientID, Username, Password Template
	// KeepAlive, when positive, replaces Config.KeepAlive.
	KeepAlive time.Duration
	// MQTTVersion, when set, replaces Config.MQTTVersion: runset's
	// MQTTVersion311 or MQTTVersion5.
	MQTTVersion string
	// KeepSession connects with MQTT's clean session flag off, so that the
	// broker keeps the device's subscriptions and queued QoS 1 messages
	// while it is away. False (the zero value) is a clean session, as
	// devices connect today.
	KeepSession bool
	// Will, when set, is the connection's will message.
	Will *Message
	// Subscribe lists the subscriptions made after every connect; the
	// device's steps start after the first SUBACKs. None: the device
	// starts at CONNACK.
	Subscribe []Subscription

	// OnConnect publishes once after every successful (re)connect and
	// subscribe, in order: birth and state messages.
	OnConnect []*Publish
	// Periodic publishes each run on their own schedule (Publish.Every).
	Periodic []*Publish
	// Reactions answer received messages.
	Reactions []*Reaction
	// AckTimeout bounds the wait for a QoS 1 publish's PUBACK; a publish
	// without one by then is a failure of its Event. Zero =
	// Config.EchoTimeout.
	AckTimeout time.Duration

	// StateSize is how many float64 slots a device of this kind keeps in
	// Vars.State (random walks and the like); the engine allocates them.
	StateSize int
	// Init, when set, fills a device's Vars.State once, before its first
	// connect.
	Init func(v *Vars)
}

// Template renders bytes (a topic, a payload, a client id) for one device
// at one moment. Append appends the rendering to dst and returns the
// extended slice. It must not allocate in steady state and must be safe
// for concurrent use by many devices (everything per-device is in v).
type Template interface {
	Append(dst []byte, v *Vars) []byte
}

// TemplateFunc adapts a function to Template.
type TemplateFunc func(dst []byte, v *Vars) []byte

// Append calls f.
func (f TemplateFunc) Append(dst []byte, v *Vars) []byte { return f(dst, v) }

// Literal is a Template that renders a constant.
type Literal string

// Append appends l.
func (l Literal) Append(dst []byte, _ *Vars) []byte { return append(dst, l...) }

// Vars are what a Template, a key or a condition may read: the device's
// identity and state, the step's sequence number and time, and the message
// being handled (reactions and expectations only).
type Vars struct {
	DeviceID string
	ClientID string
	Index    int      // the device's index in the fleet, from 0
	Kind     string   // Program.Kind
	Worker   int      // the worker's ordinal
	Columns  []string // the device's extra devicelist.csv columns, by Fleet.Columns
	Rand     *rand.Rand
	State    []float64 // Program.StateSize slots, the device's own

	Seq uint64    // the step's sequence number: 1 for its first publish (a reaction's: for its first reply)
	Now time.Time // the step's intended time

	// Topic and Payload are the received message's while a reaction or an
	// expectation handles it; nil otherwise. They are valid only during
	// the call.
	Topic, Payload []byte
	// ResponseTopic and CorrelationData are the received message's MQTT 5
	// request/response properties (nil when absent), alongside Topic and
	// Payload. While SentKey runs they are the sent message's.
	ResponseTopic, CorrelationData []byte
}

// Subscription is one topic filter a device subscribes to.
type Subscription struct {
	Filter Template
	QoS    byte
	// NoLocal, RetainAsPublished and RetainHandling are MQTT 5's
	// subscription options (the program's MQTTVersion must be 5): do not
	// receive the device's own publishes; keep the retain flag of
	// forwarded messages; retained messages at subscribe (0: send, 1: only
	// for a new subscription, 2: do not send).
	NoLocal, RetainAsPublished bool
	RetainHandling             byte
}

// Message is a message a device sends: a will, or a reaction's reply.
type Message struct {
	Topic, Payload Template
	QoS            byte
	Retain         bool
	// Props, when set, are the message's MQTT 5 properties (the program's
	// MQTTVersion must be 5); they are rendered with its topic and
	// payload. A will's are ignored.
	Props *Props
}

// Props are a message's MQTT 5 properties. Nil templates, a zero
// PayloadFormat and a zero MessageExpiry are absent, and so is a template
// that renders nothing.
type Props struct {
	// PayloadFormat is 1 when the payload is UTF-8 text.
	PayloadFormat byte
	// MessageExpiry is the message's lifetime in seconds.
	MessageExpiry uint32
	// ContentType is the payload's MIME type.
	ContentType Template
	// ResponseTopic and CorrelationData are MQTT 5's request/response
	// pair: where the receiver should reply, and what its reply carries
	// back.
	ResponseTopic, CorrelationData Template
	// User are the message's user properties, in order.
	User []UserProp
}

// UserProp is one MQTT 5 user property: a name and its value.
type UserProp struct {
	Key   string
	Value Template
}

// Schedule draws the wait before a step's next publish from u, uniform in
// [0, 1): fixed, uniform in a range, or exponential with a mean (Poisson
// arrivals). pace.Interval's Next is one.
type Schedule func(u float64) time.Duration

// Publish is a named step that publishes a message, on connect or on a
// schedule, and may await a reply. A step does not publish again while its
// previous message awaits its PUBACK (but for the messages of one burst).
type Publish struct {
	// Event is the stats entry the publish is recorded under (its PUBACK
	// at QoS 1, its write at QoS 0), such as EventPublish.
	Event Event
	Message
	// Every schedules a periodic publish; nil for OnConnect publishes.
	Every Schedule
	// Jitter starts a periodic publish at a random offset within its first
	// interval, so that devices started together do not publish in step.
	Jitter bool
	// Burst, when above 1, sends that many messages each time, BurstGap
	// apart.
	Burst    int
	BurstGap time.Duration
	// Expect, when set, awaits a reply to each message.
	Expect *Expect
}

// Expect awaits, for each message a Publish sent, a message whose key
// equals the sent one's, on a topic matching Filter, within Timeout.
type Expect struct {
	// Filter is the MQTT topic filter replies arrive on; it must be
	// covered by a subscription of the program.
	Filter Template
	// SentKey returns the correlation key of a sent message (v.Payload and
	// v.Topic are the sent message's); RecvKey that of a received one, and
	// false when the message is not a reply this expectation knows. For
	// the tutorial's echo both parse the sequence number out of the
	// payload.
	SentKey, RecvKey func(v *Vars) (key uint64, ok bool)
	// Timeout bounds the wait for each reply; it must be positive.
	Timeout time.Duration
	// Exclusive: the step does not publish again while a reply is awaited
	// (the tutorial's echo device: "if the last echo came back").
	Exclusive bool

	// Match is recorded, as a success timed from the sent message's
	// intended time, when a reply arrives in time ("echo receive").
	Match Event
	// Miss is recorded as a failure, never as a response time, when none
	// did ("echo timeout").
	Miss Event
	// Late, when set (not EventNone), is recorded for a reply that arrived
	// after its Miss ("echo late").
	Late Event
	// LastMiss is recorded instead of Miss for a reply still missing when
	// the device stopped and its last message wait ended ("last message
	// timeout"); EventNone = Miss.
	LastMiss Event
	// MissMessage and LastMissMessage are the failure messages of Miss and
	// LastMiss (constant: they are not formatted per failure); empty = a
	// generic one.
	MissMessage, LastMissMessage string
}

// Reaction answers received messages: when a message arrives on a topic
// matching Filter and When (if set) holds, Reply is published after Delay.
type Reaction struct {
	// Event is the stats entry the reply's publish is recorded under.
	Event  Event
	Filter Template
	When   func(v *Vars) bool
	Delay  Schedule // nil = at once
	Reply  Message
	// Expect, when set, awaits a reply to each Reply, as a Publish's does
	// (Match, Miss, Late, LastMiss, the bound on replies awaited, the
	// stop's last wait): a back end reacts to a device's message with a
	// command to that device and times the device's response. SentKey
	// sees the Reply as sent, rendered for the received message; with
	// Exclusive the reaction does not reply while a reply to it is
	// awaited.
	Expect *Expect
}

// EventNone marks an optional Event that is not set.
const EventNone Event = 0xffff

// Plan is a whole fleet's behaviour: its kinds, which device is of which
// kind, and the names of every stats entry its programs record.
type Plan struct {
	// Name names the plan (the scenario's name), for people.
	Name string
	// Kinds are the fleet's programs.
	Kinds []*Program
	// KindOf returns the index in Kinds of the device with fleet index i.
	// It must be a pure function of i, so that reruns and every worker
	// agree on the fleet.
	KindOf func(i int) int
	// Events names the events the programs record: Events[e] names Event
	// e. Its first NumEvents entries are the built-in events' names.
	Events []EventName
	// Columns names the extra devicelist.csv columns a device's
	// Vars.Columns hold, in order.
	Columns []string
}

// EventName is the Locust-style (type, name) pair a stats entry is kept
// under.
type EventName struct{ Type, Name string }

// BuiltinEvents returns the names of the built-in events, in Event order:
// the start of every Plan's Events.
func BuiltinEvents() []EventName {
	names := make([]EventName, NumEvents)
	for e := range numEvents {
		names[e] = EventName{e.Type(), e.Name()}
	}
	return names
}
