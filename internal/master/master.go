package master

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"syscall"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"

	"github.com/ltk-dev/ltk/internal/clustertls"
	"github.com/ltk-dev/ltk/internal/stats"
	"github.com/ltk-dev/ltk/internal/wire/ltkv1"
)

// ErrNotEnoughDevices is returned by Start when the workers' blocks hold
// fewer devices than asked for.
var ErrNotEnoughDevices = errors.New("not enough devices")

// A Master coordinates workers over gRPC: it keeps a registry of workers by
// ordinal, gives each its block of the device list, splits a test's devices
// and spawn rate between them, marks the silent ones missing, and merges the
// stats they report. Its methods are safe for concurrent use.
type Master struct {
	cfg      Config
	id       string          // this master process, so workers know a restarted master
	settings *ltkv1.Settings // cfg.Settings as sent to workers
	wire     []*ltkv1.Device // cfg.Devices as sent to workers (encodeFleet)
	agg      *stats.Aggregate
	lis      net.Listener // nil in tests that serve streams directly
	srv      *grpc.Server
	wg       sync.WaitGroup // the goroutines reading worker streams

	mu      sync.Mutex // Guards the fields below.
	members map[int]*member
	phase   phase
	started bool    // Start succeeded once: State is no longer StateReady
	count   int     // devices asked for by Start
	rate    float64 // spawn rate asked for by Start
	seq     uint64  // last command sequence number
	bell    chan struct{}
	closed  bool
	checked time.Time // when the watcher last checked the heartbeats

	// reportSeq is, by worker process (Hello.worker_id), the last stats
	// delta handled: a delta numbered up to it is a resend, counted once.
	reportSeq map[string]uint64
	deltas    Deltas
}

// phase is where a test is.
type phase int

const (
	idle    phase = iota // no test started yet
	running              // started, not stopped
	stopped              // stopped
)

// New checks cfg, binds the gRPC listener on cfg.Addr and returns a master
// that serves nothing until Run.
func New(cfg Config) (*Master, error) {
	m, err := newMaster(cfg)
	if err != nil {
		return nil, err
	}
	lis, err := net.Listen("tcp", m.cfg.Addr)
	if err != nil {
		return nil, fmt.Errorf("master: listen on %s: %w (is another master running? choose another --master-bind-port)", m.cfg.Addr, err)
	}
	m.lis = lis
	opts := []grpc.ServerOption{grpc.WaitForHandlers(true)} // so that Stop returns after every session has ended
	if m.cfg.TLS != nil {
		opts = append(opts, grpc.Creds(clustertls.Watch(credentials.NewTLS(m.cfg.TLS), m.handshakeFailed)))
	}
	m.srv = grpc.NewServer(opts...)
	ltkv1.RegisterCoordinatorServer(m.srv, service{m: m})
	return m, nil
}

// newMaster is New without the listener.
func newMaster(cfg Config) (*Master, error) {
	cfg.setDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	settings, err := ltkv1.EncodeSettings(&cfg.Settings)
	if err != nil {
		return nil, err
	}
	wire, err := encodeFleet(cfg.Devices)
	if err != nil {
		return nil, err
	}
	var b [8]byte
	_, _ = rand.Read(b[:])
	return &Master{
		cfg:      cfg,
		id:       hex.EncodeToString(b[:]),
		settings: settings,
		wire:     wire,
		agg:      stats.NewAggregate(),
		members:  make(map[int]*member),
		bell:     make(chan struct{}),

		reportSeq: make(map[string]uint64),
	}, nil
}

// handshakeFailed tells people why a connection to the TLS port failed, when
// it is something the worker's configuration can fix: a client that speaks
// no TLS, or a certificate mutual TLS does not accept. A connection closed
// before its handshake (a TCP probe) is not worth a line.
func (m *Master) handshakeFailed(peer net.Addr, err error) {
	switch {
	case clustertls.NotTLS(err):
		fmt.Fprintf(m.cfg.Events, "Refused a connection from %v: it does not speak TLS; give the worker --master-tls-ca (LTK_MASTER_TLS_CA)\n", peer)
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, net.ErrClosed), errors.Is(err, syscall.ECONNRESET):
	default:
		m.cfg.Logger.Info("TLS handshake failed", "peer", peer, "err", err)
		fmt.Fprintf(m.cfg.Events, "Refused a connection from %v: TLS: %s\n", peer, printable(err.Error(), 300))
	}
}

