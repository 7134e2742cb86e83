package cli

import (
	"errors"
	"fmt"
	"os"
	"runtime"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/ltk-dev/ltk/examples/scenarios"
	"github.com/ltk-dev/ltk/internal/bench"
	"github.com/ltk-dev/ltk/internal/runset"
	"github.com/ltk-dev/ltk/internal/scenario"
	"github.com/ltk-dev/ltk/internal/sim"
)

func init() { register(newBenchCmd) }

// benchFlags are the flags of ltk bench.
type benchFlags struct {
	cfg        bench.Config
	clients    string  // --mqtt-client: one engine or a comma-separated list
	versions   string  // --mqtt-version: one or a comma-separated list
	qos        string  // --qos: one or a comma-separated list
	transports string  // --transport: one or a comma-separated list
	scenarios  string  // --scenario: files, example names or "builtin", comma-separated
	rounds     int     // --rounds: how many times to run the variants, alternated
	rate       float64 // --rate: publishes per second of the whole fleet
	json       bool
	cpuProfile string // --cpuprofile: pprof CPU profile of this process, the whole run
	memProfile string // --memprofile: pprof heap profile at the end of the last run
	procs      int    // --procs: GOMAXPROCS of this process; 0 = Go's default
}

func newBenchCmd(env *Env) *cobra.Command {
	f := benchFlags{clients: sim.ClientLean, scenarios: bench.BuiltinEcho, rounds: 1, versions: runset.MQTTVersion311, qos: "1", transports: bench.TransportTCP}
	cmd := &cobra.Command{
		Use:   "bench",
		Short: "Measure what generating load costs ltk: CPU per echo and per message, memory per device, connect rate",
		Long: `Bench starts the embedded IoT target in a child process, runs --devices
simulated devices with the tutorial's echo behaviour in this process, and
measures this process alone: echoes per second achieved against those
expected, echo latency (p50/p99), CPU time per echo round trip, resident
memory per connected device, and the connect rate of the ramp, with the
target's CPU for context.

Each device publishes every --interval (1s is the tutorial's load, 60s an
idle fleet); --rate sets the interval from a total publish rate instead.
--mqtt-client lean,paho runs the same benchmark on both MQTT clients, one
after the other, and prints them side by side.

--scenario FILE (or the name of an example, see ltk scenario example) runs
the fleet with a scenario's devices instead: each device runs its kind's
program, devicelist.csv columns get made-up values (site-1 … site-5), and
the table adds the messages per second (published and received, as the
target counted them), the CPU per message and each kind's rates. Without
--interval the scenario's own schedules hold; with it, every periodic
publish runs at that interval. "builtin" is the built-in echo device, so
--scenario echo,builtin runs the echo scenario and the built-in echo side by
side and prints their ratios; --rounds 4 runs them four times, alternated
(A B, B A, A B, B A), so that a machine's changing load and the first run's
warm-up hit both alike. A scenario sets its
own QoS (--qos is the built-in echo's). Back-end kinds (count:) run only
with --alg none: with device auth on they would need the target's back-end
token, which devices cannot be given yet.

--mqtt-version, --qos and --transport take a list too: the first values
make the base run, and each further value is one more run that differs from
the base in that alone, compared with it at the end ("MQTT 5 ÷ 3.1.1: CPU
per echo 1.08×"). --mqtt-version 5,3.1.1 --qos 1,2 --transport tcp,ws runs
MQTT 5 at QoS 1 over TCP, then 3.1.1, then QoS 2, then WebSocket.

--alg ES256 or RS256 makes a key per device and has the target verify JWTs;
none skips authentication.

A process may open only so many files: the devices' sockets and the
target's both count against that limit, each in its own process.

  ltk bench --devices 10000
  ltk bench --devices 19000 --interval 60s --duration 2m
  ltk bench --devices 1000 --mqtt-client lean,paho --json > bench.json
  ltk bench --devices 2000 --scenario echo,builtin --rounds 4
  ltk bench --devices 10000 --scenario fleet
  ltk bench --devices 2000 --mqtt-version 5,3.1.1 --qos 1,2 --transport tcp,ws`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runBench(cmd, env, &f) },
	}
	fs := cmd.Flags()
	c := &f.cfg
	fs.IntVarP(&c.Devices, "devices", "c", bench.DefaultDevices, "devices to simulate")
	fs.DurationVar(&c.Interval, "interval", bench.DefaultInterval, "each device's wait between publishes")
	fs.Float64Var(&f.rate, "rate", 0, "publishes per second of the whole fleet (sets --interval to devices ÷ rate)")
	fs.DurationVarP(&c.Duration, "duration", "t", bench.DefaultDuration, "measurement window, after every device connected")
	fs.Float64VarP(&c.SpawnRate, "spawn-rate", "r", bench.DefaultSpawnRate, "devices started per second during the ramp (-1: all at once)")
	fs.StringVar(&f.clients, "mqtt-client", sim.ClientLean, "MQTT client engine: lean, paho, or both as lean,paho")
	fs.StringVar(&f.scenarios, "scenario", bench.BuiltinEcho, "what the devices do: a scenario file, an example's name (ltk scenario example), or builtin (the built-in echo); several, comma-separated, run side by side")
	fs.IntVar(&f.rounds, "rounds", 1, "run the scenarios and clients this many times, alternated (A B, B A, …), for a fair A/B on a busy machine")
	fs.StringVar(&c.Alg, "alg", bench.DefaultAlg, "device auth: ES256 or RS256 (a key per device, JWTs verified by the target) or none")
	fs.Var((*profile)(&c.Profile), "profile", "devices' platform: iotcore (JWTs of --alg keys), aws (mutual TLS, an ES256 key and certificate per device) or azure (SAS tokens); the target emulates its auth")
	fs.StringVar(&f.qos, "qos", "1", "QoS of publishes and of the command subscription: 0, 1 or 2, or a list such as 1,2 (see above)")
	fs.StringVar(&f.versions, "mqtt-version", runset.MQTTVersion311, "MQTT version of the devices: 3.1.1 or 5, or a list such as 5,3.1.1 (see above)")
	fs.StringVar(&f.transports, "transport", bench.TransportTCP, "how devices reach the target: tcp or ws (MQTT over WebSocket), or a list such as tcp,ws (see above)")
	fs.IntVar(&c.PerSource, "per-source", 0, "connections per loopback source address (0: 95% of half the ephemeral port range); more devices spread over 127.0.0.2, 127.0.0.3, …")
	fs.BoolVar(&f.json, "json", false, "print the results as JSON instead of a table")
	fs.IntVar(&f.procs, "procs", 0, "processors the load generator may use (GOMAXPROCS; 0: all), as when running one worker per core; the target keeps its own")
	fs.StringVar(&f.cpuProfile, "cpuprofile", "", "write a CPU profile of the load generator (the whole run) to this file, for go tool pprof")
	fs.StringVar(&f.memProfile, "memprofile", "", "write a heap profile of the load generator at the end to this file, for go tool pprof")
	return cmd
}

