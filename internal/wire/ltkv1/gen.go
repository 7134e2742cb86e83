// Package ltkv1 is version 1 of the master/worker protocol: ltk.proto and the
// code protoc generates from it (committed; `make proto` regenerates it), plus
// conversions between its messages and ltk's stats and device types.
package ltkv1

//go:generate protoc --go_out=. --go-grpc_out=. --go_opt=paths=source_relative --go-grpc_opt=paths=source_relative ltk.proto
