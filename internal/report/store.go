package report

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"time"

	_ "modernc.org/sqlite" // the "sqlite" database/sql driver, pure Go
)

// DefaultPath is where the store lives, relative to the ltk root.
const DefaultPath = "runs/ltk.db"

// schemaVersion is the store's layout, in SQLite's user_version.
//
// Layout 2 adds samples.untimed (failures without a response time, which
// layout 1 kept as 0 ms values of the histogram) and failures.examples.
const schemaVersion = 2

// migrations bring a store of layout i+1 to layout i+2.
var migrations = []string{
	`ALTER TABLE samples ADD COLUMN untimed INTEGER NOT NULL DEFAULT 0;
	ALTER TABLE failures ADD COLUMN examples TEXT NOT NULL DEFAULT '';`,
}

// schema creates the store's tables. Times are Unix seconds (samples) or
// milliseconds (runs); durations are nanoseconds; hist columns hold package
// hist's encoding.
const schema = `
CREATE TABLE IF NOT EXISTS runs (
	id         INTEGER PRIMARY KEY,
	name       TEXT    NOT NULL,
	start_ms   INTEGER NOT NULL,
	stop_ms    INTEGER,           -- NULL until the run ended (also when its process died)
	last_ms    INTEGER NOT NULL,  -- end of the last second written
	devices    INTEGER NOT NULL,  -- devices asked for
	spawn_rate REAL    NOT NULL,
	nodes      INTEGER NOT NULL,  -- load-generating machines (workers' nodes)
	target     TEXT    NOT NULL,
	settings   TEXT    NOT NULL,  -- JSON
	dropped    INTEGER NOT NULL DEFAULT 0  -- stats reports the writer could not keep up with
);
CREATE TABLE IF NOT EXISTS samples (
	run_id   INTEGER NOT NULL,
	unix     INTEGER NOT NULL,
	type     TEXT    NOT NULL,
	name     TEXT    NOT NULL,
	requests INTEGER NOT NULL,        -- failures and untimed included
	failures INTEGER NOT NULL,
	untimed  INTEGER NOT NULL DEFAULT 0, -- failures without a response time: requests - untimed values in hist
	bytes    INTEGER NOT NULL,
	sum_ns   INTEGER NOT NULL,
	min_ns   INTEGER NOT NULL,
	max_ns   INTEGER NOT NULL,
	hist     BLOB    NOT NULL,
	PRIMARY KEY (run_id, unix, type, name)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS samples_unix ON samples (unix);
CREATE TABLE IF NOT EXISTS failures (
	run_id  INTEGER NOT NULL,
	unix    INTEGER NOT NULL,
	type    TEXT    NOT NULL,
	name    TEXT    NOT NULL,
	message TEXT    NOT NULL,
	count   INTEGER NOT NULL,
	examples TEXT   NOT NULL DEFAULT '', -- up to stats.MaxExamples, such as device ids, one per line
	PRIMARY KEY (run_id, unix, type, name, message)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS failures_unix ON failures (unix);
CREATE TABLE IF NOT EXISTS devices (
	run_id  INTEGER NOT NULL,
	unix    INTEGER NOT NULL,
	devices INTEGER NOT NULL,
	PRIMARY KEY (run_id, unix)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS executions (
	run_id INTEGER NOT NULL,
	unix   INTEGER NOT NULL,
	count  INTEGER NOT NULL,
	sum_ns INTEGER NOT NULL,
	min_ns INTEGER NOT NULL,
	max_ns INTEGER NOT NULL,
	hist   BLOB    NOT NULL,
	PRIMARY KEY (run_id, unix)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS executions_unix ON executions (unix);
CREATE TABLE IF NOT EXISTS exceptions (
	run_id    INTEGER NOT NULL,
	message   TEXT    NOT NULL,
	traceback TEXT    NOT NULL,
	nodes     TEXT    NOT NULL,  -- JSON array of worker hosts, one per occurrence
	count     INTEGER NOT NULL,
	PRIMARY KEY (run_id, message)
) WITHOUT ROWID;
`

// ErrNoStore is returned by OpenExisting when there is no store at the path.
var ErrNoStore = errors.New("no results store")

