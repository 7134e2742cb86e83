package sim

import (
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ltk-dev/ltk/internal/mqttlean"
)

// correlationKey keys a message by its MQTT 5 correlation data (FNV-1a).
func correlationKey(v *Vars) (uint64, bool) {
	h := uint64(14695981039346656037)
	for _, c := range v.CorrelationData {
		h = (h ^ uint64(c)) * 1099511628211
	}
	return h, len(v.CorrelationData) > 0
}

// requestResponse returns a device program that sends requests carrying a
// response topic and a numbered correlation data, and awaits each reply by
// its correlation data; and a back end that answers every request on its
// response topic with its correlation data, as an MQTT 5 responder does.
func requestResponse() (device, backend *Program) {
	device = &Program{Kind: "sensor", Periodic: []*Publish{{
		Event: EventPublish,
		Message: Message{Topic: Literal("/devices/LTK00042/requests"), Payload: Literal("ping"), QoS: 1, Props: &Props{
			ContentType:     Literal("text/plain"),
			ResponseTopic:   Literal("/devices/LTK00042/responses"),
			CorrelationData: TemplateFunc(func(dst []byte, v *Vars) []byte { return strconv.AppendUint(append(dst, "req-"...), v.Seq, 10) }),
			User:            []UserProp{{Key: "kind", Value: Literal("ping")}},
		}},
		Every: func(float64) time.Duration { return time.Hour },
		Expect: &Expect{Filter: Literal("/devices/LTK00042/responses"), SentKey: correlationKey, RecvKey: correlationKey,
			Timeout: time.Minute, Match: EventEchoReceive, Miss: EventEchoTimeout, Late: EventNone, LastMiss: EventNone},
	}}}
	backend = &Program{Kind: "backend", Backend: true, Reactions: []*Reaction{{
		Event: EventPublish, Filter: Literal("/devices/+/requests"),
		Reply: Message{
			Topic:   TemplateFunc(func(dst []byte, v *Vars) []byte { return append(dst, v.ResponseTopic...) }),
			Payload: Literal("pong"),
			Props:   &Props{CorrelationData: TemplateFunc(func(dst []byte, v *Vars) []byte { return append(dst, v.CorrelationData...) })},
		},
	}}}
	return device, backend
}

// TestCorrelationDataRoundTrip: a request goes out with its properties; the
// responder answers on its response topic with its correlation data; the
// device matches the reply by correlation data, and not a reply carrying
// another's. The whole round trip allocates nothing.
func TestCorrelationDataRoundTrip(t *testing.T) {
	devProg, beProg := requestResponse()
	devRec, beRec := &counter{}, &counter{}
	dev, dl := upMachine(t, devRec, devProg)
	be, bl := upMachine(t, beRec, beProg)
	var props mqttlean.Properties
	roundTrip := func() {
		dev.mu.Lock()
		dev.publishStepAt(0, dev.cfg.Engine.wheel.clock(time.Now()))
		dev.mu.Unlock()
		dev.onAcked(dl, dl.id, nil)
		props.ResponseTopic, props.CorrelationData = dl.lastResponse, dl.lastCorrelation
		be.onMessage(bl, dl.lastTopic, dl.last, &props)
		props.ResponseTopic, props.CorrelationData = nil, bl.lastCorrelation
		dev.onMessage(dl, bl.lastTopic, bl.last, &props)
	}

	roundTrip()
	require.Equal(t, "/devices/LTK00042/responses", string(dl.lastResponse))
	require.Equal(t, "req-1", string(dl.lastCorrelation))
	require.Equal(t, "/devices/LTK00042/responses", string(bl.lastTopic), "the reply goes to the request's response topic")
	require.Equal(t, "req-1", string(bl.lastCorrelation), "the reply carries the request's correlation data")
	require.Equal(t, "pong", string(bl.last))
	require.EqualValues(t, 1, devRec.ok[EventEchoReceive].Load())
	require.Empty(t, dev.run.exps)

	// A trip takes three scratches (the request, the responder's reaction,
	// the reply's match), each with property buffers besides the echo's:
	// more to remake when the race detector's sync.Pool drops one. None
	// without it.
	allocs := testing.AllocsPerRun(100, roundTrip)
	require.LessOrEqual(t, allocs, float64(3*3*poolSlack))
	require.EqualValues(t, 102, devRec.ok[EventEchoReceive].Load())
	require.EqualValues(t, 102, beRec.ok[EventPublish].Load())

	dev.mu.Lock()
	dev.publishStepAt(0, dev.cfg.Engine.wheel.clock(time.Now()))
	dev.mu.Unlock()
	props.ResponseTopic, props.CorrelationData = nil, []byte("req-999")
	dev.onMessage(dl, []byte("/devices/LTK00042/responses"), []byte("pong"), &props)
	require.EqualValues(t, 102, devRec.ok[EventEchoReceive].Load(), "another request's correlation data does not match")
	require.Len(t, dev.run.exps, 1)
	dev.onMessage(dl, []byte("/devices/LTK00042/responses"), []byte("pong"), nil)
	require.EqualValues(t, 102, devRec.ok[EventEchoReceive].Load(), "a reply without correlation data does not match")
}

// TestReplyWithoutResponseTopic: a responder does not answer a request
// that names no response topic (its reply's topic renders empty).
func TestReplyWithoutResponseTopic(t *testing.T) {
	_, beProg := requestResponse()
	rec := &counter{}
	be, bl := upMachine(t, rec, beProg)
	be.onMessage(bl, []byte("/devices/LTK00001/requests"), []byte("ping"), &mqttlean.Properties{CorrelationData: []byte("x")})
	require.Empty(t, bl.lastTopic, "nothing published")
	require.Zero(t, rec.ok[EventPublish].Load()+rec.fail[EventPublish].Load())
	be.onMessage(bl, []byte("/devices/LTK00001/requests"), []byte("ping"), &mqttlean.Properties{ResponseTopic: []byte("/r"), CorrelationData: []byte("x")})
	require.Equal(t, "/r", string(bl.lastTopic))
}
