package sim_test

import (
	"context"
	"io"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/eclipse/paho.mqtt.golang/packets"
	"github.com/stretchr/testify/require"

	"github.com/ltk-dev/ltk/internal/sim"
	"github.com/ltk-dev/ltk/internal/target"
	"github.com/ltk-dev/ltk/internal/target/targettest"
)

// TestStopWaitsForEchoesInFlight stops devices while their echoes are
// delayed by the echo app: every message the echo app received has its
// "echo receive" at the device, and nothing failed.
func TestStopWaitsForEchoesInFlight(t *testing.T) {
	t.Parallel()
	forEachClient(t, func(t *testing.T, client string) {
		tt := targettest.Start(t, func(c *target.Config) { c.Echo.Delay = 100 * time.Millisecond })
		const devices = 4
		ctx, cancel := context.WithCancel(t.Context())
		defer cancel()
		recs := make([]*recorder, devices)
		done := make(chan error, devices)
		for i := range recs {
			recs[i] = newRecorder()
			cfg := testConfig(client, tt.BrokerURL(), "LTK0004"+string(rune('0'+i)), recs[i])
			cfg.LastMessageTimeout = 5 * time.Second
			d := newDevice(t, cfg)
			go func() { done <- d.Run(ctx) }()
		}
		for _, r := range recs {
			r.waitFor(t, sim.EventPublish, true, 2) // the second echo is in flight now
		}
		cancel()
		timer := time.NewTimer(waitLimit)
		defer timer.Stop()
		for range devices {
			select {
			case err := <-done:
				require.NoError(t, err)
			case <-timer.C:
				t.Fatalf("the devices did not stop within %v", waitLimit)
			}
		}

		var receives int
		for i, r := range recs {
			require.Empty(t, r.failures(), "device %d", i)
			require.Equal(t, r.count(sim.EventPublish, true), r.count(sim.EventEchoReceive, true), "device %d: every publish has its echo", i)
			receives += r.count(sim.EventEchoReceive, true)
		}
		require.Equal(t, uint64(receives), tt.Target().Echo().Stats().Received, "every message the echo app got was echoed to a device still listening")
	})
}

// TestStopWaitsForThePuback stops a device while its publish awaits the
// PUBACK: the broker has the message, so the stop waits for the PUBACK and
// the echo (whichever comes first), up to the last message timeout; without
// either it records "last message timeout" and nothing else.
func TestStopWaitsForThePuback(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name  string
		order []string // what the broker sends once the device is stopping; nil = nothing
	}{
		{"puback then echo", []string{"puback", "echo"}},
		{"echo then puback", []string{"echo", "puback"}},
		{"neither", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			forEachClient(t, func(t *testing.T, client string) {
				got := make(chan struct{}, 1)
				release := make(chan struct{})
				addr, _ := fakeBroker(t, holdPublish(got, release, tc.order))
				releaseOnce := sync.OnceFunc(func() { close(release) })
				t.Cleanup(releaseOnce) // before the broker's cleanup waits for its handler
				r := newRecorder()
				cfg := testConfig(client, addr, "LTK00050", r)
				cfg.EchoTimeout = time.Minute
				cfg.LastMessageTimeout = 300 * time.Millisecond
				d := newDevice(t, cfg)
				ctx, cancel := context.WithCancel(t.Context())
				defer cancel()
				done := make(chan error, 1)
				go func() { done <- d.Run(ctx) }()

				timer := time.NewTimer(waitLimit)
				defer timer.Stop()
				select {
				case <-got: // the broker has the publish and holds its PUBACK
				case <-timer.C:
					t.Fatalf("no publish within %v", waitLimit)
				}
				begin := time.Now()
				cancel()
				releaseOnce()
				select {
				case err := <-done:
					require.NoError(t, err)
				case <-timer.C:
					t.Fatalf("the device did not stop within %v", waitLimit)
				}

				if tc.order == nil {
					require.GreaterOrEqual(t, time.Since(begin), cfg.LastMessageTimeout, "the device waited for the PUBACK")
					require.Equal(t, []record{{ev: sim.EventLastMessageTimeout, d: sim.NoDuration,
						msg: "no echo of the last message within the last message timeout", device: cfg.DeviceID}}, r.failures())
					require.Zero(t, r.count(sim.EventPublish, true))
					return
				}
				require.Empty(t, r.failures())
				require.Equal(t, 1, r.count(sim.EventPublish, true))
				require.Equal(t, 1, r.count(sim.EventEchoReceive, true), "the echo of the publish in flight at the stop")
			})
		})
	}
}

// holdPublish answers the SUBSCRIBE, then holds the first PUBLISH: it
// reports it on got and, once release is closed, sends what order says (its
// PUBACK, its echo on the device's command topic), then reads and ignores
// everything.
func holdPublish(got chan<- struct{}, release <-chan struct{}, order []string) func(net.Conn) {
	var once sync.Once
	return func(nc net.Conn) {
		cp, err := packets.ReadPacket(nc)
		if err != nil {
			return
		}
		sub, ok := cp.(*packets.SubscribePacket)
		if !ok {
			return
		}
		ack := packets.NewControlPacket(packets.Suback).(*packets.SubackPacket)
		ack.MessageID, ack.ReturnCodes = sub.MessageID, []byte{1}
		if writePacket(nc, ack) != nil {
			return
		}
		cp, err = packets.ReadPacket(nc)
		if err != nil {
			return
		}
		pub, ok := cp.(*packets.PublishPacket)
		if !ok {
			return
		}
		once.Do(func() { got <- struct{}{} })
		<-release
		for _, what := range order {
			var out packets.ControlPacket
			switch what {
			case "puback":
				pa := packets.NewControlPacket(packets.Puback).(*packets.PubackPacket)
				pa.MessageID = pub.MessageID
				out = pa
			case "echo":
				echo := packets.NewControlPacket(packets.Publish).(*packets.PublishPacket)
				echo.TopicName = "/devices/LTK00050/commands"
				echo.Payload = pub.Payload
				out = echo
			}
			if writePacket(nc, out) != nil {
				return
			}
		}
		_, _ = io.Copy(io.Discard, nc)
	}
}
