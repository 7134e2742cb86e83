package sim

import (
	"math/rand/v2"
	"slices"
	"time"

	"github.com/ltk-dev/ltk/internal/mqttlean"
)

// Bounds of a device's memory of its program: what it keeps per run
// beyond the machine itself. A device of the echo program keeps one
// publish in flight and one expectation.
const (
	// maxInFlight bounds the QoS 1 publishes awaiting their PUBACK; a
	// publish beyond it is skipped and recorded as a failure.
	maxInFlight = 64
	// maxExpected bounds the replies awaited at once; beyond it the oldest
	// expectation counts as missed.
	maxExpected = 64
	// lateMemory is how many recently missed (or abandoned) expectations a
	// device remembers, so that their replies count as Late.
	lateMemory = 4
	// maxDelayed bounds the reactions' replies waiting for their delay.
	maxDelayed = 16
	// maxSources bounds a program's publishes and reactions together: a
	// device names them by a uint16.
	maxSources = 1<<16 - 1
)

// Failure messages of expectations without their own, and of reactions:
// constant, so recording them formats nothing.
const (
	msgMiss            = "no reply within the timeout"
	msgLastMiss        = "no reply to the last message within the last message timeout"
	msgEvicted         = "more replies awaited than a device keeps: the oldest counts as missed"
	msgTooManyDelayed  = "too many delayed replies waiting: the device skipped this one"
	msgEchoTimeout     = "no echo within the echo timeout"
	msgLastEchoTimeout = "no echo of the last message within the last message timeout"
	msgTooManyInFlight = "too many publishes await their acknowledgement: the device skipped this one"
)

// programRun is a device's own state of its Program for one run; the
// Program itself is shared.
type programRun struct {
	steps   []stepState              // one per source: OnConnect, Periodic, then Reactions (their seq only)
	acks    []pendingAck             // QoS 1 publishes awaiting their PUBACK
	exps    []expectation            // replies awaited, oldest first
	missed  *[lateMemory]expectation // made at the first miss
	nmissed int                      // missed entries written, ever; the ring's next slot is nmissed % lateMemory
	later   []delayedReply           // reactions' replies waiting for their delay
	state   []float64                // Vars.State
}

// A device's program keeps its times on the engine's clock: a
// time.Duration since the wheel's epoch (wheel.clock), 8 bytes where a
// time.Time takes 24, so that a device stays small.

// stepState is the state of one source: a publish step (a reaction uses
// only seq).
type stepState struct {
	next      time.Duration // Periodic: intended time of the next publish (engine clock)
	burstAt   time.Duration // the next message of the current burst (engine clock)
	seq       uint64        // the step's last sequence number
	burstLeft int           // messages of the current burst still to send
}

// A source is what sends messages: publish step i (OnConnect, then
// Periodic) is source i, reaction k is source len(OnConnect) +
// len(Periodic) + k.

// pendingAck is a publish awaiting its PUBACK.
type pendingAck struct {
	at     time.Duration // its intended send time (engine clock)
	key    uint64        // the expectation it registered, if hasKey
	id     uint16
	src    uint16 // its source
	ev     Event
	hasKey bool
	size   int32
}

// expectation is an awaited reply: to the message keyed key that source
// src sent (intended) at sentAt.
type expectation struct {
	sentAt time.Duration // engine clock
	key    uint64
	src    uint16
}

// delayedReply is a reaction's reply, rendered, waiting for its time.
type delayedReply struct {
	at             time.Duration // engine clock
	topic, payload []byte
	props          *mqttlean.Properties // owned by the reply
	key            uint64               // the reaction's expectation's key, if hasKey
	reaction       uint16
	hasKey         bool
}

// initRun makes the device's state of its program for a run: its steps,
// and Vars.State filled by Program.Init before the first connect (a will
// may read it).
func (m *machine) initRun(now time.Time) {
	p := m.prog
	m.run.init(p)
	if p.Init != nil {
		s := m.scratch(now)
		p.Init(&s.v)
		putScratch(s)
	}
}

func (r *programRun) init(p *Program) {
	r.steps = make([]stepState, p.publishes()+len(p.Reactions))
	if p.StateSize > 0 {
		r.state = make([]float64, p.StateSize)
	}
}

// publishes returns how many publish steps p has: the source of its first
// reaction.
func (p *Program) publishes() int { return len(p.OnConnect) + len(p.Periodic) }

