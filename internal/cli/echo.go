package cli

import (
	"fmt"
	"log/slog"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/spf13/cobra"

	"github.com/ltk-dev/ltk/internal/echo"
	"github.com/ltk-dev/ltk/internal/runset"
)

func init() { register(newEchoCmd) }

// echoFlags are the flags of ltk echo.
type echoFlags struct {
	cfg      echo.ClientConfig
	profile  string // --profile: the devices' topics
	qos      uint8
	logLevel slog.Level
}

func newEchoCmd(env *Env) *cobra.Command {
	var f echoFlags
	cmd := &cobra.Command{
		Use:   "echo",
		Short: "Run the echo back end against any MQTT broker",
		Long: `Echo is the tutorial's echo function as an MQTT client: it subscribes to every
device's events (/devices/+/events/#) and publishes each payload, unchanged, to
/devices/ID/commands, after an optional --delay and --jitter, dropping a
--drop-rate fraction to provoke echo timeouts.

Several echo processes split the load through the MQTT shared subscription
$share/GROUP//devices/+/events/# (--shared-group; "" turns sharing off). A broker
that refuses shared subscriptions gets a plain one, with a warning: then run one
echo process only, or every event is echoed once per process.

It reconnects with back-off and prints a status line to stderr every
--status-interval. With 'ltk target --auth jwt', start the target with
--backend-token T and pass --password T here.

  ltk target --echo=false &  ltk echo
  ltk echo --broker ssl://broker.example:8883 --ca ca.pem --username u --password p`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runEcho(cmd, env, &f)
		},
	}
	fs := cmd.Flags()
	c := &f.cfg
	fs.StringVar(&c.BrokerURL, "broker", "tcp://127.0.0.1:1883", "MQTT broker: tcp://host:1883 or ssl://host:8883")
	fs.StringVar(&c.CAFile, "ca", "", "PEM CA bundle to verify an ssl:// broker")
	fs.BoolVar(&c.Insecure, "insecure", false, "skip TLS certificate verification (self-signed test brokers only)")
	fs.StringVar(&c.Username, "username", "", "MQTT username")
	fs.StringVar(&c.Password, "password", "", "MQTT password")
	fs.Var((*profile)(&f.profile), "profile", "the devices' platform, whose topics to echo on: iotcore (default), clearblade, aws (dt/ltk/ID/echo to cmd/ltk/ID/echo), azure (devices/ID/messages/events/ to devices/ID/messages/devicebound/), generic")
	fs.StringVar(&c.ClientID, "client-id", "", "MQTT client id (default ltk-echo-<random>)")
	fs.StringVar(&c.SharedGroup, "shared-group", echo.DefaultSharedGroup, `shared-subscription group ("" subscribes without sharing)`)
	fs.Uint8Var(&f.qos, "qos", runset.DefaultQoS, "QoS of the subscription and so the highest QoS echoed: 0, 1 or 2")
	fs.StringVar(&c.MetricsAddr, "metrics-addr", "", "Prometheus /metrics listen address, e.g. :9884 (empty: off)")
	fs.DurationVar(&c.StatusInterval, "status-interval", echo.DefaultStatusInterval, "how often to print the status line")
	addEchoFlags(cmd, &c.Echo)
	fs.TextVar(&f.logLevel, "loglevel", slog.LevelInfo, "log level: debug, info, warn, error")
	return cmd
}

// addEchoFlags binds the echo behaviour flags shared by ltk target and ltk echo.
func addEchoFlags(cmd *cobra.Command, c *echo.Config) {
	fs := cmd.Flags()
	fs.DurationVar(&c.Delay, "delay", 0, "processing delay before each echo")
	fs.DurationVar(&c.Jitter, "jitter", 0, "random extra delay, uniform in [0, jitter]")
	fs.Float64Var(&c.DropRate, "drop-rate", 0, "fraction of events not echoed (0.01 = 1%), to provoke echo timeouts")
}

func runEcho(cmd *cobra.Command, env *Env, f *echoFlags) error {
	log := slog.New(slog.NewTextHandler(env.Stderr, &slog.HandlerOptions{Level: f.logLevel}))
	cfg := f.cfg
	p, _ := runset.ProfileByName(f.profile) // checked by the flag
	cfg.Topics = p.Topics
	qos := f.qos
	cfg.QoS = &qos
	if cfg.StatusInterval == 0 {
		cfg.StatusInterval = -1 // 0 on the command line: no status line
	}
	if err := cfg.Validate(); err != nil {
		return usageError(err)
	}
	c, err := echo.NewClient(cfg, prometheus.NewRegistry(), env.Stderr, log)
	if err != nil {
		return err
	}
	fmt.Fprintf(env.Stderr, "ltk echo: %s as %s", cfg.BrokerURL, c.ClientID())
	if a := c.MetricsAddr(); a != "" {
		fmt.Fprintf(env.Stderr, ", metrics on %s/metrics", a)
	}
	fmt.Fprintln(env.Stderr)

	ctx, again, stop := env.signals(cmd.Context())
	defer stop()
	go hardStop(env, again)
	return c.Run(ctx)
}
