package worker

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ltk-dev/ltk/examples/scenarios"
	"github.com/ltk-dev/ltk/internal/device"
	"github.com/ltk-dev/ltk/internal/sim"
)

// TestScenarioDeviceConfigs: with a scenario, each device runs the program
// of its kind, chosen by its fleet index (not its place in the block), and
// reads the columns the scenario names from its devicelist.csv values.
func TestScenarioDeviceConfigs(t *testing.T) {
	t.Parallel()
	src, ok := scenarios.Get("fleet")
	require.True(t, ok)
	s := validSettings()
	s.Scenario = string(src)
	plan, err := checkSettings(&s)
	require.NoError(t, err)
	require.NotNil(t, plan)

	devs := make([]device.Device, 50)
	for i := range devs {
		devs[i] = device.Device{ID: device.FormatID("W", 3, i+1), Values: []string{"floor" + string(rune('0'+i%10)), "site" + string(rune('a'+i%3))}}
	}
	b := Block{Devices: devs, Columns: []string{"floor", "site"}, First: 100, Ordinal: 2}
	cfgs, err := deviceConfigs(&s, b, plan, nil)
	require.NoError(t, err)
	for i, c := range cfgs {
		require.Equal(t, 100+i, c.Index)
		require.Equal(t, 2, c.Worker)
		require.Same(t, plan.Kinds[plan.KindOf(100+i)], c.Program, "device %d", i)
		require.Equal(t, []string{devs[i].Values[1]}, c.Columns, "the site column, picked by name")
	}

	b.Columns = []string{"floor"}
	_, err = deviceConfigs(&s, b, plan, nil)
	require.ErrorContains(t, err, `the scenario reads column "site", which devicelist.csv does not name (its header names: id,private_key,floor)`)
}

// TestScenarioFromANewerMaster: a scenario this worker cannot load is
// refused, naming the format version the worker reads.
func TestScenarioFromANewerMaster(t *testing.T) {
	t.Parallel()
	s := validSettings()
	s.Scenario = "version: 2\nname: future\nkinds: {}\n"
	_, err := checkSettings(&s)
	require.ErrorContains(t, err, "this worker (scenario format version 1) cannot run it")
	_, err = New(Block{Devices: []device.Device{{ID: "W001"}}}, s, nil)
	require.Error(t, err)

	s.Scenario = ""
	plan, err := checkSettings(&s)
	require.NoError(t, err)
	require.Nil(t, plan)
	cfgs, err := deviceConfigs(&s, Block{Devices: []device.Device{{ID: "W001"}}}, plan, nil)
	require.NoError(t, err)
	require.Equal(t, sim.EventPublish, cfgs[0].Program.Periodic[0].Event, "the built-in behaviour")
}
