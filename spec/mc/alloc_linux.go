//go:build linux

package mc

import (
	"unsafe"

	"golang.org/x/sys/unix"
)

// allocSlots returns n zeroed slots in memory mapped directly from the
// kernel, advised to use transparent huge pages: the visited set is read at
// random, and 2 MiB pages make its TLB misses rare. free unmaps it. If the
// mapping fails it falls back to the Go heap.
func allocSlots(n uint64) (slots []uint64, free func()) {
	const huge = 2 << 20
	if n*8 < 2*huge { // small: the Go heap is cheaper than a mapping
		return make([]uint64, n), func() {}
	}
	size := (n*8 + huge - 1) &^ (huge - 1)
	mem, err := unix.Mmap(-1, 0, int(size), unix.PROT_READ|unix.PROT_WRITE, unix.MAP_PRIVATE|unix.MAP_ANONYMOUS)
	if err != nil {
		return make([]uint64, n), func() {}
	}
	_ = unix.Madvise(mem, unix.MADV_HUGEPAGE) // advice only: ignore if unsupported
	slots = unsafe.Slice((*uint64)(unsafe.Pointer(unsafe.SliceData(mem))), n)
	return slots, func() { _ = unix.Munmap(mem) }
}