// Addr returns the address the master listens on, with the real port.
func (m *Master) Addr() string {
	if m.lis == nil {
		return ""
	}
	return m.lis.Addr().String()
}

// BlockSize returns the number of devices per worker block.
func (m *Master) BlockSize() int { return m.cfg.BlockSize }

// ExpectWorkers returns how many workers a test waits for.
func (m *Master) ExpectWorkers() int { return m.cfg.ExpectWorkers }

// Broker returns the URL of the broker the workers' devices connect to.
func (m *Master) Broker() string { return m.cfg.Settings.Broker }

// Run serves workers and watches their heartbeats until ctx ends, then
// closes every session and returns after the server and its goroutines
// have stopped.
func (m *Master) Run(ctx context.Context) error {
	serveErr := make(chan error, 1)
	if m.srv != nil {
		go func() { serveErr <- m.srv.Serve(m.lis) }()
	}
	err := m.watch(ctx, serveErr)
	m.mu.Lock()
	m.closed = true
	for _, mem := range m.members {
		if mem.sess != nil {
			mem.sess.cancel(errShutdown)
		}
	}
	m.mu.Unlock()
	if m.srv != nil {
		stopped := make(chan struct{})
		go func() { m.srv.GracefulStop(); close(stopped) }()
		timer := time.NewTimer(5 * time.Second)
		select {
		case <-stopped:
		case <-timer.C:
			m.srv.Stop()
			<-stopped
		}
		timer.Stop()
	}
	m.wg.Wait()
	return err
}

// watch marks silent workers missing, checking four times per heartbeat
// interval, until ctx ends.
func (m *Master) watch(ctx context.Context, serveErr <-chan error) error {
	tick := time.NewTicker(m.watchEvery())
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case err := <-serveErr:
			return fmt.Errorf("master: serve gRPC: %w", err)
		case <-tick.C:
			m.check(time.Now())
		}
	}
}

// watchEvery is how often the watcher checks the workers' heartbeats.
func (m *Master) watchEvery() time.Duration {
	return max(m.cfg.HeartbeatInterval/4, time.Millisecond)
}

// check is one round of the watcher at now: it excuses the workers for the
// time the master itself stalled, marks the silent ones missing and hands
// devices over.
//
// A watcher that wakes much later than it was due tells that this process
// got no processor (an overloaded machine, a long pause): neither did the
// goroutines reading the workers' streams, whose heartbeats wait unread in
// the sockets. Judged by the wall clock alone, every worker would look
// silent for the stall; so each connected worker's silence is counted
// without it (member.excused), and a worker that is really silent still
// misses its heartbeats, a stall later.
func (m *Master) check(now time.Time) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if !m.checked.IsZero() {
		if stall := now.Sub(m.checked) - m.watchEvery(); stall > 0 {
			for _, mem := range m.members {
				if mem.sess != nil {
					mem.excused += stall
				}
			}
			if stall >= m.cfg.HeartbeatInterval {
				m.cfg.Logger.Warn("the master stalled (no processor?): the workers' silence is counted without the stall", "stall", stall)
			}
		}
	}
	m.checked = now
	m.expire(now)
	m.handoff()
}

// Collect returns the test's statistics at now: everything the workers
// reported so far, merged.
func (m *Master) Collect(now time.Time) stats.Snapshot { return m.agg.Snapshot(now) }

// Reset forgets the stats collected so far (Locust's "reset stats").
func (m *Master) Reset() { m.agg.Reset() }

// ring wakes everyone waiting for a change. m.mu is held.
func (m *Master) ring() {
	close(m.bell)
	m.bell = make(chan struct{})
}

// waitFor waits until cond (called with m.mu held) is true, ctx ends or
// timeout passes (0 = no limit); it reports whether cond became true.
func (m *Master) waitFor(ctx context.Context, timeout time.Duration, cond func() bool) bool {
	var deadline <-chan time.Time
	if timeout > 0 {
		t := time.NewTimer(timeout)
		defer t.Stop()
		deadline = t.C
	}
	for {
		m.mu.Lock()
		ok, bell := cond(), m.bell
		m.mu.Unlock()
		if ok {
			return true
		}
		select {
		case <-ctx.Done():
			return false
		case <-deadline:
			return false
		case <-bell:
		}
	}
}

// printf writes one line of Events.
func (m *Master) printf(format string, args ...any) {
	fmt.Fprintf(m.cfg.Events, format+"\n", args...)
}
