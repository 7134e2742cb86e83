package runset

import (
	"fmt"
	"slices"
	"strings"
)

// Profiles: the IoT platforms ltk's devices can talk to (Settings.Profile).
const (
	ProfileIoTCore    = "iotcore"    // Cloud IoT Core's protocol, today's behaviour; the default
	ProfileClearBlade = "clearblade" // ClearBlade IoT Core: IoT Core's protocol, ClearBlade's device manager
	ProfileAWS        = "aws"        // AWS IoT Core: mutual TLS with a per-device certificate
	ProfileAzure      = "azure"      // Azure IoT Hub: SAS tokens from per-device symmetric keys
	ProfileGeneric    = "generic"    // any broker: per-device username and password columns
)

// Profile is what a platform fixes about how a device connects: its auth
// (and with it whether credentials are re-minted before they expire: JWT
// and SAS are, with Settings.TokenTTL), client ids, topics and TLS. Every
// platform takes QoS 0 and 1 (CheckQoS). Flags
// (--auth, --client-id-format, --jwt-ttl, …) override a profile's choices;
// a scenario's topics override its topics.
type Profile struct {
	Name           string
	Auth           string // the Auth* mode
	ClientIDFormat string // ClientIDIoTCore or ClientIDPlain
	Topics         Topics
	// TLSPort is the platform's MQTT-over-TLS port.
	TLSPort int
	// ALPN443 is the ALPN protocol a device offers when it connects on
	// port 443 ("x-amzn-mqtt-ca" for AWS IoT Core); empty = none.
	ALPN443 string
}

// DefaultAzureHub is the IoT Hub host name on the embedded target, and when
// the broker's host is no *.azure-devices.net name.
const DefaultAzureHub = "ltk-hub.azure-devices.net"

// iotcoreTopics are Cloud IoT Core's device topics.
var iotcoreTopics = Topics{
	EventsPrefix: "/devices/", EventsSuffix: "/events",
	CommandsPrefix: "/devices/", CommandsSuffix: "/commands",
}

// profiles are the known profiles by name.
var profiles = map[string]Profile{
	ProfileIoTCore: {
		Name: ProfileIoTCore, Auth: AuthJWT, ClientIDFormat: ClientIDIoTCore, Topics: iotcoreTopics,
		TLSPort: 8883,
	},
	ProfileClearBlade: {
		Name: ProfileClearBlade, Auth: AuthJWT, ClientIDFormat: ClientIDIoTCore, Topics: iotcoreTopics,
		TLSPort: 8883,
	},
	ProfileAWS: {
		// The topics follow AWS's "Designing MQTT topics for AWS IoT Core":
		// dt/<application>/<thing>/<type> for telemetry, cmd/... for commands.
		Name: ProfileAWS, Auth: AuthCert, ClientIDFormat: ClientIDPlain,
		Topics: Topics{
			EventsPrefix: "dt/ltk/", EventsSuffix: "/echo",
			CommandsPrefix: "cmd/ltk/", CommandsSuffix: "/echo",
		},
		TLSPort: 8883, ALPN443: "x-amzn-mqtt-ca",
	},
	ProfileAzure: {
		Name: ProfileAzure, Auth: AuthSAS, ClientIDFormat: ClientIDPlain,
		Topics: Topics{
			EventsPrefix: "devices/", EventsSuffix: "/messages/events/",
			CommandsPrefix: "devices/", CommandsSuffix: "/messages/devicebound/",
		},
		TLSPort: 8883,
	},
	ProfileGeneric: {
		Name: ProfileGeneric, Auth: AuthDevicePassword, ClientIDFormat: ClientIDPlain, Topics: iotcoreTopics,
		TLSPort: 8883,
	},
}

// ProfileNames returns the known profiles' names, sorted.
func ProfileNames() []string {
	names := make([]string, 0, len(profiles))
	for n := range profiles {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// ProfileByName returns the profile called name; "" is ProfileIoTCore.
func ProfileByName(name string) (Profile, error) {
	if name == "" {
		name = ProfileIoTCore
	}
	p, ok := profiles[strings.ToLower(name)]
	if !ok {
		return Profile{}, fmt.Errorf("profile %q is not one of %s", name, strings.Join(ProfileNames(), ", "))
	}
	return p, nil
}

// CheckProfile reports whether name is a known profile (or empty).
func CheckProfile(name string) error {
	_, err := ProfileByName(name)
	return err
}
