package swarm_test

import (
	"strings"
	"sync"
	"testing"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"
	"github.com/stretchr/testify/require"

	"github.com/ltk-dev/ltk/internal/sim"
)

// probe is a client that listens to what devices publish: the first
// message of each device on its filter.
type probe struct {
	mu     sync.Mutex        // Guards the fields below.
	first  map[string]string // device id -> payload
	notify chan struct{}     // closed and replaced on each new device
}

// startProbe subscribes a client of b (a back end on the embedded target)
// to filter, a /devices/+/... filter; the test's cleanup disconnects it.
func startProbe(t *testing.T, b *scenarioBroker, filter string) *probe {
	t.Helper()
	p := &probe{first: map[string]string{}, notify: make(chan struct{})}
	opts := paho.NewClientOptions().AddBroker(b.url).SetClientID("ltk-echo-probe").
		SetAutoReconnect(false).SetConnectTimeout(waitLimit)
	if b.jwt {
		opts.SetUsername(sim.DefaultUsername).SetPassword(backendToken) // paho sends no password without a user name
	}
	c := paho.NewClient(opts)
	tok := c.Connect()
	require.True(t, tok.WaitTimeout(waitLimit), "probe connect")
	require.NoError(t, tok.Error())
	t.Cleanup(func() { c.Disconnect(0) })
	tok = c.Subscribe(filter, 0, func(_ paho.Client, m paho.Message) {
		levels := strings.Split(m.Topic(), "/") // "", devices, D, ...
		if len(levels) < 3 {
			return
		}
		p.mu.Lock()
		defer p.mu.Unlock()
		if _, seen := p.first[levels[2]]; !seen {
			p.first[levels[2]] = string(m.Payload())
			close(p.notify)
			p.notify = make(chan struct{})
		}
	})
	require.True(t, tok.WaitTimeout(waitLimit), "probe subscribe")
	require.NoError(t, tok.Error())
	return p
}

// checkColumns waits for a message of every sensor of the fleet (fleet.yaml)
// and checks that it carries the device's site column.
func (p *probe) checkColumns(t *testing.T, plan *sim.Plan, cfgs []sim.Config) {
	t.Helper()
	require.Equal(t, []string{"site"}, plan.Columns)
	timer := time.NewTimer(waitLimit)
	defer timer.Stop()
	for _, c := range cfgs {
		if c.Program.Kind != "sensor" {
			continue
		}
		for {
			p.mu.Lock()
			payload, seen := p.first[c.DeviceID]
			notify := p.notify
			p.mu.Unlock()
			if seen {
				require.Contains(t, payload, `"site":"`+c.Columns[0]+`"`, "device %s", c.DeviceID)
				break
			}
			select {
			case <-notify:
			case <-timer.C:
				t.Fatalf("no message of sensor %s within %v", c.DeviceID, waitLimit)
			}
		}
	}
}
