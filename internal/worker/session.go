package worker

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"time"

	"github.com/ltk-dev/ltk/internal/device"
	"github.com/ltk-dev/ltk/internal/wire/ltkv1"
)

// welcomeTimeout is how long a worker waits for the master's Welcome.
const welcomeTimeout = 5 * time.Second

// reportChunk is the most deltas one Report message carries.
const reportChunk = 30

var (
	errQuit         = errors.New("the master said quit")
	errMasterSilent = errors.New("the master stopped answering heartbeats")
)

// session runs one connection to the master until it ends. welcomed reports
// whether the master accepted the worker.
func (a *Agent) session(ctx context.Context) (welcomed bool, err error) {
	sctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	// A master behind a dead network path may accept the connection and
	// never answer: give up on this attempt if no welcome comes in time.
	watchdog := time.AfterFunc(welcomeTimeout, func() {
		cancel(fmt.Errorf("no welcome from the master within %v", welcomeTimeout))
	})
	defer watchdog.Stop()
	st, closeConn, err := a.cfg.connect(sctx)
	if err != nil {
		if c := context.Cause(sctx); c != nil && ctx.Err() == nil {
			return false, c
		}
		return false, err
	}
	in := make(chan *ltkv1.MasterMessage, 16)
	recvErr := make(chan error, 1)
	var wg sync.WaitGroup
	defer func() {
		cancel(nil)
		closeConn()
		wg.Wait()
	}()
	wg.Go(func() {
		for {
			m, err := st.Recv()
			if err != nil {
				recvErr <- err
				return
			}
			select {
			case in <- m:
			case <-sctx.Done():
				return
			}
		}
	})

	_, running, _ := a.runner.status()
	hello := &ltkv1.Hello{
		WorkerId: a.id, Hostname: a.cfg.Hostname, Ordinal: int32(a.ordinal),
		Version: a.cfg.Version, Protocol: ltkv1.ProtocolVersion, Cores: int32(runtime.GOMAXPROCS(0)),
		ClusterToken: a.cfg.Token, Running: int32(running), MasterId: a.masterID,
	}
	if err := st.Send(&ltkv1.WorkerMessage{Msg: &ltkv1.WorkerMessage_Hello{Hello: hello}}); err != nil {
		return false, err
	}
	w, err := a.awaitWelcome(sctx, in, recvErr)
	if err != nil {
		if c := context.Cause(sctx); c != nil && ctx.Err() == nil {
			return false, c
		}
		return false, err
	}
	if !watchdog.Stop() {
		return false, context.Cause(sctx)
	}
	a.connected.Store(true)
	defer a.connected.Store(false)
	return true, a.serve(sctx, st, w, in, recvErr)
}

// awaitWelcome waits for the master to accept the worker.
func (a *Agent) awaitWelcome(ctx context.Context, in <-chan *ltkv1.MasterMessage, recvErr <-chan error) (*ltkv1.Welcome, error) {
	select {
	case <-ctx.Done():
		return nil, ctx.Err()
	case err := <-recvErr:
		return nil, err
	case m := <-in:
		w := m.GetWelcome()
		if w == nil {
			return nil, fmt.Errorf("the master spoke before welcoming this worker (%T)", m.GetMsg())
		}
		if a.masterID != "" && a.masterID != w.GetMasterId() {
			if n := a.runner.dropPending(); n > 0 {
				a.cfg.Logger.Info("dropped stats recorded for the previous master", "deltas", n)
			}
		}
		a.runner.resend() // what the last session sent may not have arrived
		a.masterID, a.ordinal = w.GetMasterId(), int(w.GetOrdinal())
		fmt.Fprintf(a.cfg.Events, "Connected to master %s as worker %d\n", a.cfg.MasterAddr, a.ordinal)
		return w, nil
	}
}

// intervals returns the welcome's heartbeat and report intervals and the
// silence after which the master counts as gone.
func intervals(w *ltkv1.Welcome) (heartbeat, report, silence time.Duration) {
	heartbeat = time.Duration(w.GetHeartbeatIntervalMs()) * time.Millisecond
	if heartbeat <= 0 {
		heartbeat = time.Second
	}
	report = time.Duration(w.GetReportIntervalMs()) * time.Millisecond
	if report <= 0 {
		report = 2 * time.Second
	}
	missed := max(int(w.GetMissedHeartbeats()), 1)
	return heartbeat, report, time.Duration(missed) * heartbeat
}

// serve runs a welcomed session: it applies the master's messages, and
// heartbeats and reports until the session ends.
func (a *Agent) serve(ctx context.Context, st clientStream, w *ltkv1.Welcome, in <-chan *ltkv1.MasterMessage, recvErr <-chan error) error {
	hbEvery, repEvery, silence := intervals(w)
	start := time.Now()
	hb := time.NewTimer(0) // heartbeat at once: the master learns the running count
	defer hb.Stop()
	rep := time.NewTimer(repEvery)
	defer rep.Stop()
	var (
		u         usage
		lastHeard = start
		block     []device.Device
	)
	for n, r := 0, 1; ; {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case err := <-recvErr:
			if qerr := a.drain(ctx, in, block); qerr != nil {
				return qerr // what the master sent before the stream ended (a quit) still counts
			}
			return err
		case m := <-in:
			lastHeard = time.Now()
			var err error
			if block, err = a.handle(ctx, m, block); err != nil {
				return err
			}
		case <-hb.C:
			n++
			hb.Reset(time.Until(start.Add(time.Duration(n) * hbEvery)))
			if quiet := time.Since(lastHeard); quiet > silence {
				return fmt.Errorf("%w for %v", errMasterSilent, quiet.Round(time.Millisecond))
			}
			if err := a.heartbeat(st, &u); err != nil {
				return a.ended(ctx, in, recvErr, block, err)
			}
		case <-rep.C:
			r++
			rep.Reset(time.Until(start.Add(time.Duration(r) * repEvery)))
			if err := a.report(st); err != nil {
				return a.ended(ctx, in, recvErr, block, err)
			}
		case <-a.runner.changed:
			err := a.report(st)
			if err == nil {
				err = a.heartbeat(st, &u)
			}
			if err != nil {
				return a.ended(ctx, in, recvErr, block, err)
			}
		}
	}
}

