package stats

import (
	"testing"
	"time"
)

// BenchmarkHistogramRecord records into one Entry from one goroutine: the
// cost a device pays per recorded round trip.
func BenchmarkHistogramRecord(b *testing.B) {
	e := NewRecorder().Entry("echo", "echo receive")
	b.ReportAllocs()
	rtt := time.Duration(0)
	for b.Loop() {
		rtt += 7919 * time.Nanosecond
		e.Record(rtt%(10*time.Second), 64)
	}
}

// BenchmarkEntryFail records failures with a known message.
func BenchmarkEntryFail(b *testing.B) {
	e := NewRecorder().Entry("echo", "echo timeout")
	b.ReportAllocs()
	for b.Loop() {
		e.Fail(2*time.Minute, "no echo within 2m0s", "")
	}
}

// BenchmarkEntryRecordParallel records into one Entry from GOMAXPROCS
// goroutines at once.
func BenchmarkEntryRecordParallel(b *testing.B) {
	e := NewRecorder().Entry("echo", "echo receive")
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		rtt := time.Duration(0)
		for pb.Next() {
			rtt += 7919 * time.Nanosecond
			e.Record(rtt%(10*time.Second), 64)
		}
	})
}

// BenchmarkDrainMerge drains a Recorder with 8 busy entries and adds the
// Delta to an Aggregate: a worker's and the master's work per report.
func BenchmarkDrainMerge(b *testing.B) {
	r := NewRecorder()
	entries := make([]*Entry, len(names))
	for i, k := range names {
		entries[i] = r.Entry(k[0], k[1])
	}
	a := NewAggregate()
	b.ReportAllocs()
	for b.Loop() {
		b.StopTimer()
		for i, e := range entries {
			for j := range 100 {
				e.Record(time.Duration(i*j+1)*137*time.Microsecond, 64)
			}
			e.Fail(time.Second, "timeout", "")
		}
		b.StartTimer()
		if err := a.Add(r.Drain(time.Now())); err != nil {
			b.Fatal(err)
		}
	}
}
