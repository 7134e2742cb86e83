package runset

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"
)

// DefaultQoS is the MQTT QoS of a test's publishes and subscriptions, the
// tutorial's; the zero value of a QoS field is QoS 0.
const DefaultQoS = 1

// CheckQoS reports whether qos is an MQTT QoS: 0, 1 or 2.
func CheckQoS(qos byte) error {
	if qos > 2 {
		return fmt.Errorf("QoS %d does not exist in MQTT: use 0, 1 or 2", qos)
	}
	return nil
}

// MQTT protocol versions devices can speak (Settings.MQTTVersion).
const (
	MQTTVersion311 = "3.1.1" // the default: what IoT Core spoke
	MQTTVersion5   = "5"
)

// MQTTVersions returns the accepted values of Settings.MQTTVersion.
func MQTTVersions() []string { return []string{MQTTVersion311, MQTTVersion5} }

// CheckMQTTVersion reports whether v is an MQTT version devices can speak:
// one of MQTTVersions, or empty for 3.1.1.
func CheckMQTTVersion(v string) error {
	switch v {
	case "", MQTTVersion311, MQTTVersion5:
		return nil
	}
	return fmt.Errorf("MQTT version %q is not one of %s, %s: write 3.1.1 or 5", v, MQTTVersion311, MQTTVersion5)
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

// BrokerSchemes maps the broker URL schemes devices can dial to whether they
// use TLS.
var BrokerSchemes = map[string]bool{
	"tcp": false, "mqtt": false,
	"ssl": true, "tls": true, "mqtts": true,
	"ws": false, "wss": true,
}

// WebSocketSchemes are the broker URL schemes of MQTT over a WebSocket
// (subprotocol "mqtt"); the URL's path is the WebSocket's.
var WebSocketSchemes = map[string]bool{"ws": true, "wss": true}

// CheckBroker reports whether broker is an MQTT URL devices can dial: a
// scheme of BrokerSchemes, a host and a port. Its errors say what to write
// instead, so that "127.0.0.1:1883" (Locust's and mosquitto_pub's habit) is
// refused with "write tcp://127.0.0.1:1883" before a test starts.
func CheckBroker(broker string) error {
	if broker == "" {
		return errors.New("broker is empty: write an MQTT URL such as tcp://127.0.0.1:1883 or ssl://mqtt.example.com:8883")
	}
	scheme, rest, ok := strings.Cut(broker, "://")
	if !ok {
		return fmt.Errorf("broker %q has no scheme: write tcp://%s (or ssl://%s for TLS)", broker, broker, broker)
	}
	hostPort, _, _ := strings.Cut(rest, "/")
	if _, ok := BrokerSchemes[strings.ToLower(scheme)]; !ok {
		return fmt.Errorf("broker %q: scheme %q is not supported: write tcp://%s (MQTT), ssl://%s (MQTT over TLS) or ws://%s/mqtt (MQTT over WebSocket; wss:// with TLS)", broker, scheme, hostPort, hostPort, hostPort)
	}
	u, err := url.Parse(broker)
	if err != nil {
		return fmt.Errorf("broker %q is not a URL (%w): write %s://HOST:PORT", broker, err, scheme)
	}
	switch {
	case u.Hostname() == "":
		return fmt.Errorf("broker %q has no host: write %s://HOST:%s", broker, scheme, portOr(u.Port(), scheme))
	case u.Port() == "":
		return fmt.Errorf("broker %q has no port: write %s://%s:%s", broker, scheme, u.Host, portOr("", scheme))
	}
	return nil
}

// portOr returns port, or MQTT's usual port for scheme when port is empty.
func portOr(port, scheme string) string {
	switch {
	case port != "":
		return port
	case strings.EqualFold(scheme, "wss"):
		return "443"
	case strings.EqualFold(scheme, "ws"):
		return "80"
	case BrokerSchemes[strings.ToLower(scheme)]:
		return "8883"
	}
	return "1883"
}
