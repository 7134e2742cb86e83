package scenario

import (
	"slices"

	"go.yaml.in/yaml/v3"

	"github.com/ltk-dev/ltk/internal/sim"
)

// pubEstimate is what Check knows of a publish step.
type pubEstimate struct {
	name    string
	perSec  float64 // messages per device per second (0 for on-connect publishes)
	count   int     // messages each time (a burst's size)
	bytes   int     // payload bytes of a sample message
	topic   []string
	expects bool
	pub     *sim.Publish
}

// reactEstimate is what Check knows of a reaction.
type reactEstimate struct {
	name      string
	filter    []string // without $share/GROUP
	shared    bool     // each message reaches one client of the group
	perDevice bool     // the filter names the device: each message reaches one device
	bytes     int
	reply     []string // the reply's topic
	expects   bool
	when      func(*sim.Vars) bool
}

// publish compiles one publish step.
func (k *kindCompiler) publish(ps *publishSpec, where string) {
	typ, name, ok := k.names(ps.Type, ps.Name, ps.node, where+": publish")
	if !ok {
		return
	}
	where += ": publish " + name
	pub := &sim.Publish{Event: k.event(ps.Name.n, typ, name), Burst: 1}
	k.fillMessage(&pub.Message, &ps.messageSpec, ps.node, where, payloadScope)
	est := pubEstimate{name: name, count: 1, pub: pub}
	periodic := false
	switch {
	case ps.On.set() && ps.Every.set():
		k.e.at(ps.On.n, "%s: give on: connect or every:, not both", where)
	case ps.On.set():
		if on := k.e.text(ps.On, where+".on", "connect"); on != "connect" {
			k.e.at(ps.On.n, "%s: on: %q: the one event a publish happens on is connect (for a schedule use every:)", where, on)
		}
		for _, v := range []value{ps.Jitter, ps.Burst, ps.BurstGap} {
			if v.set() {
				k.e.at(v.n, "%s: jitter, burst and burst_gap are for publishes with every:", where)
			}
		}
	case ps.Every.set():
		periodic = true
		if s, ok := k.e.schedule(ps.Every, where+".every", true); ok {
			pub.Every = s.every
			est.perSec = 1 / s.mean.Seconds()
		}
		pub.Jitter = k.e.boolean(ps.Jitter, where+".jitter", true)
		pub.Burst = k.e.integer(ps.Burst, where+".burst", 1, 100_000, 1)
		pub.BurstGap = k.e.duration(ps.BurstGap, where+".burst_gap", 0)
		est.count = pub.Burst
	default:
		k.e.at(ps.node, "%s: say when it publishes: on: connect, or every: 10s (or a range, 2s..8s, or Poisson arrivals, poisson 10s)", where)
	}
	if ps.Expect != nil {
		pub.Expect = k.expect(ps.Expect, &pub.Message, typ, name, where)
		est.expects = true
	}
	if t, ok := pub.Topic.(*Template); ok {
		est.topic = t.pattern()
	}
	est.bytes = len(pub.Payload.Append(nil, k.sample()))
	if periodic {
		k.info.prog.Periodic = append(k.info.prog.Periodic, pub)
		k.info.periodic = append(k.info.periodic, est)
	} else {
		k.info.prog.OnConnect = append(k.info.prog.OnConnect, pub)
		k.info.onConnect = append(k.info.onConnect, est)
	}
}

// nodeOr returns v's node, or def when v is absent.
func nodeOr(v value, def *yaml.Node) *yaml.Node {
	if v.set() {
		return v.n
	}
	return def
}

