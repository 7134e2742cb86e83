package stats

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ltk-dev/ltk/internal/hist"
)

func TestWindowKeepsNewestSeconds(t *testing.T) {
	t.Parallel()
	adds := []Second{{100, 1, 0}, {132, 2, 1}, {101, 4, 0}, {100, 8, 0}, {164, 16, 2}, {131, 32, 0}}
	var fwd, rev window
	for i := range adds {
		fwd.add(adds[i].Unix, adds[i].Requests, adds[i].Failures)
		a := adds[len(adds)-1-i]
		rev.add(a.Unix, a.Requests, a.Failures)
	}
	require.Equal(t, fwd, rev, "order of adds does not matter")
	// 100 and 132 share a slot with 164, the newest, which keeps it.
	require.Equal(t, []Second{{101, 4, 0}, {131, 32, 0}, {164, 16, 2}}, fwd.drain(nil))
	require.Equal(t, window{}, fwd, "drain empties")

	r, f := rev.sum(101, 164)
	require.Equal(t, [2]int64{36, 0}, [2]int64{r, f})
	var dst window
	rev.moveTo(&dst)
	require.Equal(t, window{}, rev)
	r, f = dst.sum(0, 1000)
	require.Equal(t, [2]int64{52, 2}, [2]int64{r, f})
}

func TestHistWindowKeepsNewestSeconds(t *testing.T) {
	t.Parallel()
	one := func(bucket int) []int64 {
		c := make([]int64, bucket+1)
		c[bucket] = 1
		return c
	}
	type add struct {
		unix   int64
		bucket int
	}
	adds := []add{{100, 1}, {111, 2}, {101, 3}, {100, 4}, {122, 5}, {110, 6}}
	var fwd, rev histWindow
	for i := range adds {
		fwd.add(adds[i].unix, one(adds[i].bucket))
		a := adds[len(adds)-1-i]
		rev.add(a.unix, one(a.bucket))
	}
	require.Equal(t, fwd, rev, "order of adds does not matter")
	got := fwd.sum(0, 1000) // 100 and 111 share a slot with 122, the newest
	want := make([]int64, hist.Len)
	want[3], want[5], want[6] = 1, 1, 1
	require.Equal(t, want, got)
	require.Nil(t, fwd.sum(123, 200))
	want[3] = 0
	require.Equal(t, want, fwd.sum(102, 123))
}
