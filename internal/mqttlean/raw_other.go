//go:build !linux

package mqttlean

import (
	"errors"
	"time"
)

// rawSupported says that plain TCP connections can use the epoll loops;
// elsewhere every connection uses the stream transport.
const rawSupported = false

// dialRaw is not called where rawSupported is false.
func dialRaw(*Conn, *Options, []byte) error {
	return errors.New("mqttlean: the epoll transport exists on Linux only")
}

// loopsState is empty where the epoll loops do not exist.
type loopsState struct{}

func (l *Loops) init() {}

// ArmTick reports false: no loop runs here.
func (l *Loops) ArmTick(time.Time) bool { return false }

// Wait returns at once: there are no loops here.
func (l *Loops) Wait() {}
