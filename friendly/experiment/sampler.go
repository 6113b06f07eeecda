package experiment

import (
	"os"
	"strconv"
	"sync"

	"github.com/friendly-vm/fvm/internal/procstat"
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
		if st, ok := statOf("/proc/" + p.Name() + "/stat"); !ok || st.Pgrp != g.pgid {
			continue
		}
		tasks, _ := os.ReadDir("/proc/" + strconv.Itoa(pid) + "/task")
		for _, t := range tasks {
			tid, err := strconv.Atoi(t.Name())
			if err != nil {
				continue
			}
			dir := "/proc/" + strconv.Itoa(pid) + "/task/" + t.Name()
			st, ok := statOf(dir + "/stat")
			if !ok {
				continue
			}
			b, err := os.ReadFile(dir + "/schedstat")
			if err != nil {
				continue
			}
			if ss, err := procstat.ParseSchedstat(b); err == nil {
				id := task{tid, st.Start}
				if ss.RunNs >= g.last[id] {
					g.last[id] = ss.RunNs
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

// statOf reads a stat file; false if the task is gone or the file is
// not one.
func statOf(p string) (procstat.Stat, bool) {
	b, err := os.ReadFile(p)
	if err != nil {
		return procstat.Stat{}, false
	}
	st, err := procstat.ParseStat(b)
	return st, err == nil
}
