package scenario

import (
	"math/rand/v2"
	"slices"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/ltk-dev/ltk/internal/runset"
	"github.com/ltk-dev/ltk/internal/sim"
)

// compiler turns a decoded file into a sim.Plan, recording every error.
type compiler struct {
	e           *errs
	columns     map[string]int // column name -> its place in Plan.Columns
	columnNames []string
	events      []sim.EventName
	eventIDs    map[sim.EventName]sim.Event
	eventAt     map[sim.EventName]int // the line that named it
}

func newCompiler(e *errs) *compiler {
	c := &compiler{
		e: e, columns: map[string]int{}, events: sim.BuiltinEvents(),
		eventIDs: map[sim.EventName]sim.Event{}, eventAt: map[sim.EventName]int{},
	}
	for i, name := range c.events {
		c.eventIDs[name] = sim.Event(i)
	}
	return c
}

// reservedEvents are recorded by the engine for every device; no step may
// take their names.
var reservedEvents = []sim.Event{sim.EventConnect, sim.EventSubscribe, sim.EventDisconnect}

// event returns the Event of the stats entry (typ, name), named at n. Each
// name belongs to one step: naming a second one the same is an error. A
// built-in name (echo receive, MQTT publish...) maps to the built-in event,
// so a scenario can reproduce the tutorial's stats exactly.
func (c *compiler) event(n *yaml.Node, typ, name string) sim.Event {
	key := sim.EventName{Type: typ, Name: name}
	if line, taken := c.eventAt[key]; taken {
		c.e.at(n, "%q (type %q) already names the step at line %d: give each step its own name (it is its row in the stats)", name, typ, line)
		return sim.EventNone
	}
	c.eventAt[key] = n.Line
	if id, ok := c.eventIDs[key]; ok {
		for _, r := range reservedEvents {
			if id == r {
				c.e.at(n, "%q (type %q) is recorded by every device itself: choose another name", name, typ)
				return sim.EventNone
			}
		}
		return id
	}
	if len(c.events) >= int(sim.EventNone) {
		c.e.at(n, "too many named steps")
		return sim.EventNone
	}
	id := sim.Event(len(c.events))
	c.events = append(c.events, key)
	c.eventIDs[key] = id
	return id
}

// kindCompiler compiles one kind.
type kindCompiler struct {
	*compiler
	info  *kindInfo
	walks []walkPart
	subs  []string // the subscriptions' filters rendered for a sample device, $share/... stripped
	v5    bool     // the kind connects with MQTT 5 (connect.mqtt_version: 5)
}

// newWalk allots a Vars.State slot to a random walk.
func (k *kindCompiler) newWalk(p walkPart) int {
	p.slot = len(k.walks)
	k.walks = append(k.walks, p)
	return p.slot
}

// kindInfo is a compiled kind and what Check needs to estimate its traffic.
type kindInfo struct {
	name      string
	weight    int // 0 for a kind given by count
	count     int
	prog      *sim.Program
	sample    func() *sim.Vars // a sample device of the kind
	periodic  []pubEstimate
	onConnect []pubEstimate
	reactions []reactEstimate
	mqtt5     []string // the MQTT 5 features it uses, for people
}

// Scopes of the templates.
var (
	connScope    = scope{what: "connection field", noPad: true}
	topicScope   = scope{what: "topic", noPad: true}
	payloadScope = scope{what: "payload"}
)

