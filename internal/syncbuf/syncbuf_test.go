package syncbuf

import (
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestConcurrentWritesKeepEveryLine(t *testing.T) {
	t.Parallel()
	var b Buffer
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 100 {
				fmt.Fprintf(&b, "g%d line %d\n", g, i)
			}
		})
	}
	wg.Wait()
	require.Equal(t, 800, strings.Count(b.String(), "\n"))
	require.True(t, b.Contains("g7 line 99\n"))
	b.Reset()
	require.Empty(t, b.String())
	require.False(t, b.Contains("g0"))
}
