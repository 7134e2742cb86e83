package sim

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

var testAt = time.Date(2026, 11, 25, 20, 0, 1, 123456789, time.UTC)

func TestPayloadFormat(t *testing.T) {
	t.Parallel()
	p := newPayload("LTK00042", "projects/p/locations/l/registries/r/devices/LTK00042", 0)
	got := string(p.appendTo(nil, 848, testAt))
	require.Equal(t, "LTK00042 projects/p/locations/l/registries/r/devices/LTK00042 payload 848 at 2026-11-25T20:00:01.123456789Z", got)

	// A local time is written in UTC, and the buffer's prefix is kept.
	local := testAt.In(time.FixedZone("X", 3600))
	got = string(p.appendTo([]byte("keep:"), 1, local))
	require.True(t, strings.HasPrefix(got, "keep:LTK00042 "), got)
	require.True(t, strings.HasSuffix(got, " payload 1 at 2026-11-25T20:00:01.123456789Z"), got)
}

func TestPayloadPadding(t *testing.T) {
	t.Parallel()
	natural := len(newPayload("D1", "D1", 0).appendTo(nil, 7, testAt))
	for _, tc := range []struct {
		name string
		size int
		want int
	}{
		{"natural", 0, natural},
		{"below natural is natural", natural - 5, natural},
		{"exact", natural, natural},
		{"padded", 1000, 1000},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			p := newPayload("D1", "D1", tc.size)
			b := p.appendTo(nil, 7, testAt)
			require.Len(t, b, tc.want)
			seq, ok := p.seq(b)
			require.True(t, ok)
			require.Equal(t, uint64(7), seq)
			at, ok := p.sentAt(b)
			require.True(t, ok)
			require.True(t, at.Equal(testAt), "sent at %v", at)
		})
	}
}

func TestPayloadSeq(t *testing.T) {
	t.Parallel()
	p := newPayload("D1", "C1", 0)
	for _, tc := range []struct {
		name    string
		payload string
		want    uint64
		ok      bool
	}{
		{"ours", "D1 C1 payload 42 at 2026-11-25T20:00:01Z", 42, true},
		{"zero", "D1 C1 payload 0 at x", 0, true},
		{"padded", "D1 C1 payload 9 at 2026-11-25T20:00:01Z      ", 9, true},
		{"max uint64", "D1 C1 payload 18446744073709551615 at t", 1<<64 - 1, true},
		{"overflow", "D1 C1 payload 18446744073709551616 at t", 0, false},
		{"empty", "", 0, false},
		{"prefix only", "D1 C1 payload ", 0, false},
		{"no digits", "D1 C1 payload x at t", 0, false},
		{"no at", "D1 C1 payload 42", 0, false},
		{"digits then garbage", "D1 C1 payload 42x at t", 0, false},
		{"negative", "D1 C1 payload -1 at t", 0, false},
		{"other device", "D2 C2 payload 42 at t", 0, false},
		{"other client", "D1 C9 payload 42 at t", 0, false},
		{"truncated prefix", "D1 C1 pay", 0, false},
		{"binary", "\x00\xff\xfe payload 1 at t", 0, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, ok := p.seq([]byte(tc.payload))
			require.Equal(t, tc.ok, ok)
			require.Equal(t, tc.want, got)
		})
	}
}

func TestPayloadSentAtGarbage(t *testing.T) {
	t.Parallel()
	p := newPayload("D1", "C1", 0)
	for _, s := range []string{"", "D1 C1 payload 1", "D1 C1 payload 1 at ", "D1 C1 payload 1 at yesterday", "D2 C1 payload 1 at 2026-11-25T20:00:01Z"} {
		_, ok := p.sentAt([]byte(s))
		require.False(t, ok, "%q", s)
	}
}

func TestPayloadAllocs(t *testing.T) {
	p := newPayload("LTK00042", "projects/p/locations/l/registries/r/devices/LTK00042", 256)
	buf := p.appendTo(nil, 1, testAt)
	var seq uint64
	allocs := testing.AllocsPerRun(100, func() {
		seq++
		buf = p.appendTo(buf[:0], seq, testAt)
		if got, ok := p.seq(buf); !ok || got != seq {
			t.Fatalf("seq %d parsed as %d, %v", seq, got, ok)
		}
	})
	require.Zero(t, allocs)
}

func BenchmarkEncodePublish(b *testing.B) {
	p := newPayload("LTK00042", "projects/p/locations/l/registries/r/devices/LTK00042", 0)
	buf := p.appendTo(nil, 1, testAt)
	now := time.Now()
	var seq uint64
	b.ReportAllocs()
	for b.Loop() {
		seq++
		buf = p.appendTo(buf[:0], seq, now)
		if _, ok := p.seq(buf); !ok {
			b.Fatal("unparsable payload")
		}
	}
}
