package master

import (
	"context"
	"flag"
	"fmt"
	"runtime"
	"sync"
	"syscall"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/ltk-dev/ltk/internal/device"
	"github.com/ltk-dev/ltk/internal/wire/ltkv1"
)

var (
	fleetSize = flag.Int("fleet", 100_000,
		"ES256 devices the master holds in BenchmarkBlockDelivery (1000000 for the million-device figure)")
	fleetBlock = flag.Int("fleet-block", 10_000, "devices per worker in BenchmarkBlockDelivery")
)

// BenchmarkBlockDelivery measures how long a master holding a fleet of
// -fleet ES256 devices (keys and all) takes to give each of its workers its
// block of -fleet-block devices over real gRPC on loopback: every worker
// dials at once, says hello with its ordinal, and counts the devices of its
// Block messages. "s-to-blocks" is from the dials to the last worker holding
// its whole block, "s-slowest" the slowest of the iterations, and
// "cpu-s/delivery" the CPU the process (master and workers' reads) spent on
// one, which a busy machine does not inflate as it does the wall time;
// "MB-master" is the heap the master's device list holds
// (after a GC, the fleet loaded, minus the heap before). The workers do not
// parse the keys they receive (a real worker does, on its own cores, about
// 30 µs a key): on one machine that would charge the master for them.
//
//	go test ./internal/master -run '^$' -bench BlockDelivery -benchtime 3x
//	go test ./internal/master -run '^$' -bench BlockDelivery -benchtime 1x -fleet 1000000 -timeout 30m
func BenchmarkBlockDelivery(b *testing.B) {
	n, per := *fleetSize, *fleetBlock
	workers := (n + per - 1) / per
	before := heapAfterGC()
	ids := make([]string, n)
	for i := range ids {
		ids[i] = device.FormatID("LTK", 7, i+1)
	}
	devs, err := device.GenerateAll(b.Context(), ids, device.ES256, nil)
	if err != nil {
		b.Fatal(err)
	}
	cfg := testConfig(0, workers, nil)
	cfg.Addr, cfg.Token, cfg.Devices, cfg.BlockSize = "127.0.0.1:0", "bench-token", devs, per
	m, err := New(cfg)
	if err != nil {
		b.Fatal(err)
	}
	cfg.Devices = nil // the master holds the list, in its own copy of cfg
	held := heapAfterGC() - before
	ctx, cancel := context.WithCancel(b.Context())
	ran := make(chan error, 1)
	go func() { ran <- m.Run(ctx) }()
	defer func() {
		cancel()
		if err := <-ran; err != nil {
			b.Error(err)
		}
	}()
	conns := make([]*grpc.ClientConn, workers)
	defer func() {
		for _, c := range conns {
			if c != nil {
				c.Close()
			}
		}
	}()
	for k := range conns {
		if conns[k], err = grpc.NewClient(m.Addr(), grpc.WithTransportCredentials(insecure.NewCredentials())); err != nil {
			b.Fatal(err)
		}
	}
	var slowest time.Duration
	cpu0 := cpuTime()
	b.ResetTimer()
	for b.Loop() {
		start := time.Now()
		var wg sync.WaitGroup
		errs := make([]error, workers)
		for k := range workers {
			wg.Go(func() { errs[k] = receiveBlock(ctx, conns[k], k, cfg.Version, cfg.Token, min(per, n-k*per)) })
		}
		wg.Wait()
		slowest = max(slowest, time.Since(start))
		for k, err := range errs {
			if err != nil {
				b.Fatalf("worker %d: %v", k, err)
			}
		}
	}
	b.ReportMetric((cpuTime()-cpu0).Seconds()/float64(b.N), "cpu-s/delivery")
	b.ReportMetric(b.Elapsed().Seconds()/float64(b.N), "s-to-blocks")
	b.ReportMetric(slowest.Seconds(), "s-slowest")
	b.ReportMetric(float64(held)/1e6, "MB-master")
	b.ReportMetric(float64(workers), "workers")
	b.ReportMetric(0, "ns/op")
}

// receiveBlock is one worker's start: dial, hello with ordinal k, and read
// Block messages until they hold want devices.
func receiveBlock(ctx context.Context, conn *grpc.ClientConn, k int, version, token string, want int) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	st, err := ltkv1.NewCoordinatorClient(conn).Connect(ctx)
	if err != nil {
		return err
	}
	hello := &ltkv1.Hello{WorkerId: fmt.Sprintf("bench-%d", k), Hostname: "bench", Ordinal: int32(k),
		Version: version, Protocol: ltkv1.ProtocolVersion, Cores: 1, ClusterToken: token}
	if err := st.Send(&ltkv1.WorkerMessage{Msg: &ltkv1.WorkerMessage_Hello{Hello: hello}}); err != nil {
		return err
	}
	got := 0
	for got < want {
		msg, err := st.Recv()
		if err != nil {
			return fmt.Errorf("after %d of %d devices: %w", got, want, err)
		}
		if blk := msg.GetBlock(); blk != nil {
			if int(blk.GetTotal()) != want {
				return fmt.Errorf("block of %d devices, want %d", blk.GetTotal(), want)
			}
			for _, d := range blk.GetDevices() {
				if len(d.GetPrivateKey()) == 0 {
					return fmt.Errorf("device %s came without its key", d.GetId())
				}
			}
			got += len(blk.GetDevices())
		}
	}
	return st.CloseSend()
}

// cpuTime returns the CPU time the process has used, user and system.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// heapAfterGC returns the bytes of live heap objects after a collection.
func heapAfterGC() uint64 {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}
