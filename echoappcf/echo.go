// Package echoappcf is ltk's echo back end as a Google Cloud Function, for
// IoT-Core-API-compatible services: the tutorial's echoAppCF in Go.
//
// The service publishes each device event to a Pub/Sub topic; the function,
// triggered by that topic (a CloudEvent), reads the device from the message
// attributes and sends the payload straight back to the device as a command
// with SendCommandToDevice, through cloud.google.com/go/iot. Each event logs
//
//	*** received LTK00001 <client> payload 17 at 2026-11-25T20:00:00.123Z
//	*** echoed LTK00001 in 12 ms
//
// where the second line is the function's execution time, which ltk harvest
// reads as the back end's "function times".
//
// It is its own Go module, so that the Cloud Functions dependencies stay out
// of ltk's. Deploy it with gcloud functions deploy (see the README).
package echoappcf

import (
	"context"
	"fmt"
	"log"
	"time"

	"cloud.google.com/go/iot/apiv1/iotpb"
	"github.com/cloudevents/sdk-go/v2/event"
	"github.com/googleapis/gax-go/v2"
)

// CommandSender sends a command to a device: *iot.DeviceManagerClient.
type CommandSender interface {
	SendCommandToDevice(ctx context.Context, req *iotpb.SendCommandToDeviceRequest, opts ...gax.CallOption) (*iotpb.SendCommandToDeviceResponse, error)
}

// MessagePublishedData is the data of a Pub/Sub CloudEvent
// (google.cloud.pubsub.topic.v1.messagePublished).
type MessagePublishedData struct {
	Message      PubsubMessage `json:"message"`
	Subscription string        `json:"subscription"`
}

// PubsubMessage is one Pub/Sub message; Data arrives base64-encoded in JSON.
type PubsubMessage struct {
	Data        []byte            `json:"data"`
	Attributes  map[string]string `json:"attributes"`
	MessageID   string            `json:"messageId"`
	PublishTime time.Time         `json:"publishTime"`
}

// The attributes IoT Core put on every telemetry message.
const (
	AttrDeviceID  = "deviceId"
	AttrProject   = "projectId"
	AttrRegion    = "deviceRegistryLocation"
	AttrRegistry  = "deviceRegistryId"
	AttrSubfolder = "subFolder"
)

// Echo sends every device event back to its device.
type Echo struct {
	Client CommandSender
	Log    *log.Logger
	// Now is the clock for execution times; nil is time.Now.
	Now func() time.Time
}

// Handle echoes the Pub/Sub message in e. A message that is not a device
// event is logged and dropped (returning nil, so Pub/Sub does not redeliver
// it); a failed command returns the error, so that a function deployed with
// --retry is called again.
func (a *Echo) Handle(ctx context.Context, e event.Event) error {
	now := a.Now
	if now == nil {
		now = time.Now
	}
	start := now()
	var m MessagePublishedData
	if err := e.DataAs(&m); err != nil {
		a.Log.Printf("*** dropped event %s: not a Pub/Sub message: %v", e.ID(), err)
		return nil
	}
	attr := m.Message.Attributes
	id, project, region, registry := attr[AttrDeviceID], attr[AttrProject], attr[AttrRegion], attr[AttrRegistry]
	if id == "" || project == "" || region == "" || registry == "" {
		a.Log.Printf("*** dropped message %s: no device attributes (want %s, %s, %s, %s)",
			m.Message.MessageID, AttrDeviceID, AttrProject, AttrRegion, AttrRegistry)
		return nil
	}
	a.Log.Printf("*** received %s", m.Message.Data)
	name := fmt.Sprintf("projects/%s/locations/%s/registries/%s/devices/%s", project, region, registry, id)
	_, err := a.Client.SendCommandToDevice(ctx, &iotpb.SendCommandToDeviceRequest{Name: name, BinaryData: m.Message.Data})
	if err != nil {
		a.Log.Printf("*** failed to echo %s after %d ms: %v", id, now().Sub(start).Milliseconds(), err)
		return fmt.Errorf("send command to %s: %w", name, err)
	}
	a.Log.Printf("*** echoed %s in %d ms", id, now().Sub(start).Milliseconds())
	return nil
}
