package web_test

import (
	"encoding/json"
	"io"
	"math"
	"net/http"
	"strings"
	"testing"

	"github.com/ltk-dev/ltk/internal/web"
	"github.com/ltk-dev/ltk/internal/web/webtest"
)

// FuzzSwarmForm posts any body as the POST /swarm form to a real server
// over a fake controller of 100 devices: the answer is 200 or 400 with
// Locust's JSON ({"success": …, "message": …}); a 400 says what is wrong
// and starts nothing; a 200 started 0 to 100 devices at a finite rate of
// 0 or more.
func FuzzSwarmForm(f *testing.F) {
	ctrl := webtest.New(100, 2)
	s := webtest.Start(f, ctrl, web.Config{})
	url := "http://" + s.Addr() + "/swarm"
	for _, body := range []string{
		"user_count=10&spawn_rate=2&run_time=1h20m",
		"user_count=5&spawn_rate=0.5&run_time=20",
		"user_count=-5", "user_count=101", "spawn_rate=abc&user_count=1", "user_count=1&spawn_rate=NaN",
		"user_count=1&run_time=-5s", "user_count=1&host=tcp%3A%2F%2Fother%3A1883", "user_count=%zz",
		"user_count=9223372036854775807&run_time=1e300",
	} {
		f.Add(body)
	}
	f.Fuzz(func(t *testing.T, body string) {
		before := len(ctrl.Swarms())
		req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, url, strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		raw, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			t.Fatal(err)
		}
		var answer struct {
			Success *bool  `json:"success"`
			Message string `json:"message"`
		}
		if err := json.Unmarshal(raw, &answer); err != nil || answer.Success == nil {
			t.Fatalf("%d %q: not Locust's JSON: %v", resp.StatusCode, raw, err)
		}
		swarms := ctrl.Swarms()
		switch resp.StatusCode {
		case http.StatusOK:
			if !*answer.Success || len(swarms) != before+1 {
				t.Fatalf("200 %q after %d swarms, now %d", raw, before, len(swarms))
			}
			if c := swarms[len(swarms)-1]; c.Count < 0 || c.Count > 100 || c.Rate < 0 || math.IsNaN(c.Rate) || math.IsInf(c.Rate, 0) {
				t.Fatalf("%q started %+v", body, c)
			}
		case http.StatusBadRequest:
			if *answer.Success || answer.Message == "" || len(swarms) != before {
				t.Fatalf("400 %q, swarms %d → %d", raw, before, len(swarms))
			}
		default:
			t.Fatalf("status %d: %s", resp.StatusCode, raw)
		}
	})
}
