// Command fvmwork is the workload of the Friendly VM experiments. It runs
// inside a guest (a static binary, CGO_ENABLED=0) and reports its progress
// as lines "host_ns count" appended to a file, every -every of guest time
// and once at the end, where host_ns is host CLOCK_MONOTONIC (the time base
// of the kernel's windows and of the host's measurements) and count is the
// cumulative amount of work done:
//
//	fvmwork spin -for 30s -progress F   busy loop; count = blocks of 2^16 iterations
//	fvmwork mem  -for 30s -progress F   touch 48 MiB page by page; count = pages touched
//	fvmwork io   -for 30s -progress F   write+fsync 64 KiB blocks; count = KiB written
//
// Without the patched kernel (no /proc/fvm/stats) host_ns is the guest's
// own monotonic clock.
package main
