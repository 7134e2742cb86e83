package sim

import (
	"errors"
	"fmt"

	"github.com/ltk-dev/ltk/internal/runset"
)

// Check reports what is wrong with p for the engine, naming the part and
// what to do: missing templates, a QoS the clients do not speak, an
// expectation without its keys, timeout or events.
func (p *Program) Check() error {
	var errs []error
	qos := func(what string, q byte) {
		if q > 2 {
			errs = append(errs, fmt.Errorf("program %q: %s: QoS %d does not exist in MQTT: use 0, 1 or 2", p.Kind, what, q))
		}
	}
	if p.Will != nil {
		if p.Will.Topic == nil {
			errs = append(errs, fmt.Errorf("program %q: the will has no topic", p.Kind))
		}
		qos("will", p.Will.QoS)
	}
	for i, s := range p.Subscribe {
		if s.Filter == nil {
			errs = append(errs, fmt.Errorf("program %q: subscription %d has no filter", p.Kind, i+1))
		}
		qos(fmt.Sprintf("subscription %d", i+1), s.QoS)
	}
	for i := range len(p.OnConnect) + len(p.Periodic) {
		pub := p.step(i)
		what := fmt.Sprintf("publish %d", i+1)
		if pub == nil || pub.Topic == nil {
			errs = append(errs, fmt.Errorf("program %q: %s has no topic", p.Kind, what))
			continue
		}
		qos(what, pub.QoS)
		if i >= len(p.OnConnect) && pub.Every == nil {
			errs = append(errs, fmt.Errorf("program %q: periodic %s has no schedule (Every)", p.Kind, what))
		}
		if err := pub.Expect.check(p.Kind, what); err != nil {
			errs = append(errs, err)
		}
	}
	for i, r := range p.Reactions {
		what := fmt.Sprintf("reaction %d", i+1)
		if r == nil || r.Filter == nil || r.Reply.Topic == nil {
			errs = append(errs, fmt.Errorf("program %q: %s needs a filter and a reply topic", p.Kind, what))
			continue
		}
		qos(what, r.Reply.QoS)
		if err := r.Expect.check(p.Kind, what); err != nil {
			errs = append(errs, err)
		}
	}
	if n := len(p.OnConnect) + len(p.Periodic) + len(p.Reactions); n > maxSources {
		errs = append(errs, fmt.Errorf("program %q: %d publishes and reactions: a program has at most %d", p.Kind, n, maxSources))
	}
	if err := runset.CheckMQTTVersion(p.MQTTVersion); err != nil {
		errs = append(errs, fmt.Errorf("program %q: %w", p.Kind, err))
	}
	if p.StateSize < 0 {
		errs = append(errs, fmt.Errorf("program %q: StateSize is negative", p.Kind))
	}
	return errors.Join(errs...)
}

// check reports what is wrong with x, the expectation of step what of
// program kind; a nil x is none.
func (x *Expect) check(kind, what string) error {
	switch {
	case x == nil:
		return nil
	case x.Filter == nil || x.SentKey == nil || x.RecvKey == nil:
		return fmt.Errorf("program %q: %s: its expectation needs a filter, SentKey and RecvKey", kind, what)
	case x.Timeout <= 0:
		return fmt.Errorf("program %q: %s: its expectation's timeout %v is not positive", kind, what, x.Timeout)
	}
	return nil
}

// maxQoS returns the highest QoS p publishes, subscribes or wills with.
func (p *Program) maxQoS() byte {
	var q byte
	if p.Will != nil {
		q = p.Will.QoS
	}
	for _, s := range p.Subscribe {
		q = max(q, s.QoS)
	}
	for i := range len(p.OnConnect) + len(p.Periodic) {
		if pub := p.step(i); pub != nil {
			q = max(q, pub.QoS)
		}
	}
	for _, r := range p.Reactions {
		if r != nil {
			q = max(q, r.Reply.QoS)
		}
	}
	return q
}

// CheckRun reports whether the MQTT client engine client can run plan's
// programs (nil = the built-in behaviours) for devices configured with
// version and qos (see CheckClientFeatures), reaching broker: the CLI and
// the workers ask before any device starts.
func CheckRun(client, broker, version string, qos byte, plan *Plan) error {
	if err := checkClientTransport(client, broker); err != nil {
		return err
	}
	if plan == nil {
		return CheckClientFeatures(client, version, qos)
	}
	var errs []error
	for _, p := range plan.Kinds {
		v := version
		if p.MQTTVersion != "" {
			v = p.MQTTVersion
		}
		if err := CheckClientFeatures(client, v, p.maxQoS()); err != nil {
			errs = append(errs, fmt.Errorf("kind %q: %w", p.Kind, err))
		}
	}
	return errors.Join(errs...)
}
