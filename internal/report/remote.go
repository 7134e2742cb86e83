package report

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/ltk-dev/ltk/internal/hist"
)

// maxRemoteBody bounds the execution times read from a target (a day of
// seconds takes a few tens of MB).
const maxRemoteBody = 256 << 20

// FetchExecutionTimes gets the echo app's execution times of the seconds
// [lo, hi) from a remote ltk target's HTTP endpoint. base is the target's
// metrics address as a URL (http://host:9883) or the endpoint's full URL.
func FetchExecutionTimes(ctx context.Context, client *http.Client, base string, lo, hi int64) ([]hist.Second, error) {
	u, err := url.Parse(base)
	if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
		return nil, fmt.Errorf("target URL %q: want the target's metrics address, like http://host:9883", base)
	}
	if strings.TrimSuffix(u.Path, "/") == "" {
		u.Path = hist.ExecutionTimesPath
	}
	q := u.Query()
	q.Set("start", strconv.FormatInt(lo, 10))
	q.Set("end", strconv.FormatInt(hi, 10))
	u.RawQuery = q.Encode()
	if client == nil {
		client = http.DefaultClient
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, err
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("fetch execution times: %w (is ltk target running with --metrics-addr?)", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		return nil, fmt.Errorf("fetch execution times from %s: %s: %s", u.Redacted(), resp.Status, strings.TrimSpace(string(msg)))
	}
	var s hist.Series
	if err := json.NewDecoder(io.LimitReader(resp.Body, maxRemoteBody)).Decode(&s); err != nil {
		return nil, fmt.Errorf("read execution times from %s: %w", u.Redacted(), err)
	}
	var out []hist.Second
	for _, sec := range s.Seconds {
		if sec.Unix < lo || sec.Unix >= hi {
			continue
		}
		if n := len(out); n > 0 && out[n-1].Unix >= sec.Unix {
			return nil, fmt.Errorf("execution times from %s: seconds out of order", u.Redacted())
		}
		out = append(out, sec)
	}
	return out, nil
}
