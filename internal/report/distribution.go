package report

import (
	"encoding/csv"
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/ltk-dev/ltk/internal/hist"
)

// DefaultBucket is the width of harvest's frequency-distribution buckets,
// as the tutorial's harvestData used.
const DefaultBucket = 100 * time.Millisecond

// MinBucket is the narrowest bucket: the histograms' resolution.
const MinBucket = time.Microsecond

// maxDistributionRows bounds a distribution file: a bucket too narrow for
// the times measured is an error that asks for a wider one.
const maxDistributionRows = 200_000

// A Named is a histogram total with the entry it belongs to.
type Named struct {
	Type, Name string
	hist.Total
}

// Distribution regroups counts (histogram buckets) into buckets of width:
// bucket i counts the values in [i·width, (i+1)·width), up to the last
// non-empty one. Each histogram bucket goes whole into the bucket holding
// its middle, so a value within 1% of an edge may land on either side.
func Distribution(counts []int64, width time.Duration) []int64 {
	var out []int64
	for i, c := range counts {
		if c == 0 {
			continue
		}
		b := int(hist.Mid(i) / width)
		for len(out) <= b {
			out = append(out, 0)
		}
		out[b] += c
	}
	return out
}

// distributionLen is len(Distribution(counts, width)), without making it.
func distributionLen(counts []int64, width time.Duration) int {
	for i := len(counts) - 1; i >= 0; i-- {
		if counts[i] != 0 {
			return int(hist.Mid(i)/width) + 1
		}
	}
	return 0
}

// WriteDistributionCSV writes the frequency distribution of each total, one
// row per bucket from 0 to the last non-empty one:
//
//	Type,Name,Bucket Start (ms),Bucket End (ms),Count,Cumulative %
//
// A bucket holds the times from its start (included) to its end (excluded).
// The counts of a total add up to its Count.
func WriteDistributionCSV(w io.Writer, totals []Named, width time.Duration) error {
	if width <= 0 {
		return fmt.Errorf("bucket width %v: want a positive duration such as 100ms", width)
	}
	rows := 0
	for _, t := range totals {
		rows += distributionLen(t.Counts, width)
	}
	if rows > maxDistributionRows { // counted before anything is allocated: a 1 ns bucket would take gigabytes
		return fmt.Errorf("%v buckets make %d rows (the longest time is %v): use a wider bucket", width, rows, maxOf(totals))
	}
	dists := make([][]int64, len(totals))
	for i, t := range totals {
		dists[i] = Distribution(t.Counts, width)
	}
	cw := csv.NewWriter(w)
	if err := cw.Write([]string{"Type", "Name", "Bucket Start (ms)", "Bucket End (ms)", "Count", "Cumulative %"}); err != nil {
		return err
	}
	for i, t := range totals {
		var seen int64
		for b, c := range dists[i] {
			seen += c
			if err := cw.Write([]string{t.Type, t.Name, msEdge(time.Duration(b) * width), msEdge(time.Duration(b+1) * width),
				strconv.FormatInt(c, 10), strconv.FormatFloat(100*float64(seen)/float64(t.Count), 'f', 2, 64)}); err != nil {
				return err
			}
		}
	}
	cw.Flush()
	return cw.Error()
}

func maxOf(totals []Named) time.Duration {
	var m time.Duration
	for _, t := range totals {
		m = max(m, t.Max)
	}
	return m
}

// msEdge formats a bucket edge in milliseconds, as short as it is exact.
func msEdge(d time.Duration) string {
	return strconv.FormatFloat(float64(d)/float64(time.Millisecond), 'f', -1, 64)
}

// ms formats a duration in milliseconds with two decimals.
func ms(d time.Duration) string {
	return strconv.FormatFloat(float64(d)/float64(time.Millisecond), 'f', 2, 64)
}

// driverTotals returns the entries' totals as Named, for the distribution.
func driverTotals(d *Data) []Named {
	var out []Named
	for _, e := range d.Entries() {
		out = append(out, Named{Type: e.Type, Name: e.Name, Total: e.Total})
	}
	return out
}

// FunctionEntry names the echo app's execution times in harvest's files.
var FunctionEntry = [2]string{"function", "echo execution"}

// functionTotals returns the execution times as one Named, or none.
func functionTotals(d *Data) []Named {
	t := d.ExecTotal()
	if t.Count == 0 {
		return nil
	}
	return []Named{{Type: FunctionEntry[0], Name: FunctionEntry[1], Total: t}}
}
