package mqttlean

import (
	"sync"
	"sync/atomic"
)

// Loops are the event loops that serve connections: on Linux, the epoll
// loops that read plain TCP sockets, the few goroutines that dial them and
// the loops' timer (SetTicker, ArmTick). Whoever runs connections owns a
// Loops and passes it in Options.Loops, so that connections of one owner
// share loops and tests can keep theirs apart. Loops start with their first
// connection and stop after their last: idle Loops hold no goroutine, no
// file and nothing that needs closing. Its methods are safe for concurrent
// use; the zero value is not usable: use NewLoops.
type Loops struct {
	ticker atomic.Pointer[func()]
	loopsState
}

// NewLoops returns idle Loops.
func NewLoops() *Loops {
	l := &Loops{}
	l.init()
	return l
}

// SetTicker makes f the function l's epoll loops run when a time set with
// ArmTick comes, on the loop's goroutine, so that timed work (ltk's timing
// wheel) needs no goroutine and no wake-up of its own while connections
// are open. f must arm its next time itself.
func (l *Loops) SetTicker(f func()) { l.ticker.Store(&f) }

// defaultLoops serve connections whose Options name no Loops.
var defaultLoops = sync.OnceValue(NewLoops)

// loops returns the Loops o's connection runs on.
func (o *Options) loops() *Loops {
	if o.Loops != nil {
		return o.Loops
	}
	return defaultLoops()
}
