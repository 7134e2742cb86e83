package sim_test

import (
	"io"
	"net"
	"strconv"
	"testing"
	"time"

	"github.com/eclipse/paho.mqtt.golang/packets"
	"github.com/stretchr/testify/require"

	"github.com/ltk-dev/ltk/internal/sim"
	"github.com/ltk-dev/ltk/internal/tcptest"
)

// connectCapture is a broker that accepts every connection, reports its
// CONNECT packet on the returned channel and then ignores the client.
func connectCapture(t *testing.T) (broker string, connects <-chan *packets.ConnectPacket) {
	t.Helper()
	ch := make(chan *packets.ConnectPacket, 4)
	addr, _ := tcptest.Serve(t, func(nc net.Conn) {
		cp, err := packets.ReadPacket(nc)
		if err != nil {
			return
		}
		c, ok := cp.(*packets.ConnectPacket)
		if !ok || writePacket(nc, packets.NewControlPacket(packets.Connack)) != nil {
			return
		}
		ch <- c
		_, _ = io.Copy(io.Discard, nc)
	})
	return "tcp://" + addr, ch
}

// TestBackendAndKeptSession: a back end connects with the back-end
// password, never asking the device's credentials, and a program that
// keeps its session connects with the clean session flag off; a device
// connects with its credentials and a clean session, and a program's own
// client id, user name, keepalive and will (which reads the state Init
// filled) reach the CONNECT. On both clients.
func TestBackendAndKeptSession(t *testing.T) {
	t.Parallel()
	quiet := func(backend, keep bool) *sim.Program {
		return &sim.Program{Kind: "k", Backend: backend, KeepSession: keep, Periodic: []*sim.Publish{{
			Event:   evPing,
			Message: sim.Message{Topic: sim.Literal("/devices/LTK00030/events"), Payload: sim.Literal("x")},
			Every:   func(float64) time.Duration { return time.Hour },
		}}}
	}
	for _, tc := range []struct {
		name          string
		prog          *sim.Program
		password      string
		clean, minted bool
	}{
		{"back end", quiet(true, true), "backend-token", false, false},
		{"connect fields", connectFields(quiet(false, false)), "device-jwt", true, true},
		{"back end with its own password", func() *sim.Program { p := quiet(true, false); p.Password = sim.Literal("own"); return p }(), "own", true, false},
		{"device", quiet(false, false), "device-jwt", true, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			forEachClient(t, func(t *testing.T, client string) {
				broker, connects := connectCapture(t)
				cfg := testConfig(client, broker, "LTK00030", newRecorder())
				cfg.Program, cfg.BackendPassword = tc.prog, "backend-token"
				cfg.ClientID, cfg.Index = "projects/p/locations/l/registries/r/devices/LTK00030", 30
				minted := make(chan struct{}, 4)
				cfg.Credentials = sim.CredentialsFunc(func(time.Time) (string, time.Time, error) {
					minted <- struct{}{}
					return "device-jwt", time.Time{}, nil
				})
				stop := run(t, newDevice(t, cfg))
				var c *packets.ConnectPacket
				select {
				case c = <-connects:
				case <-time.After(waitLimit):
					t.Fatal("no CONNECT")
				}
				require.NoError(t, stop())
				require.Equal(t, tc.password, string(c.Password))
				require.Equal(t, tc.clean, c.CleanSession)
				require.Equal(t, tc.minted, len(minted) > 0, "the device's credentials asked")
				if tc.prog.Will == nil {
					require.False(t, c.WillFlag)
					require.Equal(t, "projects/p/locations/l/registries/r/devices/LTK00030", c.ClientIdentifier)
					return
				}
				require.Equal(t, "ltk-echo-30", c.ClientIdentifier)
				require.Equal(t, "svc", c.Username)
				require.Equal(t, uint16(7), c.Keepalive)
				require.True(t, c.WillFlag)
				require.True(t, c.WillRetain)
				require.Equal(t, byte(1), c.WillQos)
				require.Equal(t, "/devices/LTK00030/state", c.WillTopic)
				require.Equal(t, "offline at 42", string(c.WillMessage), "Init filled the state before the connect")
			})
		})
	}
}

// connectFields gives p a client id, user name, keepalive and will of its
// own; the will reads the device's state, which Init fills.
func connectFields(p *sim.Program) *sim.Program {
	p.ClientID, p.Username, p.KeepAlive = sim.TemplateFunc(func(dst []byte, v *sim.Vars) []byte {
		return strconv.AppendInt(append(dst, "ltk-echo-"...), int64(v.Index), 10)
	}), sim.Literal("svc"), 7*time.Second
	p.StateSize, p.Init = 1, func(v *sim.Vars) { v.State[0] = 42 }
	p.Will = &sim.Message{Topic: sim.Literal("/devices/LTK00030/state"), QoS: 1, Retain: true,
		Payload: sim.TemplateFunc(func(dst []byte, v *sim.Vars) []byte {
			return strconv.AppendFloat(append(dst, "offline at "...), v.State[0], 'f', -1, 64)
		})}
	return p
}

// TestReactionExpectChecked: New names a reaction's incomplete expectation.
func TestReactionExpectChecked(t *testing.T) {
	t.Parallel()
	prog := pingProgram()
	prog.Reactions[0].Expect = &sim.Expect{Filter: sim.Literal("/devices/LTK00031/commands/#"), Timeout: time.Second}
	cfg := testConfig(sim.ClientLean, "tcp://127.0.0.1:1883", "LTK00031", newRecorder())
	cfg.Program = prog
	_, err := sim.New(cfg)
	require.EqualError(t, err, `device LTK00031: program "pinger": reaction 1: its expectation needs a filter, SentKey and RecvKey`)
}
