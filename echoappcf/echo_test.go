package echoappcf_test

import (
	"bytes"
	"context"
	"net"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"cloud.google.com/go/iot/apiv1/iotpb"
	cloudevents "github.com/cloudevents/sdk-go/v2"
	cehttp "github.com/cloudevents/sdk-go/v2/protocol/http"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/ltk-dev/ltk/echoappcf"
)

// deviceManager is an in-process Device Manager (iotpb) that knows some
// devices and records the commands sent to them.
type deviceManager struct {
	iotpb.UnimplementedDeviceManagerServer
	devices map[string]bool // full device names

	mu       sync.Mutex
	commands []*iotpb.SendCommandToDeviceRequest
	got      chan struct{} // one per command
}

func (d *deviceManager) SendCommandToDevice(_ context.Context, req *iotpb.SendCommandToDeviceRequest) (*iotpb.SendCommandToDeviceResponse, error) {
	if !d.devices[req.GetName()] {
		return nil, status.Errorf(codes.NotFound, "device %s not found", req.GetName())
	}
	d.mu.Lock()
	d.commands = append(d.commands, req)
	d.mu.Unlock()
	d.got <- struct{}{}
	return &iotpb.SendCommandToDeviceResponse{}, nil
}

// startDeviceManager serves a deviceManager on 127.0.0.1:0 until the test ends
// and returns it with its endpoint for echoappcf.NewClient.
func startDeviceManager(t *testing.T, devices ...string) (*deviceManager, string) {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	dm := &deviceManager{devices: map[string]bool{}, got: make(chan struct{}, 16)}
	for _, d := range devices {
		dm.devices[d] = true
	}
	s := grpc.NewServer()
	iotpb.RegisterDeviceManagerServer(s, dm)
	done := make(chan struct{})
	go func() { defer close(done); _ = s.Serve(lis) }()
	t.Cleanup(func() { s.Stop(); <-done })
	return dm, "grpc://" + lis.Addr().String()
}

const device1 = "projects/iot-project/locations/us-central1/registries/reg-1/devices/LTK00001"

// syncLog is a log destination safe for the handler's goroutines.
type syncLog struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *syncLog) Write(p []byte) (int, error) { l.mu.Lock(); defer l.mu.Unlock(); return l.b.Write(p) }
func (l *syncLog) String() string              { l.mu.Lock(); defer l.mu.Unlock(); return l.b.String() }

// newApp returns an Echo using the real client library against endpoint.
func newApp(t *testing.T, endpoint string) (*echoappcf.Echo, *syncLog) {
	t.Helper()
	client, err := echoappcf.NewClient(t.Context(), endpoint)
	require.NoError(t, err)
	t.Cleanup(func() { client.Close() })
	var out syncLog
	return &echoappcf.Echo{Client: client, Log: newLogger(&out)}, &out
}

// pubsubEvent is the CloudEvent Pub/Sub delivers for a device event.
func pubsubEvent(t *testing.T, payload string, attrs map[string]string) cloudevents.Event {
	t.Helper()
	e := cloudevents.NewEvent()
	e.SetID("msg-1")
	e.SetSource("//pubsub.googleapis.com/projects/iot-project/topics/telemetry")
	e.SetType("google.cloud.pubsub.topic.v1.messagePublished")
	require.NoError(t, e.SetData(cloudevents.ApplicationJSON, echoappcf.MessagePublishedData{
		Message:      echoappcf.PubsubMessage{Data: []byte(payload), Attributes: attrs, MessageID: "msg-1", PublishTime: time.Now()},
		Subscription: "projects/iot-project/subscriptions/echo",
	}))
	return e
}

var deviceAttrs = map[string]string{"deviceId": "LTK00001", "projectId": "iot-project",
	"deviceRegistryLocation": "us-central1", "deviceRegistryId": "reg-1", "subFolder": ""}

// TestEchoOverHTTP delivers a Pub/Sub CloudEvent over HTTP, as Cloud
// Functions does, and expects the payload back as a command to the device.
func TestEchoOverHTTP(t *testing.T) {
	t.Parallel()
	dm, endpoint := startDeviceManager(t, device1)
	app, out := newApp(t, endpoint)
	p, err := cehttp.New()
	require.NoError(t, err)
	h, err := cloudevents.NewHTTPReceiveHandler(t.Context(), p, app.Handle)
	require.NoError(t, err)
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)

	c, err := cloudevents.NewClientHTTP(cloudevents.WithTarget(srv.URL))
	require.NoError(t, err)
	payload := "LTK00001 projects/iot-project/locations/us-central1/registries/reg-1/devices/LTK00001 payload 17 at 2026-11-25T20:00:00.123Z"
	res := c.Send(t.Context(), pubsubEvent(t, payload, deviceAttrs))
	require.True(t, cloudevents.IsACK(res), "%v", res)

	select {
	case <-dm.got:
	case <-time.After(10 * time.Second):
		t.Fatal("no command reached the Device Manager")
	}
	dm.mu.Lock()
	require.Len(t, dm.commands, 1)
	require.Equal(t, device1, dm.commands[0].GetName())
	require.Equal(t, payload, string(dm.commands[0].GetBinaryData()))
	dm.mu.Unlock()
	require.Contains(t, out.String(), "*** received "+payload+"\n")
	require.Regexp(t, `\*\*\* echoed LTK00001 in \d+ ms\n`, out.String())
}

func TestEchoDropsWhatIsNotADeviceEvent(t *testing.T) {
	t.Parallel()
	dm, endpoint := startDeviceManager(t, device1)
	app, out := newApp(t, endpoint)
	require.NoError(t, app.Handle(t.Context(), pubsubEvent(t, "hello", map[string]string{"deviceId": "LTK00001"})),
		"not retried: no redelivery would fix it")
	bad := cloudevents.NewEvent()
	bad.SetID("e-2")
	require.NoError(t, bad.SetData(cloudevents.ApplicationJSON, "not a message"))
	require.NoError(t, app.Handle(t.Context(), bad))
	require.Empty(t, dm.commands)
	require.Contains(t, out.String(), "*** dropped message msg-1: no device attributes")
	require.Contains(t, out.String(), "*** dropped event e-2")
}

func TestEchoCommandFails(t *testing.T) {
	t.Parallel()
	_, endpoint := startDeviceManager(t) // knows no device
	app, out := newApp(t, endpoint)
	err := app.Handle(t.Context(), pubsubEvent(t, "LTK00001 c payload 1 at t", deviceAttrs))
	require.Error(t, err, "returned, so a function deployed with --retry runs again")
	require.Equal(t, codes.NotFound, status.Code(err))
	require.ErrorContains(t, err, "send command to "+device1)
	require.Contains(t, out.String(), "*** failed to echo LTK00001")
}

// TestEchoAppEntryPoint runs the registered entry point with its endpoint
// from the environment.
func TestEchoAppEntryPoint(t *testing.T) {
	dm, endpoint := startDeviceManager(t, device1)
	t.Setenv(echoappcf.EndpointEnv, endpoint)
	require.NoError(t, echoappcf.EchoApp(t.Context(), pubsubEvent(t, "LTK00001 c payload 2 at t", deviceAttrs)))
	t.Cleanup(func() { require.NoError(t, echoappcf.CloseEchoApp()) })
	<-dm.got
	require.Equal(t, "LTK00001 c payload 2 at t", string(dm.commands[0].GetBinaryData()))
}
