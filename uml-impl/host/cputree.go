package host

import (
	"fmt"
	"os"
	"strconv"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/friendly-vm/fvm/internal/procstat"
)

// CPUSample is one reading of a guest's host CPU time.
type CPUSample struct {
	T   int64  // host CLOCK_MONOTONIC, ns (the clock of /proc/fvm windows)
	CPU uint64 // host CPU ns used by the guest's process tree so far
}

// cpuTree measures the host CPU time of the processes in one session (a
// UML guest: the kernel process is the session leader, all its helpers and
// stubs inherit the session even when re-parented). Processes that exit
// keep the last value read; what they ran after that read is lost, so the
// sampling interval bounds the loss per exiting process.
type cpuTree struct {
	root int

	mu      sync.Mutex
	last    map[procID]uint64 // last schedstat run time per process
	samples []CPUSample
}

// procID tells apart processes that reuse a pid.
type procID struct {
	pid   int
	start uint64 // starttime in clock ticks since host boot
}

func newCPUTree(root int) *cpuTree {
	return &cpuTree{root: root, last: map[procID]uint64{}}
}

// Now returns host CLOCK_MONOTONIC in ns.
func Now() int64 {
	var ts unix.Timespec
	if err := unix.ClockGettime(unix.CLOCK_MONOTONIC, &ts); err != nil {
		panic(fmt.Sprintf("clock_gettime(CLOCK_MONOTONIC): %v", err))
	}
	return ts.Nano()
}

// sample reads every process of the session, records and returns the
// total.
func (c *cpuTree) sample() CPUSample {
	pids := c.members(false)
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, id := range pids {
		if ns, ok := readSchedstat(id.pid); ok && ns >= c.last[id] {
			c.last[id] = ns
		}
	}
	var tot uint64
	for _, v := range c.last {
		tot += v
	}
	s := CPUSample{T: Now(), CPU: tot}
	c.samples = append(c.samples, s)
	return s
}

// members lists the processes whose session is c.root; with live, not
// the ones already dead (zombies).
func (c *cpuTree) members(live bool) []procID {
	d, err := os.Open("/proc")
	if err != nil {
		return nil
	}
	defer d.Close()
	names, _ := d.Readdirnames(-1)
	var out []procID
	for _, n := range names {
		pid, err := strconv.Atoi(n)
		if err != nil {
			continue
		}
		sid, start, state, ok := readStat(pid)
		if ok && (sid == c.root || pid == c.root) && (!live || state != 'Z' && state != 'X') {
			out = append(out, procID{pid, start})
		}
	}
	return out
}

// pids returns the pids of the guest's live host processes.
func (c *cpuTree) pids() []int {
	var p []int
	for _, id := range c.members(true) {
		p = append(p, id.pid)
	}
	return p
}

func (c *cpuTree) history() []CPUSample {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]CPUSample(nil), c.samples...)
}

// readStat returns the session id, start time and state of pid from
// /proc/<pid>/stat.
func readStat(pid int) (sid int, start uint64, state byte, ok bool) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, 0, 0, false
	}
	st, err := procstat.ParseStat(b)
	if err != nil {
		return 0, 0, 0, false
	}
	return st.Session, st.Start, st.State, true
}

// readSchedstat returns the first field of /proc/<pid>/schedstat: time
// spent on a CPU, in ns (the process's main thread; UML's processes are
// single-threaded).
func readSchedstat(pid int) (uint64, bool) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/schedstat")
	if err != nil {
		return 0, false
	}
	s, err := procstat.ParseSchedstat(b)
	return s.RunNs, err == nil
}

// killSession sends SIGKILL to every process of the session and waits
// (up to 5 s) until none is left alive.
func killSession(c *cpuTree) {
	deadline := time.Now().Add(5 * time.Second)
	for {
		pids := c.pids()
		if len(pids) == 0 || time.Now().After(deadline) {
			return
		}
		for _, p := range pids {
			_ = syscall.Kill(p, syscall.SIGKILL)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
