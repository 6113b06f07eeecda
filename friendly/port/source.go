package port

import (
	"fmt"
	"slices"
	"sync"

	"github.com/friendly-vm/fvm/friendly/cgroup"
	"github.com/friendly-vm/fvm/uml-impl/controller"
	"github.com/friendly-vm/fvm/vocab"
)

// Source is the group's signal source: each call to Windows reads the
// group's counters and, once a window's length has passed since the
// window began, closes it, like the kernel's sampler (a window ends at the
// first reading at least WindowNs after it began, so the next starts where
// it ended). It keeps the last vocab.RingSize windows.
type Source struct {
	fs       cgroup.FS
	g        *cgroup.Group
	now      func() int64
	windowNs int64

	// mu serialises readings: the controller's polls and, for a
	// work-conserving pause, the IdleActuator's switches.
	mu sync.Mutex
	// act, if not nil, takes the group's pauses at idle priority
	// (work-conserving), so the windows split the group's time at its
	// switches; low: the group is in such a pause now.
	act *IdleActuator
	low bool

	ring    []controller.Window
	seq     uint64
	started bool
	begin   Reading // at the start of the open window
	last    Reading // the most recent reading
	tasks   map[int]cgroup.Schedstat
}

// Reading is one reading of the group's cumulative counters. RunNs and
// DelayNs sum, over the group's tasks, the time on a CPU and the run delay
// since the first reading; a task that exits keeps what was read of it
// last (what it ran after that is lost), one that appears counts from its
// creation.
type Reading struct {
	T           int64 // host CLOCK_MONOTONIC, ns
	CPUNs       uint64
	ThrottledNs uint64
	RunNs       uint64
	DelayNs     uint64
	QuotaUs     int64 // cgroup.Unlimited if none
	PeriodUs    int64
	// With work-conserving pauses: the time in pauses, and the CPU time
	// and run delay within them, since the first reading.
	LowNs, LowCPUNs, LowDelayNs uint64
}

// NewSource returns the source of group g; now reads host
// CLOCK_MONOTONIC in ns.
func NewSource(fs cgroup.FS, g *cgroup.Group, now func() int64) *Source {
	return &Source{fs: fs, g: g, now: now, windowNs: vocab.WindowNs, tasks: map[int]cgroup.Schedstat{}}
}

// read takes a reading. Its time is taken before the counters are read,
// so a window ends no later than the read returns: the controller loop
// stamps the sample with its clock after Windows returns (the trace
// checker rejects a sample stamped before its window's end).
func (s *Source) read() (Reading, error) {
	t := s.now()
	u, err := s.g.Usage()
	if err != nil {
		return Reading{}, err
	}
	tids, err := s.g.Threads()
	if err != nil {
		return Reading{}, err
	}
	q, p, err := s.g.Bandwidth()
	if err != nil {
		return Reading{}, err
	}
	r := Reading{T: t, CPUNs: u.CPUNs, ThrottledNs: u.ThrottledNs, RunNs: s.last.RunNs, DelayNs: s.last.DelayNs, QuotaUs: q, PeriodUs: p,
		LowNs: s.last.LowNs, LowCPUNs: s.last.LowCPUNs, LowDelayNs: s.last.LowDelayNs}
	seen := make(map[int]cgroup.Schedstat, len(tids))
	for _, tid := range tids {
		st, err := cgroup.ReadSchedstat(s.fs, tid)
		if err != nil {
			continue // exited between the listing and the read
		}
		seen[tid] = st
		if !s.started {
			continue // what tasks did before the first reading is not ours
		}
		old, ok := s.tasks[tid]
		if !ok || st.RunNs < old.RunNs || st.DelayNs < old.DelayNs {
			old = cgroup.Schedstat{} // a new task (or a reused tid) counts from its creation
		}
		r.RunNs += st.RunNs - old.RunNs
		r.DelayNs += st.DelayNs - old.DelayNs
	}
	s.tasks = seen
	if s.low && s.started {
		// The time since the last reading was spent in a pause.
		r.LowNs += uint64(max(r.T-s.last.T, 0))
		r.LowCPUNs += sub(r.CPUNs, s.last.CPUNs)
		r.LowDelayNs += r.DelayNs - s.last.DelayNs
	}
	return r, nil
}

