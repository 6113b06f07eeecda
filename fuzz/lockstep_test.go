package fuzz

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"testing"

	"pgregory.net/rapid"

	"github.com/friendly-vm/fvm/ref"
	"github.com/friendly-vm/fvm/trace"
	"github.com/friendly-vm/fvm/trace/refine"
	"github.com/friendly-vm/fvm/uml-impl/controller"
	"github.com/friendly-vm/fvm/vocab"
)

// The rapid lockstep suite drives N guest controllers (their Loops, each
// fed by an in-memory window ring and an in-memory pause knob) and the
// reference model with N FVMs side by side. A host tick closes one window
// in every guest, computed from the pauses in force; ref takes the same
// tick (open mode, with loss: a tick into a full FIFO drops the oldest
// window). A poll of one guest hands its controller a read of its ring —
// late (windows may wait longer than the delay bound D), with duplicates,
// reordered, with holes — and every event the controller traces is held to
// what the test expects, computed by ref and by an oracle written here from
// the documented contract, never read back from the controller:
//
//   - the congested bit: the window's signal (steal or VCT, from the
//     window's fields), smoothed by the EWMA, above theta;
//   - the decision: ref's Act on the oldest window in ref's FIFO, with that
//     bit, or ref's Hold for a garbage window (keep the demand; the safe
//     demand after HoldGarbage in a row) and for silence (no new window for
//     HoldAfterNs: the safe demand, once);
//   - the gaps: exactly the windows ref's loss dropped, reported before any
//     newer window is used;
//   - the time: every event of a poll is stamped with the host time of its
//     read. Some guests read through a source that gives the kernel's time
//     of the read (as /proc/fvm/next does) while their clock, if asked,
//     reads later (the guest descheduled after the read);
//   - the actuation: a poll whose last decision's pause is not confirmed in
//     force ends with an actuate event of that decision (earlier decisions
//     of the poll, superseded in the same instant, are not actuated); a pause is written only when it is not
//     confirmed in force, a successful write is traced as written and not
//     read back, a failed one is traced as the knob reads back; without
//     faults the knob holds the pause of ref's demand.
//
// At the end the whole run goes to the trace checker, which must accept it
// unless a faulty knob made a traced pause differ from the decided one; then
// it must reject exactly that actuate line. Lockstep failures say
// "lockstep:"; the final check says "refinement:" (make mutate reports
// which of the two caught a mutant).

// knob is the kernel's pause_permille file with injectable faults: failing
// writes, and a read-back that lies (flips the lowest bit; 950, whose
// flip 951 is out of range, reads 949). Written pauses are multiples of
// 10, so a lie never reads as a pause the controller could want.
type knob struct {
	pause      int
	failWrites bool
	lie        bool
	log        []knobOp // every call, in order, until matched with the trace
}

// knobOp is one call of the controller on the knob.
type knobOp struct {
	read   bool
	value  int // written, or read back
	failed bool
}

func (k *knob) SetPause(p int) error {
	op := knobOp{value: p}
	switch {
	case k.failWrites:
		op.failed = true
	case p < 0 || p > vocab.MaxPausePermille:
		op.failed = true // the kernel's ERANGE
	default:
		k.pause = p
	}
	k.log = append(k.log, op)
	if op.failed {
		return fmt.Errorf("write %d to pause_permille: %w", p, errors.New("EIO or ERANGE"))
	}
	return nil
}

func (k *knob) Pause() (int, error) {
	v := k.pause
	if k.lie {
		if v ^= 1; v > vocab.MaxPausePermille {
			v -= 2
		}
	}
	k.log = append(k.log, knobOp{read: true, value: v})
	return v, nil
}

// timedSource is a MemSource whose successful reads carry the kernel's host
// time, like controller.NextSource: at is the time the test's kernel
// stamps the next read with.
type timedSource struct {
	*controller.MemSource
	at, readNs int64
}

func (s *timedSource) Windows() ([]controller.Window, error) {
	ws, err := s.MemSource.Windows()
	if err == nil {
		s.readNs = s.at
	}
	return ws, err
}

func (s *timedSource) ReadNs() int64 { return s.readNs }
func (s *timedSource) Waits() bool   { return true }

