package procstat

import (
	"bytes"
	"fmt"
	"strconv"
)

// Stat holds the fields of /proc/<pid>/stat that tell a task's place and
// identity: its state letter, process group, session, and start time
// (clock ticks after boot, which tells it apart from a later task that
// reuses its pid).
type Stat struct {
	State   byte
	Pgrp    int
	Session int
	Start   uint64
}

// ParseStat parses the content of /proc/<pid>/stat. The command name is
// in parentheses and may itself hold spaces and parentheses, so the
// fields are counted from the last ')'.
func ParseStat(b []byte) (Stat, error) {
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return Stat{}, fmt.Errorf("stat %q: no command name in parentheses", trim(b))
	}
	f := bytes.Fields(b[i+1:])
	// After the command name: state(3) ppid(4) pgrp(5) session(6) ...
	// starttime(22), numbered as in proc(5).
	if len(f) < 20 {
		return Stat{}, fmt.Errorf("stat %q: %d fields after the command name, want at least 20", trim(b), len(f))
	}
	if len(f[0]) != 1 {
		return Stat{}, fmt.Errorf("stat %q: state %q, want one letter", trim(b), f[0])
	}
	pg, err1 := strconv.Atoi(string(f[2]))
	sid, err2 := strconv.Atoi(string(f[3]))
	st, err3 := strconv.ParseUint(string(f[19]), 10, 64)
	if err1 != nil || err2 != nil || err3 != nil {
		return Stat{}, fmt.Errorf("stat %q: process group, session or start time is not a number", trim(b))
	}
	return Stat{State: f[0][0], Pgrp: pg, Session: sid, Start: st}, nil
}

// Schedstat is a task's /proc/<tid>/schedstat: its time on a CPU and its
// run delay (time runnable, waiting on a run queue), both ns since the
// task was created.
type Schedstat struct {
	RunNs, DelayNs uint64
}

// ParseSchedstat parses the content of /proc/<tid>/schedstat
// ("run_ns delay_ns timeslices").
func ParseSchedstat(b []byte) (Schedstat, error) {
	f := bytes.Fields(b)
	if len(f) < 2 {
		return Schedstat{}, fmt.Errorf("schedstat %q: want \"run_ns delay_ns slices\"", trim(b))
	}
	run, err1 := strconv.ParseUint(string(f[0]), 10, 64)
	delay, err2 := strconv.ParseUint(string(f[1]), 10, 64)
	if err1 != nil || err2 != nil {
		return Schedstat{}, fmt.Errorf("schedstat %q: want unsigned integers", trim(b))
	}
	return Schedstat{RunNs: run, DelayNs: delay}, nil
}

// trim keeps error messages to one line.
func trim(b []byte) []byte {
	b = bytes.TrimSpace(b)
	if len(b) > 80 {
		b = append(b[:77:77], "..."...)
	}
	return b
}
