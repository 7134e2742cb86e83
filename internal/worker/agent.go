package worker

import (
	"cmp"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"math/rand/v2"
	"net"
	"os"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ltk-dev/ltk/internal/clustertls"
	"github.com/ltk-dev/ltk/internal/device"
	"github.com/ltk-dev/ltk/internal/pace"
	"github.com/ltk-dev/ltk/internal/srcaddr"
	"github.com/ltk-dev/ltk/internal/wire/ltkv1"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	grpccreds "google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"
)

// Defaults of Config.
const (
	DefaultMasterPort    = 5557
	DefaultMasterTimeout = 5 * time.Minute
)

// DefaultBackoff is the reconnect schedule when the master is away.
var DefaultBackoff = pace.Backoff{Min: 250 * time.Millisecond, Max: 5 * time.Second}

// ErrMasterGone is returned by Agent.Run when the master stayed away for
// longer than Config.MasterTimeout.
var ErrMasterGone = errors.New("no master")

// ErrRefused is returned by Agent.Run when the master refused the worker for
// a reason that retrying cannot fix (cluster token, version).
var ErrRefused = errors.New("refused by the master")

// Config describes a worker process's connection to its master.
type Config struct {
	MasterAddr    string        // host:port of the master's gRPC listener
	Ordinal       int           // the block to run; -1: the Hostname's trailing -k, else assigned by the master
	Hostname      string        // default os.Hostname()
	Version       string        // ltk version; the master refuses another
	Token         string        // the master's cluster token, if it has one
	TLS           *tls.Config   // TLS to the master (clustertls.Client); nil = plaintext
	MasterTimeout time.Duration // give up after this long without the master; 0 = never
	Backoff       pace.Backoff  // reconnect schedule; zero = DefaultBackoff
	Logger        *slog.Logger  // nil = discard
	Events        io.Writer     // one line per connection event, for people; nil = discard
	// Sources are the source addresses the devices dial from, PerSource
	// connections each (0: srcaddr.DefaultPerSource, half the ephemeral
	// port range). Without addresses, a block of more devices than one
	// address carries to a broker on loopback dials from 127.0.0.2 on, as
	// ltk bench does; to another broker, it warns.
	Sources srcaddr.Plan

	// Refusal, if set, says why the broker refused a device's last connect,
	// in words, where the broker knows more than MQTT 3.1.1's CONNACK codes
	// carry: 'ltk run' sets it to its embedded target's Refusal, so that the
	// devices' "connection refused" failures name the target's reason.
	Refusal RefusalFunc

	// HealthAddr, when set, is where the worker serves its probes
	// (HealthHandler), e.g. ":8080".
	HealthAddr string

	// connect opens a session stream; nil = gRPC to MasterAddr. Tests replace it.
	connect func(ctx context.Context) (clientStream, func(), error)
}

// clientStream is the worker's end of a session.
type clientStream interface {
	Send(*ltkv1.WorkerMessage) error
	Recv() (*ltkv1.MasterMessage, error)
}

