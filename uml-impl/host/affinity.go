package host

import (
	"fmt"
	"os"
	"runtime"
	"strconv"

	"golang.org/x/sys/unix"
)

// KeepOffCPU moves every thread of the calling process off host CPU cpu,
// so that the runner's own work does not compete with guests pinned there.
// Threads created later inherit the mask. It is a no-op on a 1-CPU host.
func KeepOffCPU(cpu int) error {
	if runtime.NumCPU() < 2 {
		return nil
	}
	var set unix.CPUSet
	if err := unix.SchedGetaffinity(0, &set); err != nil {
		return fmt.Errorf("keep off CPU %d: %w", cpu, err)
	}
	set.Clear(cpu)
	if set.Count() == 0 {
		return fmt.Errorf("keep off CPU %d: it is the only CPU this process may use", cpu)
	}
	tasks, err := os.ReadDir("/proc/self/task")
	if err != nil {
		return fmt.Errorf("keep off CPU %d: %w", cpu, err)
	}
	for _, t := range tasks {
		tid, err := strconv.Atoi(t.Name())
		if err != nil {
			continue
		}
		if err := unix.SchedSetaffinity(tid, &set); err != nil {
			return fmt.Errorf("keep off CPU %d: thread %d: %w", cpu, tid, err)
		}
	}
	return nil
}

// allowedCPUs returns the Cpus_allowed_list of a process.
func allowedCPUs(pid int) (string, error) {
	var set unix.CPUSet
	if err := unix.SchedGetaffinity(pid, &set); err != nil {
		return "", err
	}
	s := ""
	for i := 0; i < 1024; i++ {
		if set.IsSet(i) {
			if s != "" {
				s += ","
			}
			s += strconv.Itoa(i)
		}
	}
	return s, nil
}
