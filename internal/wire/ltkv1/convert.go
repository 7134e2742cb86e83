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
//
// Version 3 adds failures without a response time (EntryDelta.untimed,
// which version 2 recorded as 0 ms) and failure examples. Version 2 carries
// histograms in package hist's compact encoding (EntryDelta.histogram);
// version 1 had a Histogram message of sint64 runs.
const ProtocolVersion = 3

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
			Untimed:      e.Untimed,
			SumNanos:     int64(e.Sum),
			MinNanos:     int64(e.Min),
			MaxNanos:     int64(e.Max),
			ContentBytes: e.ContentBytes,
			Histogram:    hist.AppendEncode(nil, e.Hist),
			Seconds:      make([]*Second, len(e.Seconds)),
		}
		for j, s := range e.Seconds {
			me.Seconds[j] = &Second{Unix: s.Unix, Requests: s.Requests, Failures: s.Failures}
		}
		m.Entries[i] = me
	}
	for i, f := range d.Failures {
		m.Failures[i] = &FailureDelta{Type: f.Type, Name: f.Name, Message: f.Message, Count: f.Count, Examples: f.Examples}
	}
	return m
}

// DecodeDelta returns the stats.Delta that m carries. It checks only what
// decoding needs (the histogram's encoding, which bounds its size);
// stats.Aggregate.Add checks the rest.
func DecodeDelta(m *StatsDelta) (*stats.Delta, error) {
	d := &stats.Delta{
		Start:    time.Unix(0, m.GetStartUnixNano()),
		End:      time.Unix(0, m.GetEndUnixNano()),
		Entries:  make([]stats.EntryDelta, len(m.GetEntries())),
		Failures: make([]stats.FailureDelta, len(m.GetFailures())),
	}
	for i, me := range m.GetEntries() {
		var counts []int64
		if b := me.GetHistogram(); len(b) > 0 { // absent: no histogram, as for no requests
			var err error
			if counts, err = hist.Decode(b); err != nil {
				return nil, fmt.Errorf("stats delta entry %s %q: %w", me.GetType(), me.GetName(), err)
			}
		}
		e := stats.EntryDelta{
			Type:         me.GetType(),
			Name:         me.GetName(),
			Requests:     me.GetRequests(),
			Failures:     me.GetFailures(),
			Untimed:      me.GetUntimed(),
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
		d.Failures[i] = stats.FailureDelta{Type: f.GetType(), Name: f.GetName(), Message: f.GetMessage(), Count: f.GetCount(),
			Examples: f.GetExamples()}
	}
	return d, nil
}

// EncodeDevices returns devs as messages, keys as PKCS#8 DER. A device
// without a key gets an empty key.
func EncodeDevices(devs []device.Device) ([]*Device, error) {
	out := make([]*Device, len(devs))
	for i, d := range devs {
		m := &Device{Id: d.ID, Values: d.Values}
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
		d := device.Device{ID: m.GetId(), Values: m.GetValues()}
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
