package scenario

import (
	"bytes"
	"testing"

	"github.com/ltk-dev/ltk/examples/scenarios"
	"github.com/ltk-dev/ltk/internal/sim"
)

// FuzzLoad loads any bytes as a scenario: it must return a scenario or
// errors, never panic, and a scenario that loads must estimate and render
// every template of every kind without panicking.
func FuzzLoad(f *testing.F) {
	for _, name := range scenarios.Names() {
		src, _ := scenarios.Get(name)
		f.Add(src)
	}
	f.Add([]byte(base))
	f.Add([]byte(v5Base))
	f.Fuzz(func(t *testing.T, src []byte) {
		s, err := Load("fuzz.yaml", src)
		if err != nil {
			if s != nil {
				t.Fatal("a scenario and an error")
			}
			return
		}
		if _, err := Check(s, 1000); err != nil {
			t.Fatal(err)
		}
		for _, p := range s.Plan().Kinds {
			renderProgram(p)
		}
	})
}

// renderProgram renders every template of p once for a sample device.
func renderProgram(p *sim.Program) {
	v := testVars("x")
	v.State = make([]float64, p.StateSize)
	if p.Init != nil {
		p.Init(v)
	}
	v.Topic, v.Payload = []byte("/devices/LTK00042/events"), []byte(`{"seq":5,"id":"a"}`)
	v.ResponseTopic, v.CorrelationData = []byte("/devices/LTK00042/commands/r"), []byte("c-1")
	var buf []byte
	render := func(ts ...sim.Template) {
		for _, t := range ts {
			if t != nil {
				buf = t.Append(buf[:0], v)
			}
		}
	}
	renderProps := func(p *sim.Props) {
		if p == nil {
			return
		}
		render(p.ContentType, p.ResponseTopic, p.CorrelationData)
		for _, u := range p.User {
			render(u.Value)
		}
	}
	render(p.ClientID, p.Username, p.Password)
	for _, s := range p.Subscribe {
		render(s.Filter)
	}
	for _, pub := range append(p.OnConnect, p.Periodic...) {
		render(pub.Topic, pub.Payload)
		renderProps(pub.Props)
		if x := pub.Expect; x != nil {
			render(x.Filter)
			x.SentKey(v)
			x.RecvKey(v)
		}
	}
	for _, r := range p.Reactions {
		render(r.Filter, r.Reply.Topic, r.Reply.Payload)
		renderProps(r.Reply.Props)
		if r.When != nil {
			r.When(v)
		}
	}
}

// FuzzTemplate compiles any text as a reaction's reply payload and renders
// it: no panic, and the rendering appends to the buffer without touching
// what it held.
func FuzzTemplate(f *testing.F) {
	for _, s := range []string{
		`{"device":"{{device}}","seq":{{seq}},"t":{{walk 1 2 0.1}},"c":"{{choice "a" 2 "b"}}"}`,
		`{{pad 100 "x"}}{{uuid}}{{hex 4}}{{base64 5}}{{bytes 3}}`,
		`{{field "id"}} {{topic 2}} {{= index * 2}} {{unhex "00ff"}}`,
		`{{int 1 10}} {{float 0 1 3}} {{time "15:04"}} {{rfc3339nano}} {{unix_ms}}`,
		`{{`, `}}`, `{{ "x" }}`, `{{= }}`,
	} {
		f.Add(s, []byte(`{"id":"q\"1","n":[1,2]}`))
	}
	f.Fuzz(func(t *testing.T, src string, payload []byte) {
		sc := payloadScope
		sc.message = true
		tpl, k, err := tryTemplate(src, sc, "site")
		if err != nil {
			return
		}
		v := testVars("berlin")
		v.State = make([]float64, len(k.walks))
		v.Topic, v.Payload = []byte("/devices/D/events"), payload
		out := tpl.Append([]byte("prefix"), v)
		if !bytes.HasPrefix(out, []byte("prefix")) {
			t.Fatalf("the rendering of %q overwrote the buffer: %q", src, out)
		}
	})
}
