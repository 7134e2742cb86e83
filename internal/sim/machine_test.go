package sim

import (
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// loopback is a link that keeps the last message published, for driving a
// machine without a network.
type loopback struct {
	id   uint16
	last []byte
}

func (l *loopback) subscribe(string, byte) (uint16, error) { l.id++; return l.id, nil }

func (l *loopback) publish(_, payload []byte, _ byte, _ bool) (uint16, error) {
	l.id++
	l.last = append(l.last[:0], payload...)
	return l.id, nil
}

func (l *loopback) close() {}

// counter counts events by kind and outcome.
type counter struct{ ok, fail [NumEvents]atomic.Int64 }

func (c *counter) Success(ev Event, _ time.Duration, _ int) { c.ok[ev].Add(1) }
func (c *counter) Failure(ev Event, _ time.Duration, _ string) {
	c.fail[ev].Add(1)
}

// upMachine returns a machine of the echo program whose connection l is
// up, without a network.
func upMachine(t testing.TB, rec Recorder) (*machine, *loopback) {
	d, err := New(Config{Broker: "tcp://127.0.0.1:1", DeviceID: "LTK00042", QoS: 1,
		ClientID: "projects/p/locations/l/registries/r/devices/LTK00042", Recorder: rec, Engine: NewEngine()})
	require.NoError(t, err)
	m := &machine{dev: d, cfg: &d.cfg, prog: d.cfg.Program, done: func(error) {}}
	m.run.init(m.prog)
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
	m, l := upMachine(t, rec)
	topic := []byte("/devices/LTK00042/commands")
	echo := func() {
		m.mu.Lock()
		m.publishStepAt(len(m.prog.OnConnect), m.cfg.Engine.wheel.clock(time.Now()))
		m.mu.Unlock()
		m.onAcked(l, l.id)
		m.onMessage(l, topic, l.last)
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
	m, l := upMachine(b, discard{})
	topic := []byte("/devices/LTK00042/commands")
	b.ReportAllocs()
	for b.Loop() {
		m.mu.Lock()
		m.publishStepAt(len(m.prog.OnConnect), m.cfg.Engine.wheel.clock(time.Now()))
		m.mu.Unlock()
		m.onAcked(l, l.id)
		m.onMessage(l, topic, l.last)
	}
}
