// Package registry is where ltk registers devices: the public key of each
// device, which a broker's authenticator checks device JWTs against.
//
// Local keeps the registry in a CSV file beside devicelist.csv (registry.csv by
// default) that the embedded target reads; it holds public keys only. IoTCore
// registers devices with a service speaking the Cloud IoT Core Device Manager
// API (cloud.google.com/go/iot) at a configurable endpoint, whose MQTT bridge
// then authenticates them. The CLI reaches both through a small interface of
// its own.
package registry
