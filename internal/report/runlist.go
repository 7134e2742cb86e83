package report

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"
)

// WriteRunList writes runs as a table, one run a line, oldest first, with
// what ltk harvest --run and ltk cost --run take (id or name), each run's
// start and stop (UTC, RFC 3339), its test (devices, spawn rate, nodes) and
// the broker it drove. A run without a stop time says so: its process died
// (or it still runs).
func WriteRunList(w io.Writer, runs []RunInfo) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tNAME\tSTART\tSTOP\tDEVICES\tRATE/S\tNODES\tTARGET\tSCENARIO")
	for _, r := range runs {
		stop := "not ended"
		if !r.Stop.IsZero() {
			stop = r.Stop.Format(time.RFC3339)
		}
		scenario := r.ScenarioName()
		if scenario == "" {
			scenario = "-"
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%d\t%g\t%d\t%s\t%s\n", r.ID, r.Name, r.Start.Format(time.RFC3339), stop,
			r.Devices, r.SpawnRate, r.Nodes, orDash(r.Target), scenario)
	}
	if err := tw.Flush(); err != nil {
		return fmt.Errorf("write the run list: %w", err)
	}
	return nil
}

func orDash(s string) string {
	if strings.TrimSpace(s) == "" {
		return "-"
	}
	return s
}
