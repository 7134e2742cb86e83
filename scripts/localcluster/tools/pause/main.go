// Command pause is the pod sandbox's process for the local cluster: it holds
// the pod's namespaces and waits to be told to stop. The local cluster has no
// registry to pull registry.k8s.io/pause from, so it builds this one (static,
// no libc) into an image.
package main

import (
	"os"
	"os/signal"
	"syscall"
)

func main() {
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM, syscall.SIGINT)
	<-sig
}