func (c *Config) setDefaults() {
	if c.Hostname == "" {
		c.Hostname, _ = os.Hostname()
	}
	if c.Ordinal < 0 {
		if k, ok := OrdinalFromHostname(c.Hostname); ok {
			c.Ordinal = k
		} else {
			c.Ordinal = -1
		}
	}
	if c.Backoff == (pace.Backoff{}) {
		c.Backoff = DefaultBackoff
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.Events == nil {
		c.Events = io.Discard
	}
	if c.connect == nil {
		c.connect = c.dialGRPC
	}
}

// Validate reports a configuration the agent cannot run with.
func (c *Config) Validate() error {
	if c.MasterAddr == "" && c.connect == nil {
		return errors.New("no master address: give --master-host (and --master-port)")
	}
	if c.MasterTimeout < 0 {
		return fmt.Errorf("master timeout %v is negative (0 waits forever)", c.MasterTimeout)
	}
	return nil
}

// dialGRPC opens a session stream to MasterAddr. Each session gets its own
// connection, so that a connection the network silently dropped is never reused.
func (c *Config) dialGRPC(ctx context.Context) (clientStream, func(), error) {
	creds := insecure.NewCredentials()
	var handshake struct {
		sync.Mutex
		err error
	}
	if c.TLS != nil {
		creds = clustertls.Watch(grpccreds.NewTLS(c.TLS), func(_ net.Addr, err error) {
			handshake.Lock()
			handshake.err = err
			handshake.Unlock()
		})
	}
	conn, err := grpc.NewClient(c.MasterAddr, grpc.WithTransportCredentials(creds))
	if err != nil {
		return nil, nil, fmt.Errorf("master address %q: %w", c.MasterAddr, err)
	}
	st, err := ltkv1.NewCoordinatorClient(conn).Connect(ctx)
	if err != nil {
		_ = conn.Close()
		handshake.Lock()
		defer handshake.Unlock()
		if clustertls.Untrusted(handshake.err) {
			return nil, nil, untrusted{handshake.err}
		}
		return nil, nil, err
	}
	return st, func() { _ = conn.Close() }, nil
}

// An Agent is a worker process's side of the master/worker protocol: it
// connects to the master, receives its block of devices, runs the share the
// master asks for and reports heartbeats and stats. Its devices keep running
// while the master is away; it reconnects with backoff and resynchronises.
type Agent struct {
	cfg    Config
	id     string
	runner *runner

	// Set by sessions (one at a time).
	ordinal  int
	masterID string
	// connected is true while a session the master welcomed is up.
	connected atomic.Bool
}

// NewAgent checks cfg and returns an Agent that does nothing until Run.
func NewAgent(cfg Config) (*Agent, error) {
	cfg.setDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return &Agent{
		cfg:     cfg,
		id:      newWorkerID(cfg.Hostname),
		runner:  newRunner(cfg.Logger, cfg.Events, cfg.Refusal, cfg.Sources),
		ordinal: cfg.Ordinal,
	}, nil
}

// Ordinal returns the worker's ordinal: as configured, or as the master
// assigned it (-1 before that).
func (a *Agent) Ordinal() int { return a.ordinal }

// Connected reports whether the worker is in a session the master welcomed.
func (a *Agent) Connected() bool { return a.connected.Load() }

// Run connects to the master and does as it says until the master says quit
// (nil), ctx ends (nil), the master refuses the worker (ErrRefused) or stays
// away for MasterTimeout (ErrMasterGone). It returns after the devices
// stopped gracefully.
func (a *Agent) Run(ctx context.Context) error {
	stopHealth, err := a.serveHealth()
	if err != nil {
		return err
	}
	defer stopHealth()
	rctx, stopRunner := context.WithCancel(context.WithoutCancel(ctx))
	runnerDone := make(chan struct{})
	go func() {
		defer close(runnerDone)
		a.runner.run(rctx)
	}()
	err = a.connectLoop(ctx)
	stopRunner()
	<-runnerDone
	t := a.runner.totals()
	fmt.Fprintf(a.cfg.Events, "Worker %d recorded %d requests (%d failures)\n", a.ordinal, t.requests, t.failures)
	byName := func(a, b [2]string) int { return cmp.Or(cmp.Compare(a[0], b[0]), cmp.Compare(a[1], b[1])) }
	for _, k := range slices.SortedFunc(maps.Keys(t.entries), byName) {
		n := t.entries[k]
		fmt.Fprintf(a.cfg.Events, "Worker %d recorded %d requests (%d failures) of %q %q\n", a.ordinal, n[0], n[1], k[0], k[1])
	}
	return err
}

// connectLoop runs sessions until one ends for good.
func (a *Agent) connectLoop(ctx context.Context) error {
	lastContact := time.Now()
	timer := time.NewTimer(0)
	defer timer.Stop()
	for attempt := 0; ; attempt++ {
		welcomed, err := a.session(ctx)
		switch {
		case ctx.Err() != nil:
			return nil
		case errors.Is(err, errQuit):
			return nil
		case errors.As(err, new(untrusted)):
			fmt.Fprintf(a.cfg.Events, "The master at %s is not trusted: %v\n", a.cfg.MasterAddr, err)
			return fmt.Errorf("%w: %w", ErrRefused, err)
		case refusal(err):
			fmt.Fprintf(a.cfg.Events, "The master at %s refused this worker: %s\n", a.cfg.MasterAddr, status.Convert(err).Message())
			return fmt.Errorf("%w: %s", ErrRefused, status.Convert(err).Message())
		}
		now := time.Now()
		if welcomed {
			lastContact, attempt = now, 0
			fmt.Fprintf(a.cfg.Events, "Lost the master (%v); reconnecting, devices keep running\n", cause(err))
		} else {
			a.cfg.Logger.Info("master not reached", "addr", a.cfg.MasterAddr, "err", cause(err))
		}
		if t := a.cfg.MasterTimeout; t > 0 && now.Sub(lastContact) >= t {
			return fmt.Errorf("%w at %s for %v (last error: %v): check that ltk master runs there, or raise --master-timeout",
				ErrMasterGone, a.cfg.MasterAddr, t, cause(err))
		}
		timer.Reset(a.cfg.Backoff.Next(attempt, rand.Float64()))
		select {
		case <-ctx.Done():
			return nil
		case <-timer.C:
		}
	}
}

// untrusted is a TLS handshake that failed on the master's certificate,
// which no retry fixes.
type untrusted struct{ err error }

func (u untrusted) Error() string {
	return fmt.Sprintf("its TLS certificate: %v: give this worker the CA that signed it (--master-tls-ca, LTK_MASTER_TLS_CA), "+
		"and --master-tls-server-name if the certificate names the master otherwise", u.err)
}

func (u untrusted) Unwrap() error { return u.err }

// refusal reports whether err is the master refusing this worker for good.
func refusal(err error) bool {
	switch status.Code(err) {
	case codes.Unauthenticated, codes.PermissionDenied, codes.FailedPrecondition, codes.InvalidArgument:
		return true
	}
	return false
}

// cause returns the message of a gRPC status error, or err.
func cause(err error) any {
	if s, ok := status.FromError(err); ok && s.Code() != codes.Unknown {
		return s.Code().String() + ": " + s.Message()
	}
	return err
}

// welcomeTimeout is how long a worker waits for the master's Welcome.
const welcomeTimeout = 5 * time.Second

// reportChunk is the most deltas one Report message carries.
const reportChunk = 30

var (
	errQuit         = errors.New("the master said quit")
	errMasterSilent = errors.New("the master stopped answering heartbeats")
)

// session runs one connection to the master until it ends. welcomed reports
// whether the master accepted the worker.
func (a *Agent) session(ctx context.Context) (welcomed bool, err error) {
	sctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	// A master behind a dead network path may accept the connection and
	// never answer: give up on this attempt if no welcome comes in time.
	watchdog := time.AfterFunc(welcomeTimeout, func() {
		cancel(fmt.Errorf("no welcome from the master within %v", welcomeTimeout))
	})
	defer watchdog.Stop()
	st, closeConn, err := a.cfg.connect(sctx)
	if err != nil {
		if c := context.Cause(sctx); c != nil && ctx.Err() == nil {
			return false, c
		}
		return false, err
	}
	in := make(chan *ltkv1.MasterMessage, 16)
	recvErr := make(chan error, 1)
	var wg sync.WaitGroup
	defer func() {
		cancel(nil)
		closeConn()
		wg.Wait()
	}()
	wg.Go(func() {
		for {
			m, err := st.Recv()
			if err != nil {
				recvErr <- err
				return
			}
			select {
			case in <- m:
			case <-sctx.Done():
				return
			}
		}
	})

	_, running, _ := a.runner.status()
	hello := &ltkv1.Hello{
		WorkerId: a.id, Hostname: a.cfg.Hostname, Ordinal: int32(a.ordinal),
		Version: a.cfg.Version, Protocol: ltkv1.ProtocolVersion, Cores: int32(runtime.GOMAXPROCS(0)),
		ClusterToken: a.cfg.Token, Running: int32(running), MasterId: a.masterID,
	}
	if err := st.Send(&ltkv1.WorkerMessage{Msg: &ltkv1.WorkerMessage_Hello{Hello: hello}}); err != nil {
		return false, err
	}
	w, err := a.awaitWelcome(sctx, in, recvErr)
	if err != nil {
		if c := context.Cause(sctx); c != nil && ctx.Err() == nil {
			return false, c
		}
		return false, err
	}
	if !watchdog.Stop() {
		return false, context.Cause(sctx)
	}
	a.connected.Store(true)
	defer a.connected.Store(false)
	return true, a.serve(sctx, st, w, in, recvErr)
}

// awaitWelcome waits for the master to accept the worker.
func (a *Agent) awaitWelcome(ctx context.Context, in <-chan *ltkv1.MasterMessage, recvErr <-chan error) (*ltkv1.Welcome, error) {
	select {
	case <-ctx.Done():
		return nil, ctx.Err()
	case err := <-recvErr:
		return nil, err
	case m := <-in:
		w := m.GetWelcome()
		if w == nil {
			return nil, fmt.Errorf("the master spoke before welcoming this worker (%T)", m.GetMsg())
		}
		if a.masterID != "" && a.masterID != w.GetMasterId() {
			if n := a.runner.dropPending(); n > 0 {
				a.cfg.Logger.Info("dropped stats recorded for the previous master", "deltas", n)
			}
		}
		a.runner.resend() // what the last session sent may not have arrived
		a.masterID, a.ordinal = w.GetMasterId(), int(w.GetOrdinal())
		fmt.Fprintf(a.cfg.Events, "Connected to master %s as worker %d\n", a.cfg.MasterAddr, a.ordinal)
		return w, nil
	}
}

// intervals returns the welcome's heartbeat and report intervals and the
// silence after which the master counts as gone.
func intervals(w *ltkv1.Welcome) (heartbeat, report, silence time.Duration) {
	heartbeat = time.Duration(w.GetHeartbeatIntervalMs()) * time.Millisecond
	if heartbeat <= 0 {
		heartbeat = time.Second
	}
	report = time.Duration(w.GetReportIntervalMs()) * time.Millisecond
	if report <= 0 {
		report = 2 * time.Second
	}
	missed := max(int(w.GetMissedHeartbeats()), 1)
	return heartbeat, report, time.Duration(missed) * heartbeat
}

// serve runs a welcomed session: it applies the master's messages, and
// heartbeats and reports until the session ends.
func (a *Agent) serve(ctx context.Context, st clientStream, w *ltkv1.Welcome, in <-chan *ltkv1.MasterMessage, recvErr <-chan error) error {
	hbEvery, repEvery, silence := intervals(w)
	start := time.Now()
	hb := time.NewTimer(0) // heartbeat at once: the master learns the running count
	defer hb.Stop()
	rep := time.NewTimer(repEvery)
	defer rep.Stop()
	var (
		u         usage
		lastHeard = start
		block     []device.Device
	)
	for n, r := 0, 1; ; {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case err := <-recvErr:
			if qerr := a.drain(ctx, in, block); qerr != nil {
				return qerr // what the master sent before the stream ended (a quit) still counts
			}
			return err
		case m := <-in:
			lastHeard = time.Now()
			var err error
			if block, err = a.handle(ctx, m, block); err != nil {
				return err
			}
		case <-hb.C:
			n++
			hb.Reset(time.Until(start.Add(time.Duration(n) * hbEvery)))
			if quiet := time.Since(lastHeard); quiet > silence {
				return fmt.Errorf("%w for %v", errMasterSilent, quiet.Round(time.Millisecond))
			}
			if err := a.heartbeat(st, &u); err != nil {
				return a.ended(ctx, in, recvErr, block, err)
			}
		case <-rep.C:
			r++
			rep.Reset(time.Until(start.Add(time.Duration(r) * repEvery)))
			if err := a.report(st); err != nil {
				return a.ended(ctx, in, recvErr, block, err)
			}
		case <-a.runner.changed:
			err := a.report(st)
			if err == nil {
				err = a.heartbeat(st, &u)
			}
			if err != nil {
				return a.ended(ctx, in, recvErr, block, err)
			}
		}
	}
}

