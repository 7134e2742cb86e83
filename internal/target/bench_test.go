package target_test

import (
	"fmt"
	"sync"
	"testing"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"

	"github.com/ltk-dev/ltk/internal/target/targettest"
)

// BenchmarkEchoThroughput measures round trips through the embedded target:
// devices publish QoS 1 events without waiting, and the echo app answers each.
func BenchmarkEchoThroughput(b *testing.B) {
	tt := targettest.Start(b)
	const devices = 8
	type dev struct {
		c    paho.Client
		id   string
		echo chan struct{}
	}
	devs := make([]dev, devices)
	for i := range devs {
		d := &devs[i]
		d.id = fmt.Sprintf("bench-%d", i)
		d.echo = make(chan struct{}, 1024)
		d.c = paho.NewClient(paho.NewClientOptions().AddBroker(tt.BrokerURL()).SetClientID(d.id).SetProtocolVersion(4).
			SetAutoReconnect(false).SetOrderMatters(false))
		if tok := d.c.Connect(); !tok.WaitTimeout(waitFor) || tok.Error() != nil {
			b.Fatalf("connect: %v", tok.Error())
		}
		defer d.c.Disconnect(0) //nolint:gocritic // every device stays connected until the benchmark ends
		if tok := d.c.Subscribe("/devices/"+d.id+"/commands", 1, func(paho.Client, paho.Message) { d.echo <- struct{}{} }); !tok.WaitTimeout(waitFor) || tok.Error() != nil {
			b.Fatalf("subscribe: %v", tok.Error())
		}
	}
	payload := make([]byte, 64)
	b.ReportAllocs()
	start := time.Now()
	var wg sync.WaitGroup
	per := b.N/devices + 1
	for i := range devs {
		d := &devs[i]
		topic := "/devices/" + d.id + "/events"
		wg.Go(func() {
			const window = 256 // events in flight per device
			sent, got := 0, 0
			for got < per {
				for sent < per && sent-got < window {
					d.c.Publish(topic, 1, false, payload)
					sent++
				}
				select {
				case <-d.echo:
					got++
				case <-time.After(waitFor):
					b.Errorf("%s: echo %d of %d missing", d.id, got+1, per)
					return
				}
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	b.ReportMetric(float64(per*devices)/elapsed.Seconds(), "echoes/s")
	b.ReportMetric(0, "ns/op")
}