// expectOf returns the expectation of source src (nil for none).
func (p *Program) expectOf(src int) *Expect {
	if n := p.publishes(); src >= n {
		return p.Reactions[src-n].Expect
	}
	return p.step(src).Expect
}

// step returns publish step i: OnConnect's, then Periodic's.
func (p *Program) step(i int) *Publish {
	if i < len(p.OnConnect) {
		return p.OnConnect[i]
	}
	return p.Periodic[i-len(p.OnConnect)]
}

// ackTimeout is the wait for a PUBACK.
func (m *machine) ackTimeout() time.Duration {
	if m.prog.AckTimeout > 0 {
		return m.prog.AckTimeout
	}
	return m.cfg.EchoTimeout
}

// usable reports whether the program may publish now.
func (m *machine) usable() bool {
	return m.conn != nil && m.link == linkUp && m.intent == intentNone
}

// programUp runs when a connection is up: the first time it starts the
// periodic schedules; every time it sends the OnConnect publishes.
func (m *machine) programUp(now time.Time) {
	p, r, w := m.prog, &m.run, m.cfg.Engine.wheel
	if !m.started {
		m.started = true
		for j, pub := range p.Periodic {
			st := &r.steps[len(p.OnConnect)+j]
			first := now // the first publish at once, on the wheel's grid
			if pub.Jitter {
				first = now.Add(time.Duration(rand.Float64() * float64(pub.Every(rand.Float64()))))
			}
			st.next = w.clock(w.ceil(first))
		}
	}
	for i := range p.OnConnect {
		m.publishStepAt(i, w.clock(now))
	}
	m.programWake(now)
}

// programWake does the program's due work: timeouts, delayed replies, then
// the periodic publishes.
func (m *machine) programWake(now time.Time) {
	if !m.started || m.progDone {
		return
	}
	p, r, w := m.prog, &m.run, m.cfg.Engine.wheel
	t := w.clock(now)
	if m.stopping {
		if m.lastWait {
			m.sendDelayed(t)
			if !now.Before(m.lastBy) {
				m.lastMisses()
			}
			m.settleLastWait()
		}
		return
	}
	ackTimeout := m.ackTimeout()
	for i := 0; i < len(r.acks); {
		if a := r.acks[i]; t-a.at >= ackTimeout {
			m.cfg.Recorder.Failure(a.ev, NoDuration, m.cfg.DeviceID, faultMsg(errPublishTimeout.Error()))
			m.abandon(a)
			r.acks = slices.Delete(r.acks, i, i+1)
			continue
		}
		i++
	}
	for i := 0; i < len(r.exps); {
		e := r.exps[i]
		if x := p.expectOf(int(e.src)); t-e.sentAt >= x.Timeout {
			m.miss(e, x.Miss, missMessage(x.MissMessage, msgMiss))
			r.exps = slices.Delete(r.exps, i, i+1)
			continue
		}
		i++
	}
	m.sendDelayed(t)
	for j, pub := range p.Periodic {
		i := len(p.OnConnect) + j
		st := &r.steps[i]
		for st.burstLeft > 0 && t >= st.burstAt {
			st.burstLeft--
			m.publishStepAt(i, st.burstAt)
			st.burstAt += pub.BurstGap
		}
		if t < st.next {
			continue
		}
		if !m.stepBusy(i, pub) {
			m.publishStepAt(i, st.next)
			if pub.Burst > 1 {
				st.burstLeft, st.burstAt = pub.Burst-1, st.next+pub.BurstGap
			}
		}
		// The next interval, or now when further behind (a slow PUBACK, a
		// reconnect), so that a stall does not cause a burst; on the
		// wheel's grid, so that the publish is not late by a fraction of a
		// tick.
		st.next = w.clockCeil(max(st.next+pub.Every(rand.Float64()), t))
	}
}

// stepBusy reports whether step i must skip its publish: its previous
// message awaits its PUBACK, or (Exclusive) its reply.
func (m *machine) stepBusy(i int, pub *Publish) bool {
	for _, a := range m.run.acks {
		if int(a.src) == i {
			return true
		}
	}
	return m.awaiting(i, pub.Expect)
}

// awaiting reports whether source src, whose expectation is x, must wait
// for the reply it awaits before it sends again (x.Exclusive).
func (m *machine) awaiting(src int, x *Expect) bool {
	if x == nil || !x.Exclusive {
		return false
	}
	for _, e := range m.run.exps {
		if int(e.src) == src {
			return true
		}
	}
	return false
}

