package web_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ltk-dev/ltk/internal/web"
)

// TestHostHeaderGuardsAgainstRebinding: a request whose Host is a name the
// UI was not given (what a DNS-rebinding page sends) is refused with 421
// and a message saying what to do, before auth and before it can start a
// test; IP addresses, localhost, the listen host and the allowed names pass.
func TestHostHeaderGuardsAgainstRebinding(t *testing.T) {
	t.Parallel()
	e := start(t, web.Config{Addr: "127.0.0.1:0", Auth: "admin:pw", AllowedHosts: []string{"ui.example.com", ".corp.example"}})
	port := e.srv.Addr()[strings.LastIndexByte(e.srv.Addr(), ':'):]
	send := func(method, path, host string) (int, string) {
		var body io.Reader
		if method == http.MethodPost {
			body = strings.NewReader(url.Values{"user_count": {"5"}, "spawn_rate": {"1"}}.Encode())
		}
		req, err := http.NewRequestWithContext(t.Context(), method, e.base+path, body)
		require.NoError(t, err)
		req.Host = host
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.SetBasicAuth("admin", "pw")
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		require.NoError(t, err)
		return resp.StatusCode, string(b)
	}
	for _, host := range []string{"evil.example" + port, "evil.example", "ui.example.com.evil.example", "corp.example.evil" + port, "localhost.evil.example"} {
		code, body := send(http.MethodPost, "/swarm", host)
		require.Equal(t, http.StatusMisdirectedRequest, code, host)
		var m map[string]any
		require.NoError(t, json.Unmarshal([]byte(body), &m))
		require.Contains(t, m["message"], "does not answer to the host", host)
		require.Contains(t, m["message"], "--web-allowed-hosts", host)
	}
	require.Empty(t, e.ctrl.Swarms(), "no refused request started a test")

	for _, host := range []string{"127.0.0.1" + port, "localhost" + port, "LOCALHOST", "[::1]" + port, "10.1.2.3", "ui.example.com" + port,
		"UI.Example.com.", "a.corp.example" + port, "app.localhost"} {
		code, body := send(http.MethodGet, "/stats/requests", host)
		require.Equal(t, http.StatusOK, code, "%s: %s", host, body)
	}
}
