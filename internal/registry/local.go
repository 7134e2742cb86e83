package registry

import (
	"bytes"
	"crypto"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ltk-dev/ltk/internal/device"
)

// DefaultFile is the name of the local registry file, kept in the ltk root
// next to devicelist.csv.
const DefaultFile = "registry.csv"

// reloadEvery bounds how often PublicKey may look at the file again, so a
// flood of connections costs at most one stat per interval.
const reloadEvery = time.Second

// Local is a registry kept in a CSV file of public keys (mode 0644; 0600
// once it holds a device's Secret). It is
// safe for concurrent use, also with other processes that change the file
// through their own Local: every write replaces the file atomically, and
// PublicKey picks up devices added after it was opened.
type Local struct {
	path string
	name string // the file's name in errors
	log  *slog.Logger
	now  func() time.Time

	mu         sync.Mutex               // Serializes writes and reloads.
	snap       atomic.Pointer[snapshot] // What the file held when last read; never nil.
	lastReload atomic.Int64             // When a lookup last triggered a reload check (UnixNano).
}

// snapshot is the registry as read from the file at one time.
type snapshot struct {
	entries []Entry                     // in file order
	keys    map[string]crypto.PublicKey // by device ID
	secrets map[string]string           // by device ID, devices with a Secret only
	raw     []byte                      // the file's bytes; nil if it did not exist
	info    os.FileInfo                 // the file's stat; nil if it did not exist
}

// Option configures a Local.
type Option func(*Local)

// WithLogger makes the Local log reload failures to log.
func WithLogger(log *slog.Logger) Option { return func(l *Local) { l.log = log } }

// WithName makes errors call the file name instead of its path.
func WithName(name string) Option { return func(l *Local) { l.name = name } }

// OpenLocal reads the registry file at path. A missing file is an empty
// registry; the file is created by the first Add. A malformed file is an error
// naming its line (*device.FleetError).
func OpenLocal(path string, opts ...Option) (*Local, error) {
	l := &Local{path: path, name: path, log: slog.New(slog.DiscardHandler), now: time.Now}
	for _, o := range opts {
		o(l)
	}
	s, err := l.load()
	if err != nil {
		return nil, err
	}
	l.snap.Store(s)
	return l, nil
}

// Path returns the registry file's path.
func (l *Local) Path() string { return l.path }

// load reads the file, stat and content from the same open file.
func (l *Local) load() (*snapshot, error) {
	f, err := os.Open(l.path)
	if errors.Is(err, fs.ErrNotExist) {
		return &snapshot{keys: map[string]crypto.PublicKey{}, secrets: map[string]string{}}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read registry: %w", err)
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("read registry: %w", err)
	}
	var raw bytes.Buffer
	if info.IsDir() {
		// The parts of a registry too big for one ConfigMap; Kubernetes
		// replaces them all at once, which changes the directory's mtime.
		b, err := device.ReadParts(l.path)
		if err != nil {
			return nil, fmt.Errorf("read registry %s: %w", l.name, err)
		}
		raw.Write(b)
	} else if _, err := raw.ReadFrom(f); err != nil {
		return nil, fmt.Errorf("read registry %s: %w", l.name, err)
	}
	entries, err := decode(bytes.NewReader(raw.Bytes()), l.name)
	if err != nil {
		return nil, err
	}
	return newSnapshot(entries, raw.Bytes(), info), nil
}

func newSnapshot(entries []Entry, raw []byte, info os.FileInfo) *snapshot {
	keys := make(map[string]crypto.PublicKey, len(entries))
	secrets := map[string]string{}
	for _, e := range entries {
		keys[e.ID] = e.Public
		if e.Secret != "" {
			secrets[e.ID] = e.Secret
		}
	}
	return &snapshot{entries: entries, keys: keys, secrets: secrets, raw: raw, info: info}
}

// Secret returns the Secret registered for deviceID, reloading the file as
// PublicKey does.
func (l *Local) Secret(deviceID string) (string, bool) {
	s := l.snap.Load()
	if l.reloadDue() {
		s = l.reloadIfChanged()
	}
	v, ok := s.secrets[deviceID]
	return v, ok
}

// PublicKey returns the public key registered for deviceID. At most once
// per second, on any lookup, it first rereads the file if the file changed
// since it was last read, so a running target accepts devices created, and
// refuses devices deleted or re-keyed, within a second of the change.
func (l *Local) PublicKey(deviceID string) (crypto.PublicKey, bool) {
	s := l.snap.Load()
	if l.reloadDue() {
		s = l.reloadIfChanged()
	}
	k, ok := s.keys[deviceID]
	return k, ok
}

// reloadDue reports whether this lookup may check the file: the first lookup
// in a reloadEvery interval wins, the others use the snapshot they have.
func (l *Local) reloadDue() bool {
	now := l.now().UnixNano()
	last := l.lastReload.Load()
	if last != 0 && now-last < int64(reloadEvery) {
		return false
	}
	return l.lastReload.CompareAndSwap(last, now)
}

