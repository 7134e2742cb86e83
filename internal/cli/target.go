package cli

import (
	"fmt"
	"log/slog"
	"strconv"
	"strings"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/spf13/cobra"

	"github.com/ltk-dev/ltk/internal/runset"
	"github.com/ltk-dev/ltk/internal/target"
)

func init() { register(newTargetCmd) }

// targetFlags are the flags of ltk target.
type targetFlags struct {
	cfg      target.Config
	profile  string // --profile; its auth unless --auth says otherwise
	fleet    fleetFlags
	echo     bool
	logLevel slog.Level
}

func newTargetCmd(env *Env) *cobra.Command {
	f := targetFlags{echo: true}
	cmd := &cobra.Command{
		Use:   "target",
		Short: "Run the embedded IoT target: MQTT broker, IoT-Core-style device auth, echo app",
		Long: fmt.Sprintf(`Target runs ltk's IoT-Core-compatible target on its own: an MQTT broker that
authenticates devices as Cloud IoT Core did, enforces its per-device topics, and
echoes every device event back to the device's commands topic.

Devices connect with client id projects/PROJECT/locations/REGION/registries/REGISTRY/devices/ID
and a JWT password {iat, exp, aud: PROJECT} signed RS256 or ES256 with the key
registered for ID in the local registry (written by 'ltk devices create'; added,
deleted and re-keyed devices are picked up within a second while the target
runs). A connection is closed when its JWT expires.
A device may publish to /devices/ID/events[/...] and /devices/ID/state, and
subscribe to /devices/ID/commands[/...] and /devices/ID/config.

Back-end clients whose id starts with ltk-echo (such as 'ltk echo') may use every
topic: with --auth none freely, with --auth jwt when their password is the
--backend-token. Run 'ltk target --echo=false' with one or more 'ltk echo'
processes to echo outside the broker.

--project, --region and --registry also read the tutorial's LTK_TARGET_PROJECT_ID,
LTK_TARGET_REGION and LTK_TARGET_REGISTRY_ID. Prometheus metrics are served on
--metrics-addr (/metrics; "" turns them off). Stop with Ctrl-C.

Limits against hostile or broken clients (every flag also reads LTK_<FLAG>,
e.g. LTK_MAX_PACKET_SIZE):
  --connect-timeout    a connection must send its whole CONNECT within it (%v)
  --max-connect-size   bytes of a CONNECT, the only packet read before
                       authentication (%d)
  --max-packet-size    bytes of any later packet; a larger one closes the
                       connection (%d)
  --max-retained       retained messages kept; further ones are delivered but
                       not retained (%d)
  --max-retained-size  bytes of one retained payload (%d)
  --max-inflight       unacknowledged QoS 1/2 messages per client, each way (%d)
  --max-pending-writes messages queued per client before more are dropped (%d)
A device's Will must be on a topic it may publish to (no wildcards), or the
CONNECT is refused. Failed accepts (too many open files) are retried.

  ltk target                                   # :1883, auth jwt, metrics on :9883
  ltk target --auth none --delay 50ms --jitter 20ms --drop-rate 0.01
  ltk target --tls-addr :8883 --tls-cert cert.pem --tls-key key.pem
  ltk target --profile aws                     # mutual TLS on :8883 with ltk's test CA
  ltk target --profile azure                   # SAS tokens of the devices' symmetric keys

--profile emulates another platform's device auth and topics (see the README's
"Profiles"): aws checks each client certificate against ltk's test CA
(ltk-ca.pem, made by ltk devices create --profile aws), its CN against the
client id and its key against the registry; azure checks SAS tokens (signature,
expiry, resource URI) against the registry's symmetric keys; generic checks
per-device passwords. Refusals answer CONNACK "not authorized" and are counted
by reason in ltk_target_connects_refused_total.`,
			target.DefaultConnectTimeout, target.DefaultMaxConnectSize, target.DefaultMaxPacketSize, target.DefaultMaxRetained,
			target.DefaultMaxRetainedSize, target.DefaultMaxInflight, target.DefaultMaxPendingWrites),
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			warnDeprecatedRegistry(env, cmd)
			if err := applyEnvFallbacks(env, cmd, targetEnvFallbacks); err != nil {
				return err
			}
			return runTarget(cmd, env, &f)
		},
	}
	fs := cmd.Flags()
	c := &f.cfg
	fs.StringVar(&c.Addr, "addr", target.DefaultAddr, "MQTT listen address")
	fs.StringVar(&c.TLSAddr, "tls-addr", "", "MQTT over TLS listen address, e.g. "+target.DefaultTLSAddr+" (empty: no TLS)")
	fs.StringVar(&c.TLSCert, "tls-cert", "", "PEM certificate (chain) file for --tls-addr")
	fs.StringVar(&c.TLSKey, "tls-key", "", "PEM private key file for --tls-addr")
	fs.Var((*profile)(&f.profile), "profile", "IoT platform whose device auth and topics to emulate: iotcore (default), clearblade, aws (client certificates from ltk's test CA; TLS on "+target.DefaultTLSAddr+" unless --tls-addr), azure (SAS tokens; and, once the test CA exists, CA-signed X.509 devices over TLS on "+target.DefaultTLSAddr+" unless --tls-addr), generic (per-device passwords)")
	fs.StringVar(&c.WSAddr, "ws-addr", "", "MQTT over WebSocket listen address (any path, subprotocol mqtt), e.g. :8080 (empty: no WebSocket)")
	fs.StringVar(&c.Auth, "auth", "", "device auth (default: the profile's): jwt (IoT Core style, keys from the local registry), x509, sas, device-password, or none (any client id, no password)")
	fs.StringVar(&c.Project, "project", target.DefaultProject, "project: the JWT audience and the client id's projects/ element (also LTK_TARGET_PROJECT_ID)")
	fs.StringVar(&c.Region, "region", target.DefaultRegion, "region: the client id's locations/ element (also LTK_TARGET_REGION)")
	fs.StringVar(&c.Registry, "registry-id", target.DefaultRegistry, "registry: the client id's registries/ element (also LTK_TARGET_REGISTRY_ID)")
	fs.StringVar(&c.Registry, "registry", target.DefaultRegistry, "deprecated alias of --registry-id")
	_ = fs.MarkHidden("registry")
	fs.StringVar(&c.Hub, "hub", "", "IoT Hub host name SAS tokens must name, with --profile azure (default "+runset.DefaultAzureHub+")")
	fs.DurationVar(&c.MaxJWTLifetime, "max-jwt-lifetime", target.DefaultMaxJWTLifetime, "longest JWT lifetime (exp - iat) accepted")
	fs.StringVar(&c.BackendToken, "backend-token", "", "password that lets ltk-echo* back-end clients in with --auth jwt (empty: none may connect)")
	fs.IntVar(&c.MaxPendingWrites, "max-pending-writes", target.DefaultMaxPendingWrites, "messages queued per client before the target drops (and counts) more")
	fs.DurationVar(&c.ConnectTimeout, "connect-timeout", target.DefaultConnectTimeout, "close a connection that has not sent its whole CONNECT within this time")
	fs.IntVar(&c.MaxConnectSize, "max-connect-size", target.DefaultMaxConnectSize, "largest CONNECT packet in bytes (read before authentication)")
	fs.IntVar(&c.MaxPacketSize, "max-packet-size", target.DefaultMaxPacketSize, "largest packet in bytes after CONNECT; a larger one closes the connection")
	fs.IntVar(&c.MaxRetained, "max-retained", target.DefaultMaxRetained, "retained messages kept; beyond it retained publishes are delivered but not retained")
	fs.IntVar(&c.MaxRetainedSize, "max-retained-size", target.DefaultMaxRetainedSize, "largest retained payload in bytes; a larger one is delivered but not retained")
	fs.IntVar(&c.MaxInflight, "max-inflight", target.DefaultMaxInflight, "unacknowledged QoS 1/2 messages per client, in each direction")
	fs.StringVar(&c.MetricsAddr, "metrics-addr", target.DefaultMetricsAddr, "Prometheus /metrics listen address (empty: off)")
	fs.BoolVar(&f.echo, "echo", true, "run the echo app in the broker (--echo=false: broker only, echo with 'ltk echo')")
	addEchoFlags(cmd, &c.Echo)
	fs.TextVar(&f.logLevel, "loglevel", slog.LevelWarn, "log level: debug (shows each refused connection), info, warn, error")
	addFleetFlags(fs, &f.fleet)
	return cmd
}

