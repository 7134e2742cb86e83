// Package registry is where ltk registers devices: the public key of each
// device, which a broker's authenticator checks device JWTs against.
//
// Local keeps the registry in a CSV file beside devicelist.csv (registry.csv by
// default) that the embedded target reads; it holds public keys only. IoTCore
// registers devices with a service speaking the Cloud IoT Core Device Manager
// API (cloud.google.com/go/iot) at a configurable endpoint, whose MQTT bridge
// then authenticates them. Azure registers IoT Hub devices with their
// symmetric keys through the hub's registry REST API, and AWS registers AWS
// IoT things with their X.509 certificates and an IoT policy through
// aws-sdk-go-v2's service/iot. The CLI reaches them all through a small
// interface of its own.
package registry