// kind compiles kind name, declared at n.
func (c *compiler) kind(name string, n *yaml.Node, ks *kindSpec) *kindInfo {
	k := &kindCompiler{compiler: c, info: &kindInfo{name: name, prog: &sim.Program{Kind: name}}}
	where := "kind " + name
	switch {
	case ks.Weight.set() && ks.Count.set():
		c.e.at(ks.Count.n, "%s: give a weight (a share of the fleet) or a count (a fixed number of clients, such as a back end), not both", where)
	case ks.Weight.set():
		k.info.weight = c.e.integer(ks.Weight, where+": weight", 1, 1_000_000, 1)
	case ks.Count.set():
		k.info.count = c.e.integer(ks.Count, where+": count", 1, 10_000, 1)
		k.info.prog.Backend = true
	default:
		c.e.at(n, "%s: give a weight (its share of the fleet, such as weight: 90) or a count (a fixed number of clients, such as count: 4)", where)
	}
	k.info.sample = k.sample
	p := k.info.prog
	if cs := ks.Connect; cs != nil {
		p.ClientID = tmpl(k.template(cs.ClientID, where+": connect.client_id", connScope))
		p.Username = tmpl(k.template(cs.Username, where+": connect.username", connScope))
		p.Password = tmpl(k.template(cs.Password, where+": connect.password", connScope))
		p.KeepAlive = c.e.duration(cs.KeepAlive, where+": connect.keepalive", 0)
		if p.KeepAlive > 0 && p.KeepAlive < time.Second {
			c.e.at(cs.KeepAlive.n, "%s: connect.keepalive %v is below MQTT's 1 s resolution: use at least 1s", where, p.KeepAlive)
		}
		p.KeepSession = !c.e.boolean(cs.CleanSession, where+": connect.clean_session", true)
		if v, ok := c.e.scalar(cs.MQTTVersion, where+": connect.mqtt_version"); ok {
			if err := runset.CheckMQTTVersion(v); err != nil {
				c.e.at(cs.MQTTVersion.n, "%s: connect.mqtt_version: %v", where, err)
			}
			p.MQTTVersion = v
			k.v5 = v == runset.MQTTVersion5
		}
		if cs.Will != nil {
			if ps := cs.Will.Properties; ps != nil {
				c.e.at(ps.node, "%s: connect.will: a will takes no properties here: give them to a publish step or a reply", where)
				cs.Will.Properties = nil
			}
			p.Will = k.message(cs.Will, ks.node, where+": connect.will")
		}
	}
	for _, ss := range ks.Subscribe {
		k.subscription(&ss, where)
	}
	for i := range ks.Publish {
		k.publish(&ks.Publish[i], where)
	}
	for i := range ks.React {
		k.reaction(&ks.React[i], where)
	}
	if len(p.OnConnect)+len(p.Periodic)+len(p.Reactions) == 0 {
		c.e.at(n, "%s: does nothing: give it a publish: or a react: step", where)
	}
	if walks := k.walks; len(walks) > 0 {
		p.StateSize = len(walks)
		p.Init = func(v *sim.Vars) {
			for i, w := range walks {
				if i < len(v.State) {
					v.State[i] = w.start(v)
				}
			}
		}
	}
	return k.info
}

// tmpl returns t as a sim.Template, nil when t is nil (an absent template
// must stay a nil interface).
func tmpl(t *Template) sim.Template {
	if t == nil {
		return nil
	}
	return t
}

// subscription compiles one subscription.
func (k *kindCompiler) subscription(ss *subscribeSpec, where string) {
	where += ": subscribe"
	if !ss.Topic.set() {
		k.e.at(ss.node, "%s: needs a topic (a topic filter, such as /devices/{{device}}/commands/#)", where)
		return
	}
	t := k.template(ss.Topic, where+".topic", topicScope)
	if t == nil {
		return
	}
	filter := string(t.Append(nil, k.sample()))
	if msg := checkFilter(filter); msg != "" {
		k.e.at(ss.Topic.n, "%s: topic %q: %s", where, filter, msg)
	}
	_, bare, _ := splitShare(filter)
	k.subs = append(k.subs, bare)
	sub := sim.Subscription{Filter: t, QoS: k.e.qos(ss.QoS, where+".qos", 0)}
	k.subscribeOptions(ss, &sub, where)
	k.info.prog.Subscribe = append(k.info.prog.Subscribe, sub)
}

// message compiles a will or a reply; parent is where a missing topic is
// reported.
func (k *kindCompiler) message(ms *messageSpec, parent *yaml.Node, where string) *sim.Message {
	m := &sim.Message{}
	k.fillMessage(m, ms, parent, where, payloadScope)
	return m
}

