package hist

import (
	"errors"
	"slices"
	"testing"
)

// FuzzDecode reads any bytes as an encoded histogram, as the results store
// and the wire do: an error wraps ErrCorrupt; counts are positive where
// set, within the geometry, without a trailing zero, and encode to bytes
// that decode to the same counts (not always the same bytes: a varint may
// be written longer than it need be).
func FuzzDecode(f *testing.F) {
	f.Add(AppendEncode(nil, []int64{0, 3, 0, 0, 7}))
	f.Add(AppendEncode(nil, nil))
	f.Add(AppendEncode(nil, []int64{1 << 62}))
	f.Add([]byte{1, 2, 0, 1})
	f.Add([]byte{2, 0})
	f.Add([]byte{1, 1, 0xff, 0xff, 0xff, 0xff, 0x0f, 1})
	f.Fuzz(func(t *testing.T, b []byte) {
		counts, err := Decode(b)
		if err != nil {
			if counts != nil || !errors.Is(err, ErrCorrupt) {
				t.Fatalf("counts %v, error %v", counts, err)
			}
			return
		}
		if len(counts) > Len || len(counts) > 0 && counts[len(counts)-1] == 0 {
			t.Fatalf("%d counts, last %v", len(counts), counts[len(counts)-1:])
		}
		if slices.ContainsFunc(counts, func(c int64) bool { return c < 0 }) {
			t.Fatal("a negative count")
		}
		enc := AppendEncode(nil, counts)
		if again, err := Decode(enc); err != nil || !slices.Equal(again, counts) {
			t.Fatalf("written back as %x: %v, %v", enc, again, err)
		}
	})
}
