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

// SetTicker does nothing where the epoll loops do not exist.
func SetTicker(func()) {}

// ArmTick reports false: no loop runs here.
func ArmTick(time.Time) bool { return false }