// pauseOf is the pause that enforces demand d: the awake fraction d/U is
// 1 - pause/1000, and U divides 1000.
func pauseOf(u, d int) int { return 1000 - d*(1000/u) }

// vmRig is one guest: its controller with in-memory I/O, and the oracle's
// view of it.
type vmRig struct {
	i    int
	cfg  controller.Config
	src  *controller.MemSource
	tsrc *timedSource // nil: the source gives no time, the loop reads its clock
	lag  int64        // how much later than the read the clock reads, during a poll
	knob *knob
	sink *controller.MemSink
	loop *controller.Loop
	seen int // sink events already checked

	ring    []controller.Window          // what the kernel's ring holds
	win     map[uint64]controller.Window // every window produced
	garbage map[uint64]bool              // windows produced as garbage
	shown   map[uint64]bool              // garbage windows whose sample shows the checker a kernel fault (see corrupt)
	shownAt map[int]bool                 // lines of their sample events
	contend int                          // permille of its want the VM gets; -1: the host model decides

	seqs    []uint64 // windows in ref's FIFO for this VM, oldest first (ref holds their bits)
	dropped []uint64 // windows ref's loss dropped that no gap event has reported yet
	done    uint64   // every window up to done is consumed or reported

	ewma       int64
	primed     bool
	garbageRun int
	blind      bool
	lastNew    int64 // host time of the last read that brought a window newer than done

	decisions int64
	needAct   int64 // decision whose pause must be actuated by the end of its poll (0: none)
	started   bool  // a read has brought a window: the controller's start
	confirmed int   // pause confirmed in force (-1: unknown)
	lastSmpl  *trace.Sample
	badAct    int // line of the first actuate event tracing a pause other than its demand's (0: none)
	line      int // lines of this VM's trace so far
	holds     int
	gaps      int
	decided   int
}

type lockstep struct {
	p    *ref.Params
	s    ref.State
	vms  []*vmRig
	now  int64
	seq  uint64 // newest window produced (in every VM)
	ewma bool   // some VM smooths its signal
}

// lockCfg draws a run: N controllers with a common demand range and rule
// (ref has one of each) and their own everything else, and the ref.Params
// that mirror them.
func lockCfg(t *rapid.T) ([]controller.Config, *ref.Params) {
	n := rapid.IntRange(1, ref.MaxN).Draw(t, "n")
	u := rapid.SampledFrom([]int{10, 20, 50, 100}).Draw(t, "u")
	minD := (1000 - vocab.MaxPausePermille + 1000/u - 1) / (1000 / u)
	dmin := rapid.IntRange(minD, u).Draw(t, "dmin")
	dmax := rapid.IntRange(dmin, u).Draw(t, "dmax")
	rule := rapid.SampledFrom(controller.Rules()).Draw(t, "rule")
	// In open mode ref takes the bits as input: its host model is unused.
	p := &ref.Params{U: u, Capacity: n * u, Kappa: vocab.R(1, 1), Host: vocab.Shared, Rule: rule, Dmin: dmin, Dmax: dmax, Loss: true}
	smooth := rapid.Bool().Draw(t, "ewma on")
	var cfgs []controller.Config
	for i := range n {
		c := controller.Default()
		c.VM, c.N, c.U, c.Dmin, c.Dmax, c.Rule = i, n, u, dmin, dmax, rule
		c.Init = rapid.IntRange(dmin, dmax).Draw(t, "init")
		c.Safe = rapid.IntRange(dmin, dmax).Draw(t, "safe")
		c.Alpha = rapid.IntRange(1, u).Draw(t, "alpha")
		c.Beta = vocab.R(int64(rapid.IntRange(1, 7).Draw(t, "beta*8")), 8)
		c.Mu = vocab.R(int64(rapid.IntRange(5, 12).Draw(t, "mu*4")), 4)
		c.Delta = rapid.IntRange(1, u).Draw(t, "delta")
		c.Signal = rapid.SampledFrom(vocab.Signals()).Draw(t, "signal")
		if c.Signal == vocab.Steal {
			c.ThetaPermille = rapid.IntRange(0, 999).Draw(t, "theta")
		} else {
			c.ThetaPermille = rapid.IntRange(1000, 3000).Draw(t, "theta")
		}
		c.EWMA = vocab.R(1, 1)
		if smooth {
			c.EWMA = vocab.R(int64(rapid.IntRange(1, 8).Draw(t, "ewma*8")), 8) // 8/8: none for this VM
		}
		c.Delay = rapid.IntRange(0, 6).Draw(t, "delay")
		c.HoldGarbage = rapid.IntRange(1, 4).Draw(t, "hold_garbage")
		c.HoldAfterNs = int64(rapid.IntRange(2, 10).Draw(t, "hold_after_windows")) * windowNs
		cfgs = append(cfgs, c)
		p.FVMs = append(p.FVMs, ref.FVM{Alpha: c.Alpha, Beta: c.Beta, Mu: c.Mu, Delta: c.Delta, Delay: c.Delay})
	}
	if err := p.Validate(); err != nil {
		t.Fatalf("lockstep: mirrored ref params invalid: %v", err)
	}
	return cfgs, p
}

