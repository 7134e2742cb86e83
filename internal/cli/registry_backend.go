package cli

import (
	"net/url"
	"strings"
)

// Registry backends of ltk devices --registry.
const (
	registryLocal   = "local"   // registry.csv, read by the embedded target
	registryIoTCore = "iotcore" // an IoT-Core-API-compatible device manager
)

// googleIoTEndpoint is Cloud IoT Core's device-manager endpoint (retired in
// 2023), and googleMQTTBridge its MQTT bridge.
const (
	googleIoTEndpoint = "cloudiot.googleapis.com:443"
	googleMQTTBridge  = "ssl://mqtt.googleapis.com:8883"
)

// registryBackend is the configured backend: LTK_REGISTRY_BACKEND, else
// LTK_REGISTRY when it names a backend, else local.
func registryBackend(env *Env) string {
	if v, ok := env.lookup("LTK_REGISTRY_BACKEND"); ok && v != "" {
		return v
	}
	if v, _ := env.lookup("LTK_REGISTRY"); v == registryIoTCore {
		return v
	}
	return registryLocal
}

// iotcoreDefaultBroker is the MQTT bridge of the IoT-Core-API service when
// that is the configured registry backend: LTK_MQTT_BRIDGE, else the bridge
// that goes with LTK_REGISTRY_ENDPOINT (Google's, or ssl://HOST:8883).
func iotcoreDefaultBroker(env *Env) (string, bool) {
	if registryBackend(env) != registryIoTCore {
		return "", false
	}
	if b, ok := env.lookup("LTK_MQTT_BRIDGE"); ok && b != "" {
		return b, true
	}
	ep, _ := env.lookup("LTK_REGISTRY_ENDPOINT")
	return mqttBridgeFor(ep), true
}

// mqttBridgeFor returns the MQTT bridge that goes with a device-manager
// endpoint: Google's for Google's endpoint (or none), else TLS on port 8883
// of the endpoint's host.
func mqttBridgeFor(endpoint string) string {
	host := endpoint
	if u, err := url.Parse(endpoint); err == nil && u.Host != "" {
		host = u.Host
	}
	if h, _, ok := strings.Cut(host, ":"); ok {
		host = h
	}
	if host == "" || host == "cloudiot.googleapis.com" {
		return googleMQTTBridge
	}
	return "ssl://" + host + ":8883"
}