func runTarget(cmd *cobra.Command, env *Env, f *targetFlags) error {
	log := slog.New(slog.NewTextHandler(env.Stderr, &slog.HandlerOptions{Level: f.logLevel}))
	cfg := f.cfg
	cfg.DisableEcho = !f.echo
	p, _ := runset.ProfileByName(f.profile) // checked by the flag
	cfg.Topics = p.Topics
	auth := cfg.Auth
	if auth == "" {
		auth = p.Auth
	}
	x509Hub := p.Name == runset.ProfileAzure && auth == runset.AuthSAS && hasTestCA(env) // IoT Hub's X.509 devices beside SAS ones
	if (auth == runset.AuthCert || x509Hub) && cfg.TLSAddr == "" {
		cfg.TLSAddr = ":" + strconv.Itoa(p.TLSPort)
	}
	if _, err := targetAuth(env, &f.fleet, p.Name, auth, &cfg, log); err != nil {
		return err
	}
	if err := cfg.Validate(); err != nil {
		return usageError(err)
	}
	reg := prometheus.NewRegistry()
	t, err := target.New(cfg, reg, log)
	if err != nil {
		return err
	}
	cfg = t.Config()
	var where strings.Builder
	fmt.Fprintf(&where, "ltk target: MQTT on %s", t.Addr())
	if a := t.TLSAddr(); a != "" {
		fmt.Fprintf(&where, ", MQTT over TLS on %s", a)
	}
	if a := t.WSAddr(); a != "" {
		fmt.Fprintf(&where, ", MQTT over WebSocket on %s", a)
	}
	fmt.Fprintf(&where, " (profile %s, auth %s, project %s, region %s, registry %s", p.Name, cfg.Auth, cfg.Project, cfg.Region, cfg.Registry)
	if cfg.DisableEcho {
		where.WriteString(", echo off")
	}
	where.WriteString(")")
	if a := t.MetricsAddr(); a != "" {
		fmt.Fprintf(&where, ", metrics on %s/metrics", a)
	}
	fmt.Fprintln(env.Stdout, where.String())
	fmt.Fprintf(env.Stdout, "ltk target: limits: connect timeout %v, max connect size %d bytes, max packet size %d bytes, "+
		"max retained %d of up to %d bytes, max inflight %d, max pending writes %d\n",
		cfg.ConnectTimeout, cfg.MaxConnectSize, cfg.MaxPacketSize, cfg.MaxRetained, cfg.MaxRetainedSize, cfg.MaxInflight, cfg.MaxPendingWrites)

	ctx, again, stop := env.signals(cmd.Context())
	defer stop()
	go hardStop(env, again)
	return t.Run(ctx)
}
