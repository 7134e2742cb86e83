package hist

import (
	"encoding/json"
	"fmt"
	"time"
)

// A Second is what was recorded in one wall-clock second: how many values,
// their exact sum and extremes, and their histogram.
type Second struct {
	Unix     int64         // the second, as Unix time
	Count    int64         // values recorded
	Sum      time.Duration // their sum
	Min, Max time.Duration // exact extremes; meaningful when Count > 0
	Counts   []int64       // bucket counts in the geometry's order, trailing zeros left off
}

// wireSecond is the JSON form of a Second: durations in nanoseconds, the
// histogram in the compact encoding (base64 in JSON).
type wireSecond struct {
	Unix  int64  `json:"unix"`
	Count int64  `json:"count"`
	Sum   int64  `json:"sum_ns"`
	Min   int64  `json:"min_ns"`
	Max   int64  `json:"max_ns"`
	Hist  []byte `json:"hist"`
}

// MarshalJSON encodes s as {"unix","count","sum_ns","min_ns","max_ns","hist"},
// where hist is the base64 of AppendEncode's bytes.
func (s Second) MarshalJSON() ([]byte, error) {
	return json.Marshal(wireSecond{
		Unix: s.Unix, Count: s.Count, Sum: int64(s.Sum), Min: int64(s.Min), Max: int64(s.Max),
		Hist: AppendEncode(nil, s.Counts),
	})
}

// UnmarshalJSON decodes what MarshalJSON wrote and checks it (see Validate).
func (s *Second) UnmarshalJSON(b []byte) error {
	var w wireSecond
	if err := json.Unmarshal(b, &w); err != nil {
		return err
	}
	counts, err := Decode(w.Hist)
	if err != nil {
		return fmt.Errorf("second %d: %w", w.Unix, err)
	}
	v := Second{Unix: w.Unix, Count: w.Count, Sum: time.Duration(w.Sum),
		Min: time.Duration(w.Min), Max: time.Duration(w.Max), Counts: counts}
	if err := v.Validate(); err != nil {
		return err
	}
	*s = v
	return nil
}

// Validate reports a Second whose parts disagree: a negative count, extremes
// out of order, or a histogram that does not hold one value per count (see
// Check).
func (s *Second) Validate() error {
	switch {
	case s.Count < 0 || s.Sum < 0:
		return fmt.Errorf("second %d: negative count %d or sum %v", s.Unix, s.Count, s.Sum)
	case s.Count > 0 && (s.Min < 0 || s.Min > s.Max):
		return fmt.Errorf("second %d: min %v and max %v out of order", s.Unix, s.Min, s.Max)
	}
	if err := Check(s.Counts, s.Count); err != nil {
		return fmt.Errorf("second %d: %w", s.Unix, err)
	}
	return nil
}

// A Total sums Seconds. The zero value is empty and ready to use.
type Total struct {
	Count    int64
	Sum      time.Duration
	Min, Max time.Duration // exact; meaningful when Count > 0
	Counts   []int64       // Len buckets once anything was added
}

// Add adds s to t.
func (t *Total) Add(s *Second) {
	if s.Count == 0 {
		return
	}
	if t.Count == 0 || s.Min < t.Min {
		t.Min = s.Min
	}
	t.Max = max(t.Max, s.Max)
	t.Count += s.Count
	t.Sum += s.Sum
	if t.Counts == nil {
		t.Counts = make([]int64, Len)
	}
	Add(t.Counts, s.Counts)
}

// Mean returns the average value, 0 with none.
func (t *Total) Mean() time.Duration {
	if t.Count == 0 {
		return 0
	}
	return t.Sum / time.Duration(t.Count)
}

// Quantile returns the value that a fraction q (0 to 1) of the values are at
// most (see the package function Quantile), never below Min or above Max,
// which q <= 0 and q >= 1 return exactly. It is 0 with no values.
func (t *Total) Quantile(q float64) time.Duration {
	var out [1]time.Duration
	t.Quantiles([]float64{q}, out[:])
	return out[0]
}

// Quantiles sets out[i] to Quantile(qs[i]) in one pass over the buckets;
// qs must be ascending and len(out) == len(qs).
func (t *Total) Quantiles(qs []float64, out []time.Duration) {
	Quantiles(t.Counts, t.Count, qs, out)
	for i, q := range qs {
		switch {
		case t.Count == 0:
			out[i] = 0
		case q <= 0:
			out[i] = t.Min
		case q >= 1:
			out[i] = t.Max // exact, even beyond the geometry's range
		default:
			out[i] = min(max(out[i], t.Min), t.Max)
		}
	}
}
