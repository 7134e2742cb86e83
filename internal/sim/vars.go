package sim

import (
	"math/rand/v2"
	"slices"
	"sync"
	"time"

	"github.com/ltk-dev/ltk/internal/mqttlean"
)

// scratch is what one event of one device renders with: the Vars its
// templates read and the buffers they write. Devices take one from
// scratchPool per event, so a device keeps no buffer and no Vars while it
// waits, and rendering allocates nothing once the buffers have grown.
type scratch struct {
	v                      Vars
	topic, payload, filter []byte
	// props is a message's rendered MQTT 5 properties; their bytes are in
	// pbuf, and spans marks where each user property lies in it.
	props mqttlean.Properties
	pbuf  []byte
	spans [][3]int
}

var scratchPool = sync.Pool{New: func() any {
	return &scratch{topic: make([]byte, 0, 128), payload: make([]byte, 0, 256), filter: make([]byte, 0, 128)}
}}

// maxScratch is the largest buffer a scratch keeps when it goes back to
// the pool.
const maxScratch = 64 << 10

// scratch returns a scratch whose Vars describe m's device at now.
func (m *machine) scratch(now time.Time) *scratch {
	s := scratchPool.Get().(*scratch)
	c := m.cfg
	s.v = Vars{
		DeviceID: c.DeviceID, ClientID: c.ClientID, Index: c.Index, Kind: m.prog.Kind,
		Worker: c.Worker, Columns: c.Columns, Rand: sharedRand, State: m.run.state, Now: now,
	}
	return s
}

// render calls f with a scratch for m's device at now; for rare paths
// (connects), where a closure is no cost.
func (m *machine) render(now time.Time, f func(v *Vars, s *scratch)) {
	s := m.scratch(now)
	f(&s.v, s)
	putScratch(s)
}

// putScratch returns s to the pool, unless a buffer grew too large.
func putScratch(s *scratch) {
	s.v = Vars{}
	s.props = mqttlean.Properties{User: s.props.User[:0]}
	if cap(s.topic) > maxScratch || cap(s.payload) > maxScratch || cap(s.filter) > maxScratch || cap(s.pbuf) > maxScratch {
		return
	}
	scratchPool.Put(s)
}

// appendTemplate appends t's rendering to dst; a nil t renders nothing.
func appendTemplate(dst []byte, t Template, v *Vars) []byte {
	if t == nil {
		return dst
	}
	return t.Append(dst, v)
}

// renderProps renders p (nil: none) for s.v into s.props and returns
// them, nil for none. The result is valid until s renders again.
func (s *scratch) renderProps(p *Props) *mqttlean.Properties {
	if p == nil {
		return nil
	}
	v, b := &s.v, s.pbuf[:0]
	b = appendTemplate(b, p.ContentType, v)
	ct := len(b)
	b = appendTemplate(b, p.ResponseTopic, v)
	rt := len(b)
	b = appendTemplate(b, p.CorrelationData, v)
	cd := len(b)
	s.spans = s.spans[:0]
	for _, u := range p.User {
		from := len(b)
		b = append(b, u.Key...)
		key := len(b)
		b = appendTemplate(b, u.Value, v)
		s.spans = append(s.spans, [3]int{from, key, len(b)})
	}
	s.pbuf = b
	s.props = mqttlean.Properties{
		PayloadFormat: p.PayloadFormat, MessageExpiry: p.MessageExpiry,
		ContentType: b[:ct], ResponseTopic: b[ct:rt], CorrelationData: b[rt:cd],
		User: s.props.User[:0],
	}
	for _, sp := range s.spans {
		s.props.User = append(s.props.User, mqttlean.UserProperty{Key: b[sp[0]:sp[1]], Value: b[sp[1]:sp[2]]})
	}
	return &s.props
}

// cloneProps returns a copy of p that owns its bytes (nil for nil): a
// delayed reply's properties, kept past its scratch.
func cloneProps(p *mqttlean.Properties) *mqttlean.Properties {
	if p == nil {
		return nil
	}
	c := *p
	c.ContentType, c.ResponseTopic, c.CorrelationData = slices.Clone(p.ContentType), slices.Clone(p.ResponseTopic), slices.Clone(p.CorrelationData)
	c.User = make([]mqttlean.UserProperty, len(p.User))
	for i, u := range p.User {
		c.User[i] = mqttlean.UserProperty{Key: slices.Clone(u.Key), Value: slices.Clone(u.Value)}
	}
	return &c
}

// sharedRand is every device's Vars.Rand: it draws from the runtime's
// per-thread generator, so it is safe for concurrent use and a device
// needs no generator of its own.
var sharedRand = rand.New(runtimeSource{})

// runtimeSource is math/rand/v2's global source as a Source.
type runtimeSource struct{}

func (runtimeSource) Uint64() uint64 { return rand.Uint64() }
