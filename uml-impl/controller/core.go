package controller

import (
	"fmt"
	"slices"
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
	newest  uint64 // newest window seq seen
	prevEnd uint64 // end_ns of the last valid window consumed
	prevSeq uint64 // its seq

	ewma   int64
	primed bool // ewma holds a value

	lastNew    int64 // host ns of the last read that brought a new window
	garbageRun int   // garbage windows in a row
	blind      bool  // holding Safe after silence or a garbage run

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

// D returns the current demand.
func (c *Core) D() int { return c.d }

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

// Counters returns what the core has seen so far.
func (c *Core) Counters() Counters { return c.cnt }

// Header returns the header event describing this core's parameters; the
// caller fills in the environment fields (kernel, workload, clock offset,
// period).
func (c *Core) Header(now int64, startSeq uint64) *Header {
	f := c.cfg
	return &Header{
		Base: c.at(KindHeader, now), Role: "fvm",
		U: f.U, Dmin: f.Dmin, Dmax: f.Dmax, Init: f.Init, Safe: f.Safe,
		Rule: f.Rule, Alpha: f.Alpha, Beta: f.Beta, Mu: f.Mu, Delta: f.Delta,
		Signal: f.Signal, Theta: f.Theta(), ThetaPerm: f.ThetaPermille, EWMA: f.EWMA,
		D: f.D, WindowNs: f.WindowNs, HoldAfter: f.HoldAfterNs, HoldGarb: f.HoldGarbage,
		StartSeq: startSeq, Host: "duty", Capacity: f.U,
	}
}

func (c *Core) at(kind string, now int64) Base {
	return Base{V: TraceVersion, Kind: kind, VM: c.cfg.VM, TNs: now}
}

// Observe processes one read of the window ring, taken at host time now.
// ws may hold windows already seen, in any order, with duplicates: only
// windows newer than the last consumed one count, each once, in order of
// seq. It returns the events to trace, in order.
func (c *Core) Observe(now int64, ws []Window) []Event {
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
	var ev []Event
	if len(fresh) == 0 {
		return c.silence(now, ev)
	}
	newest := fresh[len(fresh)-1].Seq
	if newest > c.newest {
		c.newest = newest
	}
	var lateFrom, lateTo uint64
	flushLate := func() {
		if lateTo != 0 {
			ev = append(ev, c.gap(now, lateFrom, lateTo, "late"))
			lateFrom, lateTo = 0, 0
		}
	}
	first := true
	for _, w := range fresh {
		if w.Seq <= c.last { // a repeat within this read
			c.cnt.Duplicates++
			continue
		}
		if w.Seq != c.last+1 {
			flushLate()
			reason := "missing"
			if first {
				reason = "overflow"
			}
			ev = append(ev, c.gap(now, c.last+1, w.Seq-1, reason))
		}
		first = false
		c.last = w.Seq
		if newest-w.Seq > uint64(c.cfg.D) {
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

func (c *Core) gap(now int64, from, to uint64, reason string) *Gap {
	c.cnt.Gaps++
	c.cnt.GapWindows += to - from + 1
	return &Gap{Base: c.at(KindGap, now), From: from, To: to, Count: to - from + 1, Reason: reason}
}

// silence holds the safe demand once no window has come for HoldAfterNs.
func (c *Core) silence(now int64, ev []Event) []Event {
	if c.blind || now-c.lastNew < c.cfg.HoldAfterNs {
		return ev
	}
	return append(ev, c.hold(now, c.last, false, "silence"))
}

// hold records a decision that applies no rule: to the safe demand when
// blind is set (entering blind mode), else keeping the demand.
func (c *Core) hold(now int64, sampleSeq uint64, keep bool, reason string) *Decide {
	c.decisions++
	before := c.d
	if !keep {
		c.d = c.cfg.Safe
		c.blind = true
		c.cnt.Holds++
	}
	return &Decide{
		Base: c.at(KindDecide, now), Seq: c.decisions, SampleSeq: sampleSeq, Newest: c.newest,
		Delay: c.newest - sampleSeq, DBefore: before, DAfter: c.d, Branch: Hold, Reason: reason,
	}
}

// signal returns the raw signal of a valid window, in permille.
func (c *Core) signal(w Window) int64 {
	if c.cfg.Signal == Steal {
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

// consume uses one window: a sample event and a decide event.
func (c *Core) consume(now int64, w Window, newest uint64, ev []Event) []Event {
	c.cnt.Windows++
	why := Garbage(w, c.cfg.WindowNs)
	if why == "" && c.prevSeq != 0 && c.prevSeq+1 == w.Seq && w.StartNs < c.prevEnd {
		why = "start_ns before the previous window's end_ns"
	}
	if why != "" {
		c.cnt.Garbage++
		c.garbageRun++
		ev = append(ev, &Sample{Base: c.at(KindSample, now), Window: w, Signal: c.ewma, Garbage: why})
		if c.garbageRun >= c.cfg.HoldGarbage && !c.blind {
			return append(ev, c.hold(now, w.Seq, false, "garbage-run"))
		}
		return append(ev, c.hold(now, w.Seq, true, "garbage"))
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
	ev = append(ev, &Sample{Base: c.at(KindSample, now), Window: w, Signal: c.ewma, Congested: congested})
	before := c.d
	next, br := c.cfg.Apply(before, congested)
	c.d = next
	c.decisions++
	return append(ev, &Decide{
		Base: c.at(KindDecide, now), Seq: c.decisions, SampleSeq: w.Seq, Newest: newest,
		Delay: newest - w.Seq, Congested: congested, DBefore: before, DAfter: next, Branch: br,
	})
}

// Tick checks for silence without a read (a read that failed): the same
// as Observe with no windows.
func (c *Core) Tick(now int64) []Event { return c.silence(now, nil) }

// Reconfigure replaces the configuration (a config reload), keeping the
// windows consumed so far. If the demand falls outside the new bounds it is
// clamped, and a decide event with branch clamp and reason "reconfigure"
// says so. The smoothed signal restarts when the signal changes.
func (c *Core) Reconfigure(now int64, cfg Config) ([]Event, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("controller config: %w", err)
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
	c.decisions++
	return []Event{&Decide{
		Base: c.at(KindDecide, now), Seq: c.decisions, SampleSeq: c.last, Newest: c.newest,
		Delay: c.newest - c.last, DBefore: before, DAfter: c.d, Branch: Clamp, Reason: "reconfigure",
	}}, nil
}
