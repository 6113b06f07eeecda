//go:build !linux

package mc

// defaultMaxMemory is a conservative 8 GiB where physical memory is not known.
func defaultMaxMemory() int64 { return 8 << 30 }
