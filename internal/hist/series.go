package hist

// ExecutionTimesPath is where ltk target serves its echo app's execution
// times over HTTP (on its metrics address): GET with start and end query
// parameters in Unix seconds returns a Series of the seconds in [start, end).
const ExecutionTimesPath = "/api/execution-times"

// A Series is the JSON body of ExecutionTimesPath: per-second histograms
// of the seconds in [Start, End) that hold any value, ascending.
type Series struct {
	Start   int64    `json:"start"`
	End     int64    `json:"end"`
	Seconds []Second `json:"seconds"`
}
