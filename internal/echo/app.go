package echo

import (
	"container/heap"
	"context"
	"errors"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// MaxPending bounds the echoes waiting for their delay; beyond it, new
// messages are counted as errors instead of queued, so memory stays bounded.
const MaxPending = 1 << 20

// PublishFunc publishes payload to the commands topic of deviceID with qos,
// or, as an MQTT 5 responder does, to resp.Topic when it is set, carrying
// resp.CorrelationData. The echo app calls it from several goroutines at
// once.
type PublishFunc func(deviceID string, payload []byte, qos byte, resp Response) error

// Response is what an MQTT 5 request asks of its reply: the topic to send
// it to and the correlation data to carry back. The zero value (an MQTT
// 3.1.1 message) asks for the plain echo on the device's commands topic.
// CorrelationData is the received message's and is not modified.
type Response struct {
	Topic           string
	CorrelationData []byte
}

// App echoes device events. Handle is safe for concurrent use. With a Delay or
// Jitter, echoes are scheduled on one timer driven by Run, which must be
// running for delayed echoes to go out.
type App struct {
	cfg     Config
	publish PublishFunc
	m       *metrics
	wake    chan struct{} // capacity 1: a new earliest deadline was queued

	received, echoed, dropped, errored atomic.Uint64

	mu      sync.Mutex // Guards the fields below.
	rng     *rand.Rand
	pending pendingHeap
	stopped bool
}

// Stats are the app's running totals.
type Stats struct {
	Received, Echoed, Dropped, Errors uint64
}

// New returns an echo app that answers through publish. Its metrics are
// registered with reg unless reg is nil.
func New(cfg Config, publish PublishFunc, reg prometheus.Registerer) (*App, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if publish == nil {
		return nil, errors.New("echo: publish func is nil")
	}
	m, err := newMetrics(reg)
	if err != nil {
		return nil, err
	}
	seed := uint64(cfg.Seed)
	if seed == 0 {
		seed = rand.Uint64()
	}
	return &App{
		cfg:     cfg,
		publish: publish,
		m:       m,
		wake:    make(chan struct{}, 1),
		rng:     rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)),
	}, nil
}

// Stats returns the totals so far.
func (a *App) Stats() Stats {
	return Stats{a.received.Load(), a.echoed.Load(), a.dropped.Load(), a.errored.Load()}
}

// Handle echoes payload, received at received from deviceID with qos, unless
// the drop rate says otherwise. Without a delay it publishes in the calling
// goroutine; with one it queues the echo for Run and returns at once. payload
// must not be modified afterwards.
func (a *App) Handle(deviceID string, payload []byte, qos byte, received time.Time) {
	a.Respond(deviceID, payload, qos, received, Response{})
}

// Respond is Handle for an MQTT 5 request: the echo goes where resp says
// (see PublishFunc). resp.CorrelationData must not be modified afterwards either.
func (a *App) Respond(deviceID string, payload []byte, qos byte, received time.Time, resp Response) {
	a.received.Add(1)
	a.m.messages.Inc()
	var delay time.Duration
	if a.cfg.DropRate > 0 || a.cfg.Jitter > 0 {
		a.mu.Lock()
		drop := a.cfg.DropRate > 0 && a.rng.Float64() < a.cfg.DropRate
		if !drop && a.cfg.Jitter > 0 {
			delay = time.Duration(a.rng.Int64N(int64(a.cfg.Jitter) + 1))
		}
		a.mu.Unlock()
		if drop {
			a.dropped.Add(1)
			a.m.dropped.Inc()
			return
		}
	}
	delay += a.cfg.Delay
	if delay <= 0 {
		a.send(deviceID, payload, qos, received, resp)
		return
	}
	a.schedule(pendingEcho{due: received.Add(delay), deviceID: deviceID, payload: payload, qos: qos, received: received, resp: resp})
}

// send publishes one echo and records its execution time.
func (a *App) send(deviceID string, payload []byte, qos byte, received time.Time, resp Response) {
	if err := a.publish(deviceID, payload, qos, resp); err != nil {
		a.errored.Add(1)
		a.m.errors.Inc()
		return
	}
	d := time.Since(received)
	a.echoed.Add(1)
	a.m.execution.Observe(d.Seconds())
	if a.cfg.Observer != nil {
		a.cfg.Observer(d)
	}
}

func (a *App) schedule(e pendingEcho) {
	a.mu.Lock()
	if a.stopped || len(a.pending) >= MaxPending {
		a.mu.Unlock()
		a.errored.Add(1)
		a.m.errors.Inc()
		return
	}
	heap.Push(&a.pending, e)
	first := a.pending[0].due.Equal(e.due)
	a.mu.Unlock()
	if first {
		select {
		case a.wake <- struct{}{}:
		default:
		}
	}
}

// Run sends delayed echoes when they fall due, until ctx ends. Echoes still
// pending then are abandoned (counted as errors), and later delayed messages
// too. Without Delay or Jitter, Run only waits for ctx.
func (a *App) Run(ctx context.Context) error {
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		wait := a.sendDue()
		timer.Reset(wait)
		select {
		case <-ctx.Done():
			a.mu.Lock()
			a.stopped = true
			n := len(a.pending)
			a.pending = nil
			a.mu.Unlock()
			a.errored.Add(uint64(n))
			a.m.errors.Add(float64(n))
			return nil
		case <-a.wake:
		case <-timer.C:
		}
	}
}

// sendDue publishes every echo that is due and returns how long to wait for the next.
func (a *App) sendDue() time.Duration {
	for {
		a.mu.Lock()
		if len(a.pending) == 0 {
			a.mu.Unlock()
			return time.Hour
		}
		wait := time.Until(a.pending[0].due)
		if wait > 0 {
			a.mu.Unlock()
			return wait
		}
		e := heap.Pop(&a.pending).(pendingEcho)
		a.mu.Unlock()
		a.send(e.deviceID, e.payload, e.qos, e.received, e.resp)
	}
}

// pendingEcho is an echo waiting for its delay.
type pendingEcho struct {
	due, received time.Time
	deviceID      string
	payload       []byte
	qos           byte
	resp          Response
}

// pendingHeap orders pending echoes by due time (container/heap).
type pendingHeap []pendingEcho

func (h pendingHeap) Len() int           { return len(h) }
func (h pendingHeap) Less(i, j int) bool { return h[i].due.Before(h[j].due) }
func (h pendingHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *pendingHeap) Push(x any)        { *h = append(*h, x.(pendingEcho)) }
func (h *pendingHeap) Pop() any {
	old := *h
	e := old[len(old)-1]
	old[len(old)-1] = pendingEcho{}
	*h = old[:len(old)-1]
	return e
}
