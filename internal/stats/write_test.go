package stats

import (
	"bytes"
	"flag"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/require"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// golden compares got with testdata/<TestName>.golden, or rewrites it with -update.
func golden(t *testing.T, got string) {
	t.Helper()
	path := filepath.Join("testdata", t.Name()+".golden")
	if *update {
		require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o755))
		require.NoError(t, os.WriteFile(path, []byte(got), 0o644))
	}
	want, err := os.ReadFile(path)
	require.NoError(t, err, "run go test -update to create it")
	require.Equal(t, string(want), got)
}

// fixture records a small echo test: 100 devices connect, subscribe, then
// publish and get echoes for 20 (fake) seconds, with a few failures.
func fixture(t *testing.T) Snapshot {
	var s Snapshot
	synctest.Test(t, func(t *testing.T) {
		r := NewRecorder()
		connect := r.Entry("MQTT", "MQTT connect")
		subscribe := r.Entry("MQTT", "MQTT subscribe")
		publish := r.Entry("MQTT", "MQTT publish")
		receive := r.Entry("echo", "echo receive")
		for i := range 100 {
			connect.Record(time.Duration(3000+i*i*4+i*37%11*1000)*time.Microsecond, 0)
			subscribe.Record(time.Duration(800+i*29%50*100)*time.Microsecond, 0)
		}
		connect.Fail(5*time.Second, "not authorized", "")
		connect.Fail(5*time.Second, "not authorized", "")
		time.Sleep(time.Second)
		for sec := range 20 {
			for i := range 100 {
				publish.Record(time.Duration(200+i%7*30)*time.Microsecond, 64)
				if sec == 19 && i >= 97 {
					r.Entry("echo", "echo timeout").Fail(2*time.Minute, "no echo within 2m0s", "")
					continue
				}
				receive.Record(time.Duration(40_000+(sec*100+i)*7919%90_000)*time.Microsecond, 64)
			}
			time.Sleep(time.Second)
		}
		r.Entry("echo", "echo late").Record(2*time.Minute+3*time.Second, 64)
		r.Entry("MQTT", "MQTT disconnect").Fail(0, "connection lost: EOF", "")
		a := NewAggregate()
		require.NoError(t, a.Add(r.Drain(time.Now())))
		s = a.Snapshot(time.Now().Add(500 * time.Millisecond))
	})
	return s
}

// longFixture has a long type and a long name.
func longFixture(t *testing.T) Snapshot {
	a := NewAggregate()
	d := delta(time.Unix(1000, 0), []int64{4, 6}, []int64{1, 0})
	d.Entries[0].Type, d.Entries[0].Name = "websocket", "a name much longer than the default column"
	d.Failures = []FailureDelta{{Type: "websocket", Name: d.Entries[0].Name, Message: "closed, with a comma", Count: 1}}
	require.NoError(t, a.Add(d))
	return a.Snapshot(time.Unix(1015, 0))
}

func write(t *testing.T, f func(io.Writer, Snapshot) error, s Snapshot) string {
	t.Helper()
	var b bytes.Buffer
	require.NoError(t, f(&b, s))
	return b.String()
}

func TestWriters(t *testing.T) {
	t.Parallel()
	s, long := fixture(t), longFixture(t)
	for _, tc := range []struct {
		name string
		f    func(io.Writer, Snapshot) error
	}{
		{"Table", WriteTable},
		{"FinalTable", WriteFinalTable},
		{"Percentiles", WritePercentiles},
		{"Failures", WriteFailures},
		{"StatsCSV", WriteStatsCSV},
		{"FailuresCSV", WriteFailuresCSV},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			golden(t, write(t, tc.f, s))
		})
		t.Run(tc.name+"Long", func(t *testing.T) {
			t.Parallel()
			golden(t, write(t, tc.f, long))
		})
		t.Run(tc.name+"Empty", func(t *testing.T) {
			t.Parallel()
			golden(t, write(t, tc.f, NewAggregate().Snapshot(time.Unix(1000, 0))))
		})
	}
}

func TestTablesAlign(t *testing.T) {
	t.Parallel()
	for _, s := range []Snapshot{fixture(t), longFixture(t)} {
		for _, f := range []func(io.Writer, Snapshot) error{WriteTable, WritePercentiles} {
			lines := strings.Split(strings.TrimSuffix(write(t, f, s), "\n"), "\n")
			if strings.HasPrefix(lines[0], "Response time") {
				lines = lines[1:]
			}
			width := len(lines[1]) // the separator
			for _, l := range lines {
				require.Len(t, l, width, "line %q", l)
				require.Equal(t, strings.TrimRight(l, " "), l, "trailing spaces")
			}
		}
	}
}

func TestStatsCSVHeader(t *testing.T) {
	t.Parallel()
	got := write(t, WriteStatsCSV, NewAggregate().Snapshot(time.Unix(0, 0)))
	require.True(t, strings.HasPrefix(got, "Type,Name,Request Count,Failure Count,Median Response Time,"+
		"Average Response Time,Min Response Time,Max Response Time,Average Content Size,Requests/s,Failures/s,"+
		"50%,66%,75%,80%,90%,95%,98%,99%,99.9%,99.99%,100%\r\n"), got)
}