// publishStepAt sends step i's next message, intended for at (engine
// clock). Between connections it is skipped and nothing is recorded.
func (m *machine) publishStepAt(i int, at time.Duration) {
	st := &m.run.steps[i]
	st.seq++
	if !m.usable() {
		return
	}
	pub := m.prog.step(i)
	s := m.scratch(m.cfg.Engine.wheel.time(at))
	s.v.Seq = st.seq
	s.topic = pub.Topic.Append(s.topic[:0], &s.v)
	s.payload = appendTemplate(s.payload[:0], pub.Payload, &s.v)
	props := s.renderProps(pub.Props)
	key, hasKey := sentKey(pub.Expect, s, props)
	m.sendExpecting(uint16(i), pub.Event, &pub.Message, s.topic, s.payload, props, at, key, hasKey)
	putScratch(s)
}

// sentKey returns the key of the message rendered in s, with properties
// props (nil: none), for expectation x (none when x is nil). It leaves
// s.v's received message, if any, as it found it.
func sentKey(x *Expect, s *scratch, props *mqttlean.Properties) (uint64, bool) {
	if x == nil {
		return 0, false
	}
	received := s.v
	s.v.Topic, s.v.Payload, s.v.ResponseTopic, s.v.CorrelationData = s.topic, s.payload, nil, nil
	if props != nil {
		s.v.ResponseTopic, s.v.CorrelationData = props.ResponseTopic, props.CorrelationData
	}
	key, ok := x.SentKey(&s.v)
	s.v.Topic, s.v.Payload, s.v.ResponseTopic, s.v.CorrelationData = received.Topic, received.Payload, received.ResponseTopic, received.CorrelationData
	return key, ok
}

// sendExpecting sends msg's rendering (topic, payload, props) for source
// src, intended for at, and awaits its reply keyed key if hasKey.
func (m *machine) sendExpecting(src uint16, ev Event, msg *Message, topic, payload []byte, props *mqttlean.Properties, at time.Duration, key uint64, hasKey bool) {
	ok := m.send(src, ev, topic, payload, props, msg.QoS, msg.Retain, at, key, hasKey)
	if ok && hasKey {
		m.expect(expectation{sentAt: at, key: key, src: src})
	}
}

// send publishes one message intended for at and records it under ev: at
// once at QoS 0, at its PUBACK at QoS 1, at its PUBCOMP at QoS 2. It reports whether the message
// went out.
func (m *machine) send(src uint16, ev Event, topic, payload []byte, props *mqttlean.Properties, qos byte, retain bool, at time.Duration, key uint64, hasKey bool) bool {
	rec, w := m.cfg.Recorder, m.cfg.Engine.wheel
	if !m.usable() {
		return false
	}
	if qos > 0 && len(m.run.acks) >= maxInFlight {
		rec.Failure(ev, 0, m.cfg.DeviceID, faultMsg(msgTooManyInFlight))
		return false
	}
	id, err := m.conn.publish(topic, payload, qos, retain, props)
	if err != nil { // the connection is closing (onClosed records the loss), or the broker's limits refuse this one
		rec.Failure(ev, w.since(at), m.cfg.DeviceID, FaultOf(err))
		return false
	}
	if qos == 0 {
		rec.Success(ev, w.since(at), len(payload))
		return true
	}
	m.run.acks = append(m.run.acks, pendingAck{at: at, key: key, id: id, src: src, ev: ev, hasKey: hasKey, size: int32(len(payload))})
	return true
}

// expect starts awaiting e's reply.
func (m *machine) expect(e expectation) {
	r := &m.run
	if len(r.exps) >= maxExpected {
		m.miss(r.exps[0], m.prog.expectOf(int(r.exps[0].src)).Miss, msgEvicted)
		r.exps = slices.Delete(r.exps, 0, 1)
	}
	r.exps = append(r.exps, e)
}

// miss records e's reply as missed and remembers it for Late.
func (m *machine) miss(e expectation, ev Event, msg string) {
	if ev != EventNone {
		m.cfg.Recorder.Failure(ev, NoDuration, m.cfg.DeviceID, faultMsg(msg))
	}
	m.remember(e)
}

// remember keeps e among the recently missed expectations.
func (m *machine) remember(e expectation) {
	r := &m.run
	if r.missed == nil {
		r.missed = new([lateMemory]expectation)
	}
	r.missed[r.nmissed%lateMemory] = e
	r.nmissed++
}

