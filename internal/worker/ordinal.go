package worker

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"strconv"
	"strings"
)

// OrdinalFromHostname returns k when host ends in "-k" (a StatefulSet pod is
// named name-0 … name-(n-1)), and ok = false otherwise.
func OrdinalFromHostname(host string) (k int, ok bool) {
	host, _, _ = strings.Cut(host, ".") // a pod's FQDN: name-k.service.namespace…
	i := strings.LastIndexByte(host, '-')
	if i < 0 || i == len(host)-1 {
		return 0, false
	}
	k, err := strconv.Atoi(host[i+1:])
	if err != nil || k < 0 || host[i+1] == '+' {
		return 0, false
	}
	return k, true
}

// newWorkerID returns an id for this worker process: host, pid and a random
// suffix, so that two processes on one host differ.
func newWorkerID(host string) string {
	var b [4]byte
	_, _ = rand.Read(b[:])
	return fmt.Sprintf("%s-%d-%s", host, os.Getpid(), hex.EncodeToString(b[:]))
}
