package target

import "sync"

// maxRememberedRefusals bounds the devices whose last refusal a Target
// remembers: a flood of made-up client ids costs at most this many entries.
const maxRememberedRefusals = 100_000

// reasonText says what each Reason means, for a person reading a failure.
var reasonText = map[Reason]string{
	ReasonBadClientID:     "the client id is not projects/P/locations/R/registries/G/devices/D of this target",
	ReasonUnknownDevice:   "the device is not registered",
	ReasonBadSignature:    "the JWT is not signed by the device's key (or a back end's token is wrong)",
	ReasonExpired:         "the JWT has expired",
	ReasonNotYetValid:     "the JWT is issued in the future",
	ReasonWrongAudience:   "the JWT's aud is not the project",
	ReasonLifetimeTooLong: "the JWT's lifetime is too long",
	ReasonMalformedToken:  "the password is not a JWT with numeric iat and exp",
	ReasonNoPassword:      "no password",
	ReasonWillNotAllowed:  "the Will's topic is not the device's",
	ReasonWillInvalid:     "the Will's topic has a wildcard",
	ReasonConnectTooLarge: "the CONNECT is too large",
	ReasonConnectTimeout:  "no whole CONNECT in time",
}

// Text returns the reason and what it means: "unknown_device: the device
// is not registered". It holds no device id, so failures grouped by it stay
// few.
func (r Reason) Text() string {
	if t, ok := reasonText[r]; ok {
		return string(r) + ": " + t
	}
	return string(r)
}

// refusals remembers, per device, why the target refused its last connect,
// until the device connects.
type refusals struct {
	mu   sync.Mutex // Guards the field below.
	last map[string]Reason
}

// refused remembers that device was refused for reason.
func (r *refusals) refused(device string, reason Reason) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.last == nil {
		r.last = make(map[string]Reason)
	}
	if _, ok := r.last[device]; ok || len(r.last) < maxRememberedRefusals {
		r.last[device] = reason
	}
}

// accepted forgets device's refusal.
func (r *refusals) accepted(device string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	delete(r.last, device)
}

// of returns why device's last connect was refused, if it was.
func (r *refusals) of(device string) (Reason, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	reason, ok := r.last[device]
	return reason, ok
}

// Refusal returns why the target refused the last connect of device (its
// id: the last element of an IoT-Core client id, or the plain client id),
// if it did and the device has not connected since. The reason is set
// before the refusing CONNACK is sent, so a client that got one finds it
// here. It is how 'ltk run' names the embedded target's reason in the
// devices' failures, which MQTT 3.1.1 cannot carry. Safe for concurrent use.
func (t *Target) Refusal(device string) (Reason, bool) { return t.hook.refusals.of(device) }
