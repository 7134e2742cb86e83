package target

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	mqtt "github.com/mochi-mqtt/server/v2"
	"github.com/mochi-mqtt/server/v2/listeners"
	"github.com/mochi-mqtt/server/v2/packets"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/ltk-dev/ltk/internal/echo"
)

// Target is the embedded IoT target. Create it with New, serve with Run.
type Target struct {
	cfg     Config
	log     *slog.Logger
	server  *mqtt.Server
	hook    *hook
	echo    *echo.App // nil when disabled
	addr    string
	tlsAddr string
	wsAddr  string

	metricsLn  net.Listener // nil when metrics are off
	metricsSrv *http.Server

	running   atomic.Bool
	gate      *gate // between the listeners and mochi: race-free Close, accept retries, pre-auth limits
	closeOnce sync.Once
	closed    chan struct{} // closed by Close
}

// New binds the target's listeners (so Addr and the others return real
// ports) and prepares the broker; Run serves it. Metrics are registered with
// reg unless it is nil; reg is also what /metrics serves when it is a
// prometheus.Gatherer. log may be nil.
func New(cfg Config, reg prometheus.Registerer, log *slog.Logger) (_ *Target, err error) {
	cfg.setDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	m, err := newMetrics(reg)
	if err != nil {
		return nil, err
	}
	server := mqtt.New(&mqtt.Options{
		Capabilities:           capabilities(&cfg),
		InlineClient:           true,
		Logger:                 slog.New(quietHandler{log.Handler()}),
		SysTopicResendInterval: 10,
	})
	t := &Target{
		cfg: cfg, log: log, server: server, closed: make(chan struct{}),
		gate: newGate(guardLimits{connectTimeout: cfg.ConnectTimeout, maxConnectSize: cfg.MaxConnectSize}, m, log),
	}
	defer func() {
		if err != nil {
			t.Close()
			m.unregister(reg)
		}
	}()

	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return nil, fmt.Errorf("listen for MQTT on %s: %w (is another broker running? use --addr)", cfg.Addr, err)
	}
	t.addr = ln.Addr().String()
	if err := server.AddListener(listeners.NewNet("tcp", t.gate.wrap(ln))); err != nil {
		ln.Close()
		return nil, fmt.Errorf("add MQTT listener: %w", err)
	}
	if cfg.TLSAddr != "" {
		if err := t.listenTLS(); err != nil {
			return nil, err
		}
	}
	if cfg.WSAddr != "" {
		if err := t.listenWS(); err != nil {
			return nil, err
		}
	}
	if cfg.MetricsAddr != "" {
		if err := t.listenMetrics(reg); err != nil {
			return nil, err
		}
	}

	t.hook = newHook(server, newAuthenticator(&t.cfg),
		retainLimits{maxRetained: cfg.MaxRetained, maxRetainedSize: cfg.MaxRetainedSize}, m, log)
	if err := server.AddHook(t.hook, nil); err != nil {
		return nil, fmt.Errorf("add target hook: %w", err)
	}
	if !cfg.DisableEcho {
		if err := t.startEcho(reg); err != nil {
			return nil, err
		}
	}
	return t, nil
}

// capabilities are mochi's server limits from cfg. mochi checks
// MaximumPacketSize against each fixed header before it allocates the
// packet; ReceiveMaximum caps a client's unacknowledged inbound QoS > 0
// messages and MaximumInflight its outbound ones.
func capabilities(cfg *Config) *mqtt.Capabilities {
	caps := mqtt.NewDefaultServerCapabilities()
	caps.MaximumClientWritesPending = int32(cfg.MaxPendingWrites)
	caps.MaximumPacketSize = uint32(cfg.MaxPacketSize)
	caps.ReceiveMaximum = uint16(cfg.MaxInflight)
	caps.MaximumInflight = uint16(cfg.MaxInflight)
	return caps
}

func (t *Target) listenTLS() error {
	cert := t.cfg.TLSCertificate
	if cert == nil {
		c, err := tls.LoadX509KeyPair(t.cfg.TLSCert, t.cfg.TLSKey)
		if err != nil {
			return fmt.Errorf("load TLS certificate %s and key %s: %w (want PEM files)", t.cfg.TLSCert, t.cfg.TLSKey, err)
		}
		cert = &c
	}
	tc := &tls.Config{Certificates: []tls.Certificate{*cert}, MinVersion: tls.VersionTLS12}
	if t.cfg.Auth == AuthCert || (t.cfg.Auth == AuthSAS && len(t.cfg.ClientCA) > 0) {
		// Asked for, verified in OnConnect: a refused certificate gets a
		// CONNACK and a counted reason rather than a failed handshake.
		tc.ClientAuth = tls.RequestClientCert
	}
	ln, err := tls.Listen("tcp", t.cfg.TLSAddr, tc)
	if err != nil {
		return fmt.Errorf("listen for MQTT over TLS on %s: %w (use --tls-addr)", t.cfg.TLSAddr, err)
	}
	t.tlsAddr = ln.Addr().String()
	if err := t.server.AddListener(listeners.NewNet("tls", t.gate.wrap(ln))); err != nil {
		ln.Close()
		return fmt.Errorf("add TLS listener: %w", err)
	}
	return nil
}

func (t *Target) listenWS() error {
	ln, err := net.Listen("tcp", t.cfg.WSAddr)
	if err != nil {
		return fmt.Errorf("listen for MQTT over WebSocket on %s: %w (use another WebSocket address)", t.cfg.WSAddr, err)
	}
	t.wsAddr = ln.Addr().String()
	if err := t.server.AddListener(newWSListener("ws", t.gate.wrap(ln))); err != nil {
		ln.Close()
		return fmt.Errorf("add WebSocket listener: %w", err)
	}
	return nil
}

