package master

import (
	"runtime"
	"sync"
	"sync/atomic"

	"github.com/ltk-dev/ltk/internal/device"
	"github.com/ltk-dev/ltk/internal/wire/ltkv1"
)

// encodeFleet returns every device as the wire carries it (keys as PKCS#8
// DER), encoded once, on GOMAXPROCS goroutines, when the master starts. A
// worker's block is then a slice of it, sent as it is: encoding an ES256 key
// costs about 12 µs (Go re-derives and checks the public key), which for a
// 100,000-device fleet would otherwise delay the workers' first blocks by
// seconds, and every reconnect again. The messages are shared by every
// session that sends them and never modified.
func encodeFleet(devs []device.Device) ([]*ltkv1.Device, error) {
	out := make([]*ltkv1.Device, len(devs))
	var (
		next     atomic.Int64
		mu       sync.Mutex // Guards firstErr.
		firstErr error
		wg       sync.WaitGroup
	)
	chunks := (len(devs) + blockChunk - 1) / blockChunk
	for range min(runtime.GOMAXPROCS(0), chunks) {
		wg.Go(func() {
			for c := int(next.Add(1) - 1); c < chunks; c = int(next.Add(1) - 1) {
				lo, hi := c*blockChunk, min((c+1)*blockChunk, len(devs))
				ms, err := ltkv1.EncodeDevices(devs[lo:hi])
				if err != nil {
					mu.Lock()
					firstErr = err
					mu.Unlock()
					return
				}
				copy(out[lo:hi], ms)
			}
		})
	}
	wg.Wait()
	if firstErr != nil {
		return nil, firstErr
	}
	return out, nil
}
