package controller

import (
	"fmt"
	"math"
	"slices"

	"github.com/friendly-vm/fvm/trace"
	"github.com/friendly-vm/fvm/vocab"
)

// maxVCT is the signal value of a window in which the VM wanted the CPU and
// got none of it (vct = want/0): infinitely congested, recorded as this.
const maxVCT = 1_000_000

// Core is the controller's pure state machine. It is fed reads of the
// kernel's window ring with Observe and answers with trace events and the
// pause to enforce. It performs no I/O and reads no clock: the caller
// passes the host time of each read, so a Core is deterministic and can be
// driven by tests, fuzzers and property suites exactly like the daemon.
//
// Invariants: Dmin <= D() <= Dmax; every window with seq > start is either
// consumed exactly once, in increasing seq order, or reported in exactly
// one gap event; no window is acted on twice.
type Core struct {
	cfg Config

	d       int
	last    uint64 // last window seq consumed or skipped
	started bool   // a read has brought a window
	newest  uint64 // newest window seq seen
	prevEnd uint64 // end_ns of the last valid window consumed
	prevSeq uint64 // its seq

	ewma   int64
	primed bool // ewma holds a value

	lastNew     int64  // host ns of the last read that brought a new window
	garbageRun  int    // garbage windows in a row
	lastGarbage string // why the last garbage window was rejected
	blind       bool   // holding Safe after silence or a garbage run

	decisions uint64
	cnt       Counters
}

// NewCore returns a controller at demand cfg.Init that will consume the
// windows after startSeq (those up to it predate the controller). now is
// the host time at start; silence is measured from it.
func NewCore(cfg Config, startSeq uint64, now int64) (*Core, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("controller config: %w", err)
	}
	return &Core{cfg: cfg, d: cfg.Init, last: startSeq, newest: startSeq, lastNew: now}, nil
}

// Config returns the configuration in force.
func (c *Core) Config() Config { return c.cfg }

// Demand returns the current demand (units of 1/U of a core).
func (c *Core) Demand() int { return c.d }

// Pause returns the pause (permille) for the current demand.
func (c *Core) Pause() int { return c.cfg.Pause(c.d) }

// Last returns the seq of the last window consumed or skipped.
func (c *Core) Last() uint64 { return c.last }

// Blind reports whether the core is holding the safe demand because
// windows stopped coming or kept being garbage.
func (c *Core) Blind() bool { return c.blind }

// Decisions returns the number of decide events so far (the seq of the
// last one).
func (c *Core) Decisions() uint64 { return c.decisions }

// NextDue returns when (host ns) the window after the last valid one is
// expected to end, plus a margin of 2 ms for the sampler's wake-up; 0 if
// no window has been used yet.
func (c *Core) NextDue() int64 {
	if c.prevSeq == 0 {
		return 0
	}
	return int64(c.prevEnd) + c.cfg.WindowNs + 2_000_000
}

// LastGarbage returns why the last garbage window was rejected ("" if
// none was).
func (c *Core) LastGarbage() string { return c.lastGarbage }

// Counters returns what the core has seen so far.
func (c *Core) Counters() Counters { return c.cnt }

// Header returns the trace header describing this core's parameters: the
// host model its pause actuation is (duty, or duty-idle for the
// work-conserving pause), with loss (a window older than the
// delay bound is given up, in a gap event). The caller fills in the
// environment: Kernel, Controller, Workload, PeriodUs, ClockOffsetNs.
func (c *Core) Header() trace.Header {
	f := c.cfg
	h := trace.NewHeader(trace.Model{
		N: f.N, U: f.U, Capacity: f.U, Host: f.Host(), Signal: f.Signal, Theta: f.Theta(),
		Rule: f.Rule, Alpha: f.Alpha, Beta: f.Beta, Mu: f.Mu, Delta: f.Delta,
		Dmin: f.Dmin, Dmax: f.Dmax, Delay: f.Delay, Loss: true, WindowNs: f.WindowNs,
		FidelityTol: f.FidelityTol, EWMA: f.EWMA,
	})
	h.InitD, h.Clock = f.Init, "host"
	return h
}

