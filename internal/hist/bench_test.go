package hist

import (
	"testing"
	"time"
)

// typicalCounts is a busy second of response times: 2,000 values spread
// over 1–300 ms.
func typicalCounts() []int64 {
	counts := make([]int64, Len)
	for i := range 2000 {
		counts[Index(time.Millisecond+time.Duration(i*7919%299)*time.Millisecond)]++
	}
	return Trim(counts)
}

// BenchmarkCodec encodes and decodes one second's histogram: what the
// worker, the master and the results store pay per entry and second.
func BenchmarkCodec(b *testing.B) {
	counts := typicalCounts()
	b.Run("encode", func(b *testing.B) {
		buf := make([]byte, 0, 4096)
		b.ReportAllocs()
		for b.Loop() {
			buf = AppendEncode(buf[:0], counts)
		}
		b.ReportMetric(float64(len(buf)), "bytes")
	})
	b.Run("decode", func(b *testing.B) {
		enc := AppendEncode(nil, counts)
		b.ReportAllocs()
		for b.Loop() {
			if _, err := Decode(enc); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkHistogramQuantiles answers a report's ten percentiles from one
// histogram.
func BenchmarkHistogramQuantiles(b *testing.B) {
	counts := typicalCounts()
	n := Sum(counts)
	qs := []float64{0.5, 0.66, 0.75, 0.8, 0.9, 0.95, 0.98, 0.99, 0.999, 0.9999}
	out := make([]time.Duration, len(qs))
	b.ReportAllocs()
	for b.Loop() {
		Quantiles(counts, n, qs, out)
	}
}
