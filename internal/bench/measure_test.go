package bench

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestMeasureReportsProgress(t *testing.T) {
	t.Parallel()
	var out strings.Builder
	begin := time.Now()
	require.NoError(t, measure(t.Context(), 50*time.Millisecond, 20*time.Millisecond, &out))
	require.GreaterOrEqual(t, time.Since(begin), 50*time.Millisecond, "the whole window was waited out")
	require.Equal(t, "measuring: 20ms of 50ms\nmeasuring: 40ms of 50ms\n", out.String())

	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	require.ErrorIs(t, measure(ctx, time.Hour, time.Minute, &out), context.Canceled)
}
