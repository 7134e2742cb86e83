package cli

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/ltk-dev/ltk/internal/device"
	"github.com/ltk-dev/ltk/internal/echo"
	"github.com/ltk-dev/ltk/internal/master"
	"github.com/ltk-dev/ltk/internal/runset"
	"github.com/ltk-dev/ltk/internal/scenario"
	"github.com/ltk-dev/ltk/internal/sim"
	"github.com/ltk-dev/ltk/internal/stats"
	"github.com/ltk-dev/ltk/internal/target"
	"github.com/ltk-dev/ltk/internal/worker"
)

func init() { register(newRunCmd) }

// testFlags are the flags of a headless test, shared by ltk run and ltk master.
type testFlags struct {
	headless      bool
	devices       int
	spawnRate     float64
	runTime       runTimeFlag
	printInterval time.Duration
	onlySummary   bool
	csvPrefix     string
	csvFull       bool // --csv-full-history
	local         bool // ltk run: the workers are this process's own
	exitOnError   int
	logLevel      slog.Level
	settings      runset.Settings
	scenarioFile  string             // --scenario: a file, or an example's name
	scenario      *scenario.Scenario // loaded by loadScenario; nil without one
	columns       []string           // the device list's extra columns, from loadFleet
	fleet         fleetFlags
	output        outputFlags
	web           webFlags
}

// addTestFlags registers the flags of a headless test on fs.
func addTestFlags(fs *pflag.FlagSet, f *testFlags) {
	fs.BoolVar(&f.headless, "headless", false, "run without the web UI: start at once with -c/-r, print stats to the terminal, stop after -t")
	fs.IntVarP(&f.devices, "devices", "c", 1, "number of devices to simulate")
	fs.IntVarP(&f.devices, "users", "u", 1, "alias of --devices (Locust's name)")
	fs.Float64VarP(&f.spawnRate, "spawn-rate", "r", 1, "devices started per second (0: all at once)")
	fs.VarP(&f.runTime, "run-time", "t", "stop after this long, e.g. 300s, 20m, 1h30m (default: until Ctrl-C)")
	fs.DurationVar(&f.printInterval, "print-interval", master.DefaultPrintInterval, "how often the live table is printed")
	fs.BoolVar(&f.onlySummary, "only-summary", false, "print only the final summary, not the live table")
	fs.StringVar(&f.csvPrefix, "csv", "", "write PREFIX_stats.csv, _failures.csv, _stats_history.csv and _exceptions.csv (Locust's columns) every second during the test and at the end")
	fs.BoolVar(&f.csvFull, "csv-full-history", false, "with --csv, a row per request type in _stats_history.csv every second, not only the Aggregated row (Locust's flag)")
	fs.IntVar(&f.exitOnError, "exit-code-on-error", int(ExitFailures), "exit code when failures were recorded")
	fs.TextVar(&f.logLevel, "loglevel", slog.LevelWarn, "log level: debug, info, warn, error")
	_ = fs.MarkHidden("users")
	addSettingsFlags(fs, &f.settings)
	fs.StringVar(&f.scenarioFile, "scenario", "", "scenario file describing the devices (kinds, topics, payloads, rates, expectations; see ltk scenario example), or an example's name; replaces --behavior")
	addFleetFlags(fs, &f.fleet)
	addOutputFlags(fs, &f.output)
	addWebFlags(fs, &f.web)
}

// runTimeFlag is --run-time: a timespan that keeps the text it was given,
// so that a given span that is not positive is refused rather than taken
// as no limit.
type runTimeFlag struct {
	timespan
	text string // empty if not given
}

func (r *runTimeFlag) Set(s string) error {
	if n, err := strconv.ParseFloat(s, 64); err == nil && (math.IsNaN(n) || math.Abs(n) >= math.MaxInt64/float64(time.Second)) {
		return fmt.Errorf("%q is not a time span (e.g. 300s, 20m, 1h30m)", s)
	}
	r.text = s
	return r.timespan.Set(s)
}

