package report

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"slices"

	"github.com/ltk-dev/ltk/internal/stats"
)

// AddException counts one exception that worker host reported. It is safe
// for concurrent use and never blocks on the store: the exceptions are
// written when the run ends.
func (r *Run) AddException(host, message string) {
	r.excMu.Lock()
	defer r.excMu.Unlock()
	e, ok := r.exceptions[message]
	if !ok {
		e = &stats.Exception{Message: message}
		r.exceptions[message] = e
	}
	e.Count++
	if !slices.Contains(e.Nodes, host) {
		e.Nodes = append(e.Nodes, host)
	}
}

// Exceptions returns a copy of the exceptions counted so far, most
// frequent first.
func (r *Run) Exceptions() []stats.Exception {
	r.excMu.Lock()
	defer r.excMu.Unlock()
	out := make([]stats.Exception, 0, len(r.exceptions))
	for _, e := range r.exceptions {
		c := *e
		c.Nodes = slices.Clone(e.Nodes)
		out = append(out, c)
	}
	sortExceptions(out)
	return out
}

// ResetExceptions forgets the exceptions counted so far (the web UI's
// "reset stats").
func (r *Run) ResetExceptions() {
	r.excMu.Lock()
	defer r.excMu.Unlock()
	clear(r.exceptions)
}

func sortExceptions(es []stats.Exception) {
	slices.SortFunc(es, func(a, b stats.Exception) int {
		return cmp.Or(cmp.Compare(b.Count, a.Count), cmp.Compare(a.Message, b.Message))
	})
}

// writeExceptions writes the run's exceptions to the store.
func (r *Run) writeExceptions(ctx context.Context) error {
	for _, e := range r.Exceptions() {
		nodes, err := json.Marshal(e.Nodes)
		if err != nil {
			return err
		}
		if _, err := r.st.db.ExecContext(ctx, `INSERT OR REPLACE INTO exceptions (run_id, message, traceback, nodes, count)
			VALUES (?, ?, ?, ?, ?)`, r.id, e.Message, e.Traceback, string(nodes), e.Count); err != nil {
			return fmt.Errorf("record run %d's exceptions: %w", r.id, err)
		}
	}
	return nil
}

// loadExceptions reads the exceptions of d's runs, merging one message's
// across runs.
func (s *Store) loadExceptions(ctx context.Context, d *Data) error {
	byMsg := map[string]*stats.Exception{}
	for _, run := range d.Runs {
		if err := s.loadRunExceptions(ctx, run.ID, byMsg); err != nil {
			return err
		}
	}
	for _, e := range byMsg {
		d.Exceptions = append(d.Exceptions, *e)
	}
	sortExceptions(d.Exceptions)
	return nil
}

// loadRunExceptions adds run id's exceptions to byMsg, merging by message.
func (s *Store) loadRunExceptions(ctx context.Context, id int64, byMsg map[string]*stats.Exception) error {
	rows, err := s.db.QueryContext(ctx, "SELECT message, traceback, nodes, count FROM exceptions WHERE run_id = ?", id)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var e stats.Exception
		var nodes string
		if err := rows.Scan(&e.Message, &e.Traceback, &nodes, &e.Count); err != nil {
			return err
		}
		if err := json.Unmarshal([]byte(nodes), &e.Nodes); err != nil {
			return fmt.Errorf("run %d exception %q: nodes: %w", id, e.Message, err)
		}
		if m, ok := byMsg[e.Message]; ok {
			m.Count += e.Count
			for _, n := range e.Nodes {
				if !slices.Contains(m.Nodes, n) {
					m.Nodes = append(m.Nodes, n)
				}
			}
			continue
		}
		byMsg[e.Message] = &e
	}
	return rows.Err()
}
