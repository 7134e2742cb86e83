package cli_test

import (
	"regexp"
	"testing"

	"github.com/ltk-dev/ltk/internal/cli/clitest"
	"github.com/ltk-dev/ltk/internal/target"
	"github.com/ltk-dev/ltk/internal/target/mosquittotest"
	"github.com/ltk-dev/ltk/internal/target/targettest"
)

var echoSubscribed = regexp.MustCompile(`echo: subscribed`)

func TestEchoOnEmbeddedTarget(t *testing.T) {
	t.Parallel()
	tt := targettest.Start(t, func(c *target.Config) { c.DisableEcho = true })
	e := clitest.NewEnv(t)
	startCommand(t, e, echoSubscribed, e.Stderr, "echo", "--broker", tt.BrokerURL(), "--metrics-addr", "127.0.0.1:0")
	got := make(chan string, 1)
	c := mqttDevice(t, tt.Addr(), "LTK00001", "LTK00001", "", got)
	roundTrip(t, c, "LTK00001", got)
}

func TestEchoOnMosquitto(t *testing.T) {
	t.Parallel()
	m := mosquittotest.Start(t)
	e := clitest.NewEnv(t)
	startCommand(t, e, regexp.MustCompile(`echo: subscribed.*\$share/ltk-echo/`), e.Stderr, "echo", "--broker", m.URL(), "--delay", "10ms")
	got := make(chan string, 1)
	c := mqttDevice(t, m.Addr(), "LTK00001", "LTK00001", "", got)
	roundTrip(t, c, "LTK00001", got)
}

func TestEchoBadFlags(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{
		{"echo", "--broker", "http://x"},
		{"echo", "--qos", "3"},
		{"echo", "--jitter", "-1s"},
	} {
		e := clitest.NewEnv(t)
		if code := e.Run(args...); code != 3 {
			t.Fatalf("ltk %v: exit %d, want 3\nstderr: %s", args, code, e.Stderr())
		}
	}
}