// Switch records that the group enters (low) or leaves a work-conserving
// pause now: it takes a reading, so that the time before counts in the
// phase it was spent in.
func (s *Source) Switch(low bool) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.started {
		r, err := s.read()
		if err != nil {
			return fmt.Errorf("group %s: %w", s.g.Name(), err)
		}
		s.last = r
	}
	s.low = low
	return nil
}

// Seq returns the number of windows closed so far (the last one's seq).
func (s *Source) Seq() uint64 { return s.seq }

// Last returns the most recent reading (zero before the first).
func (s *Source) Last() Reading {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.last
}

// Windows implements controller.SignalSource.
func (s *Source) Windows() ([]controller.Window, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, err := s.read()
	if err != nil {
		return nil, fmt.Errorf("group %s: %w", s.g.Name(), err)
	}
	s.last = r
	if !s.started {
		s.started, s.begin = true, r
		return nil, nil
	}
	if r.T-s.begin.T >= s.windowNs {
		s.seq++
		w := window(s.seq, s.begin, r)
		if s.act != nil {
			w = idleWindow(s.seq, s.begin, r, s.act.inForce(), s.act.periodUs)
		}
		s.ring = append(s.ring, w)
		if len(s.ring) > vocab.RingSize {
			s.ring = slices.Clone(s.ring[len(s.ring)-vocab.RingSize:])
		}
		s.begin = r
	}
	return slices.Clone(s.ring), nil
}

// sub is a - b, or 0 when a counter went backwards.
func sub(a, b uint64) uint64 {
	if a > b {
		return a - b
	}
	return 0
}

// window builds the window from reading a to reading b (doc.go).
func window(seq uint64, a, b Reading) controller.Window {
	wall := uint64(b.T - a.T)
	pause := min(sub(b.ThrottledNs, a.ThrottledNs), wall)
	w := windowOf(seq, a, b, sub(b.CPUNs, a.CPUNs), pause, sub(sub(b.DelayNs, a.DelayNs), pause))
	w.PausePermille, w.PeriodUs = uint64(PauseOf(b.QuotaUs, b.PeriodUs)), uint64(max(b.PeriodUs, 0))
	return w
}

// idleWindow builds the window from reading a to reading b when the pauses
// are work-conserving (doc.go): the pause is the time at idle priority,
// the signal is measured over the rest, and idle_cpu_ns is the CPU time
// the group got in its pauses, as in the kernel's pause_mode idle.
func idleWindow(seq uint64, a, b Reading, pausePermille int, periodUs int64) controller.Window {
	pause := min(sub(b.LowNs, a.LowNs), uint64(b.T-a.T))
	lowCPU := sub(b.LowCPUNs, a.LowCPUNs)
	w := windowOf(seq, a, b, sub(sub(b.CPUNs, a.CPUNs), lowCPU), pause, sub(sub(b.DelayNs, a.DelayNs), sub(b.LowDelayNs, a.LowDelayNs)))
	w.PausePermille, w.PeriodUs = uint64(max(pausePermille, 0)), uint64(max(periodUs, 0))
	w.IdleCPUNs, w.PauseMode = lowCPU, 1
	return w
}

// windowOf is the window from reading a to reading b whose group used cpu
// while allowed to run, was paused for pause (at most the wall time) and
// waited for a CPU for wait: want = min(cpu + wait, wall - pause), then
// idle and steal as the kernel defines them (doc.go).
func windowOf(seq uint64, a, b Reading, cpu, pause, wait uint64) controller.Window {
	wall := uint64(b.T - a.T)
	avail := wall - pause
	want := min(cpu+wait, avail)
	steal := sub(want, cpu)
	w := controller.Window{Seq: seq, StartNs: uint64(a.T), EndNs: uint64(b.T), WallNs: wall, CPUNs: cpu,
		IdleNs: avail - want, PauseNs: pause, WantNs: want, StealNs: steal, StealPermille: steal * 1000 / wall}
	if cpu > 0 {
		w.VCTPermille = want * 1000 / cpu
	}
	return w
}