// reloadIfChanged rereads the file if its identity, size or mtime changed and
// returns the current snapshot. A file that no longer parses is logged and
// the last good snapshot kept.
func (l *Local) reloadIfChanged() *snapshot {
	l.mu.Lock()
	defer l.mu.Unlock()
	cur := l.snap.Load()
	info, err := os.Stat(l.path)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		l.log.Warn("registry file unreadable; keeping the devices already known", "file", l.name, "err", err)
		return cur
	}
	if !changed(cur.info, info) {
		return cur
	}
	s, err := l.load()
	if err != nil {
		l.log.Warn("registry file changed but does not parse; keeping the devices already known", "file", l.name, "err", err)
		return cur
	}
	l.snap.Store(s)
	return s
}

// changed reports whether a file's stat differs; nil means "no file".
func changed(old, cur os.FileInfo) bool {
	if old == nil || cur == nil {
		return (old == nil) != (cur == nil)
	}
	return !os.SameFile(old, cur) || old.Size() != cur.Size() || !old.ModTime().Equal(cur.ModTime())
}

// IDs returns the registered device IDs in file order, as of the last read.
func (l *Local) IDs() []string {
	s := l.snap.Load()
	ids := make([]string, len(s.entries))
	for i, e := range s.entries {
		ids[i] = e.ID
	}
	return ids
}

// Add registers entries, appending them to the file in one atomic replace.
// It refuses (with *ExistsError, writing nothing) if any ID is registered
// already or appears twice in entries.
func (l *Local) Add(entries []Entry) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	cur, err := l.load() // the file as it is now, whatever this Local saw before
	if err != nil {
		return err
	}
	var dups []string
	seen := make(map[string]bool, len(entries))
	for _, e := range entries {
		if _, ok := cur.keys[e.ID]; ok || seen[e.ID] {
			dups = append(dups, e.ID)
		}
		seen[e.ID] = true
	}
	if len(dups) > 0 {
		return &ExistsError{File: l.name, IDs: dups}
	}
	var b bytes.Buffer
	if len(bytes.TrimSpace(cur.raw)) == 0 {
		b.WriteString(header)
	} else {
		b.Write(cur.raw)
		if cur.raw[len(cur.raw)-1] != '\n' {
			b.WriteByte('\n')
		}
	}
	for _, e := range entries {
		if err := encodeRow(&b, e); err != nil {
			return fmt.Errorf("register in %s: %w", l.name, err)
		}
	}
	return l.write(b.Bytes(), append(slices.Clip(cur.entries), entries...))
}

// Delete unregisters the devices with the given IDs and returns how many were
// registered. IDs that are not registered are ignored.
func (l *Local) Delete(ids []string) (int, error) {
	drop := make(map[string]bool, len(ids))
	for _, id := range ids {
		drop[id] = true
	}
	return l.deleteWhere(func(id string) bool { return drop[id] })
}

// DeleteAll unregisters every device and returns how many there were. The
// file is kept, with its header only.
func (l *Local) DeleteAll() (int, error) {
	return l.deleteWhere(func(string) bool { return true })
}

// deleteWhere rewrites the file without the entries whose ID matches.
func (l *Local) deleteWhere(match func(id string) bool) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	cur, err := l.load()
	if err != nil {
		return 0, err
	}
	keep := make([]Entry, 0, len(cur.entries))
	for _, e := range cur.entries {
		if !match(e.ID) {
			keep = append(keep, e)
		}
	}
	n := len(cur.entries) - len(keep)
	if n == 0 {
		l.snap.Store(cur)
		return 0, nil
	}
	data, err := encode(keep)
	if err != nil {
		return 0, fmt.Errorf("rewrite %s: %w", l.name, err)
	}
	return n, l.write(data, keep)
}

// write replaces the file with data, which holds entries, and makes that the
// current snapshot. l.mu must be held.
func (l *Local) write(data []byte, entries []Entry) error {
	if info := l.snap.Load().info; info != nil && info.IsDir() {
		return fmt.Errorf("update registry: %s is a directory of parts (as ltk setup mounts it), which ltk reads but does not write: "+
			"change the registry file the parts were made from, and run ltk setup again", l.name)
	}
	perm := os.FileMode(0o644)
	if slices.ContainsFunc(entries, func(e Entry) bool { return e.Secret != "" }) {
		perm = 0o600 // symmetric keys are secrets
	}
	if err := device.WriteFileAtomic(l.path, data, perm); err != nil {
		return fmt.Errorf("update registry: %w", err)
	}
	info, err := os.Stat(l.path)
	if err != nil {
		info = nil // unknown: the next miss rereads the file
	}
	l.snap.Store(newSnapshot(entries, data, info))
	return nil
}
