package runset

import (
	"fmt"
	"time"
)

// DefaultQoS is the MQTT QoS of a test's publishes and subscriptions, the
// tutorial's; the zero value of a QoS field is QoS 0.
const DefaultQoS = 1

// CheckQoS reports whether qos is one ltk's devices and echo app support: 0 or 1.
func CheckQoS(qos byte) error {
	if qos > 1 {
		return fmt.Errorf("QoS %d is not supported: use 0 or 1", qos)
	}
	return nil
}

// CheckWait reports whether min..max is a range to draw a device's wait
// between publishes from: 0 ≤ min ≤ max.
func CheckWait(minWait, maxWait time.Duration) error {
	if minWait < 0 || maxWait < minWait {
		return fmt.Errorf("wait %v..%v is not a range: make 0 ≤ min ≤ max", minWait, maxWait)
	}
	return nil
}

// CheckPayloadSize reports whether size is a payload size to pad to: 0 (the
// natural size) or more bytes.
func CheckPayloadSize(size int) error {
	if size < 0 {
		return fmt.Errorf("payload size %d is negative: use 0 for the natural size", size)
	}
	return nil
}
