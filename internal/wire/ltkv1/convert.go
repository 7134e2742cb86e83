package ltkv1

import (
	"crypto"
	"crypto/x509"
	"fmt"
	"time"

	"github.com/ltk-dev/ltk/internal/device"
	"github.com/ltk-dev/ltk/internal/hist"
	"github.com/ltk-dev/ltk/internal/stats"
)

// ProtocolVersion is the version of this protocol that Hello carries. A
// master and a worker pair only when theirs are equal.
const ProtocolVersion = 1

// maxBuckets bounds a decoded histogram, so that a broken peer's zero runs
// cannot make the receiver allocate without limit. ltk's geometry has 3,328.
const maxBuckets = 1 << 16

// EncodeDelta returns d as a message. The message shares nothing with d.
func EncodeDelta(d *stats.Delta) *StatsDelta {
	m := &StatsDelta{
		StartUnixNano: d.Start.UnixNano(),
		EndUnixNano:   d.End.UnixNano(),
		Entries:       make([]*EntryDelta, len(d.Entries)),
		Failures:      make([]*FailureDelta, len(d.Failures)),
	}
	for i := range d.Entries {
		e := &d.Entries[i]
		me := &EntryDelta{
			Type:         e.Type,
			Name:         e.Name,
			Requests:     e.Requests,
			Failures:     e.Failures,
			SumNanos:     int64(e.Sum),
			MinNanos:     int64(e.Min),
			MaxNanos:     int64(e.Max),
			ContentBytes: e.ContentBytes,
			Hist: &Histogram{
				Lowest:             1,
				Highest:            hist.Highest,
				SignificantFigures: 2,
				Counts:             encodeCounts(e.Hist),
			},
			Seconds: make([]*Second, len(e.Seconds)),
		}
		for j, s := range e.Seconds {
			me.Seconds[j] = &Second{Unix: s.Unix, Requests: s.Requests, Failures: s.Failures}
		}
		m.Entries[i] = me
	}
	for i, f := range d.Failures {
		m.Failures[i] = &FailureDelta{Type: f.Type, Name: f.Name, Message: f.Message, Count: f.Count}
	}
	return m
}

// encodeCounts writes bucket counts with each run of empty buckets as one
// negative number, and without trailing empty buckets.
func encodeCounts(counts []int64) []int64 {
	last := len(counts)
	for last > 0 && counts[last-1] == 0 {
		last--
	}
	out := make([]int64, 0, last/4+1)
	var zeros int64
	for _, c := range counts[:last] {
		if c == 0 {
			zeros++
			continue
		}
		if zeros > 0 {
			out = append(out, -zeros)
			zeros = 0
		}
		out = append(out, c)
	}
	return out
}

// decodeCounts expands encodeCounts' form.
func decodeCounts(enc []int64) ([]int64, error) {
	n := 0
	for _, c := range enc {
		switch {
		case c < -maxBuckets:
			return nil, fmt.Errorf("histogram has a run of %d empty buckets (at most %d)", -c, maxBuckets)
		case c < 0:
			n += int(-c)
		default:
			n++
		}
		if n > maxBuckets {
			return nil, fmt.Errorf("histogram has more than %d buckets", maxBuckets)
		}
	}
	counts := make([]int64, 0, n)
	for _, c := range enc {
		if c < 0 {
			counts = counts[:len(counts)+int(-c)] // zeroed by make
			continue
		}
		counts = append(counts, c)
	}
	return counts, nil
}

// DecodeDelta returns the stats.Delta that m carries. It checks only what
// decoding needs (histogram size); stats.Aggregate.Add checks the rest.
func DecodeDelta(m *StatsDelta) (*stats.Delta, error) {
	d := &stats.Delta{
		Start:    time.Unix(0, m.GetStartUnixNano()),
		End:      time.Unix(0, m.GetEndUnixNano()),
		Entries:  make([]stats.EntryDelta, len(m.GetEntries())),
		Failures: make([]stats.FailureDelta, len(m.GetFailures())),
	}
	for i, me := range m.GetEntries() {
		h := me.GetHist()
		counts, err := decodeCounts(h.GetCounts())
		if err != nil {
			return nil, fmt.Errorf("stats delta entry %s %q: %w", me.GetType(), me.GetName(), err)
		}
		if h.GetLowest() != 1 || h.GetHighest() != hist.Highest || h.GetSignificantFigures() != 2 {
			return nil, fmt.Errorf("stats delta entry %s %q: histogram for %d–%d µs with %d significant digits, "+
				"want 1–%d µs with 2 (is the peer another ltk version?)", me.GetType(), me.GetName(),
				h.GetLowest(), h.GetHighest(), h.GetSignificantFigures(), hist.Highest)
		}
		e := stats.EntryDelta{
			Type:         me.GetType(),
			Name:         me.GetName(),
			Requests:     me.GetRequests(),
			Failures:     me.GetFailures(),
			Sum:          time.Duration(me.GetSumNanos()),
			Min:          time.Duration(me.GetMinNanos()),
			Max:          time.Duration(me.GetMaxNanos()),
			ContentBytes: me.GetContentBytes(),
			Hist:         counts,
			Seconds:      make([]stats.Second, len(me.GetSeconds())),
		}
		for j, s := range me.GetSeconds() {
			e.Seconds[j] = stats.Second{Unix: s.GetUnix(), Requests: s.GetRequests(), Failures: s.GetFailures()}
		}
		d.Entries[i] = e
	}
	for i, f := range m.GetFailures() {
		d.Failures[i] = stats.FailureDelta{Type: f.GetType(), Name: f.GetName(), Message: f.GetMessage(), Count: f.GetCount()}
	}
	return d, nil
}

// EncodeDevices returns devs as messages, keys as PKCS#8 DER. A device
// without a key gets an empty key.
func EncodeDevices(devs []device.Device) ([]*Device, error) {
	out := make([]*Device, len(devs))
	for i, d := range devs {
		m := &Device{Id: d.ID}
		if d.Key != nil {
			der, err := x509.MarshalPKCS8PrivateKey(d.Key)
			if err != nil {
				return nil, fmt.Errorf("encode the private key of %s: %w", d.ID, err)
			}
			m.PrivateKey = der
		}
		out[i] = m
	}
	return out, nil
}

// DecodeDevices returns the devices that ms carry. Its errors name the
// device, never the key.
func DecodeDevices(ms []*Device) ([]device.Device, error) {
	out := make([]device.Device, len(ms))
	for i, m := range ms {
		if err := device.ValidateID(m.GetId()); err != nil {
			return nil, fmt.Errorf("block device %d: %w", i, err)
		}
		d := device.Device{ID: m.GetId()}
		if der := m.GetPrivateKey(); len(der) > 0 {
			key, err := x509.ParsePKCS8PrivateKey(der)
			if err != nil {
				return nil, fmt.Errorf("private key of %s does not parse as PKCS#8", d.ID)
			}
			signer, ok := key.(crypto.Signer)
			if !ok {
				return nil, fmt.Errorf("private key of %s is a %T, not a signing key", d.ID, key)
			}
			alg, err := device.AlgOf(signer.Public())
			if err != nil {
				return nil, fmt.Errorf("private key of %s: %w", d.ID, err)
			}
			d.Key, d.Alg = signer, alg
		}
		out[i] = d
	}
	return out, nil
}