func runBench(cmd *cobra.Command, env *Env, f *benchFlags) error {
	clients := strings.Split(f.clients, ",")
	for _, c := range clients {
		if !slices.Contains(sim.ClientNames(), c) {
			return usageError(fmt.Errorf("--mqtt-client %q: use lean, paho or lean,paho", f.clients))
		}
	}
	cfg := f.cfg
	if f.rate != 0 {
		if cmd.Flags().Changed("interval") {
			return usageError(errors.New("--rate and --interval both set the publish interval: give one"))
		}
		if f.rate < 0 {
			return usageError(fmt.Errorf("--rate %g: give publishes per second, above 0", f.rate))
		}
		cfg.Interval = time.Duration(float64(cfg.Devices) / f.rate * float64(time.Second))
	}
	if strings.EqualFold(cfg.Alg, "none") {
		cfg.Alg = "none"
	} else {
		cfg.Alg = strings.ToUpper(cfg.Alg)
	}
	exe, err := os.Executable()
	if err != nil {
		return fmt.Errorf("find the ltk executable to run the target: %w", err)
	}
	cfg.TargetCommand = []string{exe, "target"}
	cfg.Progress = env.Stderr
	variants, err := benchVariants(f)
	if err != nil {
		return usageError(err)
	}
	for _, client := range clients {
		for _, v := range variants {
			check := cfg
			check.Client = client
			v.apply(&check)
			if err := check.Validate(0); err != nil {
				return usageError(err)
			}
		}
	}
	if f.rounds < 1 {
		return usageError(fmt.Errorf("--rounds %d: run at least 1 round", f.rounds))
	}
	scens, names, err := benchScenarios(env, f.scenarios)
	if err != nil {
		return usageError(err)
	}
	intervalSet := cmd.Flags().Changed("interval") || f.rate != 0
	if f.procs < 0 {
		return usageError(fmt.Errorf("--procs %d: give a number of processors, or 0 for all", f.procs))
	}
	if f.procs > 0 {
		defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(f.procs))
	}

	ctx, again, stop := env.signals(cmd.Context())
	defer stop()
	go hardStop(env, again)
	if f.cpuProfile != "" {
		out, err := os.Create(env.path(f.cpuProfile))
		if err != nil {
			return fmt.Errorf("CPU profile: %w", err)
		}
		defer out.Close()
		if err := pprof.StartCPUProfile(out); err != nil {
			return fmt.Errorf("CPU profile: %w", err)
		}
		defer pprof.StopCPUProfile()
	}
	if f.memProfile != "" {
		cfg.HeapProfile = env.path(f.memProfile)
	}
	var results []*bench.Result
	for round := range f.rounds {
		for _, client := range clients {
			for _, i := range roundOrder(len(scens), round) {
				for _, v := range variants {
					s := scens[i]
					c := cfg
					c.Client, c.Scenario = client, s
					v.apply(&c)
					if s != nil && !intervalSet {
						c.Interval = 0 // the scenario's own schedules
					}
					if f.rounds > 1 {
						fmt.Fprintf(env.Stderr, "round %d of %d: %s on the %s client (%s)\n", round+1, f.rounds, names[i], client, v)
					}
					r, err := bench.Run(ctx, c)
					if err != nil {
						return fmt.Errorf("bench %s on the %s client (%s): %w", names[i], client, v, err)
					}
					results = append(results, r)
				}
			}
		}
	}
	if f.json {
		return bench.WriteJSON(env.Stdout, results)
	}
	if err := bench.WriteTable(env.Stdout, results); err != nil {
		return err
	}
	if err := bench.WriteVariantComparison(env.Stdout, results); err != nil {
		return err
	}
	return bench.WriteComparison(env.Stdout, results)
}

