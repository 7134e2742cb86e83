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
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	grpccreds "google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"

	"github.com/ltk-dev/ltk/internal/clustertls"
	"github.com/ltk-dev/ltk/internal/pace"
	"github.com/ltk-dev/ltk/internal/srcaddr"
	"github.com/ltk-dev/ltk/internal/wire/ltkv1"
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