// abandon drops the expectation of a publish whose PUBACK failed: nothing
// is recorded for it (the publish's failure is), and a reply that still
// comes counts as Late.
func (m *machine) abandon(a pendingAck) {
	if !a.hasKey {
		return
	}
	r := &m.run
	for i, e := range r.exps {
		if e.src == a.src && e.key == a.key {
			m.remember(e)
			r.exps = slices.Delete(r.exps, i, i+1)
			return
		}
	}
}

// missMessage returns msg, or def when msg is empty.
func missMessage(msg, def string) string {
	if msg == "" {
		return def
	}
	return msg
}

// programMessage matches a received message, with its MQTT 5 properties
// (nil: none), against the awaited replies, then lets the reactions answer
// it.
func (m *machine) programMessage(topic, payload []byte, props *mqttlean.Properties, now time.Time) {
	if !m.started {
		return
	}
	p, r := m.prog, &m.run
	t := m.cfg.Engine.wheel.clock(now)
	s := m.scratch(now)
	s.v.Topic, s.v.Payload = topic, payload
	if props != nil {
		s.v.ResponseTopic, s.v.CorrelationData = props.ResponseTopic, props.CorrelationData
	}
	matched := false
sources:
	for i := range r.steps {
		x := p.expectOf(i)
		if x == nil {
			continue
		}
		s.filter = x.Filter.Append(s.filter[:0], &s.v)
		if !topicMatch(s.filter, topic) {
			continue
		}
		key, ok := x.RecvKey(&s.v)
		if !ok {
			continue
		}
		for j, e := range r.exps {
			if int(e.src) == i && e.key == key {
				m.cfg.Recorder.Success(x.Match, t-e.sentAt, len(payload))
				r.exps = slices.Delete(r.exps, j, j+1)
				matched = true
				break sources
			}
		}
		for j := range min(r.nmissed, lateMemory) {
			if e := r.missed[j]; int(e.src) == i && e.key == key {
				if x.Late != EventNone {
					m.cfg.Recorder.Success(x.Late, t-e.sentAt, len(payload))
				}
				break sources
			}
		}
	}
	if !m.stopping {
		m.react(s, now)
	}
	putScratch(s)
	if matched {
		m.settleLastWait()
	}
}

// react runs the reactions whose filter and condition hold for the message
// in s.v: a reply at once, or rendered now and sent after its delay. A
// reply whose topic renders empty (such as the response topic of a
// message without one) is not sent. A reaction whose reply awaits its own
// (Expect) registers it when the reply goes out.
func (m *machine) react(s *scratch, now time.Time) {
	r, w := &m.run, m.cfg.Engine.wheel
	for k, x := range m.prog.Reactions {
		src := m.prog.publishes() + k
		s.filter = x.Filter.Append(s.filter[:0], &s.v)
		if !topicMatch(s.filter, s.v.Topic) || (x.When != nil && !x.When(&s.v)) || m.awaiting(src, x.Expect) {
			continue
		}
		if x.Delay != nil && len(r.later) >= maxDelayed {
			m.cfg.Recorder.Failure(x.Event, 0, m.cfg.DeviceID, faultMsg(msgTooManyDelayed))
			continue
		}
		st := &r.steps[src]
		st.seq++
		s.v.Seq = st.seq
		s.topic = x.Reply.Topic.Append(s.topic[:0], &s.v)
		if len(s.topic) == 0 {
			s.v.Seq = 0
			continue
		}
		s.payload = appendTemplate(s.payload[:0], x.Reply.Payload, &s.v)
		props := s.renderProps(x.Reply.Props)
		key, hasKey := sentKey(x.Expect, s, props)
		s.v.Seq = 0
		if x.Delay == nil {
			m.sendExpecting(uint16(src), x.Event, &x.Reply, s.topic, s.payload, props, w.clock(now), key, hasKey)
			continue
		}
		r.later = append(r.later, delayedReply{
			at: w.clock(now) + x.Delay(rand.Float64()), reaction: uint16(k), key: key, hasKey: hasKey,
			topic: slices.Clone(s.topic), payload: slices.Clone(s.payload), props: cloneProps(props),
		})
	}
}

