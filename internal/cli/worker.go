package cli

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"strconv"
	"time"

	"github.com/spf13/cobra"

	"github.com/ltk-dev/ltk/internal/clustertls"
	"github.com/ltk-dev/ltk/internal/master"
	"github.com/ltk-dev/ltk/internal/srcaddr"
	"github.com/ltk-dev/ltk/internal/worker"
)

func init() { register(newWorkerCmd) }

// workerFlags are the flags of ltk worker.
type workerFlags struct {
	masterHost    string
	masterPort    int
	ordinal       int
	token         string
	masterTimeout time.Duration
	healthAddr    string
	logLevel      slog.Level
	tls           clustertls.Files
	sourceAddrs   []net.IP
	perSource     int
}

func newWorkerCmd(env *Env) *cobra.Command {
	var f workerFlags
	cmd := &cobra.Command{
		Use:   "worker --master-host HOST [--ordinal K]",
		Short: "Run one block of devices for an ltk master on another machine",
		Long: `Worker connects to an ltk master and runs the devices of its block as the
master asks, reporting heartbeats every second and stats every 2 seconds.

Its ordinal picks its block: --ordinal, else the host name's trailing -K (a
StatefulSet pod named ltk-worker-3 is worker 3), else the master assigns the
lowest free one. The master sends the block's device ids and keys, and how the
devices connect (broker, auth, behaviour, MQTT client): the worker needs no other files.

If the master goes away the devices keep running and the worker reconnects with
backoff; it gives up after --master-timeout without the master. It quits when the
master's test is over.

With --master-tls-ca (the CA that signed the master's certificate) the worker
connects over TLS, and gives up at once if the master's certificate is not
trusted; --master-tls-cert and --master-tls-key add a client certificate for a
master with mutual TLS.

One source address reaches one broker address through at most half the
ephemeral port range before connects stall (about 13,400 devices on Linux's
defaults): a block bigger than that dials from several --source-addrs (the
pod's or machine's addresses), --per-source devices each; to a broker on
loopback it uses 127.0.0.2, 127.0.0.3, … by itself.

  ltk worker --master-host ltk-master --cluster-token "$LTK_CLUSTER_TOKEN"`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if f.tls.ServerName == "" {
				f.tls.ServerName = f.masterHost
			}
			tlsConfig, err := masterTLS(f.tls, true)
			if err != nil {
				return err
			}
			sources, err := f.sources()
			if err != nil {
				return usageError(err)
			}
			a, err := worker.NewAgent(worker.Config{
				MasterAddr:    net.JoinHostPort(f.masterHost, strconv.Itoa(f.masterPort)),
				Ordinal:       f.ordinal,
				Version:       Version,
				Token:         f.token,
				TLS:           tlsConfig,
				MasterTimeout: f.masterTimeout,
				Logger:        slog.New(slog.NewTextHandler(env.Stderr, &slog.HandlerOptions{Level: f.logLevel})),
				Events:        env.Stdout,
				Sources:       sources,
				HealthAddr:    f.healthAddr,
			})
			if err != nil {
				return usageError(err)
			}
			which := "assigned by the master"
			if k := a.Ordinal(); k >= 0 {
				which = "ordinal " + strconv.Itoa(k)
			}
			if tlsConfig != nil {
				which += ", TLS"
			}
			fmt.Fprintf(env.Stdout, "ltk worker: connecting to master %s:%d (%s)\n", f.masterHost, f.masterPort, which)
			ctx, again, stop := env.signals(cmd.Context())
			defer stop()
			go hardStop(env, again)
			err = a.Run(ctx)
			if errors.Is(err, worker.ErrRefused) {
				return withExitCode(err, ExitError)
			}
			return err
		},
	}
	fs := cmd.Flags()
	fs.StringVar(&f.masterHost, "master-host", "127.0.0.1", "host of the ltk master")
	fs.IntVar(&f.masterPort, "master-port", master.DefaultPort, "port of the ltk master")
	fs.IntVar(&f.ordinal, "ordinal", -1, "block to run (-1: the host name's trailing -K, else assigned by the master)")
	fs.StringVar(&f.token, "cluster-token", "", "the master's cluster token (LTK_CLUSTER_TOKEN)")
	addMasterTLSFlags(fs, &f.tls, true)
	fs.DurationVar(&f.masterTimeout, "master-timeout", worker.DefaultMasterTimeout, "quit after this long without the master (0: never)")
	fs.StringVar(&f.healthAddr, "health-addr", "", "serve the probes here, e.g. :8080: GET /healthz (the process answers), GET /readyz (connected to the master); empty: none")
	fs.TextVar(&f.logLevel, "loglevel", slog.LevelWarn, "log level: debug, info, warn, error")
	fs.IPSliceVar(&f.sourceAddrs, "source-addrs", nil,
		"source addresses to spread the devices' connections over, comma separated (default: the system's choice; 127.0.0.2 on for a broker on loopback)")
	fs.IntVar(&f.perSource, "per-source", 0, "devices' connections per source address (0: 95% of half the ephemeral port range)")
	return cmd
}

// sources returns the worker's source address plan.
func (f *workerFlags) sources() (srcaddr.Plan, error) {
	if f.perSource < 0 {
		return srcaddr.Plan{}, fmt.Errorf("--per-source %d: use at least 1, or 0 for the default", f.perSource)
	}
	p := srcaddr.Plan{PerSource: f.perSource}
	for _, ip := range f.sourceAddrs {
		a, _ := netip.AddrFromSlice(ip)
		p.Addrs = append(p.Addrs, a.Unmap())
	}
	return p, nil
}
