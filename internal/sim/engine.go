package sim

import (
	"crypto/tls"
	"sync"

	"github.com/ltk-dev/ltk/internal/mqttlean"
)

// An Engine is what runs devices: the lean client's epoll loops (package
// mqttlean) and one timing wheel for every device's timers. Whoever runs
// devices (a swarm, a worker, a benchmark) makes one with NewEngine and
// gives it to its devices in Config.Engine, so that they share one set of
// loops and one wheel, and a test can keep its devices apart from others.
//
// An idle Engine holds no goroutine: its loops start with the first lean
// connection and stop after the last, and its wheel's timer runs only
// while a timer is due. It needs no closing; Wait waits for its goroutines
// to exit once its devices stopped. Its methods are safe for concurrent use.
type Engine struct {
	loops *mqttlean.Loops
	wheel *wheel
	// tlsSessions is the TLS session cache of the Engine's devices, made
	// on first use: a reconnect resumes a session rather than doing a full
	// handshake.
	tlsSessions func() tls.ClientSessionCache
}

// tlsSessionCacheSize bounds an Engine's TLS session cache: one entry per
// broker host (Go's client caches by server name), so a few suffice.
const tlsSessionCacheSize = 64

// NewEngine returns an idle Engine.
func NewEngine() *Engine {
	l := mqttlean.NewLoops()
	return &Engine{loops: l, wheel: newWheel(l), tlsSessions: sync.OnceValue(func() tls.ClientSessionCache {
		return tls.NewLRUClientSessionCache(tlsSessionCacheSize)
	})}
}

// Wait returns once every goroutine the Engine's loops started has exited:
// call it after the Engine's devices stopped (their Run returned).
func (e *Engine) Wait() { e.loops.Wait() }

// defaultEngine runs the devices whose Config names no Engine: one for the
// process, made on first use, so that single devices (tests, tools) need
// no owner.
var defaultEngine = sync.OnceValue(NewEngine)
