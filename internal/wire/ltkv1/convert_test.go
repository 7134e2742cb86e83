package ltkv1

import (
	"crypto"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/proto"

	"github.com/ltk-dev/ltk/internal/device"
	"github.com/ltk-dev/ltk/internal/hist"
	"github.com/ltk-dev/ltk/internal/stats"
)

// recorded returns a Delta with successes and failures of two entries.
func recorded(t testing.TB) *stats.Delta {
	t.Helper()
	rec := stats.NewRecorder()
	rec.Drain(time.Now())
	echo := rec.Entry("echo", "echo receive")
	for i := range 500 {
		echo.Record(time.Duration(i+1)*37*time.Microsecond, 60)
	}
	pub := rec.Entry("MQTT", "MQTT publish")
	pub.Record(2*time.Millisecond, 0)
	pub.Fail(time.Second, "not connected", "LTK00001")
	pub.Fail(time.Second, "not connected", "LTK00002")
	pub.Fail(time.Hour*2, "timeout", "")
	rec.Entry("echo", "echo timeout").Fail(stats.NoResponseTime, "no echo", "LTK00003")
	return rec.Drain(time.Now())
}

func TestDeltaRoundTrip(t *testing.T) {
	t.Parallel()
	d := recorded(t)
	raw, err := proto.Marshal(EncodeDelta(d))
	require.NoError(t, err)
	var m StatsDelta
	require.NoError(t, proto.Unmarshal(raw, &m))
	got, err := DecodeDelta(&m)
	require.NoError(t, err)
	require.True(t, got.Start.Equal(d.Start) && got.End.Equal(d.End))
	got.Start, got.End = d.Start, d.End // monotonic readings do not travel
	require.Equal(t, d, got)
	require.Contains(t, got.Entries, stats.EntryDelta{Type: "echo", Name: "echo timeout", Requests: 1, Failures: 1, Untimed: 1,
		Seconds: got.Entries[2].Seconds}, "a miss travels without a response time")
	require.Contains(t, got.Failures, stats.FailureDelta{Type: "MQTT", Name: "MQTT publish", Message: "not connected", Count: 2,
		Examples: []string{"LTK00001", "LTK00002"}}, "examples travel")

	// The merged result is the same as merging the original.
	want, have := stats.NewAggregate(), stats.NewAggregate()
	require.NoError(t, want.Add(d))
	require.NoError(t, have.Add(got))
	now := time.Now()
	require.Equal(t, want.Snapshot(now).Total.NumRequests, have.Snapshot(now).Total.NumRequests)
	require.Equal(t, want.Snapshot(now).Total.Percentile(0.99), have.Snapshot(now).Total.Percentile(0.99))
}

// TestHistogramIsStoreEncoding checks that the wire carries a delta's
// histogram in the results store's encoding, byte for byte.
func TestHistogramIsStoreEncoding(t *testing.T) {
	t.Parallel()
	d := recorded(t)
	m := EncodeDelta(d)
	for i, e := range d.Entries {
		require.Equal(t, hist.AppendEncode(nil, e.Hist), m.GetEntries()[i].GetHistogram(), "%s", e.Name)
	}
}

func TestDecodeRefusesCorruptHistograms(t *testing.T) {
	t.Parallel()
	beyond := hist.AppendEncode(nil, []int64{1})
	beyond[2] = 0xff // a gap past the geometry's end
	beyond = append(beyond[:3], 0x7f, 1)
	for name, b := range map[string][]byte{
		"version":   {2, 0},
		"beyond":    beyond,
		"truncated": {1, 3, 0},
	} {
		_, err := DecodeDelta(&StatsDelta{Entries: []*EntryDelta{{Type: "t", Name: "n", Histogram: b}}})
		require.ErrorIs(t, err, hist.ErrCorrupt, name)
		require.ErrorContains(t, err, `stats delta entry t "n": corrupt histogram`, name)
	}
}

func TestDevicesRoundTrip(t *testing.T) {
	t.Parallel()
	es, err := device.Generate("LTK00001", device.ES256)
	require.NoError(t, err)
	rs, err := device.Generate("LTK00002", device.RS256)
	require.NoError(t, err)
	es.Values = []string{"berlin", "3"}
	devs := []device.Device{es, rs, {ID: "LTK00003"}}
	msgs, err := EncodeDevices(devs)
	require.NoError(t, err)
	require.Empty(t, msgs[2].GetPrivateKey())
	got, err := DecodeDevices(msgs)
	require.NoError(t, err)
	require.Len(t, got, 3)
	for i := range devs {
		require.Equal(t, devs[i].ID, got[i].ID)
		require.Equal(t, devs[i].Alg, got[i].Alg)
		require.Equal(t, devs[i].Values, got[i].Values)
	}
	require.True(t, es.Key.Public().(interface{ Equal(crypto.PublicKey) bool }).Equal(got[0].Key.Public()))
	require.True(t, rs.Key.Public().(interface{ Equal(crypto.PublicKey) bool }).Equal(got[1].Key.Public()))
	require.Nil(t, got[2].Key)
}

func TestDecodeDevicesErrors(t *testing.T) {
	t.Parallel()
	_, err := DecodeDevices([]*Device{{Id: "1bad"}})
	require.ErrorContains(t, err, "block device 0")
	secret := []byte("not a key at all, but secret")
	_, err = DecodeDevices([]*Device{{Id: "LTK00001", PrivateKey: secret}})
	require.ErrorContains(t, err, "private key of LTK00001 does not parse as PKCS#8")
	require.NotContains(t, err.Error(), "secret")
}
