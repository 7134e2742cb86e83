package report

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"time"
)

// TimeExample is how harvest's times look.
const TimeExample = "2026-11-25T20:00:00Z"

// ErrBadTime is wrapped by ParseTime's errors.
var ErrBadTime = errors.New("not an RFC 3339 time")

// ParseTime parses a harvest window edge: RFC 3339, such as
// 2026-11-25T20:00:00Z (UTC; other offsets are converted, fractions allowed).
func ParseTime(s string) (time.Time, error) {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("%q is %w: use UTC like %s", s, ErrBadTime, TimeExample)
	}
	return t.UTC(), nil
}

// ErrBadWindow is returned for a window whose end is not after its start.
var ErrBadWindow = errors.New("bad window")

// The files Harvest writes.
const (
	DriverTimesFile   = "driver_times.csv"
	FunctionTimesFile = "function_times.csv"
	SummaryFile       = "summary.txt"
	ReportFile        = "report.html"
)

// HarvestConfig says what Harvest reads and where it writes.
type HarvestConfig struct {
	Dir        string        // output directory, created if needed
	Start, End time.Time     // the window; zero with Run: the run's own window
	Run        string        // a run id, name or "last" to take alone; "" = every run in the window
	Bucket     time.Duration // distribution bucket width; 0 = DefaultBucket
	TargetURL  string        // a remote ltk target to fetch execution times from when the store has none
	Client     *http.Client  // for TargetURL; nil = http.DefaultClient
}

// HarvestResult is what Harvest did.
type HarvestResult struct {
	Data        *Data
	Files       []string // the files written
	RemoteExecs bool     // execution times came from TargetURL
}

// Harvest reads the window from the store and writes driver_times.csv,
// function_times.csv, summary.txt and report.html into cfg.Dir. An empty
// window is a *NoDataError that lists the recorded runs.
func Harvest(ctx context.Context, st *Store, cfg HarvestConfig) (*HarvestResult, error) {
	if cfg.Bucket == 0 {
		cfg.Bucket = DefaultBucket
	}
	if cfg.Bucket < MinBucket {
		return nil, fmt.Errorf("bucket %v: want at least %v, the histograms' resolution, such as 100ms", cfg.Bucket, MinBucket)
	}
	var runID int64
	if cfg.Run != "" {
		r, err := st.FindRun(ctx, cfg.Run)
		if err != nil {
			return nil, err
		}
		runID = r.ID
		if cfg.Start.IsZero() && cfg.End.IsZero() {
			cfg.Start, cfg.End = r.Window()
		}
	}
	if !cfg.End.After(cfg.Start) {
		return nil, fmt.Errorf("%w: END %s is not after START %s", ErrBadWindow,
			cfg.End.UTC().Format(time.RFC3339), cfg.Start.UTC().Format(time.RFC3339))
	}
	d, err := st.Load(ctx, cfg.Start, cfg.End, runID)
	if err != nil {
		return nil, err
	}
	res := &HarvestResult{Data: d}
	if len(d.Exec) == 0 && cfg.TargetURL != "" {
		lo, hi := Seconds(cfg.Start, cfg.End)
		if d.Exec, err = FetchExecutionTimes(ctx, cfg.Client, cfg.TargetURL, lo, hi); err != nil {
			return nil, err
		}
		res.RemoteExecs = len(d.Exec) > 0
	}
	if d.Empty() {
		runs, err := st.Runs(ctx)
		if err != nil {
			return nil, err
		}
		return nil, &NoDataError{Start: cfg.Start, End: cfg.End, Runs: runs}
	}
	// Every file is made before the directory is, so that a harvest that
	// fails (a bucket too narrow for the times) leaves nothing behind.
	files := []struct {
		name  string
		write func(io.Writer) error
		data  bytes.Buffer
	}{
		{name: DriverTimesFile, write: func(w io.Writer) error { return WriteDistributionCSV(w, driverTotals(d), cfg.Bucket) }},
		{name: FunctionTimesFile, write: func(w io.Writer) error { return WriteDistributionCSV(w, functionTotals(d), cfg.Bucket) }},
		{name: SummaryFile, write: func(w io.Writer) error { return WriteSummary(w, d) }},
		{name: ReportFile, write: func(w io.Writer) error { return WriteHTML(w, d) }},
	}
	for i := range files {
		if err := files[i].write(&files[i].data); err != nil {
			return nil, fmt.Errorf("%s: %w", files[i].name, err)
		}
	}
	if err := os.MkdirAll(cfg.Dir, 0o755); err != nil {
		return nil, fmt.Errorf("create %s: %w", cfg.Dir, err)
	}
	for i := range files {
		path := filepath.Join(cfg.Dir, files[i].name)
		if err := os.WriteFile(path, files[i].data.Bytes(), 0o644); err != nil {
			return nil, fmt.Errorf("write %s: %w", path, err)
		}
		res.Files = append(res.Files, path)
	}
	return res, nil
}
