// Command poll gets a URL at a steady rate for a while and prints, one line
// a request, how long it took (until its JSON body was read and decoded) and
// how late the poller woke for it, in microseconds: BenchmarkMasterWorkers's
// API client in a process of its own, so that its figures are the master's
// and not the benchmark's own scheduling of its 1,000 agents. The lateness
// is what the machine's load costs a process that does nearly nothing: a
// floor under the request's time.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"net/http"
	"os"
	"time"
)

func main() {
	url := flag.String("url", "", "the URL to get")
	every := flag.Duration("every", 100*time.Millisecond, "time between requests")
	d := flag.Duration("for", 20*time.Second, "how long to poll")
	flag.Parse()
	tick := time.NewTicker(*every)
	defer tick.Stop()
	due, idle := time.Now(), time.Now() // when the tick was due; when the last request ended
	for end := due.Add(*d); time.Now().Before(end); due = <-tick.C {
		t0 := time.Now()
		if idle.After(due) { // a tick that fell due during a request waited for it, not for a processor
			due = idle
		}
		resp, err := http.Get(*url)
		if err != nil {
			fmt.Fprintln(os.Stderr, "poll:", err)
			os.Exit(1)
		}
		var body struct{}
		err = json.NewDecoder(resp.Body).Decode(&body)
		resp.Body.Close()
		if err != nil || resp.StatusCode != http.StatusOK {
			fmt.Fprintf(os.Stderr, "poll: %s: %s, %v\n", *url, resp.Status, err)
			os.Exit(1)
		}
		idle = time.Now()
		fmt.Println(idle.Sub(t0).Microseconds(), t0.Sub(due).Microseconds())
	}
}
