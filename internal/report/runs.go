package report

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"
)

// RunInfo is a run as the store knows it.
type RunInfo struct {
	ID        int64
	Name      string
	Start     time.Time
	Stop      time.Time // zero if the run did not end (still running, or its process died)
	Last      time.Time // end of the last second written
	Devices   int       // devices asked for
	SpawnRate float64
	Nodes     int
	Target    string
	Settings  json.RawMessage
	Dropped   int64 // reports the writer could not keep up with
}

// ScenarioName returns the name of the scenario the run's devices ran, as
// its settings hold it ("ScenarioName"); "" for a built-in behaviour.
func (r RunInfo) ScenarioName() string {
	var s struct{ ScenarioName string }
	_ = json.Unmarshal(r.Settings, &s) // settings that are not an object name no scenario
	return s.ScenarioName
}

// End returns when the run stopped or, if it did not end, the end of its
// last second written.
func (r RunInfo) End() time.Time {
	if !r.Stop.IsZero() {
		return r.Stop
	}
	return r.Last
}

// Window returns the whole seconds that hold the run's samples, [lo, hi):
// from the second it started in to the end of the second it stopped in, or
// of its last second written if that is later (a worker whose clock runs
// ahead of the master's stamps its last report after the stop). Harvest by
// run, Run.Data and the covered time (Data.Span, Data.Duration) use it, so
// that a run read back holds every sample it wrote.
func (r RunInfo) Window() (lo, hi time.Time) {
	hi = ceilSecond(r.End())
	if r.Last.After(hi) {
		hi = r.Last
	}
	return r.Start.Truncate(time.Second), hi
}

// ErrNoRun is returned when no run matches an id or name.
var ErrNoRun = errors.New("no such run")

const runColumns = "id, name, start_ms, stop_ms, last_ms, devices, spawn_rate, nodes, target, settings, dropped"

func scanRun(sc interface{ Scan(...any) error }) (RunInfo, error) {
	var r RunInfo
	var start, last int64
	var stop sql.NullInt64
	var settings string
	if err := sc.Scan(&r.ID, &r.Name, &start, &stop, &last, &r.Devices, &r.SpawnRate, &r.Nodes, &r.Target, &settings, &r.Dropped); err != nil {
		return r, err
	}
	r.Start, r.Last = time.UnixMilli(start).UTC(), time.UnixMilli(last).UTC()
	if stop.Valid {
		r.Stop = time.UnixMilli(stop.Int64).UTC()
	}
	r.Settings = json.RawMessage(settings)
	return r, nil
}

// Runs returns every run, oldest first.
func (s *Store) Runs(ctx context.Context) ([]RunInfo, error) {
	return s.queryRuns(ctx, "SELECT "+runColumns+" FROM runs ORDER BY start_ms, id")
}

// runsIn returns the runs that overlap [lo, hi) (Unix ms), oldest first.
func (s *Store) runsIn(ctx context.Context, lo, hi int64) ([]RunInfo, error) {
	return s.queryRuns(ctx, "SELECT "+runColumns+` FROM runs
		WHERE start_ms < ? AND max(coalesce(stop_ms, last_ms), last_ms) > ? ORDER BY start_ms, id`, hi, lo)
}

func (s *Store) queryRuns(ctx context.Context, q string, args ...any) ([]RunInfo, error) {
	rows, err := s.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("read runs from %s: %w", s.path, err)
	}
	defer rows.Close()
	var runs []RunInfo
	for rows.Next() {
		r, err := scanRun(rows)
		if err != nil {
			return nil, err
		}
		runs = append(runs, r)
	}
	return runs, rows.Err()
}

// FindRun returns the run with id or name ref; "last" is the latest run.
// A name used by several runs means the latest of them.
func (s *Store) FindRun(ctx context.Context, ref string) (RunInfo, error) {
	q := "SELECT " + runColumns + " FROM runs WHERE name = ? ORDER BY start_ms DESC, id DESC LIMIT 1"
	arg := any(ref)
	if ref == "last" {
		q, arg = "SELECT "+runColumns+" FROM runs WHERE ? ORDER BY start_ms DESC, id DESC LIMIT 1", 1
	} else if id, err := strconv.ParseInt(ref, 10, 64); err == nil {
		q, arg = "SELECT "+runColumns+" FROM runs WHERE id = ?", id
	}
	r, err := scanRun(s.db.QueryRowContext(ctx, q, arg))
	if errors.Is(err, sql.ErrNoRows) {
		return r, fmt.Errorf("%w %q in %s", ErrNoRun, ref, s.path)
	}
	if err != nil {
		return r, fmt.Errorf("read run %q: %w", ref, err)
	}
	return r, nil
}