func newLockstep(t *rapid.T) *lockstep {
	cfgs, p := lockCfg(t)
	m := &lockstep{p: p, now: 1_000_000_000}
	init := make([]int, len(cfgs))
	for i, c := range cfgs {
		v := &vmRig{i: i, cfg: c, src: &controller.MemSource{}, knob: &knob{}, sink: &controller.MemSink{},
			win: map[uint64]controller.Window{}, garbage: map[uint64]bool{}, shown: map[uint64]bool{}, shownAt: map[int]bool{}, contend: -1, lastNew: m.now, confirmed: -1}
		core, err := controller.NewCore(c, 0, m.now)
		if err != nil {
			t.Fatalf("lockstep: NewCore: %v", err)
		}
		v.loop = &controller.Loop{Core: core, Source: v.src, Act: v.knob, Sink: v.sink, Now: func() int64 { return m.now + v.lag }}
		if rapid.Bool().Draw(t, "timed source") {
			v.tsrc = &timedSource{MemSource: v.src}
			v.loop.Source = v.tsrc
		}
		h := core.Header()
		h.Kernel, h.Controller, h.Workload, h.PeriodUs = "mem", "fuzz lockstep", "scripted windows", vocab.PeriodUs
		if err := v.loop.Start(h); err != nil {
			t.Fatalf("lockstep: Start: %v", err)
		}
		m.ewma = m.ewma || c.EWMA.Num != c.EWMA.Den
		m.vms = append(m.vms, v)
		init[i] = c.Init
	}
	var err error
	if m.s, err = ref.InitState(p, init); err != nil {
		t.Fatalf("lockstep: InitState: %v", err)
	}
	for _, v := range m.vms {
		v.check(t, m, pollExpect{})
	}
	return m
}

// tick closes one window in every guest. The guests share one core: a VM
// awake r_j = 1 - pause_j/1000 of the time gets its want in full while the
// awake fractions sum to at most 1, else the share r_j/sum(r) of the wall
// time, unless a contention override sets its share of its want. Some
// windows come out garbage (fields that contradict the interface).
func (m *lockstep) tick(t *rapid.T) {
	m.seq++
	wall := uint64(windowNs) + uint64(rapid.IntRange(0, 20).Draw(t, "jitter ms"))*1_000_000
	sumR := 0
	for _, v := range m.vms {
		sumR += 1000 - v.knob.pause
	}
	before := m.s
	next, err := ref.Step(m.p, m.s, ref.OpenTick(0)) // bits are fixed when consumed (see consumeValid)
	if err != nil {
		t.Fatalf("lockstep: ref rejects the tick of window %d: %v", m.seq, err)
	}
	m.s = next
	for i, v := range m.vms {
		pause := wall * uint64(v.knob.pause) / 1000
		idle := uint64(0)
		if rapid.IntRange(0, 3).Draw(t, "idle?") == 0 {
			idle = uint64(rapid.IntRange(0, 30).Draw(t, "idle ms")) * 1_000_000
		}
		want := wall - min(wall, idle+pause)
		var cpu uint64
		switch {
		case v.contend >= 0:
			cpu = want * uint64(v.contend) / 1000
		case sumR <= 1000:
			cpu = want
		default:
			cpu = min(want, wall*uint64(1000-v.knob.pause)/uint64(sumR))
		}
		w := kernelWindow(m.seq, uint64(m.now), wall, cpu, idle, pause, uint64(v.knob.pause))
		if rapid.IntRange(0, 11).Draw(t, "garbage?") == 0 {
			kind := rapid.IntRange(0, 6).Draw(t, "garbage kind")
			w = corrupt(w, kind)
			v.garbage[m.seq] = true
			v.shown[m.seq] = kind == 2 || kind == 4
		}
		v.win[m.seq] = w
		v.ring = append(v.ring, w)
		if len(v.ring) > vocab.RingSize {
			v.ring = v.ring[1:]
		}
		v.src.Push(w)
		// ref's loss: the tick into a full FIFO dropped its oldest window.
		if before.Q[i].Len == m.s.Q[i].Len {
			v.dropped = append(v.dropped, v.seqs[0])
			v.seqs = v.seqs[1:]
		}
		v.seqs = append(v.seqs, m.seq)
		if int(m.s.Q[i].Len) != len(v.seqs) {
			t.Fatalf("lockstep: test bug: ref's FIFO %d holds %d windows, the test tracks %v", i, m.s.Q[i].Len, v.seqs)
		}
	}
	m.now += int64(wall)
}

