package scenario

import (
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestReadmeScenario loads the scenario the README's "A scenario file"
// shows, so that the documentation stays a file ltk accepts.
func TestReadmeScenario(t *testing.T) {
	t.Parallel()
	readme, err := os.ReadFile("../../README.md")
	require.NoError(t, err)
	_, section, ok := strings.Cut(string(readme), "### A scenario file\n")
	require.True(t, ok)
	_, block, ok := strings.Cut(section, "```yaml\n")
	require.True(t, ok)
	block, _, ok = strings.Cut(block, "```")
	require.True(t, ok)
	s, err := Load("README.md", []byte(block))
	require.NoError(t, err)
	plan := s.Plan()
	require.Equal(t, []string{"site", "token"}, plan.Columns)
	require.Len(t, plan.Kinds, 2)
	require.NotNil(t, plan.Kinds[0].Will)
	require.Len(t, plan.Kinds[0].OnConnect, 1)
	require.NotNil(t, plan.Kinds[1].Reactions[0].Expect)
}
