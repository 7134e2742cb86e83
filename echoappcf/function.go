package echoappcf

import (
	"context"
	"fmt"
	"log"
	"os"
	"strings"
	"sync"

	iot "cloud.google.com/go/iot/apiv1"
	"github.com/GoogleCloudPlatform/functions-framework-go/functions"
	"github.com/cloudevents/sdk-go/v2/event"
	"google.golang.org/api/option"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
)

// EndpointEnv names the environment variable holding the Device Manager
// endpoint: host:port (TLS with the function's service account), or
// grpc://host:port for a plaintext endpoint without credentials. Unset is
// Google's own endpoint.
const EndpointEnv = "LTK_REGISTRY_ENDPOINT"

func init() { functions.CloudEvent("EchoApp", EchoApp) }

// theApp is the function's Echo: made on the first event (with the Device
// Manager client) and kept for the next.
var theApp = sync.OnceValues(func() (*Echo, error) {
	client, err := NewClient(context.Background(), os.Getenv(EndpointEnv))
	if err != nil {
		return nil, err
	}
	return &Echo{Client: client, Log: log.New(os.Stdout, "", 0)}, nil
})

// EchoApp is the Cloud Function's entry point (--entry-point EchoApp). The
// Device Manager client is made on the first event and kept for the next.
func EchoApp(ctx context.Context, e event.Event) error {
	app, err := theApp()
	if err != nil {
		return err
	}
	return app.Handle(ctx, e)
}

// NewClient connects to the Device Manager at endpoint (see EndpointEnv).
func NewClient(ctx context.Context, endpoint string) (*iot.DeviceManagerClient, error) {
	var opts []option.ClientOption
	switch {
	case endpoint == "":
	case strings.HasPrefix(endpoint, "grpc://"):
		opts = append(opts, option.WithEndpoint(strings.TrimPrefix(endpoint, "grpc://")), option.WithoutAuthentication(),
			option.WithGRPCDialOption(grpc.WithTransportCredentials(insecure.NewCredentials())))
	default:
		opts = append(opts, option.WithEndpoint(strings.TrimPrefix(endpoint, "https://")))
	}
	c, err := iot.NewDeviceManagerClient(ctx, opts...)
	if err != nil {
		return nil, fmt.Errorf("connect to the Device Manager at %q (%s): %w", endpoint, EndpointEnv, err)
	}
	return c, nil
}
