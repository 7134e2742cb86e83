package bench

import (
	"bufio"
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// The target's counters of the messages it exchanged with the devices.
const (
	metricReceived = "ltk_target_messages_received_total" // PUBLISHes the devices sent
	metricSent     = "ltk_target_messages_sent_total"     // PUBLISHes written to the devices
)

// scrapeTimeout bounds one read of the target's metrics: generous, since a
// target on a loaded machine can take seconds to answer.
const scrapeTimeout = 30 * time.Second

// traffic is what the target counted: the messages the devices published
// and those it delivered to them, by the time at reads them.
type traffic struct {
	received, sent float64
	at             time.Time
}

// messages is every message the devices handled: sent and received.
func (t traffic) messages() float64 { return t.received + t.sent }

// perSecond returns the messages per second from o to t.
func (t traffic) perSecond(o traffic) float64 {
	return (t.messages() - o.messages()) / t.at.Sub(o.at).Seconds()
}

// traffic reads the target's message counters from its metrics endpoint.
// The broker counts every message a device sent or was sent, including
// those no step of a scenario records, such as commands a device ignores.
func (t *targetProc) traffic(ctx context.Context) (traffic, error) {
	ctx, cancel := context.WithTimeout(ctx, scrapeTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, t.mURL, nil)
	if err != nil {
		return traffic{}, fmt.Errorf("read the target's message counts: %w", err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return traffic{}, fmt.Errorf("read the target's message counts: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return traffic{}, fmt.Errorf("read the target's message counts from %s: %s", t.mURL, resp.Status)
	}
	var tr traffic
	found := 0
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		name, value, ok := strings.Cut(sc.Text(), " ")
		var dst *float64
		switch {
		case !ok:
			continue
		case name == metricReceived:
			dst = &tr.received
		case name == metricSent:
			dst = &tr.sent
		default:
			continue
		}
		if *dst, err = strconv.ParseFloat(strings.TrimSpace(value), 64); err != nil {
			return traffic{}, fmt.Errorf("read the target's message counts: %s: %w", name, err)
		}
		found++
	}
	if err := sc.Err(); err != nil {
		return traffic{}, fmt.Errorf("read the target's message counts: %w", err)
	}
	tr.at = time.Now()
	if found != 2 {
		return traffic{}, fmt.Errorf("read the target's message counts: %s does not list %s and %s", t.mURL, metricReceived, metricSent)
	}
	return tr, nil
}
