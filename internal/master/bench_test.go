package master

import (
	"fmt"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/ltk-dev/ltk/internal/stats/statstest"
	"github.com/ltk-dev/ltk/internal/wire/ltkv1"
)

// report returns the wire bytes of one worker report: reportDeltas
// one-second deltas of devices busy echo devices (statstest.BusyDeltas).
func report(b *testing.B, devices int) []byte {
	const reportDeltas = 2 // 2 s report interval, one delta per second
	msg := &ltkv1.Report{}
	for _, d := range statstest.BusyDeltas(1, reportDeltas, devices, time.Now()) {
		msg.Deltas = append(msg.Deltas, ltkv1.EncodeDelta(d))
	}
	raw, err := proto.Marshal(&ltkv1.WorkerMessage{Msg: &ltkv1.WorkerMessage_Report{Report: msg}})
	if err != nil {
		b.Fatal(err)
	}
	return raw
}

// BenchmarkMergeReport measures what the master spends on one worker's
// report: unmarshalling it, decoding its deltas and merging them into the
// test's totals (OnDelta and Aggregate.Add). A test with 100 workers
// reporting every 2 s sends 50 reports a second; "%core@100w" is the share
// of one core that takes.
func BenchmarkMergeReport(b *testing.B) {
	for _, devices := range []int{100, 1000} {
		b.Run(fmt.Sprintf("devices=%d", devices), func(b *testing.B) {
			raw := report(b, devices)
			m, err := newMaster(testConfig(1, 1, nil))
			if err != nil {
				b.Fatal(err)
			}
			mem := &member{workerID: "w"} // unnumbered deltas: each is merged
			b.ReportAllocs()
			b.SetBytes(int64(len(raw)))
			for b.Loop() {
				var msg ltkv1.WorkerMessage
				if err := proto.Unmarshal(raw, &msg); err != nil {
					b.Fatal(err)
				}
				for _, md := range msg.GetReport().GetDeltas() {
					m.report(mem, md)
				}
			}
			if d := m.Deltas(); d.Refused != 0 {
				b.Fatalf("refused %d deltas", d.Refused)
			}
			perReport := b.Elapsed() / time.Duration(b.N)
			const workers, interval = 100, 2 * time.Second
			b.ReportMetric(float64(perReport.Nanoseconds())/1e3, "µs/report")
			b.ReportMetric(100*perReport.Seconds()*workers/interval.Seconds(), "%core@100w")
			b.ReportMetric(0, "ns/op")
		})
	}
}
