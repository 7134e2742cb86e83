package scenario

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"math"
	"math/rand/v2"
	"sort"
	"strconv"
	"unsafe"

	"github.com/tidwall/gjson"

	"github.com/ltk-dev/ltk/internal/sim"
)

// The parts a template is made of. None allocates once dst has grown.

// lit is literal text.
type lit string

func (l lit) appendTo(dst []byte, _ *sim.Vars) []byte { return append(dst, l...) }

// varPart is one of the device's or the step's plain values.
type varPart uint8

const (
	vDevice varPart = iota
	vClientID
	vIndex
	vKind
	vWorker
	vSeq
	vTopic           // the received message's topic
	vPayload         // the received message's payload
	vResponseTopic   // the received message's MQTT 5 response topic
	vCorrelationData // the received message's MQTT 5 correlation data
)

func (p varPart) appendTo(dst []byte, v *sim.Vars) []byte {
	switch p {
	case vDevice:
		return append(dst, v.DeviceID...)
	case vClientID:
		return append(dst, v.ClientID...)
	case vIndex:
		return strconv.AppendInt(dst, int64(v.Index), 10)
	case vKind:
		return append(dst, v.Kind...)
	case vWorker:
		return strconv.AppendInt(dst, int64(v.Worker), 10)
	case vSeq:
		return strconv.AppendUint(dst, v.Seq, 10)
	case vTopic:
		return append(dst, v.Topic...)
	case vPayload:
		return append(dst, v.Payload...)
	case vResponseTopic:
		return append(dst, v.ResponseTopic...)
	case vCorrelationData:
		return append(dst, v.CorrelationData...)
	}
	return dst
}

// timePart is the step's time, UTC: in a layout, or unix time in 1/unit s.
type timePart struct {
	layout string
	unit   int64
}

func (p timePart) appendTo(dst []byte, v *sim.Vars) []byte {
	switch p.unit {
	case 0:
		return v.Now.UTC().AppendFormat(dst, p.layout)
	case 1:
		return strconv.AppendInt(dst, v.Now.Unix(), 10)
	case 1e3:
		return strconv.AppendInt(dst, v.Now.UnixMilli(), 10)
	case 1e6:
		return strconv.AppendInt(dst, v.Now.UnixMicro(), 10)
	}
	return strconv.AppendInt(dst, v.Now.UnixNano(), 10)
}

// The device's random numbers: from Vars.Rand, or the shared source when a
// caller gave none.
func randU64(v *sim.Vars) uint64 {
	if v.Rand != nil {
		return v.Rand.Uint64()
	}
	return rand.Uint64()
}

func randFloat(v *sim.Vars) float64 { return float64(randU64(v)>>11) / (1 << 53) }

func randN(v *sim.Vars, n int64) int64 {
	if v.Rand != nil {
		return v.Rand.Int64N(n)
	}
	return rand.Int64N(n)
}

// intPart is a random integer in [min, min+span).
type intPart struct{ min, span int64 }

func (p intPart) appendTo(dst []byte, v *sim.Vars) []byte {
	return strconv.AppendInt(dst, p.min+randN(v, p.span), 10)
}

// floatPart is a random number in [min, min+span], with dec decimals.
type floatPart struct {
	min, span float64
	dec       int
}

func (p floatPart) appendTo(dst []byte, v *sim.Vars) []byte {
	return strconv.AppendFloat(dst, p.min+randFloat(v)*p.span, 'f', p.dec, 64)
}

// choicePart picks one of values, values[i] with weight cum[i]-cum[i-1].
type choicePart struct {
	values []string
	cum    []int
	total  int
}

func (p choicePart) appendTo(dst []byte, v *sim.Vars) []byte {
	if p.total == 0 {
		return dst
	}
	r := int(randN(v, int64(p.total)))
	i := sort.SearchInts(p.cum, r+1)
	return append(dst, p.values[i]...)
}

// walkPart is a random walk kept in Vars.State[slot]: each rendering moves
// it by up to ±step, reflected into [min, max].
type walkPart struct {
	slot           int
	min, max, step float64
	dec            int
}

// start is a walk's first value, uniform in [min, max].
func (p walkPart) start(v *sim.Vars) float64 { return p.min + randFloat(v)*(p.max-p.min) }

