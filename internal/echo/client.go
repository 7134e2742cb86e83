package echo

import (
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"sync"
	"sync/atomic"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/ltk-dev/ltk/internal/runset"
)

// DefaultStatusInterval is how often Client prints its status line.
const DefaultStatusInterval = 10 * time.Second

// ClientConfig configures a standalone echo app: an MQTT client of any broker.
type ClientConfig struct {
	BrokerURL string `json:"broker"`   // tcp://host:1883, ssl://host:8883 (also mqtt://, mqtts://, tls://, ws://, wss://)
	CAFile    string `json:"ca"`       // PEM CA bundle for a TLS broker; "" = the system's roots
	Insecure  bool   `json:"insecure"` // skip TLS verification (self-signed test brokers only)
	Username  string `json:"username"`
	Password  string `json:"-"`
	// ClientID defaults to ltk-echo-<random>; the embedded target treats
	// client ids starting with ltk-echo as back ends (see target.Config).
	ClientID string `json:"client_id"`
	// SharedGroup is the shared-subscription group; "" subscribes without
	// sharing. If the broker refuses the shared filter, the client falls back
	// to the plain one with a warning.
	SharedGroup string `json:"shared_group"`
	// QoS of the subscription (and so the highest QoS echoed): 0 or 1;
	// default runset.DefaultQoS.
	QoS *byte `json:"qos"`
	// StatusInterval is the period of the status line; default 10s, negative = never.
	StatusInterval time.Duration `json:"status_interval"`
	// MetricsAddr serves /metrics over HTTP; "" (default) = off.
	MetricsAddr string `json:"metrics_addr"`
	Echo        Config `json:"echo"`
	// Topics are the devices' topics (their profile's); the zero value is
	// IoT Core's.
	Topics runset.Topics `json:"-"`
}

func (c *ClientConfig) setDefaults() error {
	if c.ClientID == "" {
		b := make([]byte, 4)
		if _, err := rand.Read(b); err != nil {
			return fmt.Errorf("make a client id: %w", err)
		}
		c.ClientID = "ltk-echo-" + hex.EncodeToString(b)
	}
	if c.QoS == nil {
		qos := byte(runset.DefaultQoS)
		c.QoS = &qos
	}
	if c.StatusInterval == 0 {
		c.StatusInterval = DefaultStatusInterval
	}
	return nil
}