// validate checks the flags every headless test needs; the run settings
// take their profile's defaults first.
func (f *testFlags) validate() error {
	f.settings.SetDefaults()
	if f.devices < 1 {
		return usageError(fmt.Errorf("--devices %d: want at least 1 device", f.devices))
	}
	if f.spawnRate < 0 || math.IsNaN(f.spawnRate) || math.IsInf(f.spawnRate, 0) {
		return usageError(fmt.Errorf("--spawn-rate %g: want a number of devices per second, 0 (all at once) or more", f.spawnRate))
	}
	// 0 means no limit (as in Locust); a negative span, or one that rounds
	// to 0 (1e-10), must not.
	if f.runTime.timespan < 0 || f.runTime.timespan == 0 && strings.ContainsAny(f.runTime.text, "123456789") {
		return usageError(fmt.Errorf("--run-time %s: want a positive time span such as 300s or 20m, or no --run-time to run until Ctrl-C", f.runTime.text))
	}
	return nil
}

// checkSettings checks the run settings the flags give, before anything
// starts: the CLI is where a person's settings are checked (behaviour and
// MQTT client names when the flags are parsed).
func (f *testFlags) checkSettings(env *Env) error {
	if err := f.loadScenario(env); err != nil {
		return err
	}
	_, tlsErr := f.settings.TLSConfig() // a CA bundle that cannot be read or holds no certificate
	var plan *sim.Plan
	if f.scenario != nil {
		plan = f.scenario.Plan()
	}
	clientErr := sim.CheckRun(f.settings.MQTTClient, f.settings.Broker, f.settings.MQTTVersion, f.settings.QoS, plan)
	var ttlErr error
	if err := device.ValidateTTL(f.settings.TokenTTL); err != nil {
		ttlErr = fmt.Errorf("--jwt-ttl: %w", err) // refused here, not at every connect
	}
	return usageError(errors.Join(f.settings.Validate(), tlsErr, clientErr, ttlErr))
}

// headlessRun returns the master's headless run for these flags.
func (f *testFlags) headlessRun(env *Env, wait time.Duration) master.Headless {
	return master.Headless{
		Devices:       f.devices,
		SpawnRate:     f.spawnRate,
		RunTime:       time.Duration(f.runTime.timespan),
		PrintInterval: f.printInterval,
		OnlySummary:   f.onlySummary,
		Out:           env.Stdout,
		WaitWorkers:   wait,
		Terminal:      isTerminal(env.Stdout),
		LocalWorkers:  f.local,
	}
}

// result turns a headless run's outcome into the command's: exit code 1 (or
// --exit-code-on-error) when failures were recorded. (The --csv files are
// written with the run's record: recording.finish.)
func (f *testFlags) result(env *Env, fleet []device.Device, snap stats.Snapshot, err error) error {
	if err != nil {
		if errors.Is(err, master.ErrNotEnoughDevices) && len(fleet) < f.devices {
			return withHint(err, fmt.Sprintf("create more: ltk devices create %d %d", len(fleet)+1, f.devices))
		}
		return err
	}
	if snap.Total.NumFailures > 0 {
		return withExitCode(errFailuresRecorded, ExitCode(f.exitOnError))
	}
	return nil
}

// runFlags are the flags of ltk run.
type runFlags struct {
	testFlags
	echo    echo.Config // the embedded target's back-end behaviour
	workers int         // local workers
}

