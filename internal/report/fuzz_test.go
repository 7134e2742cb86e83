package report

import (
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"
)

// FuzzWindow parses any two strings as harvest's START and END: an error
// wraps ErrBadTime and quotes the input; a time is UTC and formats back to
// a string that parses to the same instant; a window whose END is after
// its START covers whole seconds lo ≤ hi that the store's milliseconds
// hold without overflow.
func FuzzWindow(f *testing.F) {
	f.Add("2026-11-25T20:00:00Z", "2026-11-25T21:00:00Z")
	f.Add("2026-11-25T20:00:00.5+02:00", "2026-11-25T20:00:01.25Z")
	f.Add("0000-01-01T00:00:00Z", "9999-12-31T23:59:59.999999999Z")
	f.Add("2026-11-25 20:00", "yesterday")
	f.Add("2026-11-25T20:00:00-23:59", "2026-02-30T00:00:00Z")
	f.Fuzz(func(t *testing.T, a, b string) {
		start, errA := ParseTime(a)
		end, errB := ParseTime(b)
		for i, err := range []error{errA, errB} {
			if err != nil && (!errors.Is(err, ErrBadTime) || !strings.Contains(err.Error(), strconv.Quote([]string{a, b}[i]))) {
				t.Fatalf("error %v does not wrap ErrBadTime or quote the input", err)
			}
		}
		if errA != nil || errB != nil {
			return
		}
		for _, tm := range []time.Time{start, end} {
			if tm.Location() != time.UTC {
				t.Fatalf("%v is not UTC", tm)
			}
			again, err := ParseTime(tm.Format(time.RFC3339Nano))
			if err != nil || !again.Equal(tm) {
				t.Fatalf("%v formats back to %v, %v", tm, again, err)
			}
		}
		if !end.After(start) {
			return
		}
		lo, hi := Seconds(start, end)
		if lo > hi || hi-lo > end.Unix()-start.Unix()+1 {
			t.Fatalf("window %v–%v: seconds %d–%d", start, end, lo, hi)
		}
		if ms := hi * 1000; ms/1000 != hi || (lo*1000)/1000 != lo {
			t.Fatalf("seconds %d–%d overflow as milliseconds", lo, hi)
		}
	})
}