// fillMessage compiles ms into m, its payload for scope sc.
func (k *kindCompiler) fillMessage(m *sim.Message, ms *messageSpec, parent *yaml.Node, where string, sc scope) {
	m.QoS = k.e.qos(ms.QoS, where+".qos", 0)
	m.Retain = k.e.boolean(ms.Retain, where+".retain", false)
	m.Payload = &Template{pad: -1} // an absent payload is empty
	if ms.Payload.set() {
		sc.json = ms.Payload.n.Kind == yaml.ScalarNode && isJSON(ms.Payload.n.Value)
		if pt := k.template(ms.Payload, where+".payload", sc); pt != nil {
			m.Payload = pt
		}
	}
	if ms.Properties != nil {
		m.Props = k.properties(ms.Properties, where+".properties", sc)
	}
	if !ms.Topic.set() {
		if sc.message && k.v5 {
			return // a reply of an MQTT 5 kind goes to the response topic (responder)
		}
		k.e.at(parent, "%s: needs a topic", where)
		return
	}
	topicSc := topicScope
	topicSc.message = sc.message
	if t := k.template(ms.Topic, where+".topic", topicSc); t != nil {
		m.Topic = t
		if off := wildcardAt(t.src); off >= 0 {
			k.errInside(ms.Topic.n, off, "%s.topic: %q is a wildcard, which a published topic cannot hold: name the topic exactly", where, t.src[off:off+1])
		}
	}
}

// sample returns the Vars of a sample device of the kind, for checks and
// estimates at load.
func (k *kindCompiler) sample() *sim.Vars {
	cols := slices.Clone(k.columnNames) // a sample device's column values: their names
	v := &sim.Vars{
		DeviceID: "LTK00001", ClientID: "LTK00001", Kind: k.info.name, Columns: cols,
		Rand: rand.New(rand.NewPCG(1, 2)), State: make([]float64, len(k.walks)),
		Seq: 1, Now: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC),
	}
	for i, w := range k.walks {
		v.State[i] = w.min
	}
	return v
}

// covered reports whether a subscription of the kind covers filter, which
// is rendered for the sample device.
func (k *kindCompiler) covered(filter string) bool {
	_, bare, _ := splitShare(filter)
	for _, s := range k.subs {
		if covers(s, bare) {
			return true
		}
	}
	return false
}

// fleetMix returns Plan.KindOf: the first devices of the fleet are the
// kinds given by count, in file order (a back end starts first), and the
// rest follow the weights in a smooth weighted round robin, whose cycle is
// computed once: with weights 90, 9 and 1 every 100 devices hold exactly
// 90, 9 and 1 of each kind, spread out, and KindOf(i) is a table look-up.
func (c *compiler) fleetMix(kinds []*kindInfo, root *yaml.Node) func(int) int {
	var fixed []int
	total := 0
	for i, k := range kinds {
		for range k.count {
			fixed = append(fixed, i)
		}
		total += k.weight
	}
	if total == 0 {
		if len(kinds) > 0 && len(fixed) > 0 {
			c.e.at(root, "kinds: no kind has a weight: give the fleet's devices one (weight: 1), and back ends a count")
		}
		return func(int) int { return 0 }
	}
	if total > 1_000_000 {
		c.e.at(root, "kinds: the weights add up to %d: keep them below 1000000 in all (percentages work well)", total)
		return func(int) int { return 0 }
	}
	cycle := make([]int, 0, total)
	current := make([]int, len(kinds))
	for range total {
		best := -1
		for i, k := range kinds {
			current[i] += k.weight
			if k.weight > 0 && (best < 0 || current[i] > current[best]) {
				best = i
			}
		}
		current[best] -= total
		cycle = append(cycle, best)
	}
	return func(i int) int {
		if i < len(fixed) {
			return fixed[i]
		}
		return cycle[(i-len(fixed))%len(cycle)]
	}
}

// names returns the (type, name) of a step: its type: (default the kind's
// name) and its name:, which it must have.
func (k *kindCompiler) names(typ, name value, node *yaml.Node, where string) (string, string, bool) {
	if !name.set() {
		k.e.at(node, "%s: needs a name: (it is the step's row in the stats)", where)
		return "", "", false
	}
	n := k.e.text(name, where+".name", "")
	t := k.e.text(typ, where+".type", k.info.name)
	if n == "" || t == "" {
		k.e.at(name.n, "%s: the name and type must not be empty", where)
		return "", "", false
	}
	return t, n, true
}
