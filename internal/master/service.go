package master

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"io"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/ltk-dev/ltk/internal/wire/ltkv1"
)

// helloTimeout is how long a new stream may stay silent before its Hello.
const helloTimeout = 5 * time.Second

// blockChunk is the most devices one Block message carries (about 600 KB
// of RSA-2048 keys, 1 MB with the aws profile's certificates, well under
// gRPC's 4 MB message limit).
const blockChunk = 500

// service is the gRPC face of a Master.
type service struct {
	ltkv1.UnimplementedCoordinatorServer
	m *Master
}

// Connect serves one worker's session.
func (s service) Connect(st grpc.BidiStreamingServer[ltkv1.WorkerMessage, ltkv1.MasterMessage]) error {
	return s.m.serve(st.Context(), st)
}

// serverStream is the master's end of a session.
type serverStream interface {
	Send(*ltkv1.MasterMessage) error
	Recv() (*ltkv1.WorkerMessage, error)
}

// serve runs one session: hello, admission, welcome and block, then the
// worker's messages and the master's commands until either side ends it.
// ctx ends when the stream does; serve returns the status the worker sees.
func (m *Master) serve(ctx context.Context, st serverStream) error {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	in := make(chan *ltkv1.WorkerMessage, 16)
	recvErr := make(chan error, 1)
	m.wg.Go(func() {
		for {
			msg, err := st.Recv()
			if err != nil {
				recvErr <- err
				return
			}
			select {
			case in <- msg:
			case <-ctx.Done():
				return
			}
		}
	})

	hello, err := awaitHello(ctx, in, recvErr)
	if err != nil {
		return err
	}
	// The host name and version reach terminals and logs, even when the
	// worker is refused: escape what could forge lines or drive the terminal.
	hello.Hostname = printable(hello.GetHostname(), maxHostname)
	hello.Version = printable(hello.GetVersion(), maxVersion)
	if err := m.admit(hello); err != nil {
		m.printf("Refused the worker on %s (ordinal %d): %s", hello.GetHostname(), hello.GetOrdinal(), status.Convert(err).Message())
		return err
	}
	sess := &session{out: make(chan *ltkv1.MasterMessage, sessionQueue), cancel: cancel}
	mem, err := m.join(hello, sess, time.Now())
	if err != nil {
		m.printf("Refused the worker on %s: %s", hello.GetHostname(), status.Convert(err).Message())
		return err
	}
	why := m.session(ctx, st, mem, sess, in, recvErr)
	m.leave(mem, sess, why, time.Now())
	if errors.Is(why, errQuitSent) {
		return nil
	}
	return status.Error(codes.Unavailable, why.Error())
}

func awaitHello(ctx context.Context, in <-chan *ltkv1.WorkerMessage, recvErr <-chan error) (*ltkv1.Hello, error) {
	timer := time.NewTimer(helloTimeout)
	defer timer.Stop()
	select {
	case <-ctx.Done():
		return nil, status.FromContextError(ctx.Err()).Err()
	case err := <-recvErr:
		return nil, err
	case <-timer.C:
		return nil, status.Errorf(codes.DeadlineExceeded, "no hello within %v", helloTimeout)
	case msg := <-in:
		if h := msg.GetHello(); h != nil {
			return h, nil
		}
		return nil, status.Errorf(codes.InvalidArgument, "the first message must be hello, not %T", msg.GetMsg())
	}
}

// admit checks a worker's cluster token and versions.
func (m *Master) admit(h *ltkv1.Hello) error {
	if m.cfg.Token != "" && subtle.ConstantTimeCompare([]byte(h.GetClusterToken()), []byte(m.cfg.Token)) != 1 {
		if h.GetClusterToken() == "" {
			return status.Error(codes.Unauthenticated,
				"this master requires a cluster token: set LTK_CLUSTER_TOKEN (or --cluster-token) on the worker to the master's")
		}
		return status.Error(codes.Unauthenticated,
			"wrong cluster token: set LTK_CLUSTER_TOKEN (or --cluster-token) on the worker to the master's")
	}
	if h.GetProtocol() != ltkv1.ProtocolVersion || h.GetVersion() != m.cfg.Version {
		return status.Errorf(codes.FailedPrecondition,
			"worker version %s (protocol %d) does not match master version %s (protocol %d): run the same ltk version on the master and every worker",
			h.GetVersion(), h.GetProtocol(), m.cfg.Version, ltkv1.ProtocolVersion)
	}
	if blocks := m.blocks(); h.GetOrdinal() >= int32(blocks) {
		return status.Errorf(codes.InvalidArgument,
			"ordinal %d is beyond the device list's %d blocks of %d devices: give the worker an ordinal from 0 to %d, or none to have one assigned",
			h.GetOrdinal(), blocks, m.cfg.BlockSize, blocks-1)
	}
	return nil
}

// blocks returns how many blocks the device list has (at least one).
func (m *Master) blocks() int {
	if m.cfg.BlockSize <= 0 {
		return 1
	}
	return max((len(m.cfg.Devices)+m.cfg.BlockSize-1)/m.cfg.BlockSize, 1)
}