// sendDelayed sends the reactions' delayed replies that are due at t
// (engine clock).
func (m *machine) sendDelayed(t time.Duration) {
	r := &m.run
	for i := 0; i < len(r.later); {
		if d := r.later[i]; t >= d.at {
			x := m.prog.Reactions[d.reaction]
			m.sendExpecting(uint16(m.prog.publishes())+d.reaction, x.Event, &x.Reply, d.topic, d.payload, d.props, d.at, d.key, d.hasKey)
			r.later = slices.Delete(r.later, i, i+1)
			continue
		}
		i++
	}
}

// programAcked completes the publish awaiting PUBACK (or, at QoS 2,
// PUBCOMP) id: a success, or a failure with the broker's reason when it
// refused the message (whose expectation is then abandoned).
func (m *machine) programAcked(id uint16, refused error, now time.Time) {
	r := &m.run
	for i, a := range r.acks {
		if a.id == id {
			took := m.cfg.Engine.wheel.clock(now) - a.at
			if refused != nil {
				m.cfg.Recorder.Failure(a.ev, took, m.cfg.DeviceID, FaultOf(refused))
				m.abandon(a)
			} else {
				m.cfg.Recorder.Success(a.ev, took, int(a.size))
			}
			r.acks = slices.Delete(r.acks, i, i+1)
			m.settleLastWait()
			return
		}
	}
}

// programConnLost ends the publishes in flight with the connection: a
// failure unless the device closed the connection on purpose. Their
// expectations are abandoned.
func (m *machine) programConnLost(planned bool, now time.Time) {
	r := &m.run
	for _, a := range r.acks {
		if !planned {
			m.cfg.Recorder.Failure(a.ev, m.cfg.Engine.wheel.clock(now)-a.at, m.cfg.DeviceID, faultMsg(errPublishLost.Error()))
		}
		m.abandon(a)
	}
	r.acks = r.acks[:0]
}

// programStop winds the program down when ctx ended: it waits up to
// LastMessageTimeout for what is in flight, the PUBACKs (the broker may
// have the message already), the awaited replies and the reactions'
// replies waiting for their delay (a device finishes the work it took on;
// it reacts to nothing new).
func (m *machine) programStop(now time.Time) {
	r := &m.run
	switch {
	case !m.started: // never subscribed: nothing ran
		m.progDone = true
	case len(r.acks) > 0 || len(r.exps) > 0 || len(r.later) > 0:
		m.lastWait, m.lastBy = true, now.Add(m.cfg.LastMessageTimeout)
		return
	default:
		m.progDone = true
	}
	m.finishIfDone()
}

// lastMisses ends the stop's wait at its deadline: every reply still
// awaited is a LastMiss; a PUBACK still missing and a delayed reply not
// sent yet are forgotten.
func (m *machine) lastMisses() {
	r := &m.run
	for _, e := range r.exps {
		x := m.prog.expectOf(int(e.src))
		ev := x.LastMiss
		if ev == EventNone {
			ev = x.Miss
		}
		m.miss(e, ev, missMessage(x.LastMissMessage, msgLastMiss))
	}
	r.exps, r.acks, r.later = r.exps[:0], r.acks[:0], nil
	m.settleLastWait()
}

// settleLastWait ends the stop's wait once nothing is in flight any more:
// the replies came (and the PUBACKs, and the delayed replies went out), or
// the connection took them away.
func (m *machine) settleLastWait() {
	r := &m.run
	if m.lastWait && len(r.acks) == 0 && len(r.exps) == 0 && len(r.later) == 0 {
		m.lastWait = false
		m.progDone = true
		m.finishIfDone()
	}
}

// programDeadlines offers the program's next deadlines to earliest.
func (m *machine) programDeadlines(earliest func(time.Time)) {
	if !m.started || m.progDone {
		return
	}
	p, r, w := m.prog, &m.run, m.cfg.Engine.wheel
	for _, d := range r.later {
		earliest(w.time(d.at))
	}
	if m.stopping {
		if m.lastWait {
			earliest(m.lastBy)
		}
		return
	}
	for j := range p.Periodic {
		st := &r.steps[len(p.OnConnect)+j]
		earliest(w.time(st.next))
		if st.burstLeft > 0 {
			earliest(w.time(st.burstAt))
		}
	}
	if len(r.acks) > 0 {
		t := m.ackTimeout()
		for _, a := range r.acks {
			earliest(w.time(a.at + t))
		}
	}
	for _, e := range r.exps {
		earliest(w.time(e.sentAt + p.expectOf(int(e.src)).Timeout))
	}
}