// ended handles a failed send: gRPC reports only io.EOF there, so it waits
// briefly for the stream's real outcome, applying what the master sent
// before the end (a quit counts).
func (a *Agent) ended(ctx context.Context, in <-chan *ltkv1.MasterMessage, recvErr <-chan error, block []device.Device, sendErr error) error {
	timer := time.NewTimer(time.Second)
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-timer.C:
			return sendErr
		case m := <-in:
			var err error
			if block, err = a.handle(ctx, m, block); err != nil {
				return err
			}
		case err := <-recvErr:
			if qerr := a.drain(ctx, in, block); qerr != nil {
				return qerr
			}
			return err
		}
	}
}

// drain applies the messages already received; it returns errQuit (or
// another error) if one ends the session.
func (a *Agent) drain(ctx context.Context, in <-chan *ltkv1.MasterMessage, block []device.Device) error {
	for {
		select {
		case m := <-in:
			var err error
			if block, err = a.handle(ctx, m, block); err != nil {
				return err
			}
		default:
			return nil
		}
	}
}

// handle applies one message from the master; block holds a block being
// received in parts.
func (a *Agent) handle(ctx context.Context, m *ltkv1.MasterMessage, block []device.Device) ([]device.Device, error) {
	switch msg := m.GetMsg().(type) {
	case *ltkv1.MasterMessage_Block:
		devs, err := ltkv1.DecodeDevices(msg.Block.GetDevices())
		if err != nil {
			return nil, fmt.Errorf("block from the master: %w", err)
		}
		block = append(block, devs...)
		if len(block) < int(msg.Block.GetTotal()) {
			return block, nil
		}
		fmt.Fprintf(a.cfg.Events, "Worker %d has its block: %s\n", a.ordinal, describeBlock(block))
		a.runner.send(ctx, blockCmd{Block{Devices: block, Columns: msg.Block.GetColumns(),
			First: int(msg.Block.GetFirstIndex()), Ordinal: a.ordinal}})
		return nil, nil
	case *ltkv1.MasterMessage_Spawn:
		s := msg.Spawn
		a.runner.send(ctx, spawnCmd{seq: s.GetSeq(), count: int(s.GetCount()), rate: s.GetSpawnRate(), settings: s.GetSettings()})
	case *ltkv1.MasterMessage_Stop:
		a.runner.send(ctx, stopCmd{seq: msg.Stop.GetSeq()})
	case *ltkv1.MasterMessage_HeartbeatAck:
		a.runner.ack(msg.HeartbeatAck.GetReportSeq())
	case *ltkv1.MasterMessage_Quit:
		fmt.Fprintf(a.cfg.Events, "The master says quit: %s\n", msg.Quit.GetReason())
		return nil, errQuit
	}
	return block, nil
}

// describeBlock names a block's size and first and last devices.
func describeBlock(b []device.Device) string {
	switch len(b) {
	case 0:
		return "no devices"
	case 1:
		return "1 device, " + b[0].ID
	}
	return fmt.Sprintf("%d devices, %s–%s", len(b), b[0].ID, b[len(b)-1].ID)
}

// heartbeat tells the master what the worker is doing.
func (a *Agent) heartbeat(st clientStream, u *usage) error {
	state, running, applied := a.runner.status()
	cpu, mem := u.sample(time.Now())
	return st.Send(&ltkv1.WorkerMessage{Msg: &ltkv1.WorkerMessage_Heartbeat{Heartbeat: &ltkv1.Heartbeat{
		State: state, Running: int32(running), AppliedSeq: applied, CpuPercent: cpu, MemoryBytes: mem,
	}}})
}

// report sends the exceptions and the stats deltas not yet sent in this
// session. The deltas stay with the runner until the master acknowledges
// them: a send that fails, or one a dying stream accepts and never
// delivers, is sent again in the next session.
func (a *Agent) report(st clientStream) error {
	deltas, exceptions := a.runner.take()
	for _, e := range exceptions {
		if err := st.Send(&ltkv1.WorkerMessage{Msg: &ltkv1.WorkerMessage_Exception{Exception: &ltkv1.Exception{Message: e}}}); err != nil {
			return err
		}
	}
	for len(deltas) > 0 {
		n := min(len(deltas), reportChunk)
		if err := st.Send(&ltkv1.WorkerMessage{Msg: &ltkv1.WorkerMessage_Report{Report: encodeReport(deltas[:n])}}); err != nil {
			return err
		}
		deltas = deltas[n:]
	}
	return nil
}

func encodeReport(ds []numbered) *ltkv1.Report {
	r := &ltkv1.Report{Deltas: make([]*ltkv1.StatsDelta, len(ds))}
	for i, d := range ds {
		r.Deltas[i] = ltkv1.EncodeDelta(d.d)
		r.Deltas[i].Seq = d.seq
	}
	return r
}