// session sends the welcome and the block, resynchronises the worker with
// the test, then relays messages both ways. It returns why the session ended.
func (m *Master) session(ctx context.Context, st serverStream, mem *member, sess *session,
	in <-chan *ltkv1.WorkerMessage, recvErr <-chan error) error {
	welcome := &ltkv1.Welcome{
		Ordinal: int32(mem.ordinal), MasterId: m.id, Version: m.cfg.Version,
		HeartbeatIntervalMs: m.cfg.HeartbeatInterval.Milliseconds(),
		ReportIntervalMs:    m.cfg.ReportInterval.Milliseconds(),
		MissedHeartbeats:    int32(m.cfg.MissedHeartbeats),
	}
	if err := st.Send(&ltkv1.MasterMessage{Msg: &ltkv1.MasterMessage_Welcome{Welcome: welcome}}); err != nil {
		return fmt.Errorf("send welcome: %w", err)
	}
	if err := m.sendBlock(st, mem); err != nil {
		return err
	}
	m.mu.Lock()
	m.resync(mem)
	m.mu.Unlock()
	for {
		select {
		case <-ctx.Done():
			if cause := context.Cause(ctx); !errors.Is(cause, context.Canceled) {
				return cause
			}
			return errors.New("connection closed")
		case err := <-recvErr:
			m.drain(st, mem, in) // what the worker sent before it closed counts
			if errors.Is(err, io.EOF) {
				return errors.New("the worker closed its stream")
			}
			return fmt.Errorf("connection lost (%s)", status.Convert(err).Message())
		case msg := <-sess.out:
			if err := st.Send(msg); err != nil {
				m.drain(st, mem, in)
				return fmt.Errorf("connection lost (%s)", status.Convert(err).Message())
			}
			if msg.GetQuit() != nil {
				return errQuitSent
			}
		case msg := <-in:
			m.handle(st, mem, msg)
		}
	}
}

// drain handles the messages already received.
func (m *Master) drain(st serverStream, mem *member, in <-chan *ltkv1.WorkerMessage) {
	for {
		select {
		case msg := <-in:
			m.handle(st, mem, msg)
		default:
			return
		}
	}
}

// sendBlock sends the member's block in chunks, with the names of the
// devices' extra columns and the fleet index of its first device.
func (m *Master) sendBlock(st serverStream, mem *member) error {
	total := len(mem.block)
	first := mem.ordinal * m.cfg.BlockSize
	for lo := 0; lo == 0 || lo < total; lo += blockChunk {
		var devs []*ltkv1.Device
		if total > 0 {
			devs = m.wire[first+lo : first+min(lo+blockChunk, total)]
		}
		msg := &ltkv1.Block{Ordinal: int32(mem.ordinal), Total: int32(total), Devices: devs,
			Columns: m.cfg.Columns, FirstIndex: int32(mem.ordinal * m.cfg.BlockSize)}
		if err := st.Send(&ltkv1.MasterMessage{Msg: &ltkv1.MasterMessage_Block{Block: msg}}); err != nil {
			return fmt.Errorf("send block: %w", err)
		}
	}
	return nil
}

// handle applies one message from a worker.
func (m *Master) handle(st serverStream, mem *member, msg *ltkv1.WorkerMessage) {
	now := time.Now()
	m.mu.Lock()
	mem.lastHeard, mem.excused = now, 0
	m.mu.Unlock()
	switch w := msg.GetMsg().(type) {
	case *ltkv1.WorkerMessage_Heartbeat:
		hb := w.Heartbeat
		cpu := cpuPercent(hb.GetCpuPercent())
		m.mu.Lock()
		mem.state, mem.running, mem.applied = hb.GetState(), int(hb.GetRunning()), hb.GetAppliedSeq()
		mem.cpuPercent, mem.memoryBytes = cpu, hb.GetMemoryBytes()
		if cores := max(mem.cores, 1); !mem.cpuWarned && cpu > 90*float64(cores) {
			mem.cpuWarned = true
			m.printf("Worker %d (%s) uses %.0f%% CPU of its %d cores: it may measure late; run more workers with fewer devices each",
				mem.ordinal, mem.hostname, cpu, cores)
		}
		m.ring()
		ack := &ltkv1.HeartbeatAck{ReportSeq: m.reportSeq[mem.workerID]}
		m.mu.Unlock()
		_ = st.Send(&ltkv1.MasterMessage{Msg: &ltkv1.MasterMessage_HeartbeatAck{HeartbeatAck: ack}})
	case *ltkv1.WorkerMessage_Report:
		for _, md := range w.Report.GetDeltas() {
			m.report(mem, md)
		}
	case *ltkv1.WorkerMessage_Exception:
		m.exception(mem, printable(w.Exception.GetMessage(), maxException))
	}
}

// exception shows and hands on one exception of a worker's.
func (m *Master) exception(mem *member, msg string) {
	m.mu.Lock()
	host := mem.hostname
	m.mu.Unlock()
	m.printf("Worker %d (%s): %s", mem.ordinal, host, msg)
	if m.cfg.OnException != nil {
		m.cfg.OnException(mem.ordinal, host, msg)
	}
}
