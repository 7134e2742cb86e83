package report

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/ltk-dev/ltk/internal/hist"
)

// keepGenerations is how many flushes a written sample stays in memory
// after it last changed, so that a late delta merges without a read back.
const keepGenerations = 30

// writer is a Run's goroutine: it merges queued reports per (second, entry)
// and commits them every flush interval.
type writer struct {
	r          *Run
	accs       map[sampleKey]*acc
	devices    map[int64]int // device counts not yet written, by second
	gen        int           // flushes so far
	evictedMax int64         // the latest second evicted from accs: older keys are read back
	last       int64         // the end of the last second written, Unix
	err        error         // the first error; the writer goes on
}

func newWriter(r *Run) *writer {
	return &writer{r: r, accs: make(map[sampleKey]*acc), devices: make(map[int64]int),
		evictedMax: math.MinInt64, last: r.start.Unix()}
}

// run merges and flushes until the queue is closed, then flushes the rest.
func (w *writer) run() error {
	t := time.NewTicker(w.r.st.flushEvery)
	defer t.Stop()
	for {
		select {
		case it, ok := <-w.r.queue:
			if !ok {
				w.flush(math.MaxInt64)
				return w.err
			}
			w.add(it)
		case now := <-t.C:
			w.flush(now.Unix())
		}
	}
}

func (w *writer) fail(err error) {
	if w.err == nil {
		w.err = err
	}
}

// add merges one report.
func (w *writer) add(it item) {
	d := it.delta
	if d == nil {
		w.devices[it.unix] = it.devices
		return
	}
	// A delta that does not validate could make split's sums overflow
	// (and its apportioning loop run for ever): it is dropped whole.
	if err := d.Validate(); err != nil {
		w.fail(fmt.Errorf("dropped a stats report: %w", err))
		return
	}
	end := d.End.Add(-time.Nanosecond).Unix() // the second the interval ended in
	for i := range d.Entries {
		e := &d.Entries[i]
		split(e, d.Failures, end, func(unix int64) *acc { return w.acc(sampleKey{unix, e.Type, e.Name}) })
	}
}

// acc returns the accumulator of k, reading back what was written of it if
// it may have left memory.
func (w *writer) acc(k sampleKey) *acc {
	a, ok := w.accs[k]
	if !ok {
		a = &acc{}
		if k.unix <= w.evictedMax {
			if err := w.load(k, a); err != nil {
				w.fail(err)
			}
		}
		w.accs[k] = a
	}
	a.touched = w.gen
	return a
}

// load reads sample k (and its failures) back from the store into a.
func (w *writer) load(k sampleKey, a *acc) error {
	ctx := context.Background()
	var blob []byte
	err := w.r.st.db.QueryRowContext(ctx, `SELECT requests, failures, untimed, bytes, sum_ns, min_ns, max_ns, hist
		FROM samples WHERE run_id = ? AND unix = ? AND type = ? AND name = ?`, w.r.id, k.unix, k.typ, k.name).
		Scan(&a.requests, &a.failures, &a.untimed, &a.bytes, &a.sum, &a.min, &a.max, &blob)
	if errors.Is(err, sql.ErrNoRows) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("read back sample: %w", err)
	}
	if a.counts, err = hist.Decode(blob); err != nil {
		return err
	}
	rows, err := w.r.st.db.QueryContext(ctx, `SELECT message, count, examples FROM failures
		WHERE run_id = ? AND unix = ? AND type = ? AND name = ?`, w.r.id, k.unix, k.typ, k.name)
	if err != nil {
		return fmt.Errorf("read back failures: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var m, ex string
		var n int64
		if err := rows.Scan(&m, &n, &ex); err != nil {
			return err
		}
		a.fail(m, n, splitExamples(ex))
	}
	return rows.Err()
}

// flush writes what changed, and the execution times of the seconds before
// second before, in one transaction.
func (w *writer) flush(before int64) {
	w.gen++
	execs := w.r.exec.Take(before)
	if err := w.write(execs); err != nil {
		w.fail(fmt.Errorf("write results to %s: %w", w.r.st.path, err))
		return // everything stays dirty: the next flush retries
	}
	for k, a := range w.accs {
		if a.dirty {
			a.dirty = false
			continue
		}
		if w.gen-a.touched > keepGenerations {
			delete(w.accs, k)
			w.evictedMax = max(w.evictedMax, k.unix)
		}
	}
	clear(w.devices)
	if f := w.r.st.onFlush; f != nil {
		f(w.last)
	}
}

func (w *writer) write(execs []hist.Second) (err error) {
	ctx := context.Background()
	tx, err := w.r.st.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			_ = tx.Rollback()
		}
	}()
	id := w.r.id
	last := w.last
	for k, a := range w.accs {
		if !a.dirty {
			continue
		}
		s := a.second(k.unix)
		if _, err := tx.ExecContext(ctx, `INSERT OR REPLACE INTO samples
			(run_id, unix, type, name, requests, failures, untimed, bytes, sum_ns, min_ns, max_ns, hist)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			id, k.unix, k.typ, k.name, a.requests, a.failures, a.untimed, a.bytes, s.Sum, s.Min, s.Max, hist.AppendEncode(nil, s.Counts)); err != nil {
			return err
		}
		for m, f := range a.msgs {
			if _, err := tx.ExecContext(ctx, `INSERT OR REPLACE INTO failures (run_id, unix, type, name, message, count, examples)
				VALUES (?, ?, ?, ?, ?, ?, ?)`, id, k.unix, k.typ, k.name, m, f.n, strings.Join(f.examples, "\n")); err != nil {
				return err
			}
		}
		last = max(last, k.unix+1)
	}
	for unix, n := range w.devices {
		if _, err := tx.ExecContext(ctx, "INSERT OR REPLACE INTO devices (run_id, unix, devices) VALUES (?, ?, ?)", id, unix, n); err != nil {
			return err
		}
		last = max(last, unix+1)
	}
	for _, s := range execs {
		if _, err := tx.ExecContext(ctx, `INSERT OR REPLACE INTO executions (run_id, unix, count, sum_ns, min_ns, max_ns, hist)
			VALUES (?, ?, ?, ?, ?, ?, ?)`, id, s.Unix, s.Count, s.Sum, s.Min, s.Max, hist.AppendEncode(nil, s.Counts)); err != nil {
			return err
		}
		last = max(last, s.Unix+1)
	}
	if _, err := tx.ExecContext(ctx, "UPDATE runs SET last_ms = max(last_ms, ?), dropped = ? WHERE id = ?",
		last*1000, w.r.dropped.Load(), id); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return err
	}
	w.last = last
	return nil
}

// splitExamples returns the examples of a failures row: one per line.
func splitExamples(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(s, "\n")
}
