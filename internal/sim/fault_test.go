package sim_test

import (
	"errors"
	"fmt"
	"testing"

	"github.com/eclipse/paho.mqtt.golang/packets"
	"github.com/stretchr/testify/require"

	"github.com/ltk-dev/ltk/internal/sim"
)

// v5RefusalError is an MQTT 5 refusal as a client would report it.
type v5RefusalError struct {
	packet string
	code   byte
	reason string
}

func (e v5RefusalError) Error() string {
	return fmt.Sprintf("%s 0x%02x %s", e.packet, e.code, e.reason)
}
func (e v5RefusalError) Packet() string       { return e.packet }
func (e v5RefusalError) ReasonCode() byte     { return e.code }
func (e v5RefusalError) ReasonString() string { return e.reason }

// TestFaultOf is not parallel: AllocsPerRun counts every allocation in the
// process.
func TestFaultOf(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want string
	}{
		{packets.ErrorRefusedNotAuthorised, "connection refused: not authorized (CONNACK 0x05)"},
		{fmt.Errorf("connect: %w", packets.ErrorRefusedBadUsernameOrPassword), "connection refused: bad user name or password (CONNACK 0x04)"},
		{v5RefusalError{"CONNACK", 0x87, "device unknown"}, "connection refused (CONNACK 0x87: device unknown)"},
		{fmt.Errorf("publish: %w", v5RefusalError{"PUBACK", 0x97, ""}), "publish refused (PUBACK 0x97)"},
		{errors.New("EOF"), "EOF"},
	} {
		require.Equal(t, tc.want, sim.FaultOf(tc.err).Message(), "%v", tc.err)
	}
	require.Equal(t, "no echo", sim.Fault{Msg: "no echo"}.Message())
	f := sim.Fault{Msg: "no echo"}
	require.Zero(t, testing.AllocsPerRun(100, func() { _ = f.Message() }), "a fault without a refusal is not formatted")
}
