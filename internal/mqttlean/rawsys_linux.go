//go:build linux

package mqttlean

import (
	"syscall"
	"unsafe"
)

// The epoll loops' socket calls never wait (the sockets and the epoll
// instances are non-blocking), so they are made as raw system calls: the
// runtime does not hand the processor off around them. syscall.Read and
// syscall.Write would, and a loopback write takes long enough (about 10 µs
// on a virtual machine) that the runtime's monitor then polls at its
// fastest rate and retakes processors, costing more CPU than the calls.

// readFD reads into b.
func readFD(fd int, b []byte) (int, syscall.Errno) {
	n, _, e := syscall.RawSyscall(syscall.SYS_READ, uintptr(fd), uintptr(unsafe.Pointer(unsafe.SliceData(b))), uintptr(len(b)))
	return int(n), e
}

// writeRaw writes b.
func writeRaw(fd int, b []byte) (int, syscall.Errno) {
	n, _, e := syscall.RawSyscall(syscall.SYS_WRITE, uintptr(fd), uintptr(unsafe.Pointer(unsafe.SliceData(b))), uintptr(len(b)))
	return int(n), e
}

// epollWait polls ep without waiting.
func epollWait(ep int, events []syscall.EpollEvent) (int, syscall.Errno) {
	n, _, e := syscall.RawSyscall6(syscall.SYS_EPOLL_PWAIT, uintptr(ep), uintptr(unsafe.Pointer(unsafe.SliceData(events))), uintptr(len(events)), 0, 0, 0)
	return int(n), e
}
