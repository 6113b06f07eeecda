package controller

import (
	"io"
	"unsafe"

	"golang.org/x/sys/unix"
)

// The controller's per-poll system calls (the ring's pread, the pause's
// write and read-back, the trace's write) are made as raw system calls,
// without telling the Go scheduler. In a UML guest every system call is a
// round trip through the host, 55 to 160 µs unpaused and a whole
// actuation period when it meets a pause; a Go system call that takes
// longer than 20 µs has its P handed to another thread by the runtime's
// monitor, so each poll cost several thread switches on top of the calls,
// and a VM paused 950‰ fell many windows behind. fvmd has one goroutine
// doing I/O, so blocking its thread for the call's length costs nothing.

// rawPread is pread(2) as a raw system call, retried on EINTR.
func rawPread(fd int, p []byte, off int64) (int, error) {
	var ptr unsafe.Pointer
	if len(p) > 0 {
		ptr = unsafe.Pointer(&p[0])
	}
	for {
		n, _, e := unix.RawSyscall6(unix.SYS_PREAD64, uintptr(fd), uintptr(ptr), uintptr(len(p)), uintptr(off), 0, 0)
		switch e {
		case 0:
			return int(n), nil
		case unix.EINTR:
			continue
		default:
			return 0, e
		}
	}
}

// rawWrite writes all of p with write(2) as raw system calls (a short
// write is continued, EINTR retried).
func rawWrite(fd int, p []byte) error {
	for len(p) > 0 {
		n, _, e := unix.RawSyscall(unix.SYS_WRITE, uintptr(fd), uintptr(unsafe.Pointer(&p[0])), uintptr(len(p)))
		switch {
		case e == unix.EINTR:
			continue
		case e != 0:
			return e
		case n == 0:
			return io.ErrShortWrite
		}
		p = p[n:]
	}
	return nil
}
