package clustertls

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"net"

	"google.golang.org/grpc/credentials"
)

// Watch returns creds that call onErr with every handshake error and the
// peer's address, which gRPC itself only logs: so that a worker can say its
// master's certificate is not trusted, and a master that a worker did not
// speak TLS. onErr may be called concurrently.
func Watch(creds credentials.TransportCredentials, onErr func(peer net.Addr, err error)) credentials.TransportCredentials {
	return watched{creds, onErr}
}

type watched struct {
	credentials.TransportCredentials
	onErr func(net.Addr, error)
}

func (w watched) ClientHandshake(ctx context.Context, authority string, conn net.Conn) (net.Conn, credentials.AuthInfo, error) {
	c, info, err := w.TransportCredentials.ClientHandshake(ctx, authority, conn)
	if err != nil {
		w.onErr(conn.RemoteAddr(), err)
	}
	return c, info, err
}

func (w watched) ServerHandshake(conn net.Conn) (net.Conn, credentials.AuthInfo, error) {
	c, info, err := w.TransportCredentials.ServerHandshake(conn)
	if err != nil {
		w.onErr(conn.RemoteAddr(), err)
	}
	return c, info, err
}

func (w watched) Clone() credentials.TransportCredentials {
	return watched{w.TransportCredentials.Clone(), w.onErr}
}

// Untrusted reports whether a handshake failed because the peer's
// certificate could not be verified (unknown authority, wrong name,
// expired): something no retry fixes.
func Untrusted(err error) bool {
	var verify *tls.CertificateVerificationError
	var unknown x509.UnknownAuthorityError
	var host x509.HostnameError
	var invalid x509.CertificateInvalidError
	return errors.As(err, &verify) || errors.As(err, &unknown) || errors.As(err, &host) || errors.As(err, &invalid)
}

// NotTLS reports whether a server handshake failed because the client did
// not speak TLS at all.
func NotTLS(err error) bool {
	var rec tls.RecordHeaderError
	return errors.As(err, &rec)
}
