package sim

import (
	"math/rand/v2"
	"sync"
	"time"
)

// scratch is what one event of one device renders with: the Vars its
// templates read and the buffers they write. Devices take one from
// scratchPool per event, so a device keeps no buffer and no Vars while it
// waits, and rendering allocates nothing once the buffers have grown.
type scratch struct {
	v                      Vars
	topic, payload, filter []byte
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
	if cap(s.topic) > maxScratch || cap(s.payload) > maxScratch || cap(s.filter) > maxScratch {
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

// sharedRand is every device's Vars.Rand: it draws from the runtime's
// per-thread generator, so it is safe for concurrent use and a device
// needs no generator of its own.
var sharedRand = rand.New(runtimeSource{})

// runtimeSource is math/rand/v2's global source as a Source.
type runtimeSource struct{}

func (runtimeSource) Uint64() uint64 { return rand.Uint64() }
