package cli

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"time"

	"github.com/spf13/cobra"

	"github.com/ltk-dev/ltk/internal/clustertls"
	"github.com/ltk-dev/ltk/internal/master"
	"github.com/ltk-dev/ltk/internal/runset"
)

func init() { register(newMasterCmd) }

// masterFlags are the flags of ltk master.
type masterFlags struct {
	testFlags
	bindHost      string
	bindPort      int
	expectWorkers int
	expectWait    time.Duration
	blockSize     int
	token         string
	tls           clustertls.Files
}

func newMasterCmd(env *Env) *cobra.Command {
	var f masterFlags
	cmd := &cobra.Command{
		Use:   "master --headless -c DEVICES -r RATE [-t TIME] --broker URL",
		Short: "Coordinate ltk workers on other machines: give each its block of devices, merge their stats",
		Long: `Master runs a distributed test. Workers ('ltk worker --master-host HOST') connect
to it over gRPC (port 5557); each gets the block of devicelist.csv that its
ordinal names (ordinal k runs devices k*B+1 … (k+1)*B, with B = LTK_BLOCK_SIZE,
by default the devices divided by --expect-workers), keys included, so workers
need no copy of the file. A StatefulSet pod named name-k is worker k.

The master waits for --expect-workers workers, then splits the devices and the
spawn rate between them (remainders to the lowest ordinals), prints the merged
Locust-style stats, and at the end the summary; then it tells the workers to quit.
A worker silent for 3 heartbeats (3 s) is reported missing; one that comes back
with the same ordinal resumes its share at the spawn rate, and one that joins
mid-test gets a share at the spawn rate.

The stream carries private keys: set a --cluster-token (LTK_CLUSTER_TOKEN) on the
master and every worker, and the master refuses workers without it. With
--master-tls-cert and --master-tls-key the port speaks TLS (workers then need
--master-tls-ca); --master-tls-ca on the master also asks every worker for a
client certificate that CA signed (mutual TLS).

  ltk master --headless -c 3000 -r 50 -t 10m --expect-workers 3 --broker tcp://broker:1883

The exit code is 1 when any failure was recorded, 0 otherwise.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			warnDeprecatedRegistry(env, cmd)
			if err := applyEnvFallbacks(env, cmd, targetEnvFallbacks); err != nil {
				return err
			}
			return runMaster(cmd.Context(), env, &f)
		},
	}
	fs := cmd.Flags()
	addTestFlags(fs, &f.testFlags)
	fs.StringVar(&f.bindHost, "master-bind-host", "", "interface the master listens on for workers (empty: all)")
	fs.IntVar(&f.bindPort, "master-bind-port", master.DefaultPort, "port the master listens on for workers")
	fs.IntVar(&f.expectWorkers, "expect-workers", 1, "workers to wait for before the test starts; also divides the device list into blocks")
	fs.DurationVar(&f.expectWait, "expect-workers-max-wait", 5*time.Minute, "how long to wait for the expected workers (0: no limit)")
	fs.IntVar(&f.blockSize, "block-size", 0, "devices per worker block (LTK_BLOCK_SIZE; 0: the device list divided by --expect-workers)")
	fs.StringVar(&f.token, "cluster-token", "", "secret every worker must present (LTK_CLUSTER_TOKEN); the stream carries device keys")
	addMasterTLSFlags(fs, &f.tls, false)
	fs.Lookup("broker").Usage = "MQTT broker the workers' devices drive: tcp://host:1883 or ssl://host:8883 (required; 'ltk target' runs one)"
	return cmd
}

// runMaster runs a headless distributed test.
func runMaster(ctx context.Context, env *Env, f *masterFlags) error {
	if err := f.validate(); err != nil {
		return err
	}
	if b, ok := iotcoreDefaultBroker(env); ok && f.settings.Broker == "" {
		f.settings.Broker = b // devices registered with an IoT-Core-API service connect to its bridge
	}
	if f.settings.Broker == "" {
		return withHint(usageError(errors.New("ltk master needs --broker: the MQTT broker the workers' devices drive")),
			"run one with 'ltk target' and pass --broker tcp://HOST:1883")
	}
	if err := f.checkSettings(env); err != nil {
		return err
	}
	if f.expectWorkers < 1 {
		return usageError(fmt.Errorf("--expect-workers %d: want at least 1", f.expectWorkers))
	}
	if f.blockSize < 0 {
		return usageError(fmt.Errorf("--block-size %d: want 0 (devices ÷ expected workers) or more", f.blockSize))
	}
	tlsConfig, err := masterTLS(f.tls, false)
	if err != nil {
		return err
	}
	fleet, err := loadFleet(env, &f.testFlags)
	if err != nil {
		return err
	}
	f.describeScenario(env.Stdout, f.devices)
	log := slog.New(slog.NewTextHandler(env.Stderr, &slog.HandlerOptions{Level: f.logLevel}))
	s := session{
		flags: &f.testFlags, fleet: fleet, log: log, target: f.settings.Broker, nodes: f.expectWorkers, wait: f.expectWait,
		master: master.Config{
			Addr:          net.JoinHostPort(f.bindHost, strconv.Itoa(f.bindPort)),
			Version:       Version,
			Token:         f.token,
			TLS:           tlsConfig,
			Devices:       fleet,
			Columns:       f.columns,
			BlockSize:     f.blockSize,
			ExpectWorkers: f.expectWorkers,
			Settings:      f.settings,
			Logger:        log,
			Events:        env.Stdout,
		},
		after: func(_ *parts, m *master.Master) error {
			fmt.Fprintf(env.Stdout, "ltk master on %s: %d devices in blocks of %d for %d workers\n",
				m.Addr(), len(fleet), m.BlockSize(), f.expectWorkers)
			if secrets := handedOut(f.settings.Auth); f.token == "" && secrets != "" {
				fmt.Fprintf(env.Stderr, "ltk: warning: no --cluster-token: any process that reaches this port gets %s; set LTK_CLUSTER_TOKEN on the master and every worker\n", secrets)
			}
			return nil
		},
	}
	return s.run(ctx, env)
}

// handedOut names the secrets the master hands every worker under auth,
// or returns "" if none.
func handedOut(auth string) string {
	switch auth {
	case runset.AuthJWT:
		return "the devices' private keys"
	case runset.AuthPassword:
		return "the devices' private keys and the MQTT password"
	case runset.AuthCert:
		return "the devices' private keys and certificates"
	case runset.AuthSAS:
		return "the devices' symmetric keys"
	case runset.AuthDevicePassword:
		return "the devices' passwords"
	}
	return ""
}
