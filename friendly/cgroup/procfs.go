package cgroup

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"
)

// Schedstat is a task's /proc/<tid>/schedstat: its time on a CPU and its
// run delay (time runnable, waiting on a run queue), both ns since the
// task was created.
type Schedstat struct {
	RunNs, DelayNs uint64
}

// ReadSchedstat reads /proc/<tid>/schedstat.
func ReadSchedstat(fs FS, tid int) (Schedstat, error) {
	p := "/proc/" + strconv.Itoa(tid) + "/schedstat"
	b, err := fs.ReadFile(p)
	if err != nil {
		return Schedstat{}, err
	}
	f := bytes.Fields(b)
	if len(f) < 2 {
		return Schedstat{}, fmt.Errorf("%s: %q: want \"run_ns delay_ns slices\"", p, b)
	}
	run, err1 := strconv.ParseUint(string(f[0]), 10, 64)
	delay, err2 := strconv.ParseUint(string(f[1]), 10, 64)
	if err1 != nil || err2 != nil {
		return Schedstat{}, fmt.Errorf("%s: %q: want unsigned integers", p, b)
	}
	return Schedstat{RunNs: run, DelayNs: delay}, nil
}

// StartTime returns a process's start time (clock ticks after boot, field
// 22 of /proc/<pid>/stat), which tells it apart from a later process that
// reuses its pid.
func StartTime(fs FS, pid int) (uint64, error) {
	p := "/proc/" + strconv.Itoa(pid) + "/stat"
	b, err := fs.ReadFile(p)
	if err != nil {
		return 0, err
	}
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, fmt.Errorf("%s: no command name", p)
	}
	f := bytes.Fields(b[i+1:])
	// After the command name: state(3) ... starttime(22).
	if len(f) < 20 {
		return 0, fmt.Errorf("%s: %d fields after the command name, want at least 20", p, len(f))
	}
	v, err := strconv.ParseUint(string(f[19]), 10, 64)
	if err != nil {
		return 0, fmt.Errorf("%s: start time: %w", p, err)
	}
	return v, nil
}

// OwnerName names a group after the process that owns it: its pid and
// start time, so that a later process reusing the pid is not taken for it.
func OwnerName(fs FS, pid int) (string, error) {
	st, err := StartTime(fs, pid)
	if err != nil {
		return "", fmt.Errorf("owner name: %w", err)
	}
	return fmt.Sprintf("%d-%d", pid, st), nil
}

// OwnerAlive reports whether the process a group is named after (see
// OwnerName) still runs; ok is false for a name OwnerName does not make.
func OwnerAlive(fs FS, name string) (alive, ok bool) {
	pid, st, found := strings.Cut(name, "-")
	p, err1 := strconv.Atoi(pid)
	s, err2 := strconv.ParseUint(st, 10, 64)
	if !found || err1 != nil || err2 != nil || p <= 0 {
		return false, false
	}
	got, err := StartTime(fs, p)
	return err == nil && got == s, true
}