// corrupt makes w a window the kernel cannot have produced (the interface
// in uml-impl/README.md says why each is impossible). The controller traces
// a garbage window as a sample when its fields fit the format, and two
// kinds show the trace checker a kernel fault in that sample: kind 2's
// wall_ns ends the window after it ended (a read at its true end looks
// stale), kind 4's pause is above the maximum, so no actuation put it in
// force. The checker may reject those sample lines (finish).
func corrupt(w controller.Window, kind int) controller.Window {
	switch kind {
	case 0:
		w.WantNs++ // want != wall - idle - pause
	case 1:
		w.StealPermille = 1001
	case 2:
		w.WallNs++ // wall != end - start
	case 3:
		w.CPUNs = 2*w.WallNs + 1
	case 4:
		w.PausePermille = vocab.MaxPausePermille + 1
	case 5:
		w.PeriodUs = 0
	default:
		w.EndNs = w.StartNs
	}
	return w
}

// read builds what one read of VM v's ring returns: the ring, with holes
// (never the newest window: a read sees the window the kernel closed
// last), duplicates and in any order.
func (m *lockstep) read(t *rapid.T, v *vmRig) []controller.Window {
	r := slices.Clone(v.ring)
	if len(r) == 0 {
		return r
	}
	if rapid.IntRange(0, 3).Draw(t, "holes?") == 0 {
		keep := r[:0]
		for k, w := range r {
			if k == len(r)-1 || rapid.IntRange(0, 3).Draw(t, "drop?") != 0 {
				keep = append(keep, w)
			}
		}
		r = keep
	}
	if rapid.IntRange(0, 2).Draw(t, "duplicates?") == 0 {
		for k := rapid.IntRange(1, 4).Draw(t, "duplicates"); k > 0; k-- {
			r = append(r, rapid.SampledFrom(r).Draw(t, "duplicate"))
		}
	}
	if rapid.IntRange(0, 2).Draw(t, "shuffle?") == 0 {
		r = rapid.Permutation(r).Draw(t, "order")
	}
	return r
}

// pollExpect is what the oracle expects of one poll.
type pollExpect struct {
	present map[uint64]bool // windows in the read (nil: the read failed)
	consume int             // FIFO windows to consume: up to the first one missing from the read
	silence bool            // a hold to the safe demand for silence
}