// ended handles a failed send: gRPC reports only io.EOF there, so it waits
// briefly for the stream's real outcome, applying what the master sent
// before the end (a quit counts).
func (a *Agent) ended(ctx context.Context, in <-chan *ltkv1.MasterMessage, recvErr <-chan error, block []device.Device, sendErr error) error {
	timer := time.NewTimer(time.Second)
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-timer.C:
			return sendErr
		case m := <-in:
			var err error
			if block, err = a.handle(ctx, m, block); err != nil {
				return err
			}
		case err := <-recvErr:
			if qerr := a.drain(ctx, in, block); qerr != nil {
				return qerr
			}
			return err
		}
	}
}

// drain applies the messages already received; it returns errQuit (or
// another error) if one ends the session.
func (a *Agent) drain(ctx context.Context, in <-chan *ltkv1.MasterMessage, block []device.Device) error {
	for {
		select {
		case m := <-in:
			var err error
			if block, err = a.handle(ctx, m, block); err != nil {
				return err
			}
		default:
			return nil
		}
	}
}

// handle applies one message from the master; block holds a block being
// received in parts.
func (a *Agent) handle(ctx context.Context, m *ltkv1.MasterMessage, block []device.Device) ([]device.Device, error) {
	switch msg := m.GetMsg().(type) {
	case *ltkv1.MasterMessage_Block:
		devs, err := ltkv1.DecodeDevices(msg.Block.GetDevices())
		if err != nil {
			return nil, fmt.Errorf("block from the master: %w", err)
		}
		block = append(block, devs...)
		if len(block) < int(msg.Block.GetTotal()) {
			return block, nil
		}
		fmt.Fprintf(a.cfg.Events, "Worker %d has its block: %s\n", a.ordinal, describeBlock(block))
		a.runner.send(ctx, blockCmd{Block{Devices: block, Columns: msg.Block.GetColumns(),
			First: int(msg.Block.GetFirstIndex()), Ordinal: a.ordinal}})
		return nil, nil
	case *ltkv1.MasterMessage_Spawn:
		s := msg.Spawn
		a.runner.send(ctx, spawnCmd{seq: s.GetSeq(), count: int(s.GetCount()), rate: s.GetSpawnRate(), settings: s.GetSettings()})
	case *ltkv1.MasterMessage_Stop:
		a.runner.send(ctx, stopCmd{seq: msg.Stop.GetSeq()})
	case *ltkv1.MasterMessage_HeartbeatAck:
		a.runner.ack(msg.HeartbeatAck.GetReportSeq())
	case *ltkv1.MasterMessage_Quit:
		fmt.Fprintf(a.cfg.Events, "The master says quit: %s\n", msg.Quit.GetReason())
		return nil, errQuit
	}
	return block, nil
}