// benchVariant is one combination of MQTT version, QoS and transport.
type benchVariant struct {
	version, transport string
	qos                byte
}

func (v benchVariant) apply(c *bench.Config) {
	c.MQTTVersion, c.QoS, c.Transport = v.version, v.qos, v.transport
}

func (v benchVariant) String() string {
	return fmt.Sprintf("MQTT %s, QoS %d, %s", v.version, v.qos, v.transport)
}

// benchVariants returns the runs --mqtt-version, --qos and --transport ask
// for: the base (each list's first value), then one run per further value,
// differing from the base in that value alone.
func benchVariants(f *benchFlags) ([]benchVariant, error) {
	split := func(s string) []string {
		parts := strings.Split(s, ",")
		for i := range parts {
			parts[i] = strings.TrimSpace(parts[i])
		}
		return parts
	}
	versions, transports := split(f.versions), split(f.transports)
	var qoss []byte
	for _, q := range split(f.qos) {
		n, err := strconv.ParseUint(q, 10, 8)
		if err != nil {
			return nil, fmt.Errorf("--qos %q: give 0, 1 or 2, or a comma-separated list", f.qos)
		}
		qoss = append(qoss, byte(n))
	}
	base := benchVariant{version: versions[0], qos: qoss[0], transport: transports[0]}
	vs := []benchVariant{base}
	for _, v := range versions[1:] {
		vs = append(vs, benchVariant{version: v, qos: base.qos, transport: base.transport})
	}
	for _, q := range qoss[1:] {
		vs = append(vs, benchVariant{version: base.version, qos: q, transport: base.transport})
	}
	for _, t := range transports[1:] {
		vs = append(vs, benchVariant{version: base.version, qos: base.qos, transport: t})
	}
	return vs, nil
}

// roundOrder is the order in which round runs n variants: forwards in even
// rounds and backwards in odd ones (A B, B A, A B, …), so that neither is
// always the first run of the process, which pays for warming it up.
func roundOrder(n, round int) []int {
	order := make([]int, n)
	for i := range order {
		order[i] = i
		if round%2 == 1 {
			order[i] = n - 1 - i
		}
	}
	return order
}

// benchScenarios loads the scenarios --scenario names: files, examples'
// names, or bench.BuiltinEcho (nil: the built-in echo behaviour).
func benchScenarios(env *Env, list string) ([]*scenario.Scenario, []string, error) {
	names := strings.Split(list, ",")
	scens := make([]*scenario.Scenario, len(names))
	for i, name := range names {
		name = strings.TrimSpace(name)
		names[i] = name
		if name == bench.BuiltinEcho {
			continue
		}
		s, err := loadScenario(env, name)
		if err != nil {
			return nil, nil, err
		}
		scens[i] = s
	}
	return scens, names, nil
}

// loadScenario loads the scenario file at name, or else the example called
// name.
func loadScenario(env *Env, name string) (*scenario.Scenario, error) {
	if _, err := os.Stat(env.path(name)); err == nil {
		return scenario.LoadFile(env.path(name))
	}
	if src, ok := scenarios.Get(name); ok {
		return scenario.Load(name+".yaml", src)
	}
	return nil, fmt.Errorf("--scenario %q is neither a file nor an example: give a scenario file, one of the examples (%s), or %s for the built-in echo",
		name, strings.Join(scenarios.Names(), ", "), bench.BuiltinEcho)
}