// Observe processes one read of the window ring, taken at host time now.
// ws may hold windows already seen, in any order, with duplicates: only
// windows newer than the last consumed one count, each once, in order of
// seq. It returns the events to trace, in order.
func (c *Core) Observe(now int64, ws []Window) []trace.Event {
	fresh := make([]Window, 0, len(ws))
	for _, w := range ws {
		if w.Seq <= c.last {
			c.cnt.Duplicates++
			continue
		}
		fresh = append(fresh, w)
	}
	slices.SortStableFunc(fresh, func(a, b Window) int {
		switch {
		case a.Seq < b.Seq:
			return -1
		case a.Seq > b.Seq:
			return 1
		}
		return 0
	})
	var ev []trace.Event
	if len(fresh) == 0 {
		return c.silence(now, ev)
	}
	newest := fresh[len(fresh)-1].Seq
	if newest > c.newest {
		c.newest = newest
	}
	if !c.started {
		// The first read may come late (a daemon starting in a VM paused
		// most of the time takes a while to get there): the windows
		// already older than the delay bound by then predate the
		// controller as much as those before its start, and are skipped,
		// not lost.
		c.started = true
		if first := int64(newest) - int64(c.cfg.Delay) - 1; first > int64(c.last) {
			c.last = uint64(first)
		}
	}
	var lateFrom, lateTo uint64
	flushLate := func() {
		if lateTo != 0 {
			c.cnt.Late += lateTo - lateFrom + 1
			ev = append(ev, c.gap(now, lateFrom, lateTo))
			lateFrom, lateTo = 0, 0
		}
	}
	for _, w := range fresh {
		if w.Seq <= c.last { // a repeat within this read
			c.cnt.Duplicates++
			continue
		}
		if w.Seq != c.last+1 {
			// Windows c.last+1 .. w.Seq-1 are missing from this read (the
			// ring overflowed, or a read raced the kernel). Those older
			// than the delay bound are lost; if a newer one is missing,
			// wait for it: a later read still has it, and using w first
			// would consume windows out of order.
			flushLate()
			if lost := int64(newest) - int64(c.cfg.Delay) - 1; lost > int64(c.last) {
				to := min(uint64(lost), w.Seq-1)
				ev = append(ev, c.gap(now, c.last+1, to))
				c.last = to
			}
			if w.Seq != c.last+1 {
				break
			}
		}
		c.last = w.Seq
		if newest-w.Seq > uint64(c.cfg.Delay) {
			if lateTo == 0 {
				lateFrom = w.Seq
			}
			lateTo = w.Seq
			continue
		}
		flushLate()
		ev = c.consume(now, w, newest, ev)
	}
	flushLate()
	c.lastNew = now
	return ev
}

// gap reports windows from..to as never used: the ring overflowed before
// they were read, they were missing from a read, or they were older than
// the delay bound when read ("late"). It records the newest window seen,
// against which the trace checker judges that they were older than the
// delay bound.
func (c *Core) gap(now int64, from, to uint64) trace.Event {
	c.cnt.Gaps++
	c.cnt.GapWindows += to - from + 1
	return trace.Event{Kind: trace.KindGap, VM: c.cfg.VM, TNs: now,
		Gap: trace.Gap{FromSeq: int64(from), ToSeq: int64(to), NewestSeq: int64(c.newest)}}
}

// silence holds the safe demand once no window has come for HoldAfterNs.
func (c *Core) silence(now int64, ev []trace.Event) []trace.Event {
	if c.blind || now-c.lastNew < c.cfg.HoldAfterNs {
		return ev
	}
	return append(ev, c.hold(now, 0, false))
}

// hold records a decision that applies no rule, consuming window
// sampleSeq (0: none): to the safe demand, entering blind mode, unless keep.
func (c *Core) hold(now int64, sampleSeq uint64, keep bool) trace.Event {
	before := c.d
	if !keep {
		c.d = c.cfg.Safe
		c.blind = true
		c.cnt.Holds++
	}
	return c.decide(now, sampleSeq, c.newest, before, vocab.Hold)
}

func (c *Core) decide(now int64, sampleSeq, newest uint64, before int, br vocab.Branch) trace.Event {
	c.decisions++
	c.cnt.Decisions++
	return trace.Event{Kind: trace.KindDecide, VM: c.cfg.VM, TNs: now, Decide: trace.Decide{
		Seq: int64(c.decisions), SampleSeq: int64(sampleSeq), NewestSeq: int64(newest),
		DBefore: before, DAfter: c.d, Branch: br,
	}}
}

