package stats

import (
	"slices"
	"strings"
)

// Failure rows stay few and small: a row per (type, name, message), whose
// messages come from a small set, with a few examples (the ids of devices
// that failed so) rather than a row per device.
const (
	// MaxExamples is how many examples a failure row keeps: distinct ones,
	// the first a shard saw, then the first Deltas carried (which ones
	// depends on the order of events; that there are some does not).
	MaxExamples = 3
	// MaxExampleLen bounds the length in bytes of one example.
	MaxExampleLen = 256
	// MaxMessages is how many distinct messages one entry keeps per Drain
	// interval; the failures of further messages are counted under
	// OtherMessages.
	MaxMessages = 64
)

// OtherMessages is the message of the failures beyond an entry's
// MaxMessages distinct messages in one Drain interval.
const OtherMessages = "other failures (more distinct messages than a report keeps)"

// failureTally counts the failures of one message and keeps its examples.
type failureTally struct {
	n  int64
	ex [MaxExamples]string
	k  int // examples in ex
}

// add counts n failures with example ("" for none).
func (t *failureTally) add(n int64, example string) {
	t.n += n
	if example == "" || t.k == MaxExamples || slices.Contains(t.ex[:t.k], example) {
		return
	}
	t.ex[t.k] = example
	t.k++
}

// merge adds u to t.
func (t *failureTally) merge(u *failureTally) {
	t.add(u.n, "")
	for _, x := range u.ex[:u.k] {
		t.add(0, x)
	}
}

// list returns the examples as a new sorted slice, nil if none.
func (t *failureTally) list() []string {
	if t.k == 0 {
		return nil
	}
	return slices.Sorted(slices.Values(t.ex[:t.k]))
}

// AddExamples returns dst with the examples of add that it lacks appended,
// up to MaxExamples in all: how failure rows merge their examples.
func AddExamples(dst, add []string) []string {
	for _, x := range add {
		if len(dst) >= MaxExamples {
			break
		}
		if x != "" && !slices.Contains(dst, x) {
			dst = append(dst, x)
		}
	}
	return dst
}

// ErrorText returns the message followed by the examples, as _failures.csv's
// Error column and the console's error report show it:
// "not authorized (CONNACK 5) [e.g. LTK00003 LTK00007]".
func (f FailureStats) ErrorText() string {
	if len(f.Examples) == 0 {
		return f.Message
	}
	return f.Message + " [e.g. " + strings.Join(f.Examples, " ") + "]"
}
