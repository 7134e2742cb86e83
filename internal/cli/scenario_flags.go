package cli

import (
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"

	"github.com/ltk-dev/ltk/examples/scenarios"
	"github.com/ltk-dev/ltk/internal/scenario"
	"github.com/ltk-dev/ltk/internal/web"
)

// loadScenario loads the --scenario of a test: a file, or the name of an
// example shipped in the binary when no such file exists. The scenario's
// text goes to every worker in the run settings.
func (f *testFlags) loadScenario(env *Env) error {
	if f.scenarioFile == "" {
		return nil
	}
	path := underRoot(env, f.scenarioFile)
	sc, err := scenario.LoadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		src, ok := scenarios.Get(f.scenarioFile)
		if !ok {
			return withHint(usageError(fmt.Errorf("--scenario %s: no such file, and no example of that name", f.scenarioFile)),
				"the examples: ltk scenario example; start from one: ltk scenario example fleet > fleet.yaml")
		}
		sc, err = scenario.Load(f.scenarioFile+".yaml", src)
	}
	if err != nil {
		return withHint(usageError(err), "check it with: ltk scenario check "+f.scenarioFile)
	}
	f.scenario = sc
	f.settings.Scenario = string(sc.Source)
	return nil
}

// checkColumns checks that the device list names every column the scenario
// reads.
func (f *testFlags) checkColumns(columns []string) error {
	if f.scenario == nil {
		return nil
	}
	var missing []string
	for _, c := range f.scenario.Plan().Columns {
		if !slices.Contains(columns, c) {
			missing = append(missing, c)
		}
	}
	if len(missing) == 0 {
		return nil
	}
	return withHint(usageError(fmt.Errorf("scenario %s reads the device list columns %s, which the device list does not name",
		f.scenario.Name, strings.Join(missing, ", "))),
		"name them in a header row of devicelist.csv, e.g. id,private_key,"+strings.Join(missing, ",")+", and give each device its values")
}

// hasBackends reports whether the scenario has back-end kinds (count:).
func (f *testFlags) hasBackends() bool {
	if f.scenario == nil {
		return false
	}
	for _, k := range f.scenario.Plan().Kinds {
		if k.Backend {
			return true
		}
	}
	return false
}

// webScenario describes the scenario for the web UI: its kinds' shares of
// the fleet, back ends by their count; nil without a scenario.
func (f *testFlags) webScenario(devices int) *web.Scenario {
	if f.scenario == nil {
		return nil
	}
	ws := &web.Scenario{Name: f.scenario.Name}
	if est, err := scenario.Check(f.scenario, max(devices, 1)); err == nil {
		for _, k := range est.Kinds {
			ks := web.KindShare{Kind: k.Kind, Share: k.Share}
			if k.Backend {
				ks = web.KindShare{Kind: k.Kind, Count: k.Devices}
			}
			ws.Kinds = append(ws.Kinds, ks)
		}
	}
	return ws
}

// describeScenario prints the scenario's name and its kinds' shares of a
// test of devices devices.
func (f *testFlags) describeScenario(w io.Writer, devices int) {
	if f.scenario == nil {
		return
	}
	est, err := scenario.Check(f.scenario, devices)
	if err != nil {
		return
	}
	parts := make([]string, len(est.Kinds))
	for i, k := range est.Kinds {
		parts[i] = fmt.Sprintf("%s %d (%.4g%%)", k.Kind, k.Devices, 100*k.Share)
	}
	fmt.Fprintf(w, "Scenario %s: %s; about %.4g messages/s published\n", f.scenario.Name, strings.Join(parts, ", "), est.Total.Msgs)
}
