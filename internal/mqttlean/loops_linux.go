//go:build linux

package mqttlean

// loopsState is what Loops hold on Linux: the epoll loops and the dialer.
type loopsState struct {
	p poller
	d dialer
}

func (l *Loops) init() {
	l.p.ticker = &l.ticker
	l.d.p = &l.p
}

// Wait waits until every goroutine the Loops started has exited. Call it
// once the last connection closed (Handler.Closed) and while none is
// dialled, for instance before a test checks for leaked goroutines.
func (l *Loops) Wait() {
	l.d.wg.Wait()
	l.p.wg.Wait()
}