func TestPyFloat(t *testing.T) {
	t.Parallel()
	for x, want := range map[float64]string{0: "0.0", 12: "12.0", 1.5: "1.5", 1.0 / 3: "0.3333333333333333", 207.73684210526315: "207.73684210526315"} {
		require.Equal(t, want, pyFloat(x))
	}
}

// errWriter fails every write.
type errWriter struct{}

func (errWriter) Write([]byte) (int, error) { return 0, os.ErrClosed }

func TestWritersReportErrors(t *testing.T) {
	t.Parallel()
	s := longFixture(t)
	for _, f := range []func(io.Writer, Snapshot) error{WriteTable, WriteFinalTable, WritePercentiles, WriteFailures, WriteStatsCSV, WriteFailuresCSV} {
		require.ErrorIs(t, f(errWriter{}, s), os.ErrClosed)
	}
}

func TestExceptionsCSV(t *testing.T) {
	t.Parallel()
	var b bytes.Buffer
	require.NoError(t, WriteExceptionsCSV(&b, []Exception{{Count: 2, Message: "worker lost", Nodes: []string{"w-0", "w-1"}}}))
	require.Equal(t, "Count,Message,Traceback,Nodes\r\n2,worker lost,,\"w-0, w-1\"\r\n", b.String())
	require.ErrorIs(t, WriteExceptionsCSV(errWriter{}, nil), os.ErrClosed)
}

func TestHistoryWriter(t *testing.T) {
	t.Parallel()
	var b bytes.Buffer
	hw := NewHistoryWriter(&b)
	pct := make([]time.Duration, len(CSVQuantiles))
	for i := range pct {
		pct[i] = time.Duration(i+1) * time.Millisecond
	}
	require.NoError(t, hw.Write(&HistoryRow{
		Timestamp: 1000, Users: 5, Type: "echo", Name: "echo receive", RPS: 2.5, FailPerSec: 0, Percentiles: pct,
		Total: StatsRow{Requests: 25, Failures: 1, Median: 6 * time.Millisecond, Avg: 6500 * time.Microsecond,
			Min: time.Millisecond, Max: 11 * time.Millisecond, AvgContentLength: 64},
	}))
	require.NoError(t, hw.Flush())
	require.Equal(t, "Timestamp,User Count,Type,Name,Requests/s,Failures/s,50%,66%,75%,80%,90%,95%,98%,99%,99.9%,99.99%,100%,"+
		"Total Request Count,Total Failure Count,Total Median Response Time,Total Average Response Time,"+
		"Total Min Response Time,Total Max Response Time,Total Average Content Size\r\n"+
		"1000,5,echo,echo receive,2.500000,0.000000,1,2,3,4,5,6,7,8,9,10,11,25,1,6,6.5,1.0,11.0,64.0\r\n", b.String())

	hw = NewHistoryWriter(errWriter{})
	require.NoError(t, hw.Write(&HistoryRow{Percentiles: pct}), "buffered")
	require.ErrorIs(t, hw.Flush(), os.ErrClosed)
}

// TestLocustNumberFormats pins the CSV number formats to Locust 2's (its
// StatsCSV and the response-time rounding of StatsEntry.log): percentiles
// as integers rounded to 1, 10, 100 or 1,000 ms by magnitude, the median
// so too but kept within [min, max] and a float from 100 ms on, a min of 0
// as "0", and below 1 ms ltk's two decimals.
func TestLocustNumberFormats(t *testing.T) {
	t.Parallel()
	msf := func(v float64) time.Duration { return time.Duration(v * float64(time.Millisecond)) }
	for v, want := range map[float64]string{
		0: "0", 0.37: "0.37", 0.999: "1.00", 1: "1", 15.4: "15", 99.4: "99", 99.6: "100", 147: "150", 145: "140",
		155: "160", 999: "1000", 1234.5: "1200", 1250: "1200", 9951: "10000", 58760: "59000",
	} {
		require.Equal(t, want, PercentileText(msf(v)), "%v ms", v)
	}
	for _, tc := range []struct {
		name          string
		med, min, max float64
		want          string
	}{
		{"below 100 ms an integer", 15.4, 1, 20, "15"},
		{"from 100 ms a float", 147, 100, 200, "150.0"},
		{"above max the max", 147, 100, 148.5, "148.5"},
		{"below min the min", 1001, 1000.5, 1100, "1000.5"},
		{"sub-millisecond", 0.37, 0.1, 0.9, "0.37"},
	} {
		r := StatsRow{Requests: 3, Median: msf(tc.med), Min: msf(tc.min), Max: msf(tc.max)}
		require.Equal(t, tc.want, r.medianText(), tc.name)
	}
	r := StatsRow{Requests: 1, Min: 0, Max: msf(2), AvgContentLength: 5}
	minMS, maxMS, size := r.minMaxSize()
	require.Equal(t, []string{"0", "2.0", "5.0"}, []string{minMS, maxMS, size}, "Locust writes min_response_time or 0")
}
