package scenario

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ltk-dev/ltk/examples/scenarios"
)

// loadExample loads a shipped example.
func loadExample(t testing.TB, name string) *Scenario {
	t.Helper()
	src, ok := scenarios.Get(name)
	require.True(t, ok, name)
	s, err := Load(name+".yaml", src)
	require.NoError(t, err)
	return s
}
