package cgroup

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/friendly-vm/fvm/internal/procstat"
)

// Schedstat is a task's /proc/<tid>/schedstat (see package procstat).
type Schedstat = procstat.Schedstat

// ReadSchedstat reads /proc/<tid>/schedstat.
func ReadSchedstat(fs FS, tid int) (Schedstat, error) {
	p := "/proc/" + strconv.Itoa(tid) + "/schedstat"
	b, err := fs.ReadFile(p)
	if err != nil {
		return Schedstat{}, err
	}
	s, err := procstat.ParseSchedstat(b)
	if err != nil {
		return Schedstat{}, fmt.Errorf("%s: %w", p, err)
	}
	return s, nil
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
	st, err := procstat.ParseStat(b)
	if err != nil {
		return 0, fmt.Errorf("%s: %w", p, err)
	}
	return st.Start, nil
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