// poll hands VM i's controller one read (or a failed read) and checks
// everything it traces.
func (m *lockstep) poll(t *rapid.T, i int, fail bool) {
	v := m.vms[i]
	var ex pollExpect
	fresh := false
	if fail {
		v.src.Fail(errors.New("EIO"))
	} else {
		r := m.read(t, v)
		v.src.Script(r)
		ex.present = map[uint64]bool{}
		for _, w := range r {
			ex.present[w.Seq] = true
			fresh = fresh || w.Seq > v.done
		}
		for ex.consume < len(v.seqs) && ex.present[v.seqs[ex.consume]] {
			ex.consume++
		}
	}
	if fresh {
		v.lastNew = m.now
	} else {
		ex.silence = !v.blind && m.now-v.lastNew >= v.cfg.HoldAfterNs
	}
	want := slices.Clone(v.seqs[ex.consume:])
	if v.tsrc != nil && !fail {
		v.tsrc.at = m.now
		v.lag = int64(rapid.IntRange(1, 50).Draw(t, "clock lag ms")) * 1_000_000
	}
	err := v.loop.Poll()
	v.src.Fail(nil)
	v.lag = 0
	if err != nil {
		t.Fatalf("lockstep: vm %d: Poll: %v", i, err)
	}
	v.check(t, m, ex)
	if !slices.Equal(v.seqs, want) {
		t.Fatalf("lockstep: vm %d: after a read of %v, windows %v are pending; want %v (every pending window up to the first missing one consumed)", i, keys(ex.present), v.seqs, want)
	}
	if len(v.dropped) > 0 && !fail {
		t.Fatalf("lockstep: vm %d: windows %v, which ref's loss dropped, are not reported in a gap after a read of newest %d", i, v.dropped, m.seq)
	}
}

func keys(m map[uint64]bool) []uint64 {
	var k []uint64
	for s := range m {
		k = append(k, s)
	}
	slices.Sort(k)
	return k
}

// check holds VM v's new trace events to the oracle.
func (v *vmRig) check(t *rapid.T, m *lockstep, ex pollExpect) {
	fail := func(format string, args ...any) {
		t.Helper()
		t.Fatalf("lockstep: vm %d: "+format, append([]any{v.i}, args...)...)
	}
	evs := v.sink.Events[v.seen:]
	v.seen = len(v.sink.Events)
	silenced := false
	// The first read that brings windows starts the controller: the
	// windows already older than the delay bound by then predate it, as
	// those before its start seq do, and are skipped without a gap.
	if !v.started && len(ex.present) > 0 {
		v.started = true
		newest := slices.Max(keys(ex.present))
		v.dropped = slices.DeleteFunc(v.dropped, func(s uint64) bool { return s+uint64(v.cfg.Delay) < newest })
	}
	for k := range evs {
		e := &evs[k]
		v.line++
		if e.VM != v.i {
			fail("event %v for vm %d", e.Kind, e.VM)
		}
		if e.TNs != m.now {
			fail("%v event stamped %d ns; the read's host time is %d ns", e.Kind, e.TNs, m.now)
		}
		switch e.Kind {
		case trace.KindHeader, trace.KindEnd:
		case trace.KindSample:
			s := e.Sample
			v.lastSmpl = &s
			if v.shown[uint64(s.Seq)] {
				v.shownAt[v.line] = true
			}
		case trace.KindGap:
			g := e.Gap
			if g.NewestSeq != int64(m.seq) {
				fail("gap %d..%d with newest_seq %d; the newest window is %d", g.FromSeq, g.ToSeq, g.NewestSeq, m.seq)
			}
			for s := g.FromSeq; s <= g.ToSeq; s++ {
				if len(v.dropped) == 0 || v.dropped[0] != uint64(s) {
					fail("gap %d..%d reports window %d; ref's loss dropped %v (not yet reported)", g.FromSeq, g.ToSeq, s, v.dropped)
				}
				v.dropped = v.dropped[1:]
				v.done = uint64(s)
			}
			v.gaps++
		case trace.KindDecide:
			v.decide(t, m, e, ex, &silenced, fail)
		case trace.KindActuate:
			v.actuate(m, e, fail)
		default:
			fail("unexpected %v event", e.Kind)
		}
	}
	if ex.silence && !silenced {
		fail("no new window for %d ns (hold after %d): no hold to the safe demand %d", m.now-v.lastNew, v.cfg.HoldAfterNs, v.cfg.Safe)
	}
	if v.needAct != 0 {
		fail("decision %d (pause %d not confirmed in force) was never actuated", v.needAct, pauseOf(v.cfg.U, int(m.s.D[v.i])))
	}
	if !v.knob.failWrites && !v.knob.lie && v.confirmed == pauseOf(v.cfg.U, int(m.s.D[v.i])) && v.knob.pause != v.confirmed {
		fail("the kernel's pause is %d, ref's demand %d needs %d", v.knob.pause, m.s.D[v.i], v.confirmed)
	}
	if d := int(m.s.D[v.i]); v.loop.Core.Demand() != d {
		fail("controller demand %d, ref's %d", v.loop.Core.Demand(), d)
	}
}

