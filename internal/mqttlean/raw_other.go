//go:build !linux

package mqttlean

import "errors"

// rawSupported says that plain TCP connections can use the epoll loops;
// elsewhere every connection uses the stream transport.
const rawSupported = false

// dialRaw is not called where rawSupported is false.
func dialRaw(*Conn, *Options, []byte) error {
	return errors.New("mqttlean: the epoll transport exists on Linux only")
}