// Validate reports a ClientConfig that cannot work.
func (c *ClientConfig) Validate() error {
	var errs []error
	u, err := url.Parse(c.BrokerURL)
	switch {
	case c.BrokerURL == "":
		errs = append(errs, errors.New("no broker given (use --broker tcp://host:1883)"))
	case err != nil:
		errs = append(errs, fmt.Errorf("broker URL %q: %w", c.BrokerURL, err))
	default:
		switch u.Scheme {
		case "tcp", "mqtt", "ssl", "tls", "mqtts", "ws", "wss":
		default:
			errs = append(errs, fmt.Errorf("broker URL %q: scheme %q is not one of tcp, ssl, mqtt, mqtts, tls, ws, wss", c.BrokerURL, u.Scheme))
		}
	}
	if c.QoS != nil {
		if err := runset.CheckQoS(*c.QoS); err != nil {
			errs = append(errs, err)
		}
	}
	if err := c.Echo.Validate(); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// Client is the echo app as an MQTT client (`ltk echo`). It subscribes to
// every device's events, echoes them through App, resubscribes after each
// reconnect and prints a status line periodically.
type Client struct {
	cfg        ClientConfig
	app        *App
	mqtt       paho.Client
	log        *slog.Logger
	status     io.Writer
	subscribed chan struct{} // closed after the first subscription succeeds
	subOnce    sync.Once
	subs       atomic.Uint64 // successful subscriptions, one per (re)connect

	mu      sync.Mutex // Guards the field below.
	refusal error      // the broker's refusal of the last connect attempt; nil once connected

	metricsLn  net.Listener // nil when metrics are off
	metricsSrv *http.Server
	metricsErr error // set by serveMetrics; read after Run's goroutines exit
}

// NewClient prepares a client (it connects in Run) and binds the metrics
// listener, if any. Metrics go to reg unless it is nil (MetricsAddr needs a
// *prometheus.Registry); the status line goes to status unless it is nil; log
// may be nil.
func NewClient(cfg ClientConfig, reg prometheus.Registerer, status io.Writer, log *slog.Logger) (*Client, error) {
	if err := cfg.setDefaults(); err != nil {
		return nil, err
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	c := &Client{cfg: cfg, log: log, status: status, subscribed: make(chan struct{})}
	opts := paho.NewClientOptions().
		AddBroker(cfg.BrokerURL).
		SetClientID(cfg.ClientID).
		SetUsername(cfg.Username).
		SetPassword(cfg.Password).
		SetProtocolVersion(4). // MQTT 3.1.1, no silent retry as 3.1 after a refusal
		SetCleanSession(true).
		SetOrderMatters(false). // handle messages concurrently: thousands per second
		SetKeepAlive(30 * time.Second).
		SetConnectTimeout(10 * time.Second).
		SetWriteTimeout(10 * time.Second).
		SetAutoReconnect(true).
		SetConnectRetry(true).
		SetConnectRetryInterval(connectRetryInterval).
		SetMaxReconnectInterval(maxReconnectInterval).
		SetOnConnectHandler(c.onConnect).
		SetConnectionLostHandler(func(_ paho.Client, err error) {
			c.log.Warn("echo: connection lost; reconnecting", "broker", cfg.BrokerURL, "error", err)
		}).
		SetConnectionNotificationHandler(c.onConnectionNotification)
	if tlsCfg, err := cfg.tlsConfig(); err != nil {
		return nil, err
	} else if tlsCfg != nil {
		opts.SetTLSConfig(tlsCfg)
	}
	c.mqtt = paho.NewClient(opts)
	app, err := New(cfg.Echo, c.publish, reg)
	if err != nil {
		return nil, err
	}
	c.app = app
	if cfg.MetricsAddr != "" {
		if err := c.listenMetrics(reg); err != nil {
			return nil, err
		}
	}
	return c, nil
}

func (c *ClientConfig) tlsConfig() (*tls.Config, error) {
	if c.CAFile == "" && !c.Insecure {
		return nil, nil
	}
	cfg := &tls.Config{InsecureSkipVerify: c.Insecure, MinVersion: tls.VersionTLS12} //nolint:gosec // asked for with --insecure
	if c.CAFile != "" {
		pem, err := os.ReadFile(c.CAFile)
		if err != nil {
			return nil, fmt.Errorf("read CA bundle: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("CA bundle %s holds no PEM certificate", c.CAFile)
		}
		cfg.RootCAs = pool
	}
	return cfg, nil
}

// ClientID returns the MQTT client id in use.
func (c *Client) ClientID() string { return c.cfg.ClientID }

// App returns the echo app behind the client, for its Stats.
func (c *Client) App() *App { return c.app }

// Subscribed is closed once the client has subscribed for the first time.
func (c *Client) Subscribed() <-chan struct{} { return c.subscribed }

// Subscriptions returns how many times the client has subscribed: once per
// successful (re)connect.
func (c *Client) Subscriptions() uint64 { return c.subs.Load() }

// publish sends an echo; resp is always empty, since the client speaks
// MQTT 3.1.1.
func (c *Client) publish(d string, payload []byte, qos byte, _ Response) error {
	tok := c.mqtt.Publish(c.cfg.Topics.Command(d), qos, false, payload)
	select {
	case <-tok.Done(): // failed at once (not connected), or QoS 0 written
		return tok.Error()
	default: // QoS 1 in flight: paho resends it; waiting here would stall the handler
		return nil
	}
}

func (c *Client) onMessage(_ paho.Client, m paho.Message) {
	d, ok := c.cfg.Topics.EventDevice(m.Topic())
	if !ok {
		return
	}
	c.app.Handle(d, m.Payload(), m.Qos(), time.Now())
}
