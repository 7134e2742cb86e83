package scenario

import (
	"testing"

	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"

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

// scalarValue is a value as the decoder makes it from text s.
func scalarValue(s string) value {
	return value{n: &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: s, Line: 1, Column: 1}}
}