func newRunCmd(env *Env) *cobra.Command {
	var f runFlags
	cmd := &cobra.Command{
		Use:   "run --headless -c DEVICES -r RATE [-t TIME]",
		Short: "Run a load test from this machine, with live stats in the terminal",
		Long: `Run spawns simulated devices from devicelist.csv at the spawn rate, drives them
against the broker and prints live Locust-style stats, then a summary with
response-time percentiles and a failure report.

With no --broker it starts ltk's embedded IoT target in-process (MQTT broker,
IoT-Core-style JWT device auth and the echo app), so a fresh machine needs
nothing else:

  ltk devices create 1 100 --alg ES256
  ltk run --headless -c 100 -r 10 -t 1m

Drive a real broker with --broker (and --auth, --client-id-format to match it);
for a plain Mosquitto with 'ltk echo' as the back end:

  ltk run --headless -c 100 -r 10 -t 1m --broker tcp://127.0.0.1:1883 --auth none --client-id-format plain

The exit code is 1 when any failure was recorded, 0 otherwise.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			warnDeprecatedRegistry(env, cmd)
			if err := applyEnvFallbacks(env, cmd, targetEnvFallbacks); err != nil {
				return err
			}
			return runTest(cmd.Context(), env, &f)
		},
	}
	fs := cmd.Flags()
	addTestFlags(fs, &f.testFlags)
	fs.IntVar(&f.workers, "workers", 1, "local workers, each running its own block of the devices (as ltk worker processes would)")
	fs.DurationVar(&f.echo.Delay, "target-delay", 0, "embedded target: processing delay before each echo")
	fs.DurationVar(&f.echo.Jitter, "target-jitter", 0, "embedded target: random extra delay, uniform in [0, jitter]")
	fs.Float64Var(&f.echo.DropRate, "target-drop-rate", 0, "embedded target: fraction of events not echoed (0.1 = 10%), to provoke echo timeouts")
	return cmd
}

// runTest composes a local test: an embedded target when no broker is named,
// a master on a loopback port, and local workers that speak the same gRPC
// protocol to it as remote ones do, each with its block of the device list.
func runTest(ctx context.Context, env *Env, f *runFlags) error {
	if err := f.validate(); err != nil {
		return err
	}
	if f.workers < 1 {
		return usageError(fmt.Errorf("--workers %d: want at least 1 local worker", f.workers))
	}
	log := slog.New(slog.NewTextHandler(env.Stderr, &slog.HandlerOptions{Level: f.logLevel}))
	if b, ok := iotcoreDefaultBroker(env); ok && f.settings.Broker == "" {
		f.settings.Broker = b // devices registered with an IoT-Core-API service connect to its bridge
	}
	embedded := f.settings.Broker == ""
	if embedded {
		f.settings.Broker = "tcp://127.0.0.1:0" // replaced by the target's real address below
		if f.settings.Auth == runset.AuthCert {
			f.settings.Broker = "ssl://127.0.0.1:0"
		}
	}
	if err := f.checkSettings(env); err != nil {
		return err
	}
	if err := f.echo.Validate(); err != nil {
		return usageError(err)
	}
	fleet, err := loadFleet(env, &f.testFlags)
	if err != nil {
		return err
	}
	if embedded && f.hasBackends() && f.settings.BackendPassword == "" {
		f.settings.BackendPassword = randomToken() // the scenario's back ends log in to the embedded target with it
	}
	f.describeScenario(env.Stdout, f.devices)

	targetName := f.settings.Broker
	if embedded {
		targetName = "embedded"
	}
	token := randomToken() // the loopback port is open to every local user, and the stream carries keys
	f.local = true
	var refusal worker.RefusalFunc // the embedded target's reasons; nil with another broker
	s := session{
		flags: &f.testFlags, fleet: fleet, log: log, target: targetName, nodes: 1, wait: time.Minute,
		master: master.Config{
			Addr:          "127.0.0.1:0",
			Version:       Version,
			Token:         token,
			Devices:       fleet,
			Columns:       f.columns,
			ExpectWorkers: f.workers,
			Settings:      f.settings,
			Logger:        log,
		},
		after: func(p *parts, m *master.Master) error {
			for k := range f.workers {
				a, err := worker.NewAgent(worker.Config{
					MasterAddr: m.Addr(), Ordinal: k, Hostname: "local-" + strconv.Itoa(k),
					Version: Version, Token: token, MasterTimeout: time.Minute, Logger: log,
					Refusal: refusal,
				})
				if err != nil {
					return err
				}
				p.start(a.Run)
			}
			return nil
		},
	}
	if embedded {
		s.before = func(p *parts, rec *recording, cfg *master.Config) error {
			f.echo.Observer = rec.observeExecution
			t, ca, err := startTarget(env, f, log)
			if err != nil {
				return err
			}
			p.start(t.Run)
			refusal = func(device string) (string, bool) { // MQTT 3.1.1 cannot carry the target's reason
				r, ok := t.Refusal(device)
				return r.Text(), ok
			}
			addr := t.Addr()
			cfg.Settings.Broker = "tcp://" + addr
			if ca != nil { // mutual TLS: devices trust the test CA that signed the target's certificate
				addr = t.TLSAddr()
				cfg.Settings.Broker, cfg.Settings.CAPEM = "ssl://"+addr, ca.PEM
			}
			fmt.Fprintf(env.Stdout, "Embedded IoT target on %s (profile %s, auth %s)\n", addr, profileName(f.settings.Profile), cfg.Settings.Auth)
			return nil
		}
	}
	return s.run(ctx, env)
}

// profileFlag returns " --profile P" for a profile other than iotcore, for
// hints.
func profileFlag(p string) string {
	if p == "" || p == runset.ProfileIoTCore {
		return ""
	}
	return " --profile " + p
}

// profileName returns the profile's name, iotcore for the empty one.
func profileName(p string) string {
	if p == "" {
		return runset.ProfileIoTCore
	}
	return p
}

// randomToken returns a fresh cluster token.
func randomToken() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// loadFleet reads the device list. With a shared password or none, no
// per-device credentials are needed, so a missing list is replaced by
// generated ids.
func loadFleet(env *Env, f *testFlags) ([]device.Device, error) {
	path := f.fleet.devicesPath(env)
	fleet, columns, err := device.ReadFleetColumns(path)
	if errors.Is(err, os.ErrNotExist) {
		if f.settings.Auth == runset.AuthPassword || f.settings.Auth == runset.AuthNone {
			ids := make([]device.Device, f.devices)
			for i := range ids {
				ids[i].ID = device.FormatID("LTK", 5, i+1)
			}
			return ids, f.checkColumns(nil)
		}
		return nil, withHint(fmt.Errorf("no device list at %s", path),
			fmt.Sprintf("create devices first: ltk devices create 1 %d%s", f.devices, profileFlag(f.settings.Profile)))
	}
	if err != nil {
		return nil, err
	}
	if len(fleet) < f.devices {
		return nil, withHint(fmt.Errorf("%s holds %d devices; asked for %d", path, len(fleet), f.devices),
			fmt.Sprintf("create more: ltk devices create %d %d (or lower --devices)", len(fleet)+1, f.devices))
	}
	f.columns = columns
	if err := f.checkCredentials(path, fleet, columns); err != nil {
		return nil, err
	}
	return fleet, f.checkColumns(columns)
}

// credentialColumns are the devicelist.csv columns each auth mode reads.
var credentialColumns = map[string][]string{
	runset.AuthCert:           {device.ColumnCertificate},
	runset.AuthSAS:            {device.ColumnSymmetricKey},
	runset.AuthDevicePassword: {device.ColumnUsername, device.ColumnPassword},
}

// checkCredentials refuses a fleet whose devices lack the columns the
// run's auth reads (a headless run checks the devices it runs, else all),
// before anything starts: a worker would only log it, device by device.
func (f *testFlags) checkCredentials(path string, fleet []device.Device, columns []string) error {
	need := credentialColumns[f.settings.Auth]
	if len(need) == 0 {
		return nil
	}
	devs := fleet
	if f.headless {
		devs = fleet[:min(f.devices, len(fleet))]
	}
	create := profileFlag(f.settings.Profile)
	if f.settings.Profile == runset.ProfileAzure && f.settings.Auth == runset.AuthCert {
		create += " --auth x509"
	}
	for _, d := range devs {
		for _, c := range need {
			if _, ok := device.Column(columns, d.Values, c); !ok {
				return withHint(usageError(fmt.Errorf("%s: device %s has no %s, which auth %s reads", path, d.ID, c, f.settings.Auth)),
					fmt.Sprintf("make devices with it: ltk devices create N M%s, and run those (the devices a test runs are the list's first)", create))
			}
		}
	}
	return nil
}

// startTarget binds the embedded target on a loopback port with the local
// registry, emulating the device auth and topics of the run's profile. It
// returns the test CA when devices connect with certificates (they must
// trust the server certificate it signs), else nil.
func startTarget(env *Env, f *runFlags, log *slog.Logger) (*target.Target, *device.CA, error) {
	cfg := target.Config{
		Addr:     "127.0.0.1:0",
		Project:  f.settings.Project,
		Region:   f.settings.Region,
		Registry: f.settings.Registry,
		Hub:      f.settings.AzureHub(),
		Topics:   f.settings.Topics(),
		Echo:     f.echo,

		BackendToken: f.settings.BackendPassword,
	}
	if f.settings.Auth == runset.AuthCert {
		cfg.TLSAddr = "127.0.0.1:0"
	}
	ca, err := targetAuth(env, &f.fleet, f.settings.Profile, f.settings.Auth, &cfg, log)
	if err != nil {
		return nil, nil, err
	}
	t, err := target.New(cfg, prometheus.NewRegistry(), log)
	return t, ca, err
}
