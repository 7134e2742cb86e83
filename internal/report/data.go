package report

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/ltk-dev/ltk/internal/hist"
	"github.com/ltk-dev/ltk/internal/stats"
)

// A Sample is one second of one stats entry. Its Second holds the
// response times of the timed requests (Count is Requests - Untimed).
type Sample struct {
	RunID      int64
	Type, Name string
	Requests   int64 // requests, failures and untimed ones included
	Failures   int64 // failed requests among Requests
	Untimed    int64 // failures without a response time, among Failures
	Bytes      int64 // content bytes of the requests
	hist.Second
}

// A FailureSample counts one second's failures of one entry with one message.
type FailureSample struct {
	RunID               int64
	Unix                int64
	Type, Name, Message string
	Count               int64
	Examples            []string // up to stats.MaxExamples, such as device ids
}

// A DeviceSample is the number of devices a run had running from second Unix on.
type DeviceSample struct {
	RunID   int64
	Unix    int64
	Devices int
}

// Data is what the store holds for a time window: the samples of every
// second that starts at or after Start and before End.
type Data struct {
	Start, End time.Time
	Runs       []RunInfo       // the runs that overlap the window
	Samples    []Sample        // ascending by second, then type and name
	Failures   []FailureSample // ascending by second
	Devices    []DeviceSample  // per run, ascending, with the count in force at Start first
	Exec       []hist.Second   // the echo app's execution times, ascending
	// Exceptions are the errors ltk itself hit in the runs (not request
	// failures), most frequent first: the rows of Locust's _exceptions.csv.
	Exceptions []stats.Exception
}

// Seconds returns the window as whole Unix seconds [lo, hi): the seconds
// that start at or after Start and before End.
func Seconds(start, end time.Time) (lo, hi int64) {
	lo, hi = start.Unix(), end.Unix()
	if start.Nanosecond() != 0 {
		lo++
	}
	if end.Nanosecond() != 0 {
		hi++
	}
	return lo, max(lo, hi)
}

// Load reads the window [start, end) of every run, or of run runID alone if
// it is not 0.
func (s *Store) Load(ctx context.Context, start, end time.Time, runID int64) (*Data, error) {
	lo, hi := Seconds(start, end)
	d := &Data{Start: start.UTC(), End: end.UTC()}
	runs, err := s.runsIn(ctx, lo*1000, hi*1000)
	if err != nil {
		return nil, err
	}
	for _, r := range runs {
		if runID == 0 || r.ID == runID {
			d.Runs = append(d.Runs, r)
		}
	}
	only, arg := "", []any{lo, hi}
	if runID != 0 {
		only, arg = " AND run_id = ?", append(arg, runID)
	}
	if err := s.loadSamples(ctx, d, only, arg); err != nil {
		return nil, fmt.Errorf("read samples from %s: %w", s.path, err)
	}
	if err := s.loadRest(ctx, d, only, arg); err != nil {
		return nil, fmt.Errorf("read samples from %s: %w", s.path, err)
	}
	if err := s.loadExceptions(ctx, d); err != nil {
		return nil, fmt.Errorf("read exceptions from %s: %w", s.path, err)
	}
	return d, nil
}

// LoadRun reads the whole of run ref (an id, a name or "last").
func (s *Store) LoadRun(ctx context.Context, ref string) (*Data, error) {
	r, err := s.FindRun(ctx, ref)
	if err != nil {
		return nil, err
	}
	start, end := r.Window()
	return s.Load(ctx, start, end, r.ID)
}

func (s *Store) loadSamples(ctx context.Context, d *Data, only string, arg []any) error {
	rows, err := s.db.QueryContext(ctx, `SELECT run_id, unix, type, name, requests, failures, untimed, bytes, sum_ns, min_ns, max_ns, hist
		FROM samples WHERE unix >= ? AND unix < ?`+only+` ORDER BY unix, type, name, run_id`, arg...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var sm Sample
		var blob []byte
		if err := rows.Scan(&sm.RunID, &sm.Unix, &sm.Type, &sm.Name, &sm.Requests, &sm.Failures, &sm.Untimed, &sm.Bytes,
			&sm.Sum, &sm.Min, &sm.Max, &blob); err != nil {
			return err
		}
		sm.Count = sm.Requests - sm.Untimed
		if sm.Counts, err = hist.Decode(blob); err != nil {
			return fmt.Errorf("run %d second %d %s %q: %w", sm.RunID, sm.Unix, sm.Type, sm.Name, err)
		}
		d.Samples = append(d.Samples, sm)
	}
	return rows.Err()
}