// describeBlock names a block's size and first and last devices.
func describeBlock(b []device.Device) string {
	switch len(b) {
	case 0:
		return "no devices"
	case 1:
		return "1 device, " + b[0].ID
	}
	return fmt.Sprintf("%d devices, %s–%s", len(b), b[0].ID, b[len(b)-1].ID)
}

// heartbeat tells the master what the worker is doing.
func (a *Agent) heartbeat(st clientStream, u *usage) error {
	state, running, applied := a.runner.status()
	cpu, mem := u.sample(time.Now())
	return st.Send(&ltkv1.WorkerMessage{Msg: &ltkv1.WorkerMessage_Heartbeat{Heartbeat: &ltkv1.Heartbeat{
		State: state, Running: int32(running), AppliedSeq: applied, CpuPercent: cpu, MemoryBytes: mem,
	}}})
}

// report sends the exceptions and the stats deltas not yet sent in this
// session. The deltas stay with the runner until the master acknowledges
// them: a send that fails, or one a dying stream accepts and never
// delivers, is sent again in the next session.
func (a *Agent) report(st clientStream) error {
	deltas, exceptions := a.runner.take()
	for _, e := range exceptions {
		if err := st.Send(&ltkv1.WorkerMessage{Msg: &ltkv1.WorkerMessage_Exception{Exception: &ltkv1.Exception{Message: e}}}); err != nil {
			return err
		}
	}
	for len(deltas) > 0 {
		n := min(len(deltas), reportChunk)
		if err := st.Send(&ltkv1.WorkerMessage{Msg: &ltkv1.WorkerMessage_Report{Report: encodeReport(deltas[:n])}}); err != nil {
			return err
		}
		deltas = deltas[n:]
	}
	return nil
}

func encodeReport(ds []numbered) *ltkv1.Report {
	r := &ltkv1.Report{Deltas: make([]*ltkv1.StatsDelta, len(ds))}
	for i, d := range ds {
		r.Deltas[i] = ltkv1.EncodeDelta(d.d)
		r.Deltas[i].Seq = d.seq
	}
	return r
}