// decide checks one decision against ref and the oracle and steps ref.
func (v *vmRig) decide(t *rapid.T, m *lockstep, e *trace.Event, ex pollExpect, silenced *bool, fail func(string, ...any)) {
	d := e.Decide
	// Decisions of one poll share one actuation, of the last of them
	// (needAct is checked at the poll's end).
	v.decisions++
	if d.Seq != v.decisions {
		fail("decision numbered %d, want %d", d.Seq, v.decisions)
	}
	cur := int(m.s.D[v.i])
	if d.DBefore != cur {
		fail("decision %d: d_before %d, ref's demand is %d", d.Seq, d.DBefore, cur)
	}
	var wantD int
	wantBr := vocab.Hold
	switch {
	case d.SampleSeq == 0:
		if !ex.silence || *silenced {
			fail("decision %d: a hold without a window (%d -> %d), but no silence hold is due (blind %v, %d ns since a new window, hold after %d)",
				d.Seq, d.DBefore, d.DAfter, v.blind, m.now-v.lastNew, v.cfg.HoldAfterNs)
		}
		*silenced = true
		wantD, v.blind = v.cfg.Safe, true
		v.holds++
		m.step(t, ref.HoldOf(v.i, wantD))
	default:
		if len(v.dropped) > 0 {
			fail("decision %d uses window %d while windows %v, dropped by ref's loss, are not reported", d.Seq, d.SampleSeq, v.dropped)
		}
		if len(v.seqs) == 0 || uint64(d.SampleSeq) != v.seqs[0] {
			fail("decision %d uses window %d; ref's FIFO holds %v (Act consumes the oldest)", d.Seq, d.SampleSeq, v.seqs)
		}
		if ex.present == nil || !ex.present[uint64(d.SampleSeq)] {
			fail("decision %d uses window %d, which the read did not return", d.Seq, d.SampleSeq)
		}
		if d.NewestSeq != int64(m.seq) {
			fail("decision %d: newest_seq %d; the newest window is %d", d.Seq, d.NewestSeq, m.seq)
		}
		seq := v.seqs[0]
		if v.garbage[seq] {
			v.garbageRun++
			wantD = cur
			if !v.blind && v.garbageRun >= v.cfg.HoldGarbage {
				wantD, v.blind = v.cfg.Safe, true
				v.holds++
			}
			m.step(t, ref.ActOf(v.i)) // the window is used up; its bit is ignored
			m.step(t, ref.HoldOf(v.i, wantD))
		} else {
			bit := v.bitOf(seq)
			if s := v.lastSmpl; s == nil || s.Seq != d.SampleSeq || s.Congested != bit || s.SignalPermille != v.ewma {
				fail("decision %d on window %d: sample %+v; want signal_permille %d, congested %v", d.Seq, seq, s, v.ewma, bit)
			}
			v.garbageRun, v.blind = 0, false
			q := &m.s.Q[v.i]
			q.Bits = q.Bits&^1 | map[bool]uint16{false: 0, true: 1}[bit]
			_, wantBr = m.p.Apply(v.i, cur, bit)
			m.step(t, ref.ActOf(v.i))
			wantD = int(m.s.D[v.i])
			v.decided++
		}
		v.seqs = v.seqs[1:]
		v.done = seq
	}
	if d.DAfter != wantD || d.Branch != wantBr {
		fail("decision %d on window %d: %d -> %d (%v); ref: %d -> %d (%v)", d.Seq, d.SampleSeq, d.DBefore, d.DAfter, d.Branch, cur, wantD, wantBr)
	}
	v.needAct = 0
	if pauseOf(v.cfg.U, wantD) != v.confirmed {
		v.needAct = d.Seq
	}
}

