package sim

import (
	"context"
	"time"
)

// runTelemetry is the telemetry behaviour: every wait interval it publishes
// the next numbered payload to /devices/D/events and expects no reply, so it
// records "MQTT publish" only. Commands are ignored. Intervals that fall
// while the device reconnects are skipped.
func runTelemetry(ctx context.Context, s *Session) error {
	var (
		buf  []byte
		seq  uint64
		next = s.Now()
	)
	timer := time.NewTimer(0)
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-timer.C:
			seq++
			buf = s.AppendPayload(buf[:0], seq, next)
			_ = s.Publish(ctx, buf, next) // Publish records its outcome
			next = s.NextAt(next)
			timer.Reset(time.Until(next))
		}
	}
}
