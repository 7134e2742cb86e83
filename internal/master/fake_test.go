package master

import (
	"context"
	"io"
	"sync"
	"time"

	"github.com/ltk-dev/ltk/internal/device"
	"github.com/ltk-dev/ltk/internal/runset"
	"github.com/ltk-dev/ltk/internal/stats"
	"github.com/ltk-dev/ltk/internal/wire/ltkv1"
)

// pipe is an in-memory session stream: the master's end is the pipe
// itself, the worker's end its channels. Cancelling ctx ends it, as the end
// of a gRPC stream does.
type pipe struct {
	ctx      context.Context
	cancel   context.CancelFunc
	toMaster chan *ltkv1.WorkerMessage
	toWorker chan *ltkv1.MasterMessage
}

func newPipe() *pipe {
	ctx, cancel := context.WithCancel(context.Background())
	return &pipe{ctx: ctx, cancel: cancel, toMaster: make(chan *ltkv1.WorkerMessage, 64), toWorker: make(chan *ltkv1.MasterMessage, 64)}
}

func (p *pipe) Send(m *ltkv1.MasterMessage) error {
	select {
	case p.toWorker <- m:
		return nil
	case <-p.ctx.Done():
		return io.ErrClosedPipe
	}
}

func (p *pipe) Recv() (*ltkv1.WorkerMessage, error) {
	select {
	case m := <-p.toMaster:
		return m, nil
	case <-p.ctx.Done():
		return nil, io.EOF
	}
}

// fakeWorker speaks the worker side of the protocol without devices: a
// Spawn makes its share "run" at once, and every running device records one
// 3 ms echo per second, reported every second with a heartbeat.
type fakeWorker struct {
	p      *pipe
	served chan error    // what serve returned
	exited chan struct{} // closed when the worker's loop has ended

	mu      sync.Mutex // Guards the fields below.
	ordinal int
	block   []string // device ids
	spawns  []*ltkv1.Spawn
	running int
	silent  bool // stop heartbeating (a hung or cut-off worker)
	quit    bool
	sent    int64 // requests reported
	rec     *stats.Recorder
}

// connect starts a session of a fake worker with m.
func connect(m *Master, hello *ltkv1.Hello) *fakeWorker {
	w := &fakeWorker{p: newPipe(), served: make(chan error, 1), exited: make(chan struct{}), rec: stats.NewRecorder(), ordinal: -1}
	if hello.Version == "" {
		hello.Version = m.cfg.Version
	}
	if hello.Protocol == 0 {
		hello.Protocol = ltkv1.ProtocolVersion
	}
	go func() {
		err := m.serve(w.p.ctx, w.p)
		w.p.cancel() // as gRPC ends the stream when the handler returns
		w.served <- err
	}()
	w.p.toMaster <- &ltkv1.WorkerMessage{Msg: &ltkv1.WorkerMessage_Hello{Hello: hello}}
	go w.loop()
	return w
}

func (w *fakeWorker) loop() {
	defer close(w.exited)
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for {
		select {
		case <-w.p.ctx.Done():
			for { // what the master sent before the stream ended still arrives
				select {
				case msg := <-w.p.toWorker:
					w.apply(msg)
				default:
					return
				}
			}
		case msg := <-w.p.toWorker:
			w.apply(msg)
		case <-tick.C:
			w.mu.Lock()
			silent := w.silent
			w.mu.Unlock()
			if !silent {
				w.report()
				w.heartbeat(ltkv1.State_STATE_RUNNING, 0)
			}
		}
	}
}

func (w *fakeWorker) apply(msg *ltkv1.MasterMessage) {
	w.mu.Lock()
	defer w.mu.Unlock()
	switch m := msg.GetMsg().(type) {
	case *ltkv1.MasterMessage_Welcome:
		w.ordinal = int(m.Welcome.GetOrdinal())
	case *ltkv1.MasterMessage_Block:
		for _, d := range m.Block.GetDevices() {
			w.block = append(w.block, d.GetId())
		}
	case *ltkv1.MasterMessage_Spawn:
		w.spawns = append(w.spawns, m.Spawn)
		w.running = int(m.Spawn.GetCount())
	case *ltkv1.MasterMessage_Stop:
		w.running = 0
		go func() { // as a worker does after its devices stopped
			w.report()
			w.heartbeat(ltkv1.State_STATE_STOPPED, m.Stop.GetSeq())
		}()
	case *ltkv1.MasterMessage_Quit:
		w.quit = true
		w.p.cancel()
	}
}

// report sends one echo per running device.
func (w *fakeWorker) report() {
	w.mu.Lock()
	e := w.rec.Entry("echo", "echo receive")
	for range w.running {
		e.Record(3*time.Millisecond, 60)
	}
	d := w.rec.Drain(time.Now())
	for _, ed := range d.Entries {
		w.sent += ed.Requests
	}
	w.mu.Unlock()
	w.send(&ltkv1.WorkerMessage{Msg: &ltkv1.WorkerMessage_Report{Report: &ltkv1.Report{Deltas: []*ltkv1.StatsDelta{ltkv1.EncodeDelta(d)}}}})
}

func (w *fakeWorker) heartbeat(state ltkv1.State, applied uint64) {
	w.mu.Lock()
	hb := &ltkv1.Heartbeat{State: state, Running: int32(w.running), AppliedSeq: applied}
	w.mu.Unlock()
	w.send(&ltkv1.WorkerMessage{Msg: &ltkv1.WorkerMessage_Heartbeat{Heartbeat: hb}})
}

func (w *fakeWorker) send(msg *ltkv1.WorkerMessage) {
	select {
	case w.p.toMaster <- msg:
	case <-w.p.ctx.Done():
	}
}

// setSilent stops (or resumes) heartbeats and reports.
func (w *fakeWorker) setSilent(s bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.silent = s
}

// lastSpawn returns the last Spawn received, or nil.
func (w *fakeWorker) lastSpawn() *ltkv1.Spawn {
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.spawns) == 0 {
		return nil
	}
	return w.spawns[len(w.spawns)-1]
}

// spawnCount returns how many Spawns the worker received.
func (w *fakeWorker) spawnCount() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return len(w.spawns)
}

func (w *fakeWorker) blockIDs() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]string(nil), w.block...)
}

// close ends the session from the worker's side and waits for serve.
func (w *fakeWorker) close() error {
	w.p.cancel()
	return <-w.served
}

// testConfig is a valid master configuration over n devices with no keys.
func testConfig(n, expect int, events io.Writer) Config {
	devs := make([]device.Device, n)
	for i := range devs {
		devs[i].ID = device.FormatID("LTK", 5, i+1)
	}
	return Config{
		Version: "v-test", Devices: devs, ExpectWorkers: expect, Events: events,
		Settings: runset.Settings{
			Broker: "tcp://127.0.0.1:1883", Auth: runset.AuthNone, ClientIDFormat: runset.ClientIDPlain,
			Behavior: "echo", QoS: 1, WaitMin: time.Second, WaitMax: time.Second, LastMessageTimeout: time.Second,
		},
	}
}