// bitOf is window seq's congested bit: its signal, smoothed, above theta.
// With smoothing the bit depends on which earlier windows were used, so it
// is fixed when the window is consumed, not when it is produced.
func (v *vmRig) bitOf(seq uint64) bool {
	x := int64(signalPermille(v.cfg, v.win[seq]))
	if !v.primed {
		v.ewma, v.primed = x, true
	} else {
		e := v.cfg.EWMA
		v.ewma = (e.Num*x + (e.Den-e.Num)*v.ewma) / e.Den
	}
	return v.ewma > int64(v.cfg.ThetaPermille)
}

// actuate checks an actuate event against the actuation contract
// (Loop.actuate): it follows the decision it names and actuates ref's
// demand; a pause already confirmed in force is not written again; a
// successful write is the read-back (the kernel accepts a value only by
// putting it in force) and is traced as written, with no read; a failed
// write is followed by one read of the knob, traced as read. What the
// trace says is in force is what the next decision is held to.
func (v *vmRig) actuate(m *lockstep, e *trace.Event, fail func(string, ...any)) {
	a := e.Actuate
	if a.Seq != v.decisions {
		fail("actuate for decision %d; the last decision is %d", a.Seq, v.decisions)
	}
	if d := int(m.s.D[v.i]); a.D != d {
		fail("actuate %d of d=%d; ref's demand is %d", a.Seq, a.D, d)
	}
	want := pauseOf(v.cfg.U, a.D)
	next := func() (knobOp, bool) {
		if len(v.knob.log) == 0 {
			return knobOp{}, false
		}
		op := v.knob.log[0]
		v.knob.log = v.knob.log[1:]
		return op, true
	}
	switch {
	case v.confirmed == want:
		// The knob's log runs on to the poll's later actuations, which
		// write only pauses other than this one.
		if len(v.knob.log) > 0 && !v.knob.log[0].read && v.knob.log[0].value == want {
			fail("actuate %d of d=%d: pause %d is confirmed in force, but it was written again", a.Seq, a.D, want)
		}
		if int(a.PausePermille) != want {
			fail("actuate %d traces pause %d; %d is confirmed in force and nothing was written", a.Seq, a.PausePermille, want)
		}
	default:
		w, ok := next()
		if !ok || w.read {
			fail("actuate %d of d=%d: pause %d is not confirmed in force (confirmed %d), but it was not written first (knob calls %+v)", a.Seq, a.D, want, v.confirmed, w)
		}
		if w.value != want {
			fail("actuate %d: wrote pause %d for d=%d; want %d", a.Seq, w.value, a.D, want)
		}
		if !w.failed {
			if int(a.PausePermille) != want {
				fail("actuate %d traces pause %d; the write of %d succeeded", a.Seq, a.PausePermille, want)
			}
			if len(v.knob.log) > 0 && v.knob.log[0].read {
				fail("actuate %d: the successful write of %d was read back (a system call the contract saves)", a.Seq, want)
			}
			break
		}
		r, ok := next()
		if !ok || !r.read {
			fail("actuate %d traces pause %d, but after the failed write of %d the knob was not read back", a.Seq, a.PausePermille, want)
		}
		if int64(r.value) != a.PausePermille {
			fail("actuate %d traces pause %d; after the failed write the knob read back %d", a.Seq, a.PausePermille, r.value)
		}
	}
	v.confirmed = int(a.PausePermille)
	if int(a.PausePermille) != want && v.badAct == 0 {
		v.badAct = v.line
	}
	v.needAct = 0
}

func (m *lockstep) step(t *rapid.T, a ref.Action) {
	next, err := ref.Step(m.p, m.s, a)
	if err != nil {
		t.Fatalf("lockstep: ref rejects %v from %s: %v", a, m.s.Format(m.p.N()), err)
	}
	m.s = next
}

