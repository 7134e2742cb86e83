package target

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/ltk-dev/ltk/internal/hist"
)

// ExecTimesKeep is how long the target keeps its echo app's execution
// times for ltk harvest --target: a day of per-second histograms (a few
// hundred bytes a second).
const ExecTimesKeep = 24 * time.Hour

// execTimes records the echo app's execution times by second and serves
// them at hist.ExecutionTimesPath on the metrics address.
type execTimes struct {
	rec *hist.Recorder
	now func() time.Time
}

// serveExecTimes records the echo app's execution times (keeping any
// Observer already configured) and serves them on mux. It runs before the
// echo app starts.
func (t *Target) serveExecTimes(mux *http.ServeMux) {
	e := &execTimes{rec: hist.NewRecorder(int(ExecTimesKeep / time.Second)), now: time.Now}
	next := t.cfg.Echo.Observer
	t.cfg.Echo.Observer = func(d time.Duration) {
		e.rec.Observe(d)
		if next != nil {
			next(d)
		}
	}
	mux.Handle(hist.ExecutionTimesPath, e)
}

// ServeHTTP answers GET ?start=UNIX&end=UNIX with a hist.Series of the
// seconds in [start, end); start defaults to a day ago, end to now (the
// current second included).
func (e *execTimes) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "use GET", http.StatusMethodNotAllowed)
		return
	}
	end := e.now().Unix() + 1
	start := end - int64(ExecTimesKeep/time.Second)
	for _, p := range []struct {
		name string
		v    *int64
	}{{"start", &start}, {"end", &end}} {
		if s := r.URL.Query().Get(p.name); s != "" {
			n, err := strconv.ParseInt(s, 10, 64)
			if err != nil {
				http.Error(w, fmt.Sprintf("%s=%q: want Unix seconds, such as %d", p.name, s, e.now().Unix()), http.StatusBadRequest)
				return
			}
			*p.v = n
		}
	}
	if end < start {
		http.Error(w, fmt.Sprintf("end %d is before start %d", end, start), http.StatusBadRequest)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(hist.Series{Start: start, End: end, Seconds: e.rec.Seconds(start, end)})
}