func (p walkPart) appendTo(dst []byte, v *sim.Vars) []byte {
	if p.slot >= len(v.State) {
		return strconv.AppendFloat(dst, p.min, 'f', p.dec, 64)
	}
	x := v.State[p.slot] + p.step*(2*randFloat(v)-1)
	if x > p.max {
		x = 2*p.max - x
	}
	if x < p.min {
		x = 2*p.min - x
	}
	x = math.Min(math.Max(x, p.min), p.max)
	v.State[p.slot] = x
	return strconv.AppendFloat(dst, x, 'f', p.dec, 64)
}

// uuidPart is a random (version 4) UUID.
type uuidPart struct{}

func (uuidPart) appendTo(dst []byte, v *sim.Vars) []byte {
	var b [16]byte
	binary.BigEndian.PutUint64(b[:8], randU64(v))
	binary.BigEndian.PutUint64(b[8:], randU64(v))
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	dst = hex.AppendEncode(dst, b[:4])
	dst = append(dst, '-')
	dst = hex.AppendEncode(dst, b[4:6])
	dst = append(dst, '-')
	dst = hex.AppendEncode(dst, b[6:8])
	dst = append(dst, '-')
	dst = hex.AppendEncode(dst, b[8:10])
	dst = append(dst, '-')
	return hex.AppendEncode(dst, b[10:])
}

// randBytesPart is n random bytes: raw ('r'), hex ('h') or base64 ('b').
type randBytesPart struct {
	n   int
	enc byte
}

func (p randBytesPart) appendTo(dst []byte, v *sim.Vars) []byte {
	if p.enc == 'r' {
		start := len(dst)
		dst = grow(dst, p.n)
		fillRandom(dst[start:], v)
		return dst
	}
	var chunk [48]byte // a multiple of 3: base64 pads only the last chunk
	for n := p.n; n > 0; {
		m := min(n, len(chunk))
		fillRandom(chunk[:m], v)
		if p.enc == 'h' {
			dst = hex.AppendEncode(dst, chunk[:m])
		} else {
			dst = base64.StdEncoding.AppendEncode(dst, chunk[:m])
		}
		n -= m
	}
	return dst
}

// fillRandom fills b with random bytes.
func fillRandom(b []byte, v *sim.Vars) {
	for len(b) >= 8 {
		binary.LittleEndian.PutUint64(b, randU64(v))
		b = b[8:]
	}
	if len(b) > 0 {
		x := randU64(v)
		for i := range b {
			b[i] = byte(x >> (8 * i))
		}
	}
}

// padPart marks where Template.Append pads the rendering; it renders
// nothing itself.
type padPart struct {
	size int
	fill byte
}

func (padPart) appendTo(dst []byte, _ *sim.Vars) []byte { return dst }

// columnPart is the device's devicelist.csv column number i (Plan.Columns).
type columnPart int

func (p columnPart) appendTo(dst []byte, v *sim.Vars) []byte {
	if int(p) < len(v.Columns) {
		return append(dst, v.Columns[p]...)
	}
	return dst
}

// topicLevelPart is level i of the received topic (from 0; "/a/b" has
// levels "", "a" and "b"), or nothing when it has fewer.
type topicLevelPart int

func (p topicLevelPart) appendTo(dst []byte, v *sim.Vars) []byte {
	t := v.Topic
	for range p {
		i := bytes.IndexByte(t, '/')
		if i < 0 {
			return dst
		}
		t = t[i+1:]
	}
	if i := bytes.IndexByte(t, '/'); i >= 0 {
		t = t[:i]
	}
	return append(dst, t...)
}

// fieldPart is a field of the received JSON payload (a gjson path such as
// "id" or "data.temp"): a string's text, or any other value as written.
type fieldPart struct{ path string }

func (p fieldPart) appendTo(dst []byte, v *sim.Vars) []byte {
	r := jsonField(v.Payload, p.path)
	if r.Type == gjson.String {
		return append(dst, r.Str...)
	}
	return append(dst, r.Raw...)
}

// jsonField looks path up in the JSON document b without copying it.
func jsonField(b []byte, path string) gjson.Result {
	return gjson.Get(unsafe.String(unsafe.SliceData(b), len(b)), path)
}
