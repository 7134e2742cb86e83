// Package mqttlean is a lean MQTT 3.1.1 client connection for load
// generation: the few packets a simulated device needs (CONNECT, SUBSCRIBE,
// PUBLISH at QoS 0 and 1, PUBACK, PINGREQ, DISCONNECT) encoded into reused
// buffers, and incoming packets decoded in place.
//
// A Conn costs a few hundred bytes and no goroutine: on Linux, plain TCP
// sockets are non-blocking and served by a handful of shared epoll loops
// (one per two processors), whose epoll file descriptors are themselves
// watched by Go's network poller, so an idle loop parks like any reader. A
// loop reads a socket into its one buffer, decodes the packets and calls the
// connection's Handler; writes go straight to the socket from the caller's
// goroutine, and only output the socket cannot take is kept. TLS
// connections (and every connection on other systems) use a net.Conn and a
// reader goroutine each instead. Timers are the Go runtime's: one per
// connection, for the connect timeout and then the keepalive. A loop can
// also run its Loops' ticker (Loops.SetTicker, Loops.ArmTick) from a timer
// in its epoll set, so that timed work on many connections (ltk's timing
// wheel) runs on the loop's goroutine rather than waking one of its own.
//
// The API is asynchronous: Dial returns at once and the Handler hears
// Connected, Message, Acked, Subscribed and, last and exactly once, Closed.
//
// The loops belong to a Loops value that whoever runs connections makes
// (NewLoops) and names in Options.Loops; connections that name none share a
// default set. Loops start with their first connection and stop after their
// last, so Loops whose connections all closed run nothing (Loops.Wait waits
// for that). Connections do not belong in testing/synctest bubbles, which
// real sockets do not suit anyway.
package mqttlean