// sample renders a window as a sample event; ok is false if a field is
// out of the trace format's range (possible only for garbage windows).
func (c *Core) sample(now int64, w Window, signal int64, congested bool) (trace.Event, bool) {
	ok := w.Seq >= 1 && w.StealPermille <= 1000 && w.PausePermille <= 1000
	for _, x := range []uint64{w.Seq, w.StartNs, w.WallNs, w.WantNs, w.CPUNs, w.IdleNs, w.PauseNs, w.IdleCPUNs, w.VCTPermille} {
		ok = ok && x <= math.MaxInt64
	}
	return trace.Event{Kind: trace.KindSample, VM: c.cfg.VM, TNs: now, Sample: trace.Sample{
		Seq: int64(w.Seq), StartNs: int64(w.StartNs), WallNs: int64(w.WallNs), WantNs: int64(w.WantNs),
		CPUNs: int64(w.CPUNs), IdleNs: int64(w.IdleNs), PauseNs: int64(w.PauseNs), IdleCPUNs: int64(w.IdleCPUNs),
		StealPermille: int64(w.StealPermille), VCTPermille: int64(w.VCTPermille),
		PausePermille: int64(w.PausePermille), SignalPermille: signal, Congested: congested,
	}}, ok
}

// signal returns the raw signal of a valid window, in permille.
func (c *Core) signal(w Window) int64 {
	if c.cfg.Signal == vocab.Steal {
		return int64(w.StealPermille)
	}
	if w.CPUNs == 0 {
		if w.WantNs > 0 {
			return maxVCT
		}
		return 1000
	}
	if w.VCTPermille > maxVCT {
		return maxVCT
	}
	return int64(w.VCTPermille)
}

// consume uses one window: a sample event and a decide event. A garbage
// window is traced as a sample if its fields fit the trace format, and is
// consumed by a hold that keeps the demand, or after HoldGarbage garbage
// windows in a row sets the safe one.
func (c *Core) consume(now int64, w Window, newest uint64, ev []trace.Event) []trace.Event {
	c.cnt.Windows++
	why := Garbage(w, c.cfg.WindowNs)
	if why == "" && c.prevSeq != 0 && c.prevSeq+1 == w.Seq && w.StartNs < c.prevEnd {
		why = "start_ns before the previous window's end_ns"
	}
	if why != "" {
		c.cnt.Garbage++
		c.garbageRun++
		c.lastGarbage = why
		if s, ok := c.sample(now, w, c.ewma, false); ok {
			ev = append(ev, s)
		}
		keep := c.blind || c.garbageRun < c.cfg.HoldGarbage
		return append(ev, c.hold(now, w.Seq, keep))
	}
	c.garbageRun = 0
	c.blind = false
	c.prevSeq, c.prevEnd = w.Seq, w.EndNs
	x := c.signal(w)
	if !c.primed {
		c.ewma, c.primed = x, true
	} else {
		e := c.cfg.EWMA
		c.ewma = (e.Num*x + (e.Den-e.Num)*c.ewma) / e.Den
	}
	congested := c.ewma > int64(c.cfg.ThetaPermille)
	s, _ := c.sample(now, w, c.ewma, congested)
	ev = append(ev, s)
	before := c.d
	var br vocab.Branch
	c.d, br = c.cfg.Apply(before, congested)
	return append(ev, c.decide(now, w.Seq, newest, before, br))
}

// Tick checks for silence without a read (a read that failed): the same
// as Observe with no windows.
func (c *Core) Tick(now int64) []trace.Event { return c.silence(now, nil) }

// Reconfigure replaces the configuration (a config reload), keeping the
// windows consumed so far. If the demand falls outside the new bounds it is
// moved to the nearest bound by a hold (a demand change outside the rule)
// that consumes no window. The smoothed signal restarts when the signal
// changes. The VM index and N cannot change.
func (c *Core) Reconfigure(now int64, cfg Config) ([]trace.Event, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("controller config: %w", err)
	}
	if cfg.VM != c.cfg.VM || cfg.N != c.cfg.N {
		return nil, fmt.Errorf("controller config: vm %d of %d cannot become vm %d of %d", c.cfg.VM, c.cfg.N, cfg.VM, cfg.N)
	}
	if cfg.Signal != c.cfg.Signal {
		c.primed, c.ewma = false, 0
	}
	c.cfg = cfg
	before := c.d
	c.d = min(max(c.d, cfg.Dmin), cfg.Dmax)
	if c.d == before {
		return nil, nil
	}
	return []trace.Event{c.decide(now, 0, c.newest, before, vocab.Hold)}, nil
}
