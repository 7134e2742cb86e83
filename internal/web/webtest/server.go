package webtest

import (
	"context"
	"testing"

	"github.com/ltk-dev/ltk/internal/web"
)

// Start runs a web.Server for c on 127.0.0.1:0 with cfg (Addr is
// overridden) until the test ends, and returns it; Server.Addr gives its
// address. The test fails if the server cannot start or Run returns an error.
func Start(tb testing.TB, c web.Controller, cfg web.Config) *web.Server {
	tb.Helper()
	cfg.Addr = "127.0.0.1:0"
	s, err := web.New(cfg, c)
	if err != nil {
		tb.Fatalf("webtest: start web server: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	tb.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			tb.Errorf("webtest: web server Run: %v", err)
		}
	})
	return s
}
