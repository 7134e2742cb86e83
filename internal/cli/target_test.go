package cli_test

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"
	"github.com/stretchr/testify/require"

	"github.com/ltk-dev/ltk/internal/cli"
	"github.com/ltk-dev/ltk/internal/cli/clitest"
	"github.com/ltk-dev/ltk/internal/device"
	"github.com/ltk-dev/ltk/internal/target"
)

const mqttWait = 10 * time.Second

// startCommand runs a long-running ltk command until the test ends, and
// returns once its stream (stdout or stderr) matches ready; it returns the
// first submatch of ready.
func startCommand(t *testing.T, e *clitest.Env, ready *regexp.Regexp, stream func() string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan cli.ExitCode, 1)
	go func() { done <- e.RunContext(ctx, args...) }()
	t.Cleanup(func() {
		cancel()
		require.Equal(t, cli.ExitOK, <-done, "ltk %s\nstderr: %s", strings.Join(args, " "), e.Stderr())
	})
	var m []string
	require.Eventually(t, func() bool {
		select {
		case code := <-done:
			done <- code
			t.Fatalf("ltk %s exited with %d\nstdout: %s\nstderr: %s", strings.Join(args, " "), code, e.Stdout(), e.Stderr())
		default:
		}
		m = ready.FindStringSubmatch(stream())
		return m != nil
	}, mqttWait, 10*time.Millisecond, "ltk %s did not get ready", strings.Join(args, " "))
	if len(m) > 1 {
		return m[1]
	}
	return ""
}

var mqttOn = regexp.MustCompile(`ltk target: MQTT on (127\.0\.0\.1:\d+)`)

// mqttDevice connects a device and subscribes it to its commands; echoes go to got.
func mqttDevice(t *testing.T, addr, clientID, deviceID, password string, got chan<- string) paho.Client {
	t.Helper()
	c := paho.NewClient(paho.NewClientOptions().AddBroker("tcp://" + addr).SetClientID(clientID).
		SetUsername("unused").SetPassword(password).SetProtocolVersion(4).SetAutoReconnect(false))
	tok := c.Connect()
	require.True(t, tok.WaitTimeout(mqttWait))
	require.NoError(t, tok.Error())
	t.Cleanup(func() { c.Disconnect(0) })
	tok = c.Subscribe("/devices/"+deviceID+"/commands/#", 1, func(_ paho.Client, m paho.Message) { got <- string(m.Payload()) })
	require.True(t, tok.WaitTimeout(mqttWait))
	require.NoError(t, tok.Error())
	return c
}

func roundTrip(t *testing.T, c paho.Client, deviceID string, got <-chan string) {
	t.Helper()
	payload := deviceID + " payload 1"
	tok := c.Publish("/devices/"+deviceID+"/events", 1, false, payload)
	require.True(t, tok.WaitTimeout(mqttWait))
	require.NoError(t, tok.Error())
	select {
	case p := <-got:
		require.Equal(t, payload, p)
	case <-time.After(mqttWait):
		t.Fatal("no echo")
	}
}

func TestTargetAuthNoneEchoes(t *testing.T) {
	t.Parallel()
	e := clitest.NewEnv(t)
	addr := startCommand(t, e, mqttOn, e.Stdout, "target", "--addr", "127.0.0.1:0", "--metrics-addr", "127.0.0.1:0", "--auth", "none")
	require.Contains(t, e.Stdout(), "(profile iotcore, auth none, project ltk-project, region local, registry ltk-registry)")
	require.Regexp(t, `metrics on 127\.0\.0\.1:\d+/metrics`, e.Stdout())
	got := make(chan string, 1)
	c := mqttDevice(t, addr, "LTK00001", "LTK00001", "", got)
	roundTrip(t, c, "LTK00001", got)
}

