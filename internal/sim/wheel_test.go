package sim

import (
	"math/rand/v2"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/require"
)

// firing records when wheel timers fired, by index.
type firing struct {
	mu sync.Mutex // Guards at.
	at map[int][]time.Time
}

func (f *firing) timer(i int) *wheelTimer {
	return &wheelTimer{fire: func() {
		f.mu.Lock()
		f.at[i] = append(f.at[i], time.Now())
		f.mu.Unlock()
	}}
}

func TestWheelFiresOnTime(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := newWheel(nil)
		f := &firing{at: map[int][]time.Time{}}
		start := time.Now()
		rnd := rand.New(rand.NewPCG(1, 2))
		due := map[int]time.Time{}
		for i := range 1000 {
			d := time.Duration(rnd.Int64N(int64(3 * time.Second)))
			if i%100 == 0 {
				d += 70 * time.Second // beyond one turn of the wheel
			}
			due[i] = start.Add(d)
			w.reset(f.timer(i), due[i])
		}
		time.Sleep(75 * time.Second)
		synctest.Wait()
		require.Len(t, f.at, 1000)
		for i, at := range f.at {
			require.Len(t, at, 1, "timer %d fired once", i)
			require.False(t, at[0].Before(due[i]), "timer %d fired %v before its time", i, due[i].Sub(at[0]))
			require.Less(t, at[0].Sub(due[i]), wheelTick, "timer %d fired within a tick", i)
		}
		require.Zero(t, w.n)
	})
}

func TestWheelResetAndStop(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := newWheel(nil)
		f := &firing{at: map[int][]time.Time{}}
		start := time.Now()
		a, b, c := f.timer(0), f.timer(1), f.timer(2)
		w.reset(a, start.Add(time.Second))
		w.reset(b, start.Add(time.Second))
		w.reset(c, start.Add(-time.Second)) // in the past: at once
		w.reset(a, start.Add(2*time.Second))
		w.stop(b)
		w.stop(b) // harmless
		time.Sleep(3 * time.Second)
		synctest.Wait()
		require.Equal(t, []time.Time{start.Add(2 * time.Second)}, f.at[0])
		require.Empty(t, f.at[1])
		require.Len(t, f.at[2], 1)
		require.Less(t, f.at[2][0].Sub(start), 2*wheelTick)
	})
}

func TestWheelPeriodicFromFire(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := newWheel(nil)
		var (
			n  int
			wt wheelTimer
		)
		start := w.ceil(time.Now())
		wt.fire = func() {
			n++
			if n < 10 {
				w.reset(&wt, start.Add(time.Duration(n)*time.Second))
			}
		}
		w.reset(&wt, start)
		time.Sleep(20 * time.Second)
		synctest.Wait()
		require.Equal(t, 10, n)
		require.Zero(t, w.n, "nothing left scheduled: the Go timer is stopped")
	})
}

func BenchmarkWheelReset(b *testing.B) {
	w := newWheel(nil)
	ts := make([]wheelTimer, 1024)
	for i := range ts {
		ts[i].fire = func() {}
	}
	now := time.Now()
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		w.reset(&ts[i&1023], now.Add(time.Duration(i%5000)*time.Millisecond+time.Hour))
		i++
	}
	for i := range ts {
		w.stop(&ts[i])
	}
}
