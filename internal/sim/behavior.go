package sim

import (
	"context"
	"fmt"
	"slices"
	"strings"
)

// Behavior is what a device does while it runs: publish, react to commands,
// record what it measured. The engine owns the connection, reconnects,
// credentials and the graceful stop, so a behaviour only talks to its Session.
//
// Run is called once per Device.Run, after the first successful connect and
// subscribe, and runs until ctx ends. It may then finish gracefully (the echo
// behaviour waits up to Config.LastMessageTimeout for the echo in flight)
// while the connection stays up, and must return promptly after that. The
// connection may drop and come back while Run runs: Session.Publish returns
// ErrNotConnected meanwhile. An error other than ctx's stops the device and is
// returned by Device.Run.
type Behavior interface {
	Run(ctx context.Context, s *Session) error
}

// BehaviorFunc adapts a function to Behavior.
type BehaviorFunc func(ctx context.Context, s *Session) error

// Run calls f.
func (f BehaviorFunc) Run(ctx context.Context, s *Session) error { return f(ctx, s) }

// The built-in behaviours. On the lean client they run as state machines
// driven by the device's events, without a goroutine of their own; any other
// Behavior runs in a goroutine on either client.
var (
	// Echo is the tutorial's behaviour, the default: see echo.go.
	Echo Behavior = echoBehavior{}
	// Telemetry publishes every wait interval and expects no reply.
	Telemetry Behavior = telemetryBehavior{}
)

// echoBehavior and telemetryBehavior are comparable, so that the lean
// client can recognise them.
type (
	echoBehavior      struct{}
	telemetryBehavior struct{}
)

func (echoBehavior) Run(ctx context.Context, s *Session) error      { return runEcho(ctx, s) }
func (telemetryBehavior) Run(ctx context.Context, s *Session) error { return runTelemetry(ctx, s) }

// behaviors maps the names accepted by BehaviorByName to behaviours. A new
// behaviour is a file with its Run function and a line here.
var behaviors = map[string]Behavior{
	"echo":      Echo,
	"telemetry": Telemetry,
}

// BehaviorNames returns the names BehaviorByName accepts, sorted.
func BehaviorNames() []string {
	names := make([]string, 0, len(behaviors))
	for name := range behaviors {
		names = append(names, name)
	}
	slices.Sort(names)
	return names
}

// BehaviorByName returns the built-in behaviour called name; "" is "echo".
// An unknown name is an error listing the known ones.
func BehaviorByName(name string) (Behavior, error) {
	if name == "" {
		return Echo, nil
	}
	if b, ok := behaviors[strings.ToLower(name)]; ok {
		return b, nil
	}
	return nil, fmt.Errorf("unknown device behaviour %q: use one of %s", name, strings.Join(BehaviorNames(), ", "))
}