func (s *Store) loadRest(ctx context.Context, d *Data, only string, arg []any) error {
	rows, err := s.db.QueryContext(ctx, `SELECT run_id, unix, type, name, message, count, examples
		FROM failures WHERE unix >= ? AND unix < ?`+only+` ORDER BY unix, type, name, message, run_id`, arg...)
	if err != nil {
		return err
	}
	for rows.Next() {
		var f FailureSample
		var ex string
		if err := rows.Scan(&f.RunID, &f.Unix, &f.Type, &f.Name, &f.Message, &f.Count, &ex); err != nil {
			rows.Close()
			return err
		}
		f.Examples = splitExamples(ex)
		d.Failures = append(d.Failures, f)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}

	// The count in force at the window's start, then the changes within it.
	lo, hi := arg[0], arg[1]
	devArgs := append([]any{lo}, arg[2:]...)
	devArgs = append(devArgs, lo, hi)
	devArgs = append(devArgs, arg[2:]...)
	rows, err = s.db.QueryContext(ctx, `SELECT run_id, max(unix), devices FROM devices WHERE unix < ?`+only+` GROUP BY run_id
		UNION ALL SELECT run_id, unix, devices FROM devices WHERE unix >= ? AND unix < ?`+only+`
		ORDER BY 1, 2`, devArgs...)
	if err != nil {
		return err
	}
	for rows.Next() {
		var v DeviceSample
		if err := rows.Scan(&v.RunID, &v.Unix, &v.Devices); err != nil {
			rows.Close()
			return err
		}
		d.Devices = append(d.Devices, v)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}

	rows, err = s.db.QueryContext(ctx, `SELECT unix, count, sum_ns, min_ns, max_ns, hist
		FROM executions WHERE unix >= ? AND unix < ?`+only+` ORDER BY unix`, arg...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var e hist.Second
		var blob []byte
		if err := rows.Scan(&e.Unix, &e.Count, &e.Sum, &e.Min, &e.Max, &blob); err != nil {
			return err
		}
		if e.Counts, err = hist.Decode(blob); err != nil {
			return fmt.Errorf("execution times of second %d: %w", e.Unix, err)
		}
		d.Exec = mergeExec(d.Exec, e)
	}
	return rows.Err()
}

// mergeExec appends e to secs, adding it to the last second if it is the
// same one (two runs' execution times in one second).
func mergeExec(secs []hist.Second, e hist.Second) []hist.Second {
	if n := len(secs); n > 0 && secs[n-1].Unix == e.Unix {
		var t hist.Total
		t.Add(&secs[n-1])
		t.Add(&e)
		secs[n-1] = hist.Second{Unix: e.Unix, Count: t.Count, Sum: t.Sum, Min: t.Min, Max: t.Max, Counts: hist.Trim(t.Counts)}
		return secs
	}
	return append(secs, e)
}

// Empty reports whether the window holds no samples and no execution times.
func (d *Data) Empty() bool { return len(d.Samples) == 0 && len(d.Exec) == 0 }

// NoDataError says that a window holds nothing, listing the runs the store
// has so that the user can pick a window.
type NoDataError struct {
	Start, End time.Time
	Runs       []RunInfo // every run in the store
}

func (e *NoDataError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "no samples between %s and %s", e.Start.UTC().Format(time.RFC3339), e.End.UTC().Format(time.RFC3339))
	if len(e.Runs) == 0 {
		b.WriteString("; the results store holds no runs yet (ltk run records one)")
		return b.String()
	}
	b.WriteString("; the recorded runs are:")
	for _, r := range e.Runs {
		b.WriteString("\n  " + describeRun(r))
	}
	return b.String()
}

// describeRun is one line about a run, with its window in harvest's form.
func describeRun(r RunInfo) string {
	stopped := ""
	if r.Stop.IsZero() {
		stopped = " (did not end; last sample)"
	}
	lo, hi := r.Window()
	return fmt.Sprintf("%d %-12s %s %s%s  %d devices", r.ID, r.Name,
		lo.Format(time.RFC3339), hi.Format(time.RFC3339), stopped, r.Devices)
}

// ceilSecond rounds t up to a whole second.
func ceilSecond(t time.Time) time.Time {
	if u := t.Truncate(time.Second); !u.Equal(t) {
		return u.Add(time.Second)
	}
	return t
}