// expect compiles the reply a publish awaits; typ and name are the
// publish's.
func (k *kindCompiler) expect(es *expectSpec, sent *sim.Message, typ, name, where string) *sim.Expect {
	where += ": expect"
	x := &sim.Expect{Late: sim.EventNone}
	if !es.Topic.set() {
		k.e.at(es.node, "%s: needs a topic: the topic filter replies arrive on", where)
	} else if t := k.template(es.Topic, where+".topic", topicScope); t != nil {
		x.Filter = t
		filter := string(t.Append(nil, k.sample()))
		if msg := checkFilter(filter); msg != "" {
			k.e.at(es.Topic.n, "%s.topic %q: %s", where, filter, msg)
		} else if !k.covered(filter) {
			k.e.at(es.Topic.n, "%s.topic %q is not covered by a subscription of kind %s: add it under subscribe:", where, filter, k.info.name)
		}
	}
	if !es.Timeout.set() {
		k.e.at(es.node, "%s: needs a timeout: how long to wait for each reply, such as timeout: 30s", where)
	} else if s, ok := k.e.scalar(es.Timeout, where+".timeout"); ok {
		if d, ok := k.e.parseDuration(es.Timeout.n, where+".timeout", s); ok && d == 0 {
			k.e.at(es.Timeout.n, "%s.timeout must be above zero", where)
		} else {
			x.Timeout = d
		}
	}
	x.Exclusive = k.e.boolean(es.Wait, where+".wait", false)
	typ = k.e.text(es.Type, where+".type", typ)
	match := k.e.text(es.Name, where+".name", name+" reply")
	miss := k.e.text(es.Miss, where+".miss", name+" timeout")
	late := k.e.text(es.Late, where+".late", name+" late")
	last := k.e.text(es.LastMiss, where+".last_miss", miss)
	x.Match = k.event(nodeOr(es.Name, es.node), typ, match)
	x.Miss = k.event(nodeOr(es.Miss, es.node), typ, miss)
	x.Late = k.event(nodeOr(es.Late, es.node), typ, late)
	x.LastMiss = x.Miss
	if last != miss {
		x.LastMiss = k.event(nodeOr(es.LastMiss, es.node), typ, last)
	}
	k.correlate(es, x, sent, where)
	return x
}

// reaction compiles one reaction.
func (k *kindCompiler) reaction(rs *reactSpec, where string) {
	typ, name, ok := k.names(rs.Type, rs.Name, rs.node, where+": react")
	if !ok {
		return
	}
	where += ": react " + name
	r := &sim.Reaction{Event: k.event(rs.Name.n, typ, name)}
	est := reactEstimate{name: name}
	if !rs.Topic.set() {
		k.e.at(rs.node, "%s: needs a topic: the topic filter of the messages it answers", where)
	} else if t := k.template(rs.Topic, where+".topic", topicScope); t != nil {
		r.Filter = t
		filter := string(t.Append(nil, k.sample()))
		if msg := checkFilter(filter); msg != "" {
			k.e.at(rs.Topic.n, "%s.topic %q: %s", where, filter, msg)
		} else if !k.covered(filter) {
			k.e.at(rs.Topic.n, "%s.topic %q is not covered by a subscription of kind %s: add it under subscribe:", where, filter, k.info.name)
		}
		est.filter = t.pattern()
		if len(est.filter) > 2 && est.filter[0] == "$share" {
			est.filter, est.shared = est.filter[2:], true
		}
		for _, l := range est.filter {
			est.perDevice = est.perDevice || l == anyLevel
		}
	}
	r.When = k.condition(rs.When, where+".when")
	est.when = r.When
	if rs.Delay.set() {
		if s, ok := k.e.schedule(rs.Delay, where+".delay", false); ok {
			r.Delay = s.every
		}
	}
	if !rs.Reply.Topic.set() && !rs.Reply.Payload.set() {
		k.e.at(rs.node, "%s: needs a reply: the message it publishes (reply: {topic: ..., payload: ...})", where)
	} else {
		sc := payloadScope
		sc.message = true
		k.fillMessage(&r.Reply, &rs.Reply, rs.node, where+": reply", sc)
		k.responder(&rs.Reply, &r.Reply, where+": reply")
	}
	if rs.Expect != nil {
		r.Expect = k.expect(rs.Expect, &r.Reply, typ, name, where)
		est.expects = true
	}
	if t, ok := r.Reply.Topic.(*Template); ok && !slices.Contains(t.parts, part(vResponseTopic)) {
		est.reply = t.pattern() // a response topic is the request's: unknown here
	}
	if r.Reply.Payload != nil {
		v := k.sample()
		v.Topic, v.Payload = []byte("/devices/LTK00001/events"), []byte(`{}`)
		est.bytes = len(r.Reply.Payload.Append(nil, v))
	}
	k.info.prog.Reactions = append(k.info.prog.Reactions, r)
	k.info.reactions = append(k.info.reactions, est)
}