// TestTargetJWTWithCreatedDevices checks the whole chain: keys made by
// `ltk devices create`, JWTs minted by the device package, checked by the target.
func TestTargetJWTWithCreatedDevices(t *testing.T) {
	t.Parallel()
	e := clitest.NewEnv(t)
	require.Equal(t, cli.ExitOK, e.Run("devices", "create", "1", "2", "--alg", "ES256", "-q"), e.Stderr())
	e.Vars["LTK_TARGET_PROJECT_ID"] = "tutorial-project"
	e.Reset()
	addr := startCommand(t, e, mqttOn, e.Stdout, "target", "--addr", "127.0.0.1:0", "--metrics-addr", "")
	require.Contains(t, e.Stdout(), "(profile iotcore, auth jwt, project tutorial-project,")
	require.NotContains(t, e.Stdout(), "metrics on")

	fleet, err := device.ReadFleet(filepath.Join(e.Dir, "devicelist.csv"))
	require.NoError(t, err)
	d := fleet[1]
	token, err := device.Mint(d, "tutorial-project", time.Now(), time.Hour)
	require.NoError(t, err)
	id := "projects/tutorial-project/locations/" + target.DefaultRegion + "/registries/" + target.DefaultRegistry + "/devices/" + d.ID
	got := make(chan string, 1)
	c := mqttDevice(t, addr, id, d.ID, token, got)
	roundTrip(t, c, d.ID, got)

	// A device of another project is refused.
	other, err := device.Mint(d, target.DefaultProject, time.Now(), time.Hour)
	require.NoError(t, err)
	bad := paho.NewClient(paho.NewClientOptions().AddBroker("tcp://" + addr).SetClientID(id).SetUsername("unused").
		SetPassword(other).SetProtocolVersion(4).SetAutoReconnect(false))
	tok := bad.Connect()
	require.True(t, tok.WaitTimeout(mqttWait))
	require.Error(t, tok.Error())
	require.Equal(t, byte(5), tok.(*paho.ConnectToken).ReturnCode())
}

func TestTargetFlagsBeatTutorialVariables(t *testing.T) {
	t.Parallel()
	e := clitest.NewEnv(t)
	e.Vars["LTK_TARGET_PROJECT_ID"] = "from-tutorial"
	e.Vars["LTK_PROJECT"] = "from-ltk"
	require.NoError(t, os.WriteFile(filepath.Join(e.Dir, ".env"), []byte("LTK_TARGET_REGION=from-dotenv\n"), 0o600))
	startCommand(t, e, mqttOn, e.Stdout, "target", "--addr", "127.0.0.1:0", "--metrics-addr", "", "--auth", "none", "--registry", "from-flag")
	require.Contains(t, e.Stdout(), "project from-ltk, region from-dotenv, registry from-flag")
}

// TestTargetLimits: the limits come from flags or their LTK_* variables and
// are shown at start.
func TestTargetLimits(t *testing.T) {
	t.Parallel()
	e := clitest.NewEnv(t)
	e.Vars["LTK_MAX_PACKET_SIZE"] = "70000"
	limits := startCommand(t, e, regexp.MustCompile(`ltk target: limits: (.*)\n`), e.Stdout,
		"target", "--addr", "127.0.0.1:0", "--metrics-addr", "", "--auth", "none", "--connect-timeout", "3s")
	require.Equal(t, "connect timeout 3s, max connect size 16384 bytes, max packet size 70000 bytes, "+
		"max retained 1000 of up to 16384 bytes, max inflight 1024, max pending writes 1024", limits)
}

func TestTargetBadFlags(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{
		{"target", "--auth", "basic"},
		{"target", "--drop-rate", "1.5", "--auth", "none"},
		{"target", "--tls-addr", ":0", "--auth", "none"},
		{"target", "--max-inflight", "70000", "--auth", "none"},
		{"target", "--max-connect-size", "300000", "--auth", "none"},
		{"target", "--connect-timeout", "-1s", "--auth", "none"},
	} {
		e := clitest.NewEnv(t)
		require.Equal(t, cli.ExitUsage, e.Run(args...), "ltk %s\nstderr: %s", strings.Join(args, " "), e.Stderr())
	}
}
