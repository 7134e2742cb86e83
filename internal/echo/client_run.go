package echo

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"
	"github.com/eclipse/paho.mqtt.golang/packets"
)

// Client timings.
const (
	subscribeTimeout     = 10 * time.Second // bounds each SUBSCRIBE round trip
	connectRetryInterval = 500 * time.Millisecond
	maxReconnectInterval = 5 * time.Second
)

// onConnect (re)subscribes after every connect: the session is clean. If the
// broker refuses the shared filter (SUBACK 0x80), it subscribes to the plain
// one, so that at least this echo app works.
func (c *Client) onConnect(cl paho.Client) {
	filter := c.cfg.Topics.EventsFilter()
	if c.cfg.SharedGroup != "" {
		shared := SharedFilter(c.cfg.SharedGroup, filter)
		code, err := c.subscribe(cl, shared)
		switch {
		case err != nil:
			c.log.Error("echo: subscribe failed; reconnecting", "filter", shared, "error", err)
			return
		case code < 0x80:
			c.markSubscribed(shared)
			return
		}
		c.log.Warn("echo: broker refused the shared subscription; subscribing without sharing (run one echo app only)",
			"filter", shared, "suback", fmt.Sprintf("0x%02x", code))
	}
	code, err := c.subscribe(cl, filter)
	switch {
	case err != nil:
		c.log.Error("echo: subscribe failed", "filter", filter, "error", err)
	case code >= 0x80:
		c.log.Error("echo: broker refused the subscription; check the broker's ACL for this client", "filter", filter,
			"client", c.cfg.ClientID, "suback", fmt.Sprintf("0x%02x", code))
	default:
		c.markSubscribed(filter)
	}
}

// onConnectionNotification keeps the broker's refusal of a connect attempt,
// for the status line and Refusal, and logs it with what to do whenever it
// changes: paho retries a refused connect for ever, without a word.
func (c *Client) onConnectionNotification(_ paho.Client, n paho.ConnectionNotification) {
	var refusal error
	switch n := n.(type) {
	case paho.ConnectionNotificationConnected:
	case paho.ConnectionNotificationFailed:
		if errors.Is(n.Reason, packets.ErrorRefusedNotAuthorised) || errors.Is(n.Reason, packets.ErrorRefusedBadUsernameOrPassword) {
			refusal = c.loginRefused(n.Reason)
		}
	default:
		return
	}
	c.mu.Lock()
	changed := (refusal == nil) != (c.refusal == nil) || refusal != nil && refusal.Error() != c.refusal.Error()
	c.refusal = refusal
	c.mu.Unlock()
	if changed && refusal != nil {
		c.log.Error("echo: "+refusal.Error()+"; retrying", "broker", c.cfg.BrokerURL, "client", c.cfg.ClientID)
	}
}

// loginRefused says what a CONNACK refusing the echo app's login (reason)
// means and which flag fixes it.
func (c *Client) loginRefused(reason error) error {
	what := "it sent no password"
	if c.cfg.Password != "" {
		what = "the password given with --password is not the one it wants"
	}
	return fmt.Errorf("the broker refused the login (CONNACK %q): %s; with 'ltk target --auth jwt' a back end needs "+
		"the target's back-end token: start the target with --backend-token T and pass --password T "+
		"(or --password-file FILE) here; on another broker pass its --username and --password", reason.Error(), what)
}

// Refusal returns why the broker refused the last connect attempt (a bad
// or missing password), or nil if it did not or the client has connected
// since.
func (c *Client) Refusal() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.refusal
}

func (c *Client) subscribe(cl paho.Client, filter string) (int, error) {
	tok := cl.Subscribe(filter, *c.cfg.QoS, c.onMessage)
	if !tok.WaitTimeout(subscribeTimeout) {
		return 0, fmt.Errorf("no SUBACK within %v", subscribeTimeout)
	}
	if err := tok.Error(); err != nil {
		return 0, err
	}
	// One filter was sent; paho keys its result without any $share/GROUP/ prefix.
	for _, code := range tok.(*paho.SubscribeToken).Result() {
		return int(code), nil
	}
	return 0, fmt.Errorf("SUBACK without a code for %s", filter)
}

func (c *Client) markSubscribed(filter string) {
	c.log.Info("echo: subscribed", "filter", filter, "client", c.cfg.ClientID)
	c.subs.Add(1)
	c.subOnce.Do(func() { close(c.subscribed) })
}

// Run connects (retrying until the broker answers), echoes until ctx ends,
// then disconnects. It returns after its goroutines have exited, except that
// a reconnect attempt in progress inside paho may finish its back-off sleep
// (at most maxReconnectInterval) afterwards. Call it once.
func (c *Client) Run(ctx context.Context) (err error) {
	ctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Go(func() { _ = c.app.Run(ctx) })
	tok := c.mqtt.Connect() // with ConnectRetry it completes on the first success
	defer func() {
		c.mqtt.Disconnect(250) // first: no more Handle calls
		// paho's connect-retry loop sleeps without a way to wake it; wait
		// (briefly) for it to notice the disconnect, so it does not outlive Run.
		tok.WaitTimeout(connectRetryInterval + time.Second)
		cancel()
		if c.metricsSrv != nil {
			c.closeMetrics()
		}
		wg.Wait()
		if err == nil {
			err = c.metricsErr
		}
	}()
	if c.metricsSrv != nil {
		wg.Go(func() { c.serveMetrics(cancel) })
	}

	var tick <-chan time.Time
	if c.status != nil && c.cfg.StatusInterval > 0 {
		ticker := time.NewTicker(c.cfg.StatusInterval)
		defer ticker.Stop()
		tick = ticker.C
	}
	connected := tok.Done()
	for {
		select {
		case <-connected:
			if err := tok.Error(); err != nil {
				return fmt.Errorf("connect to %s: %w", c.cfg.BrokerURL, err)
			}
			connected = nil
		case <-tick:
			c.printStatus()
		case <-ctx.Done():
			if tick != nil {
				c.printStatus()
			}
			return nil
		}
	}
}

func (c *Client) printStatus() {
	s := c.app.Stats()
	state := "connected"
	if !c.mqtt.IsConnectionOpen() {
		state = "not connected"
		if err := c.Refusal(); err != nil {
			state = "not connected (" + err.Error() + ")"
		}
	}
	fmt.Fprintf(c.status, "ltk echo: %s, received %d, echoed %d, dropped %d, errors %d\n",
		state, s.Received, s.Echoed, s.Dropped, s.Errors)
}
