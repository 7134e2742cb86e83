package sim

import (
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ltk-dev/ltk/internal/mqttlean"
)

// loopback is a link that keeps the last message published, for driving a
// machine without a network.
type loopback struct {
	id   uint16
	last []byte
	// lastTopic, lastResponse and lastCorrelation are the last message's
	// topic and MQTT 5 request/response properties.
	lastTopic, lastResponse, lastCorrelation []byte
}

func (l *loopback) subscribe(string, *Subscription) (uint16, error) { l.id++; return l.id, nil }

func (l *loopback) publish(topic, payload []byte, _ byte, _ bool, props *mqttlean.Properties) (uint16, error) {
	l.id++
	l.last = append(l.last[:0], payload...)
	l.lastTopic = append(l.lastTopic[:0], topic...)
	l.lastResponse, l.lastCorrelation = l.lastResponse[:0], l.lastCorrelation[:0]
	if props != nil {
		l.lastResponse = append(l.lastResponse, props.ResponseTopic...)
		l.lastCorrelation = append(l.lastCorrelation, props.CorrelationData...)
	}
	return l.id, nil
}

func (l *loopback) close() {}

// counter counts events by kind and outcome.
type counter struct{ ok, fail [NumEvents]atomic.Int64 }

func (c *counter) Success(ev Event, _ time.Duration, _ int) { c.ok[ev].Add(1) }
func (c *counter) Failure(ev Event, _ time.Duration, _ string, _ Fault) {
	c.fail[ev].Add(1)
}

// upMachine returns a machine of prog (nil: the echo program) whose
// connection l is up, without a network.
func upMachine(t testing.TB, rec Recorder, prog *Program) (*machine, *loopback) {
	d, err := New(Config{Broker: "tcp://127.0.0.1:1", DeviceID: "LTK00042", QoS: 1, Program: prog,
		ClientID: "projects/p/locations/l/registries/r/devices/LTK00042", Recorder: rec, Engine: NewEngine()})
	require.NoError(t, err)
	m := &machine{dev: d, cfg: &d.cfg, prog: d.cfg.Program, done: func(error) {}}
	m.initRun(time.Now())
	m.wt.fire = func() {}
	m.unwatch = func() bool { return true }
	l := &loopback{}
	m.conn, m.link = l, linkConnecting
	m.onConnected(l)
	m.onSubscribed(l, l.id, 1)
	require.Equal(t, linkUp, m.link)
	t.Cleanup(func() { m.cfg.Engine.wheel.stop(&m.wt) })
	return m, l
}

// TestEchoPathAllocs: the echo program's publish, PUBACK and echo match
// allocate nothing once the device's slices have grown.
func TestEchoPathAllocs(t *testing.T) {
	rec := &counter{}
	m, l := upMachine(t, rec, nil)
	topic := []byte("/devices/LTK00042/commands")
	echo := func() {
		m.mu.Lock()
		m.publishStepAt(len(m.prog.OnConnect), m.cfg.Engine.wheel.clock(time.Now()))
		m.mu.Unlock()
		m.onAcked(l, l.id, nil)
		m.onMessage(l, topic, l.last, nil)
	}
	echo() // grows the device's slices; AllocsPerRun runs once more before it counts
	allocs := testing.AllocsPerRun(200, echo)
	require.LessOrEqual(t, allocs, float64(poolSlack))
	require.EqualValues(t, 202, rec.ok[EventEchoReceive].Load())
	require.EqualValues(t, 202, rec.ok[EventPublish].Load())
	require.Zero(t, rec.fail[EventEchoTimeout].Load()+rec.fail[EventPublish].Load())
}

// BenchmarkEchoPath is the engine's work for one echo: publish, PUBACK,
// match.
func BenchmarkEchoPath(b *testing.B) {
	m, l := upMachine(b, discard{}, nil)
	topic := []byte("/devices/LTK00042/commands")
	b.ReportAllocs()
	for b.Loop() {
		m.mu.Lock()
		m.publishStepAt(len(m.prog.OnConnect), m.cfg.Engine.wheel.clock(time.Now()))
		m.mu.Unlock()
		m.onAcked(l, l.id, nil)
		m.onMessage(l, topic, l.last, nil)
	}
}

// numberKey is the key of a message whose payload is a decimal number: the
// number.
func numberKey(v *Vars) (uint64, bool) {
	n, err := strconv.ParseUint(string(v.Payload), 10, 64)
	return n, err == nil
}

// seqPayload renders the step's sequence number.
var seqPayload = TemplateFunc(func(dst []byte, v *Vars) []byte { return strconv.AppendUint(dst, v.Seq, 10) })

