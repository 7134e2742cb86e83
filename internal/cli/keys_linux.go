package cli

import (
	"context"
	"errors"
	"os"
	"sync"

	"golang.org/x/sys/unix"
)

// readKeys reads Locust's headless keys from env.Stdin while it is a
// terminal, until ctx ends: it switches the terminal to cbreak mode (each
// key read as it is pressed, not echoed; Ctrl-C still interrupts) and sends
// each key's device count change (keyDelta) on the channel. stop ends the
// reading, waits for it and restores the terminal. Without a terminal the
// channel is nil (it never receives) and stop does nothing.
func readKeys(ctx context.Context, env *Env) (changes <-chan int, stop func()) {
	f, ok := env.Stdin.(*os.File)
	if !ok {
		return nil, func() {}
	}
	fd := int(f.Fd())
	old, err := unix.IoctlGetTermios(fd, unix.TCGETS)
	if err != nil { // not a terminal
		return nil, func() {}
	}
	cbreak := *old
	cbreak.Lflag &^= unix.ICANON | unix.ECHO
	cbreak.Cc[unix.VMIN], cbreak.Cc[unix.VTIME] = 1, 0
	if err := unix.IoctlSetTermios(fd, unix.TCSETS, &cbreak); err != nil {
		return nil, func() {}
	}
	ctx, cancel := context.WithCancel(ctx)
	out := make(chan int)
	var wg sync.WaitGroup
	wg.Go(func() { pollKeys(ctx, fd, out) })
	return out, func() {
		cancel()
		wg.Wait()
		_ = unix.IoctlSetTermios(fd, unix.TCSETS, old) // the terminal as it was; nothing to do if it is gone
	}
}

// pollKeys sends the device count changes of the keys read from fd until
// ctx ends or fd fails. It polls, so that it never blocks in a read that
// ctx could not end.
func pollKeys(ctx context.Context, fd int, out chan<- int) {
	fds := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
	var buf [16]byte
	for ctx.Err() == nil {
		n, err := unix.Poll(fds, 100)
		if errors.Is(err, unix.EINTR) || err == nil && n == 0 {
			continue
		}
		if err != nil || fds[0].Revents&(unix.POLLERR|unix.POLLHUP|unix.POLLNVAL) != 0 {
			return
		}
		n, err = unix.Read(fd, buf[:])
		if err != nil || n == 0 {
			return
		}
		for _, b := range buf[:n] {
			if d := keyDelta(b); d != 0 {
				select {
				case out <- d:
				case <-ctx.Done():
					return
				}
			}
		}
	}
}