// A Store is the results database. Its methods are safe for concurrent use;
// several processes may open the same file (SQLite locks it).
type Store struct {
	db   *sql.DB
	path string

	flushEvery time.Duration // how often a Run commits; tests shorten it
	onFlush    func(last int64)
}

// DefaultFlushInterval is how often a Run commits what it merged: at most
// this much (plus the report interval) is lost if the process dies.
const DefaultFlushInterval = time.Second

// Open opens the store at path, creating it (and its directory) if needed.
func Open(path string) (*Store, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, fmt.Errorf("create results directory: %w (use --results to put the store elsewhere)", err)
	}
	return open(path)
}

// OpenExisting opens the store at path, which must exist: it is how readers
// (harvest, cost) open it, so that a wrong path is an error that names it
// rather than a new empty store.
func OpenExisting(path string) (*Store, error) {
	if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%w at %s", ErrNoStore, path)
	} else if err != nil {
		return nil, fmt.Errorf("open results store: %w", err)
	}
	return open(path)
}

func open(path string) (*Store, error) {
	// WAL lets readers work while a run writes, and with synchronous=NORMAL
	// a commit survives the process being killed (only a power cut can lose
	// the last commits).
	q := url.Values{"_pragma": {"journal_mode(WAL)", "synchronous(NORMAL)", "busy_timeout(10000)"}}
	db, err := sql.Open("sqlite", "file:"+(&url.URL{Path: path}).EscapedPath()+"?"+q.Encode())
	if err != nil {
		return nil, fmt.Errorf("open results store %s: %w", path, err)
	}
	s := &Store{db: db, path: path, flushEvery: DefaultFlushInterval}
	if err := s.migrate(); err != nil {
		db.Close()
		return nil, fmt.Errorf("open results store %s: %w", path, err)
	}
	return s, nil
}

// migrate creates the tables, or upgrades an older layout, in one
// transaction, or checks that the store is one this ltk reads.
func (s *Store) migrate() (err error) {
	ctx := context.Background()
	var v int
	if err := s.db.QueryRowContext(ctx, "PRAGMA user_version").Scan(&v); err != nil {
		return fmt.Errorf("%w (is it an SQLite database?)", err)
	}
	if v > schemaVersion {
		return fmt.Errorf("written by a newer ltk (layout %d, this ltk reads %d): upgrade ltk", v, schemaVersion)
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			_ = tx.Rollback()
		}
	}()
	if v > 0 {
		for _, m := range migrations[v-1:] {
			if _, err := tx.ExecContext(ctx, m); err != nil {
				return fmt.Errorf("upgrade the layout from %d: %w", v, err)
			}
		}
	}
	if _, err := tx.ExecContext(ctx, schema); err != nil {
		return fmt.Errorf("create tables: %w", err)
	}
	if v < schemaVersion {
		if _, err := tx.ExecContext(ctx, fmt.Sprintf("PRAGMA user_version = %d", schemaVersion)); err != nil {
			return err
		}
	}
	return tx.Commit()
}

// Path returns the store's file.
func (s *Store) Path() string { return s.path }

// Export writes a consistent copy of the store, a database of its own, to w,
// while runs may still write to it: how a store leaves a machine (or a pod,
// whose image has no tar for kubectl cp). The copy is made by VACUUM INTO in
// a directory beside the store, the one place known to be writable, and
// removed after.
func (s *Store) Export(ctx context.Context, w io.Writer) error {
	dir, err := os.MkdirTemp(filepath.Dir(s.path), ".export-")
	if err != nil {
		return fmt.Errorf("export the results store: %w", err)
	}
	defer os.RemoveAll(dir)
	snapshot := filepath.Join(dir, "ltk.db")
	if _, err := s.db.ExecContext(ctx, "VACUUM INTO ?", snapshot); err != nil {
		return fmt.Errorf("export the results store %s: %w", s.path, err)
	}
	f, err := os.Open(snapshot)
	if err != nil {
		return fmt.Errorf("export the results store: %w", err)
	}
	defer f.Close()
	if _, err := io.Copy(w, f); err != nil {
		return fmt.Errorf("export the results store: %w", err)
	}
	return nil
}

// Close closes the database. End every Run first.
func (s *Store) Close() error { return s.db.Close() }
