package experiment

import (
	"bytes"
	"os"
	"strconv"
	"sync"
)

// task tells apart tasks that reuse a tid.
type task struct {
	tid   int
	start uint64
}

// groupCPU measures the CPU time of the processes of one process group:
// the sum of its threads' time on a CPU (/proc/<pid>/task/<tid>/schedstat,
// field 1), a task that exits keeping the last value read (what it ran
// after that is lost: at most one sampling interval per exiting task).
type groupCPU struct {
	pgid int
	mu   sync.Mutex
	last map[task]uint64
}

func newGroupCPU(pgid int) *groupCPU { return &groupCPU{pgid: pgid, last: map[task]uint64{}} }

// sample reads the group's tasks and returns the cumulative CPU ns.
func (g *groupCPU) sample() uint64 {
	procs, _ := os.ReadDir("/proc")
	g.mu.Lock()
	defer g.mu.Unlock()
	for _, p := range procs {
		pid, err := strconv.Atoi(p.Name())
		if err != nil {
			continue
		}
		pgid, _, ok := statOf("/proc/" + p.Name() + "/stat")
		if !ok || pgid != g.pgid {
			continue
		}
		tasks, _ := os.ReadDir("/proc/" + strconv.Itoa(pid) + "/task")
		for _, t := range tasks {
			tid, err := strconv.Atoi(t.Name())
			if err != nil {
				continue
			}
			dir := "/proc/" + strconv.Itoa(pid) + "/task/" + t.Name()
			_, tstart, ok := statOf(dir + "/stat")
			if !ok {
				continue
			}
			if ns, ok := runNs(dir + "/schedstat"); ok {
				id := task{tid, tstart}
				if ns >= g.last[id] {
					g.last[id] = ns
				}
			}
		}
	}
	var tot uint64
	for _, v := range g.last {
		tot += v
	}
	return tot
}

// statOf returns the process group and start time from a stat file.
func statOf(p string) (pgid int, start uint64, ok bool) {
	b, err := os.ReadFile(p)
	if err != nil {
		return 0, 0, false
	}
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, 0, false
	}
	f := bytes.Fields(b[i+1:])
	// After the command name: state(3) ppid(4) pgrp(5) ... starttime(22).
	if len(f) < 20 {
		return 0, 0, false
	}
	g, err1 := strconv.Atoi(string(f[2]))
	s, err2 := strconv.ParseUint(string(f[19]), 10, 64)
	return g, s, err1 == nil && err2 == nil
}

// runNs is the first field of a schedstat file.
func runNs(p string) (uint64, bool) {
	b, err := os.ReadFile(p)
	if err != nil {
		return 0, false
	}
	f := bytes.Fields(b)
	if len(f) < 1 {
		return 0, false
	}
	v, err := strconv.ParseUint(string(f[0]), 10, 64)
	return v, err == nil
}
