//go:build linux

package mc

import "syscall"

// defaultMaxMemory is 80% of physical memory.
func defaultMaxMemory() int64 {
	var si syscall.Sysinfo_t
	if err := syscall.Sysinfo(&si); err != nil || si.Totalram == 0 {
		return 8 << 30
	}
	return int64(float64(uint64(si.Totalram)*uint64(si.Unit)) * 0.8)
}
