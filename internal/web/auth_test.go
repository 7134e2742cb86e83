package web_test

import (
	"bytes"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ltk-dev/ltk/internal/web"
)

// routes are every route the server has, with a method that reaches it.
var routes = []struct{ method, path string }{
	{http.MethodGet, "/"},
	{http.MethodGet, "/app.js"},
	{http.MethodPost, "/swarm"},
	{http.MethodGet, "/stop"},
	{http.MethodGet, "/stats/reset"},
	{http.MethodGet, "/stats/requests"},
	{http.MethodGet, "/stats/requests/csv"},
	{http.MethodGet, "/stats/failures/csv"},
	{http.MethodGet, "/exceptions"},
	{http.MethodGet, "/exceptions/csv"},
	{http.MethodGet, "/stats/report"},
	{http.MethodGet, "/api/history"},
	{http.MethodGet, "/api/workers"},
	{http.MethodGet, "/api/events"},
	{http.MethodGet, "/metrics"},
}

func TestAuthProtectsEveryRoute(t *testing.T) {
	t.Parallel()
	e := start(t, web.Config{Auth: "admin:s3cr:et"})
	for _, creds := range []struct{ name, user, pass string }{
		{"none", "", ""},
		{"wrong password", "admin", "s3cr"},
		{"wrong user", "root", "s3cr:et"},
	} {
		e.user, e.pass = creds.user, creds.pass
		for _, r := range routes {
			resp, body := e.do(r.method, r.path, url.Values{"user_count": {"1"}}, nil)
			require.Equal(t, http.StatusUnauthorized, resp.StatusCode, "%s %s with %s", r.method, r.path, creds.name)
			require.Contains(t, resp.Header.Get("WWW-Authenticate"), `Basic realm="ltk"`)
			require.Contains(t, string(body), `"success":false`)
		}
	}
	require.Empty(t, e.ctrl.Swarms())
	require.Zero(t, e.ctrl.Stops())

	e.user, e.pass = "admin", "s3cr:et" // the password may hold colons
	for _, r := range routes {
		if r.path == "/api/events" {
			continue // a stream: checked below
		}
		resp, body := e.do(r.method, r.path, url.Values{"user_count": {"1"}}, nil)
		require.Equal(t, http.StatusOK, resp.StatusCode, "%s %s: %s", r.method, r.path, body)
	}
	e.events().until(t, func(event) bool { return true })
}

// TestHealthNeedsNoAuth: /healthz, the master's liveness probe, is the one
// route a kubelet (which has no password) reaches; it says the test's state
// and nothing more.
func TestHealthNeedsNoAuth(t *testing.T) {
	t.Parallel()
	for _, auth := range []string{"admin:s3cr:et", ""} {
		e := start(t, web.Config{Auth: auth})
		resp, body := e.do(http.MethodGet, "/healthz", nil, nil)
		require.Equal(t, http.StatusOK, resp.StatusCode, "auth %q: %s", auth, body)
		require.Equal(t, "ok: ready\n", string(body), "auth %q", auth)
		resp, _ = e.do(http.MethodPost, "/healthz", nil, nil)
		require.NotEqual(t, http.StatusOK, resp.StatusCode, "auth %q: only GET", auth)
	}
}

func TestConfigValidate(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		cfg  web.Config
		want string
	}{
		{"auth without colon", web.Config{Auth: "admin"}, `web auth must be "user:pass"`},
		{"auth without user", web.Config{Auth: ":pass"}, `web auth must be "user:pass"`},
		{"auth without password", web.Config{Auth: "user:"}, `web auth must be "user:pass"`},
		{"address without port", web.Config{Addr: "localhost"}, `web address "localhost"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := web.New(tc.cfg, newCtrl())
			require.ErrorContains(t, err, tc.want)
		})
	}
}

func TestListenFailureSaysWhatToDo(t *testing.T) {
	t.Parallel()
	e := start(t, web.Config{})
	_, err := web.New(web.Config{Addr: e.srv.Addr()}, newCtrl())
	require.ErrorContains(t, err, "pick another with --web-port")
}

func TestExposedWithoutAuthWarns(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		addr, auth string
		warn       bool
	}{
		{"0.0.0.0:0", "", true},
		{"0.0.0.0:0", "a:b", false},
		{"127.0.0.1:0", "", false},
	} {
		var logs bytes.Buffer
		cfg := web.Config{Addr: tc.addr, Auth: tc.auth, Log: slog.New(slog.NewTextHandler(&logs, nil))}
		startWith(t, cfg)
		require.Equal(t, tc.warn, strings.Contains(logs.String(), "can start and stop load"), "%s auth %q: %s", tc.addr, tc.auth, logs.String())
	}
}

func TestExposed(t *testing.T) {
	t.Parallel()
	for addr, want := range map[string]bool{
		":8089":          true,
		"0.0.0.0:8089":   true,
		"[::]:8089":      true,
		"10.1.2.3:8089":  true,
		"example:8089":   true,
		"127.0.0.1:8089": false,
		"127.9.9.9:8089": false,
		"[::1]:8089":     false,
		"localhost:8089": false,
	} {
		require.Equal(t, want, web.Exposed(addr), addr)
	}
}