// finish stops every controller and holds the whole run to the trace
// checker, which reads the VMs' files in order and stops at the first
// failure. A file must refine, except that the checker must reject the
// file's first actuate line tracing a pause other than its demand's (a
// failed write: the kernel's pause is not the decided one), and may reject
// a sample line of a garbage window that shows it a kernel fault (see
// corrupt) before that.
// It returns the kind of the line rejected ("": the run refines).
func (m *lockstep) finish(t *rapid.T) string {
	var inputs []refine.Input
	for _, v := range m.vms {
		if err := v.loop.Stop(true, "lockstep done"); err != nil {
			t.Fatal(err)
		}
		v.check(t, m, pollExpect{})
		var buf bytes.Buffer
		w := trace.NewWriter(&buf)
		for i := range v.sink.Events {
			if err := w.Write(&v.sink.Events[i]); err != nil {
				t.Fatalf("refinement: vm %d: write event %d: %v", v.i, i, err)
			}
		}
		inputs = append(inputs, refine.Input{Name: fmt.Sprintf("vm%d.jsonl", v.i), R: &buf})
	}
	res, err := refine.Check(inputs, refine.Options{})
	if err != nil {
		t.Fatalf("refinement: the lockstep run's traces are malformed: %v", err)
	}
	for i, v := range m.vms {
		name := inputs[i].Name
		if res.OK() || res.Failure.File != name {
			if v.badAct != 0 {
				t.Fatalf("refinement: %s:%d traces a pause other than its demand's (a failed write); the checker says %v", name, v.badAct, res.Failure)
			}
			continue
		}
		f := res.Failure
		atAct := f.Line == v.badAct && f.Kind == "actuate"
		atShown := v.shownAt[f.Line] && f.Kind == "sample" && (v.badAct == 0 || f.Line < v.badAct)
		if !atAct && !atShown {
			t.Fatalf("refinement: the lockstep run does not refine ref: %v (expected: %s refines, or fails at its failed write's actuate line %d or at a garbage sample showing a kernel fault, lines %v)",
				f, name, v.badAct, keys2(v.shownAt))
		}
		return f.Kind
	}
	return ""
}

func keys2(m map[int]bool) []int {
	var k []int
	for l := range m {
		k = append(k, l)
	}
	slices.Sort(k)
	return k
}

func TestControllerRefinesRefLockstep(t *testing.T) {
	var runs, vms, maxN, decisions, holds, gaps, ewmaRuns, faultRuns int
	rejected := map[string]int{}
	defer func() {
		t.Logf("%d runs, %d controllers (up to %d in one run; %d runs with smoothing, %d with a faulty knob): %d rule decisions, %d safe holds and %d gap events held to ref; the checker rejected %d runs at a failed write's actuate line, %d at a garbage sample showing a kernel fault",
			runs, vms, maxN, ewmaRuns, faultRuns, decisions, holds, gaps, rejected["actuate"], rejected["sample"])
	}()
	rapid.Check(t, func(t *rapid.T) {
		m := newLockstep(t)
		n := len(m.vms)
		vm := func(t *rapid.T) int { return rapid.IntRange(0, n-1).Draw(t, "vm") }
		faults := false
		t.Repeat(map[string]func(*rapid.T){
			"tick": func(t *rapid.T) { m.tick(t) },
			"ticks then poll one": func(t *rapid.T) {
				i := vm(t)
				for k := rapid.IntRange(1, m.vms[i].cfg.Delay+3).Draw(t, "ticks"); k > 0; k-- {
					m.tick(t)
				}
				m.poll(t, i, false)
			},
			"poll one": func(t *rapid.T) { m.poll(t, vm(t), false) },
			"tick and poll all": func(t *rapid.T) {
				m.tick(t)
				for i := range n {
					m.poll(t, i, false)
				}
			},
			"failed read": func(t *rapid.T) { m.poll(t, vm(t), true) },
			"silence": func(t *rapid.T) {
				m.now += int64(rapid.IntRange(1, 12).Draw(t, "silent windows")) * windowNs
			},
			"contention": func(t *rapid.T) {
				m.vms[vm(t)].contend = rapid.IntRange(-1, 1000).Draw(t, "cpu permille of want")
			},
			"knob fault": func(t *rapid.T) {
				k := m.vms[vm(t)].knob
				k.failWrites = rapid.IntRange(0, 3).Draw(t, "fail writes?") == 0
				k.lie = rapid.IntRange(0, 3).Draw(t, "lie?") == 0
				faults = faults || k.failWrites || k.lie
			},
		})
		rejected[m.finish(t)]++
		runs++
		vms += n
		maxN = max(maxN, n)
		if m.ewma {
			ewmaRuns++
		}
		if faults {
			faultRuns++
		}
		for _, v := range m.vms {
			decisions, holds, gaps = decisions+v.decided, holds+v.holds, gaps+v.gaps
		}
	})
}
