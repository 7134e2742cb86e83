// Package device is ltk's device identity and fleet file: device IDs, key
// generation (RSA-2048 and EC P-256), the devicelist.csv codec (ltk's format,
// which is also the flattened-PEM format of the tutorial ltk descends from),
// device JWTs minted and cached the way Cloud IoT Core devices did, and the
// sharding of a fleet into per-worker blocks.
//
// A Device holds a private key. Nothing in this package writes key material to
// an error, a log line or a String form; files holding keys are written 0600.
package device