// TestBurstsAndTheExpectationBound drives a program of bursts through the
// machine on a simulated clock: each interval sends its burst, BurstGap
// apart; replies are awaited (not exclusively) up to maxExpected at once,
// beyond which the oldest counts as missed; a reply to an evicted message
// is Late.
func TestBurstsAndTheExpectationBound(t *testing.T) {
	const (
		evSent = Event(NumEvents) + iota
		evGot
		evMiss
		evLate
	)
	prog := &Program{
		Periodic: []*Publish{{
			Event:   evSent,
			Message: Message{Topic: Literal("/devices/LTK00042/events"), Payload: seqPayload},
			Every:   func(float64) time.Duration { return time.Second },
			Burst:   3, BurstGap: 10 * time.Millisecond,
			Expect: &Expect{Filter: Literal("/devices/LTK00042/commands"), SentKey: numberKey, RecvKey: numberKey,
				Timeout: time.Hour, Match: evGot, Miss: evMiss, Late: evLate, LastMiss: EventNone},
		}},
	}
	rec := &eventLog{}
	m, l := upMachine(t, rec, prog)
	w := m.cfg.Engine.wheel
	start := w.time(m.run.steps[0].next)
	m.mu.Lock()
	for k := range 22 { // 66 messages: two more than a device awaits
		at := start.Add(time.Duration(k) * time.Second)
		for _, d := range []time.Duration{0, 10 * time.Millisecond, 20 * time.Millisecond} {
			m.programWake(at.Add(d))
		}
	}
	m.mu.Unlock()
	require.Equal(t, 66, rec.count(evSent), "22 bursts of 3")
	require.Len(t, m.run.exps, maxExpected)
	require.Equal(t, []string{msgEvicted, msgEvicted}, rec.msgs(evMiss), "the two oldest were evicted")

	topic := []byte("/devices/LTK00042/commands")
	m.onMessage(l, topic, []byte("66"), nil)
	m.onMessage(l, topic, []byte("1"), nil)
	require.Equal(t, 1, rec.count(evGot))
	require.Equal(t, 1, rec.count(evLate), "the reply to an evicted message is late")
	require.Len(t, m.run.exps, maxExpected-1)
}

// eventLog keeps every event's kind and message.
type eventLog struct {
	mu     sync.Mutex // Guards the fields below.
	events []Event
	msg    []string
}

func (e *eventLog) Success(ev Event, _ time.Duration, _ int) { e.add(ev, "") }
func (e *eventLog) Failure(ev Event, _ time.Duration, _ string, f Fault) {
	e.add(ev, f.Message())
}

func (e *eventLog) add(ev Event, msg string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.events, e.msg = append(e.events, ev), append(e.msg, msg)
}

func (e *eventLog) count(ev Event) int { return len(e.msgs(ev)) }

func (e *eventLog) msgs(ev Event) []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	var out []string
	for i, got := range e.events {
		if got == ev {
			out = append(out, e.msg[i])
		}
	}
	return out
}

// TestReactionExpect drives a back end's reaction through the machine: each
// message on the events topic is answered with a numbered command (the
// reaction's own sequence), whose response is awaited as a publish's reply
// is: matched, missed at its timeout, late after it, and missed at the
// stop's last wait. A delayed reply awaits its response once it was sent.
func TestReactionExpect(t *testing.T) {
	const (
		evCmd = Event(NumEvents) + iota
		evGot
		evMiss
		evLate
		evLast
		evDelayed
	)
	expect := func(match Event) *Expect {
		return &Expect{Filter: Literal("$share/g//devices/+/responses"), SentKey: numberKey, RecvKey: numberKey,
			Timeout: time.Second, Match: match, Miss: evMiss, Late: evLate, LastMiss: evLast}
	}
	prog := &Program{Kind: "backend", Backend: true, Reactions: []*Reaction{{
		Event: evCmd, Filter: Literal("$share/g//devices/+/events"),
		Reply:  Message{Topic: Literal("/devices/LTK00001/commands"), Payload: seqPayload},
		Expect: expect(evGot),
	}, {
		Event: evDelayed, Filter: Literal("/devices/+/late"),
		Delay:  func(float64) time.Duration { return 10 * time.Millisecond },
		Reply:  Message{Topic: Literal("/devices/LTK00001/commands"), Payload: TemplateFunc(func(dst []byte, v *Vars) []byte { return strconv.AppendUint(dst, 100+v.Seq, 10) })},
		Expect: expect(evGot),
	}}}
	rec := &eventLog{}
	m, l := upMachine(t, rec, prog)
	events, responses := []byte("/devices/LTK00001/events"), []byte("/devices/LTK00001/responses")

	m.onMessage(l, events, []byte("a"), nil)
	require.Equal(t, "1", string(l.last), "the reaction's first reply")
	m.onMessage(l, events, []byte("b"), nil)
	require.Equal(t, "2", string(l.last))
	m.onMessage(l, responses, []byte("1"), nil)
	require.Equal(t, 1, rec.count(evGot))
	require.Equal(t, 2, rec.count(evCmd))

	m.mu.Lock()
	m.programWake(time.Now().Add(2 * time.Second)) // 2's timeout
	m.mu.Unlock()
	require.Equal(t, []string{msgMiss}, rec.msgs(evMiss))
	m.onMessage(l, responses, []byte("2"), nil)
	require.Equal(t, 1, rec.count(evLate), "a response after its timeout")

	m.onMessage(l, []byte("/devices/LTK00001/late"), []byte("c"), nil)
	require.Empty(t, m.run.exps, "a delayed reply awaits nothing before it is sent")
	m.mu.Lock()
	m.programWake(time.Now().Add(20 * time.Millisecond))
	m.mu.Unlock()
	require.Equal(t, "101", string(l.last))
	require.Len(t, m.run.exps, 1)

	m.onMessage(l, events, []byte("d"), nil) // 3, in flight at the stop
	m.stop()
	require.True(t, m.lastWait)
	m.onMessage(l, events, []byte("e"), nil)
	require.Equal(t, 4, rec.count(evCmd)+rec.count(evDelayed), "a stopping device reacts to nothing new")
	m.onMessage(l, responses, []byte("101"), nil)
	m.mu.Lock()
	m.programWake(m.lastBy)
	m.mu.Unlock()
	require.Equal(t, []string{msgLastMiss}, rec.msgs(evLast), "3 was still awaited")
	require.Equal(t, 2, rec.count(evGot))
	require.True(t, m.progDone)
}
