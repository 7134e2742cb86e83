package stats

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestUntimedFailuresAreNoResponseTimes records 95 replies of 2 ms and 5
// misses, as an echo fleet with 5% dropped echoes does: the misses count as
// requests and failures, in the entry and the Aggregated row, but in no
// percentile, average or extreme, which are those of the replies alone.
func TestUntimedFailuresAreNoResponseTimes(t *testing.T) {
	t.Parallel()
	r := NewRecorder()
	receive, timeout := r.Entry("echo", "echo receive"), r.Entry("echo", "echo timeout")
	for range 95 {
		receive.Record(2*time.Millisecond, 10)
	}
	for i := range 5 {
		timeout.Fail(NoResponseTime, "no echo within the echo timeout", fmt.Sprintf("LTK%05d", i+1))
	}
	d := r.Drain(time.Now())
	require.NoError(t, d.Validate())
	s := snapshotOf(t, r) // empty: the drain above took everything
	require.Empty(t, s.Entries)

	a := NewAggregate()
	require.NoError(t, a.Add(d))
	s = a.Snapshot(time.Now())
	tot := s.Total
	require.EqualValues(t, 100, tot.NumRequests)
	require.EqualValues(t, 5, tot.NumFailures)
	require.EqualValues(t, 5, tot.NumUntimed)
	for _, q := range []float64{0, 0.01, 0.05, 0.5, 0.95, 0.99, 1} {
		require.Equal(t, 2*time.Millisecond, tot.Percentile(q), "Aggregated p%v", q*100)
		require.Equal(t, 2*time.Millisecond, tot.CurrentPercentile(q), "Aggregated current p%v", q*100)
	}
	require.Equal(t, 2*time.Millisecond, tot.Min)
	require.Equal(t, 2*time.Millisecond, tot.Avg)
	require.InDelta(t, 9.5, tot.AvgContentLength, 1e-9, "bytes per request, misses included as Locust does")

	miss := s.Entries[1]
	require.Equal(t, "echo timeout", miss.Name)
	require.EqualValues(t, 5, miss.NumRequests)
	require.EqualValues(t, 5, miss.NumFailures)
	require.Zero(t, miss.Percentile(0.99))
	require.Zero(t, miss.Avg)
	require.Zero(t, miss.Max)
	require.Len(t, s.Failures, 1)
	f := s.Failures[0]
	require.Equal(t, FailureStats{Type: "echo", Name: "echo timeout", Message: "no echo within the echo timeout", Occurrences: 5}, FailureStats{
		Type: f.Type, Name: f.Name, Message: f.Message, Occurrences: f.Occurrences})
	require.Len(t, f.Examples, MaxExamples)
	require.Subset(t, []string{"LTK00001", "LTK00002", "LTK00003", "LTK00004", "LTK00005"}, f.Examples)
}

func TestDeltaValidateUntimed(t *testing.T) {
	t.Parallel()
	r := NewRecorder()
	e := r.Entry("echo", "x")
	e.Record(time.Millisecond, 0)
	e.Fail(NoResponseTime, "miss", "")
	e.Fail(NoResponseTime, "miss", "")
	d := r.Drain(time.Now())
	require.NoError(t, d.Validate())
	good := d.Entries[0]
	require.EqualValues(t, 3, good.Requests)
	require.EqualValues(t, 2, good.Untimed)
	for name, bad := range map[string]func(e *EntryDelta){
		"untimed beyond failures": func(e *EntryDelta) { e.Untimed = 3 },
		"negative untimed":        func(e *EntryDelta) { e.Untimed = -1 },
		"histogram of every request": func(e *EntryDelta) {
			e.Untimed = 0 // the histogram holds 1 value, not 3
		},
	} {
		e := good
		bad(&e)
		d2 := &Delta{Entries: []EntryDelta{e}}
		require.Error(t, d2.Validate(), name)
	}
	only := EntryDelta{Type: "echo", Name: "x", Requests: 2, Failures: 2, Untimed: 2}
	require.NoError(t, (&Delta{Entries: []EntryDelta{only}}).Validate(), "misses only: no histogram")
	only.Sum = time.Second
	require.Error(t, (&Delta{Entries: []EntryDelta{only}}).Validate(), "a sum without response times")
}

func TestFailureRowsStayBounded(t *testing.T) {
	t.Parallel()
	r := NewRecorder()
	e := r.Entry("MQTT", "MQTT connect")
	for i := range 2 * MaxMessages {
		e.Fail(time.Millisecond, fmt.Sprintf("message %d", i), fmt.Sprintf("LTK%05d", i))
	}
	for i := range 10 {
		e.Fail(time.Millisecond, "message 0", fmt.Sprintf("LTK%05d", i))
	}
	d := r.Drain(time.Now())
	require.NoError(t, d.Validate())
	require.LessOrEqual(t, len(d.Failures), MaxMessages+1, "at most MaxMessages messages and the others' row")
	require.Equal(t, OtherMessages, d.Failures[len(d.Failures)-1].Message)
	var total int64
	for _, f := range d.Failures {
		total += f.Count
		require.LessOrEqual(t, len(f.Examples), MaxExamples)
		if f.Message == "message 0" {
			require.Len(t, f.Examples, MaxExamples)
			require.Subset(t, []string{"LTK00000", "LTK00001", "LTK00002", "LTK00003", "LTK00004", "LTK00005", "LTK00006",
				"LTK00007", "LTK00008", "LTK00009"}, f.Examples)
		}
	}
	require.EqualValues(t, 2*MaxMessages+10, total, "no failure lost")

	d.Failures[0].Examples = []string{"a", "b", "c", "d"}
	require.ErrorContains(t, d.Validate(), "4 examples")
	d.Failures[0].Examples = []string{strings.Repeat("x", MaxExampleLen+1)}
	require.ErrorContains(t, d.Validate(), "an example of")
}

func TestFailWithExampleAllocatesNothing(t *testing.T) {
	e := NewRecorder().Entry("echo", "echo timeout")
	e.Fail(NoResponseTime, "timeout", "LTK00001") // first sight of the message
	require.Zero(t, testing.AllocsPerRun(1000, func() { e.Fail(NoResponseTime, "timeout", "LTK00002") }))
}

func TestErrorTextKeepsLocustColumns(t *testing.T) {
	t.Parallel()
	var b strings.Builder
	require.NoError(t, WriteFailureRows(&b, []FailureStats{
		{Type: "MQTT", Name: "MQTT connect", Message: "not authorized", Occurrences: 2, Examples: []string{"LTK00003", "LTK00007"}},
		{Type: "echo", Name: "echo timeout", Message: "no echo", Occurrences: 1},
	}))
	require.Equal(t, "Method,Name,Error,Occurrences\r\nMQTT,MQTT connect,not authorized [e.g. LTK00003 LTK00007],2\r\necho,echo timeout,no echo,1\r\n", b.String())
}
