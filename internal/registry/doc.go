// Package registry is where ltk registers devices: the public key of each
// device, which a broker's authenticator checks device JWTs against.
//
// Local keeps the registry in a CSV file beside devicelist.csv (registry.csv by
// default) that the embedded target reads; it holds public keys only. Another
// backend, speaking the Cloud IoT Core device-manager API, is planned; the CLI
// reaches registries through a small interface of its own so that both fit.
package registry
