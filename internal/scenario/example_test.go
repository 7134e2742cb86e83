package scenario_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ltk-dev/ltk/examples/scenarios"
	"github.com/ltk-dev/ltk/internal/scenario"
)

// TestExamplesLoad loads and compiles every shipped example.
func TestExamplesLoad(t *testing.T) {
	t.Parallel()
	names := scenarios.Names()
	require.Equal(t, []string{"command-response", "echo", "fleet", "iotcore-state-config", "request-response-v5", "telemetry"}, names)
	for _, name := range names {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			src, ok := scenarios.Get(name)
			require.True(t, ok)
			s, err := scenario.Load(name+".yaml", src)
			require.NoError(t, err)
			require.Equal(t, name, s.Name)
			require.NotEmpty(t, s.Plan().Kinds)
		})
	}
}
