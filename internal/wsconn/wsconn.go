// Package wsconn carries MQTT's byte stream over a WebSocket: the lean
// client's side of ws:// and wss:// brokers, and the embedded target's
// WebSocket listener's.
package wsconn

import (
	"errors"
	"io"
	"net"
	"sync"
	"time"

	"github.com/gorilla/websocket"
)

// New returns ws as a net.Conn carrying MQTT's bytes. Closing it closes ws.
func New(ws *websocket.Conn) net.Conn { return &Conn{Conn: ws} }

// Conn is a WebSocket as the byte stream MQTT sees: each write is one
// binary message, and reads run through the messages' contents in order
// (MQTT packets may span messages, and a message may hold several).
type Conn struct {
	*websocket.Conn
	r io.Reader // the message being read; nil between messages

	wmu sync.Mutex // Serialises writes: a net.Conn may be written from several goroutines (mochi does), a gorilla Conn not.
}

var _ net.Conn = (*Conn)(nil)

// Read reads the next bytes of the current message, or of the next one.
// The end of the WebSocket, cleanly closed or cut, is io.EOF.
func (w *Conn) Read(b []byte) (int, error) {
	for {
		if w.r == nil {
			typ, r, err := w.NextReader()
			if err != nil {
				var ce *websocket.CloseError
				if errors.As(err, &ce) || errors.Is(err, io.ErrUnexpectedEOF) {
					return 0, io.EOF
				}
				return 0, err
			}
			if typ != websocket.BinaryMessage {
				return 0, errors.New("MQTT over WebSocket: the broker sent a text message (MQTT needs binary messages)")
			}
			w.r = r
		}
		n, err := w.r.Read(b)
		if errors.Is(err, io.EOF) {
			w.r = nil
			if n == 0 {
				continue
			}
			err = nil
		}
		return n, err
	}
}

// Write sends b as one binary message.
func (w *Conn) Write(b []byte) (int, error) {
	w.wmu.Lock()
	defer w.wmu.Unlock()
	if err := w.WriteMessage(websocket.BinaryMessage, b); err != nil {
		return 0, err
	}
	return len(b), nil
}

// SetDeadline sets both deadlines.
func (w *Conn) SetDeadline(t time.Time) error {
	return errors.Join(w.SetReadDeadline(t), w.SetWriteDeadline(t))
}

// SetWriteDeadline sets the write deadline, in turn with writes (gorilla
// keeps it in a field its writes read).
func (w *Conn) SetWriteDeadline(t time.Time) error {
	w.wmu.Lock()
	defer w.wmu.Unlock()
	return w.Conn.SetWriteDeadline(t)
}