func (t *Target) listenMetrics(reg prometheus.Registerer) error {
	g, ok := reg.(prometheus.Gatherer)
	if !ok {
		return errors.New("metrics address set but the registry cannot be gathered (pass a *prometheus.Registry)")
	}
	ln, err := net.Listen("tcp", t.cfg.MetricsAddr)
	if err != nil {
		return fmt.Errorf("listen for metrics on %s: %w (use --metrics-addr)", t.cfg.MetricsAddr, err)
	}
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(g, promhttp.HandlerOpts{EnableOpenMetrics: true}))
	t.serveExecTimes(mux)
	t.metricsLn = ln
	t.metricsSrv = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	return nil
}

// startEcho subscribes the in-process echo app to every device's events.
func (t *Target) startEcho(reg prometheus.Registerer) error {
	topics := t.cfg.Topics
	inline, _ := t.server.Clients.Get(mqtt.InlineClientId)
	app, err := echo.New(t.cfg.Echo, func(d string, payload []byte, qos byte, resp echo.Response) error {
		if resp.Topic == "" && resp.CorrelationData == nil {
			return t.server.Publish(topics.Command(d), payload, false, qos)
		}
		return t.server.InjectPacket(inline, responsePacket(topics.Command(d), payload, qos, resp))
	}, reg)
	if err != nil {
		return err
	}
	t.echo = app
	acl := newTopicACL(topics)
	handle := func(_ *mqtt.Client, _ packets.Subscription, pk packets.Packet) {
		d, ok := topics.EventDevice(pk.TopicName)
		if !ok {
			return
		}
		app.Respond(d, pk.Payload, pk.FixedHeader.Qos, time.Now(), response(acl, d, &pk.Properties))
	}
	// mochi v2.7.9 does not match an inline "a/#" against "a" (it gathers the
	// wrong node), so the parent topic gets its own filter. Both use the same
	// subscription id, and mochi keys inline matches by id: a message never
	// reaches the handler twice, even once mochi is fixed.
	filter := topics.EventsFilter()
	for _, f := range []string{strings.TrimSuffix(filter, "/#"), filter} {
		if err := t.server.Subscribe(f, 1, handle); err != nil {
			return fmt.Errorf("subscribe echo app to %s: %w", f, err)
		}
	}
	return nil
}

// Addr returns the MQTT TCP listener's address, e.g. "127.0.0.1:1883".
func (t *Target) Addr() string { return t.addr }

// TLSAddr returns the MQTT TLS listener's address, or "" when TLS is off.
func (t *Target) TLSAddr() string { return t.tlsAddr }

// WSAddr returns the MQTT-over-WebSocket listener's address, or "" when it
// is off.
func (t *Target) WSAddr() string { return t.wsAddr }

// MetricsAddr returns the /metrics HTTP listener's address, or "" when off.
func (t *Target) MetricsAddr() string {
	if t.metricsLn == nil {
		return ""
	}
	return t.metricsLn.Addr().String()
}

// Config returns the target's configuration with defaults filled in.
func (t *Target) Config() Config { return t.cfg }

// Echo returns the in-process echo app, or nil when it is disabled.
func (t *Target) Echo() *echo.App { return t.echo }

// Run serves MQTT (and metrics) until ctx ends or Close is called, then closes every connection
// and listener and returns once its goroutines have exited. It may be called
// once; a Target that was closed cannot run.
func (t *Target) Run(ctx context.Context) error {
	if !t.running.CompareAndSwap(false, true) {
		return errors.New("target: Run called twice")
	}
	select {
	case <-t.closed:
		return errors.New("target: Run called after Close")
	default:
	}
	return t.run(ctx)
}

func (t *Target) run(ctx context.Context) error {
	if err := t.server.Serve(); err != nil {
		t.Close()
		return fmt.Errorf("start MQTT broker: %w", err)
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	if t.echo != nil {
		wg.Go(func() { _ = t.echo.Run(ctx) })
	}
	var serveErr error
	if t.metricsSrv != nil {
		wg.Go(func() {
			if err := t.metricsSrv.Serve(t.metricsLn); err != nil && !errors.Is(err, http.ErrServerClosed) {
				serveErr = fmt.Errorf("serve metrics: %w", err)
				cancel()
			}
		})
	}
	select {
	case <-ctx.Done():
	case <-t.closed:
	}
	t.Close()
	wg.Wait()
	return serveErr
}

// Close stops the broker, disconnecting every client, and releases the
// listeners; a running Run returns. Calling it again is harmless.
func (t *Target) Close() {
	t.closeOnce.Do(func() {
		close(t.closed)
		if t.hook != nil {
			t.hook.stop()
		}
		// mochi's own listener close walks clients with Clients.GetByListener,
		// which takes the clients' read lock twice and deadlocks when a client
		// disconnects at the same moment (mochi issue #488). Closing the
		// listeners first with a closer that takes the lock once makes the
		// server's Close skip that path: each listener closes only once.
		t.gate.close(2 * time.Second)
		t.server.Listeners.CloseAll(t.disconnectListenerClients)
		_ = t.server.Close()
		if t.metricsSrv != nil {
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			defer cancel()
			if err := t.metricsSrv.Shutdown(ctx); err != nil {
				_ = t.metricsSrv.Close()
			}
			_ = t.metricsLn.Close() // Shutdown closes it only if Serve ran
		}
	})
}

// disconnectListenerClients disconnects every client of listener id.
func (t *Target) disconnectListenerClients(id string) {
	for _, cl := range t.server.Clients.GetAll() {
		if cl.Net.Listener == id && !cl.Closed() {
			_ = t.server.DisconnectClient(cl, packets.ErrServerShuttingDown)
		}
	}
}
