package ltkv1

import (
	"errors"
	"slices"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/ltk-dev/ltk/internal/hist"
	"github.com/ltk-dev/ltk/internal/stats"
)

// FuzzDecodeDelta reads any bytes as a worker's StatsDelta, as the master
// does with a report: decoding refuses a corrupt histogram with
// hist.ErrCorrupt and never panics; what decodes encodes back to a message
// that decodes to the same delta; merging it either refuses it or takes it
// without panicking.
func FuzzDecodeDelta(f *testing.F) {
	for _, d := range []*stats.Delta{recorded(f), {}} {
		raw, err := proto.Marshal(EncodeDelta(d))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(raw)
	}
	bad, err := proto.Marshal(&StatsDelta{Entries: []*EntryDelta{{Type: "t", Requests: 1, Histogram: []byte{1, 1, 0x80}}}})
	if err != nil {
		f.Fatal(err)
	}
	f.Add(bad)
	f.Fuzz(func(t *testing.T, raw []byte) {
		var m StatsDelta
		if proto.Unmarshal(raw, &m) != nil {
			return
		}
		d, err := DecodeDelta(&m)
		if err != nil {
			if d != nil || !errors.Is(err, hist.ErrCorrupt) {
				t.Fatalf("delta %v, error %v", d, err)
			}
			return
		}
		again, err := DecodeDelta(EncodeDelta(d))
		if err != nil {
			t.Fatalf("written back: %v", err)
		}
		if !sameDelta(d, again) {
			t.Fatalf("written back: %+v, want %+v", again, d)
		}
		_ = stats.NewAggregate().Add(d)
	})
}

// sameDelta reports whether a and b carry the same delta.
func sameDelta(a, b *stats.Delta) bool {
	if !a.Start.Equal(b.Start) || !a.End.Equal(b.End) || !slices.EqualFunc(a.Failures, b.Failures, func(x, y stats.FailureDelta) bool {
		return x.Type == y.Type && x.Name == y.Name && x.Message == y.Message && x.Count == y.Count && slices.Equal(x.Examples, y.Examples)
	}) {
		return false
	}
	return slices.EqualFunc(a.Entries, b.Entries, func(x, y stats.EntryDelta) bool {
		return x.Type == y.Type && x.Name == y.Name && x.Requests == y.Requests && x.Failures == y.Failures && x.Untimed == y.Untimed &&
			x.Sum == y.Sum && x.Min == y.Min && x.Max == y.Max && x.ContentBytes == y.ContentBytes &&
			slices.Equal(x.Hist, y.Hist) && slices.Equal(x.Seconds, y.Seconds)
	})
}
