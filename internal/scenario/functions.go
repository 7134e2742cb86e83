package scenario

import (
	"encoding/base64"
	"encoding/hex"
	"math"
	"strings"
)

// fn is a placeholder function: {{name ARGS}}.
type fn struct {
	args     string // the arguments, for messages: "MIN MAX [DECIMALS]"
	min, max int    // how many arguments (max -1: any number)
	message  bool   // reads the received message
	mqtt5    bool   // reads an MQTT 5 property: the kind must connect with MQTT 5
	noTopic  bool   // not in topics and ids
	build    func(c *call) part
}

func (f fn) usage() string {
	if f.args == "" {
		return "no arguments"
	}
	return "arguments " + f.args
}

// functions are the placeholders a template may hold, by name. The README's
// "Describe your devices" section documents each; keep the two in step.
var functions map[string]fn

func init() {
	fixed := func(p part) func(*call) part { return func(*call) part { return p } }
	functions = map[string]fn{
		"device":      {build: fixed(vDevice)},
		"client_id":   {build: fixed(vClientID)},
		"index":       {build: fixed(vIndex)},
		"kind":        {build: fixed(vKind)},
		"worker":      {build: fixed(vWorker)},
		"seq":         {build: fixed(vSeq)},
		"unix":        {build: fixed(timePart{unit: 1})},
		"unix_ms":     {build: fixed(timePart{unit: 1e3})},
		"unix_us":     {build: fixed(timePart{unit: 1e6})},
		"unix_ns":     {build: fixed(timePart{unit: 1e9})},
		"rfc3339":     {build: fixed(timePart{layout: "2006-01-02T15:04:05Z07:00"})},
		"rfc3339nano": {build: fixed(timePart{layout: "2006-01-02T15:04:05.999999999Z07:00"})},
		"time": {args: `"LAYOUT"`, min: 1, max: 1, build: func(c *call) part {
			return timePart{layout: c.text(0)}
		}},
		"int":    {args: "MIN MAX", min: 2, max: 2, build: buildInt},
		"float":  {args: "MIN MAX [DECIMALS]", min: 2, max: 3, build: buildFloat},
		"choice": {args: `"A" [WEIGHT] "B" [WEIGHT] ...`, min: 1, max: -1, build: buildChoice},
		"walk":   {args: "MIN MAX STEP [DECIMALS]", min: 3, max: 4, build: buildWalk},
		"uuid":   {build: fixed(uuidPart{})},
		"hex": {args: "SIZE", min: 1, max: 1, build: func(c *call) part {
			return randBytesPart{n: c.size(0, 1<<20), enc: 'h'}
		}},
		"base64": {args: "SIZE", min: 1, max: 1, build: func(c *call) part {
			return randBytesPart{n: c.size(0, 1<<20), enc: 'b'}
		}},
		"bytes": {args: "SIZE", min: 1, max: 1, noTopic: true, build: func(c *call) part {
			return randBytesPart{n: c.size(0, 1<<20), enc: 'r'}
		}},
		"pad":      {args: `SIZE ["FILL"]`, min: 1, max: 2, noTopic: true, build: buildPad},
		"column":   {args: `"NAME"`, min: 1, max: 1, build: buildColumn},
		"unhex":    {args: `"HEX"`, min: 1, max: 1, build: buildUnhex},
		"unbase64": {args: `"BASE64"`, min: 1, max: 1, build: buildUnbase64},
		"topic": {args: "[LEVEL]", max: 1, message: true, build: func(c *call) part {
			if _, ok := c.arg(0); !ok {
				return vTopic
			}
			level := c.integer(0, 0)
			if level < 0 || level > 1000 {
				c.fail(0, "level %d: count levels from 0 (\"/devices/D/events\" has \"\", \"devices\", \"D\" and \"events\")", level)
			}
			return topicLevelPart(level)
		}},
		"payload":          {message: true, build: fixed(vPayload)},
		"response_topic":   {message: true, mqtt5: true, build: fixed(vResponseTopic)},
		"correlation_data": {message: true, mqtt5: true, build: fixed(vCorrelationData)},
		"field": {args: `"PATH"`, min: 1, max: 1, message: true, build: func(c *call) part {
			return fieldPart{path: c.text(0)}
		}},
	}
}

func buildInt(c *call) part {
	lo, hi := c.integer(0, 0), c.integer(1, 0)
	if c.ok && hi < lo {
		c.fail(1, "MAX %d is below MIN %d", hi, lo)
	}
	if c.ok && uint64(hi-lo) >= math.MaxInt64 {
		c.fail(1, "the range is too wide")
	}
	return intPart{min: lo, span: hi - lo + 1}
}

func buildFloat(c *call) part {
	lo, hi := c.num(0, 0), c.num(1, 0)
	if c.ok && hi < lo {
		c.fail(1, "MAX %g is below MIN %g", hi, lo)
	}
	return floatPart{min: lo, span: hi - lo, dec: c.decimals(2)}
}

func buildChoice(c *call) part {
	var p choicePart
	for i := 0; i+1 < len(c.args); i++ {
		t := c.args[i+1]
		if !t.quoted {
			c.fail(i, "%s: the choices are quoted strings, each optionally followed by a whole-number weight", t.s)
			return p
		}
		w := int64(1)
		if next, ok := c.arg(i + 1); ok && !next.quoted {
			w = c.integer(i+1, 1)
			if w < 1 || w > 1e6 {
				c.fail(i+1, "weight %d: use 1 to 1000000", w)
			}
			i++
		}
		p.values = append(p.values, t.s)
		p.total += int(w)
		p.cum = append(p.cum, p.total)
	}
	return p
}

func buildWalk(c *call) part {
	lo, hi, step := c.num(0, 0), c.num(1, 0), c.num(2, 0)
	if c.ok && hi < lo {
		c.fail(1, "MAX %g is below MIN %g", hi, lo)
	}
	if c.ok && step < 0 {
		c.fail(2, "STEP %g is negative", step)
	}
	p := walkPart{min: lo, max: hi, step: step, dec: c.decimals(3)}
	if c.ok {
		p.slot = c.k.newWalk(p)
	}
	return p
}

func buildPad(c *call) part {
	p := padPart{size: c.size(0, 1<<24), fill: ' '}
	if _, ok := c.arg(1); ok {
		fill := c.text(1)
		if len(fill) != 1 {
			c.fail(1, "FILL %q must be one byte, such as \" \" or \"x\"", fill)
		} else {
			p.fill = fill[0]
		}
	}
	return p
}

func buildColumn(c *call) part {
	name := c.text(0)
	i, ok := c.k.columns[name]
	if c.ok && !ok {
		if len(c.k.columns) == 0 {
			c.fail(0, "column %q is not declared: list the devicelist.csv columns the scenario reads under columns: at the top, such as columns: [%s]", name, name)
		} else {
			c.fail(0, "column %q is not declared in columns:%s", name, suggest(name, c.k.columnNames))
		}
	}
	return columnPart(i)
}

func buildUnhex(c *call) part {
	b, err := hex.DecodeString(strings.ReplaceAll(c.text(0), " ", ""))
	if err != nil && c.ok {
		c.fail(0, "not hex: %v", err)
	}
	return lit(b)
}

func buildUnbase64(c *call) part {
	b, err := base64.StdEncoding.DecodeString(c.text(0))
	if err != nil && c.ok {
		c.fail(0, "not standard base64: %v", err)
	}
	return lit(b)
}
