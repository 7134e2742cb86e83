package bench

import (
	"fmt"
	"strconv"
	"time"

	"github.com/ltk-dev/ltk/internal/device"
	"github.com/ltk-dev/ltk/internal/pace"
	"github.com/ltk-dev/ltk/internal/runset"
	"github.com/ltk-dev/ltk/internal/scenario"
	"github.com/ltk-dev/ltk/internal/sim"
)

// BuiltinEcho names the built-in echo behaviour in Result.Scenario: the
// tutorial's device as ltk runs it without a scenario.
const BuiltinEcho = "builtin"

// columnValues is how many values a synthesized devicelist.csv column
// takes: "site-1" … "site-5".
const columnValues = 5

// fleetPlan is the fleet one run simulates: the plan its devices follow,
// which fleet indices run, and what was left out.
type fleetPlan struct {
	name    string    // the scenario's name, or BuiltinEcho
	plan    *sim.Plan // the programs, after Config.Interval replaced their schedules
	indices []int     // the fleet index of each device run: Config.Devices of them
	ids     []string  // the device id of each device run
	skipped []string  // back-end kinds left out, and why
	// columns are the synthesized rows of the plan's columns, shared by
	// every device: device i reads columns[index % columnValues].
	columns [][]string
	// awaitedPerS is the replies per second the devices' expectations
	// await, for Result.ExpectedEchoesPerS.
	awaitedPerS float64
}

// newFleetPlan returns the fleet cfg describes: the built-in echo behaviour
// for every device, or cfg.Scenario's plan.
func newFleetPlan(cfg *Config) (*fleetPlan, error) {
	if cfg.Scenario == nil {
		return builtinPlan(cfg), nil
	}
	s := cfg.Scenario
	fp := &fleetPlan{name: s.Name, plan: withInterval(s.Plan(), cfg.Interval)}
	p := fp.plan
	skip := cfg.Alg != "none"         // back ends need the target's token with device auth on
	left := make([]int, len(p.Kinds)) // the clients of each kind left out
	for i := 0; len(fp.indices) < cfg.Devices; i++ {
		k := p.KindOf(i)
		if skip && p.Kinds[k].Backend {
			left[k]++ // counted kinds take the first indices: the loop ends
			continue
		}
		fp.indices = append(fp.indices, i)
	}
	for k, n := range left {
		if n == 0 {
			continue
		}
		fp.skipped = append(fp.skipped, fmt.Sprintf(
			"back-end kind %s (%d clients) left out: with --alg %s back ends need a back-end token, and bench starts its target without one; run with --alg none to include them",
			p.Kinds[k].Kind, n, cfg.Alg))
	}
	fp.ids = make([]string, len(fp.indices))
	for j, i := range fp.indices {
		fp.ids[j] = device.FormatID("LTK", 5, i+1)
	}
	fp.columns = synthColumns(p.Columns)
	awaited, err := scenarioAwaited(s, fp, cfg.Interval)
	if err != nil {
		return nil, err
	}
	fp.awaitedPerS = awaited
	return fp, nil
}

// builtinPlan is the built-in echo behaviour as a one-kind plan, so that
// it runs through exactly the code a scenario's plan does.
func builtinPlan(cfg *Config) *fleetPlan {
	p, _ := runset.ProfileByName(cfg.Profile) // checked by Validate
	base := sim.Config{Client: cfg.Client, QoS: cfg.QoS, WaitMin: cfg.Interval, WaitMax: cfg.Interval, LastMessageTimeout: lastMessageTimeout, Topics: p.Topics}
	prog := sim.EchoProgram(&base)
	prog.Kind = "device"
	fp := &fleetPlan{
		name: BuiltinEcho,
		plan: &sim.Plan{
			Name: BuiltinEcho, Kinds: []*sim.Program{prog}, KindOf: func(int) int { return 0 },
			Events: sim.BuiltinEvents(),
		},
		indices:     make([]int, cfg.Devices),
		ids:         make([]string, cfg.Devices),
		awaitedPerS: float64(cfg.Devices) / cfg.Interval.Seconds(),
	}
	for i := range fp.indices {
		fp.indices[i], fp.ids[i] = i, device.FormatID("LTK", 5, i+1)
	}
	return fp
}

// withInterval returns p with every periodic publish every interval
// exactly, or p itself for interval 0 (the scenario's own schedules). The
// programs are copied: p is shared and read-only.
func withInterval(p *sim.Plan, interval time.Duration) *sim.Plan {
	if interval == 0 {
		return p
	}
	every := pace.Interval{Min: interval, Max: interval}.Next
	q := *p
	q.Kinds = make([]*sim.Program, len(p.Kinds))
	for k, prog := range p.Kinds {
		c := *prog
		c.Periodic = make([]*sim.Publish, len(prog.Periodic))
		for i, pub := range prog.Periodic {
			pc := *pub
			pc.Every = every
			c.Periodic[i] = &pc
		}
		q.Kinds[k] = &c
	}
	return &q
}

// synthColumns returns columnValues rows of values for the named
// devicelist.csv columns: the column's name and a number, such as
// "site-3", since bench makes its devices itself and has no file.
func synthColumns(names []string) [][]string {
	if len(names) == 0 {
		return nil
	}
	rows := make([][]string, columnValues)
	for r := range rows {
		rows[r] = make([]string, len(names))
		for c, name := range names {
			rows[r][c] = name + "-" + strconv.Itoa(r+1)
		}
	}
	return rows
}

// scenarioAwaited estimates the replies per second the devices of fp
// await: scenario.Check's per-kind estimate for the scenario's own
// schedules, or, with interval set, one reply per expecting step per
// interval.
func scenarioAwaited(s *scenario.Scenario, fp *fleetPlan, interval time.Duration) (float64, error) {
	counts := make([]int, len(fp.plan.Kinds))
	for _, i := range fp.indices {
		counts[fp.plan.KindOf(i)]++
	}
	if interval > 0 {
		total := 0.0
		for k, prog := range fp.plan.Kinds {
			for _, pub := range prog.Periodic {
				if pub.Expect != nil {
					total += float64(counts[k]*max(pub.Burst, 1)) / interval.Seconds()
				}
			}
		}
		return total, nil
	}
	est, err := scenario.Check(s, max(len(fp.indices), 1))
	if err != nil {
		return 0, err
	}
	total := 0.0
	for k, ke := range est.Kinds {
		if ke.Devices > 0 {
			total += ke.Awaited / float64(ke.Devices) * float64(counts[k])
		}
	}
	return total, nil
}
