package fuzz

import (
	"bytes"
	"errors"
	"testing"

	"pgregory.net/rapid"

	"github.com/friendly-vm/fvm/ref"
	"github.com/friendly-vm/fvm/trace"
	"github.com/friendly-vm/fvm/trace/refine"
	"github.com/friendly-vm/fvm/uml-impl/controller"
	"github.com/friendly-vm/fvm/vocab"
)

// lockstep drives the guest controller (its Loop, fed by an in-memory
// window ring) and the reference model in open mode side by side. Every
// decision the controller traces must be the step ref takes from the same
// sample; any divergence fails the test, and rapid shrinks the action
// sequence that led to it.
type lockstep struct {
	cfg  controller.Config
	p    *ref.Params
	src  *controller.MemSource
	act  *controller.MemActuator
	sink *controller.MemSink
	loop *controller.Loop

	now      int64  // host ns
	seq      uint64 // last window the "kernel" produced
	seen     int    // sink events already checked
	s        ref.State
	bits     map[int64]bool // congested bit of each sampled window
	lastSeq  int64          // last sampled window
	newest   uint64         // newest window produced
	decided  map[int64]bool // windows a rule was applied to
	contend  uint64         // current contention: permille of want the VM gets
	gaps     int
	lastSafe bool
}

// configFor draws a controller configuration and the ref.Params that
// mirror it (N = 1: in open mode every VM is checked on its own).
func configFor(t *rapid.T) (controller.Config, *ref.Params) {
	cfg := controller.Default()
	cfg.U = rapid.SampledFrom([]int{10, 20, 50, 100}).Draw(t, "u")
	minD := (1000 - vocab.MaxPausePermille + 1000/cfg.U - 1) / (1000 / cfg.U)
	cfg.Dmin = rapid.IntRange(minD, cfg.U).Draw(t, "dmin")
	cfg.Dmax = rapid.IntRange(cfg.Dmin, cfg.U).Draw(t, "dmax")
	cfg.Init = rapid.IntRange(cfg.Dmin, cfg.Dmax).Draw(t, "init")
	cfg.Safe = rapid.IntRange(cfg.Dmin, cfg.Dmax).Draw(t, "safe")
	cfg.Rule = vocab.Rule(rapid.IntRange(0, 2).Draw(t, "rule"))
	cfg.Alpha = rapid.IntRange(1, cfg.U).Draw(t, "alpha")
	cfg.Beta = vocab.R(int64(rapid.IntRange(1, 7).Draw(t, "beta/8")), 8)
	cfg.Mu = vocab.R(int64(rapid.IntRange(5, 12).Draw(t, "mu*4")), 4)
	cfg.Delta = rapid.IntRange(1, cfg.U).Draw(t, "delta")
	cfg.Signal = rapid.SampledFrom(vocab.Signals()).Draw(t, "signal")
	if cfg.Signal == vocab.Steal {
		cfg.ThetaPermille = rapid.IntRange(0, 999).Draw(t, "theta")
	} else {
		cfg.ThetaPermille = rapid.IntRange(1000, 3000).Draw(t, "theta")
	}
	cfg.Delay = rapid.IntRange(0, 6).Draw(t, "D")
	cfg.HoldGarbage = rapid.IntRange(1, 4).Draw(t, "hold_garbage")
	cfg.HoldAfterNs = int64(rapid.IntRange(2, 10).Draw(t, "hold_after_windows")) * windowNs

	rule := map[vocab.Rule]vocab.Rule{vocab.AIMD: vocab.AIMD, vocab.MIMD: vocab.MIMD, vocab.AIAD: vocab.AIAD}[cfg.Rule]
	signal := map[vocab.Signal]vocab.Signal{vocab.VCT: vocab.VCT, vocab.Steal: vocab.Steal}[cfg.Signal]
	p := &ref.Params{
		U: cfg.U, Capacity: cfg.U, Host: vocab.Duty, Signal: signal, Theta: vocab.R(int64(cfg.ThetaPermille), 1000),
		Rule: rule, Dmin: cfg.Dmin, Dmax: cfg.Dmax,
		FVMs: []ref.FVM{{Alpha: cfg.Alpha, Beta: vocab.R(cfg.Beta.Num, cfg.Beta.Den), Mu: vocab.R(cfg.Mu.Num, cfg.Mu.Den), Delta: cfg.Delta, Delay: cfg.Delay}},
	}
	return cfg, p
}

func newLockstep(t *rapid.T, cfg controller.Config, p *ref.Params) *lockstep {
	if err := p.Validate(); err != nil {
		t.Fatalf("mirrored ref params invalid: %v", err)
	}
	m := &lockstep{cfg: cfg, p: p, src: &controller.MemSource{}, act: &controller.MemActuator{},
		sink: &controller.MemSink{}, now: 1_000_000_000, bits: map[int64]bool{}, decided: map[int64]bool{}, contend: 1000}
	core, err := controller.NewCore(cfg, 0, m.now)
	if err != nil {
		t.Fatalf("NewCore: %v", err)
	}
	m.loop = &controller.Loop{Core: core, Source: m.src, Act: m.act, Sink: m.sink, Now: func() int64 { return m.now }}
	h := core.Header()
	h.Kernel, h.Controller, h.Workload, h.PeriodUs = "mem", "fuzz lockstep", "scripted windows", 10000
	if err := m.loop.Start(h); err != nil {
		t.Fatalf("Start: %v", err)
	}
	m.s, err = ref.InitState(p, []int{cfg.Init})
	if err != nil {
		t.Fatalf("InitState: %v", err)
	}
	m.check(t)
	return m
}

// produce makes the kernel close one window with the current contention.
func (m *lockstep) produce(t *rapid.T, garbage bool) {
	m.seq++
	wall := uint64(windowNs) + uint64(rapid.IntRange(0, 20).Draw(t, "jitter ms"))*1_000_000
	pause := wall * uint64(m.pauseInForce()) / 1000
	idle := uint64(0)
	if rapid.Bool().Draw(t, "idle") {
		idle = uint64(rapid.IntRange(0, 30).Draw(t, "idle ms")) * 1_000_000
	}
	want := wall - min(wall, idle+pause)
	cpu := want * m.contend / 1000
	w := kernelWindow(m.seq, uint64(m.now), wall, cpu, idle, pause, uint64(m.pauseInForce()))
	if garbage {
		w.WantNs++ // want != wall - idle - pause: the controller must not trust it
	}
	m.now += int64(wall)
	m.newest = m.seq
	m.src.Push(w)
}

// check consumes the new trace events and holds each to ref.
func (m *lockstep) check(t *rapid.T) {
	evs := m.sink.Events[m.seen:]
	m.seen = len(m.sink.Events)
	for _, e := range evs {
		switch e.Kind {
		case trace.KindSample:
			s := e.Sample
			if s.Seq <= m.lastSeq {
				t.Fatalf("window %d sampled after window %d: not exactly once, in order", s.Seq, m.lastSeq)
			}
			m.lastSeq = s.Seq
			m.bits[s.Seq] = s.Congested
		case trace.KindDecide:
			d := e.Decide
			if d.DBefore != int(m.s.D[0]) {
				t.Fatalf("decide %d: d_before %d, but ref's demand is %d", d.Seq, d.DBefore, m.s.D[0])
			}
			var a ref.Action
			if d.Branch == vocab.Hold {
				if d.DAfter == d.DBefore {
					continue // a stuttering step
				}
				a = ref.HoldOf(0, d.DAfter)
			} else {
				bit, ok := m.bits[d.SampleSeq]
				if !ok {
					t.Fatalf("decide %d uses window %d, which was never sampled", d.Seq, d.SampleSeq)
				}
				if m.decided[d.SampleSeq] {
					t.Fatalf("decide %d applies the rule to window %d a second time", d.Seq, d.SampleSeq)
				}
				m.decided[d.SampleSeq] = true
				if lag := d.NewestSeq - d.SampleSeq; lag > int64(m.cfg.Delay) || lag < 0 {
					t.Fatalf("decide %d uses window %d with newest %d: delay %d outside [0, D=%d]", d.Seq, d.SampleSeq, d.NewestSeq, lag, m.cfg.Delay)
				}
				var err error
				if m.s, err = ref.Step(m.p, m.s, ref.OpenTick(b2u(bit))); err != nil {
					t.Fatalf("ref rejects the tick of window %d: %v", d.SampleSeq, err)
				}
				a = ref.ActOf(0)
			}
			next, err := ref.Step(m.p, m.s, a)
			if err != nil {
				t.Fatalf("decide %d (%v): ref rejects %v from %s: %v", d.Seq, d.Branch, a, m.s.Format(1), err)
			}
			if int(next.D[0]) != d.DAfter {
				t.Fatalf("decide %d (%v on window %d): controller moved %d -> %d, ref moves to %d", d.Seq, d.Branch, d.SampleSeq, d.DBefore, d.DAfter, next.D[0])
			}
			m.s = next
		case trace.KindActuate:
			want := int64(1000 - e.Actuate.D*(1000/m.cfg.U))
			if e.Actuate.PausePermille != want || e.Actuate.D != int(m.s.D[0]) {
				t.Fatalf("actuate %d: pause %d for d=%d, ref's d=%d needs pause %d", e.Actuate.Seq, e.Actuate.PausePermille, e.Actuate.D, m.s.D[0], want)
			}
		case trace.KindGap:
			m.gaps++
		}
	}
	if d := m.loop.Core.Demand(); d < m.cfg.Dmin || d > m.cfg.Dmax {
		t.Fatalf("controller demand %d outside [%d, %d]", d, m.cfg.Dmin, m.cfg.Dmax)
	}
}

func b2u(b bool) uint16 {
	if b {
		return 1
	}
	return 0
}

// finish ends the run and holds the whole trace to the refinement checker.
func (m *lockstep) finish(t *rapid.T) {
	if err := m.loop.Stop(true, "lockstep done"); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	w := trace.NewWriter(&buf)
	for i := range m.sink.Events {
		if err := w.Write(&m.sink.Events[i]); err != nil {
			t.Fatalf("write event %d: %v", i, err)
		}
	}
	res, err := refine.Check([]refine.Input{{Name: "lockstep.jsonl", R: &buf}}, refine.Options{})
	if err != nil {
		t.Fatalf("trace of the lockstep run is malformed: %v", err)
	}
	if !res.OK() {
		t.Fatalf("trace of the lockstep run does not refine ref: %v", res.Failure)
	}
}

func TestControllerRefinesRefLockstep(t *testing.T) {
	var runs, decisions, holds, gaps int
	defer func() {
		t.Logf("%d runs: %d rule decisions and %d safe holds held to ref, %d gap events", runs, decisions, holds, gaps)
	}()
	rapid.Check(t, func(t *rapid.T) {
		cfg, p := configFor(t)
		m := newLockstep(t, cfg, p)
		t.Repeat(map[string]func(*rapid.T){
			"window": func(t *rapid.T) { m.produce(t, false) },
			"windows and poll": func(t *rapid.T) {
				for k := rapid.IntRange(1, 5).Draw(t, "windows"); k > 0; k-- {
					m.produce(t, false)
					if err := m.loop.Poll(); err != nil {
						t.Fatal(err)
					}
				}
				m.check(t)
			},
			"garbage window": func(t *rapid.T) {
				m.produce(t, true)
			},
			"contention": func(t *rapid.T) {
				m.contend = uint64(rapid.IntRange(0, 1000).Draw(t, "cpu permille of want"))
			},
			"poll": func(t *rapid.T) {
				if err := m.loop.Poll(); err != nil {
					t.Fatal(err)
				}
				m.check(t)
			},
			"duplicate and reordered read": func(t *rapid.T) {
				ring, _ := m.src.Windows()
				if len(ring) == 0 {
					t.Skip("empty ring")
				}
				read := rapid.SliceOfN(rapid.SampledFrom(ring), 1, 8).Draw(t, "read")
				m.src.Script(read)
				if err := m.loop.Poll(); err != nil {
					t.Fatal(err)
				}
				m.check(t)
			},
			"silence": func(t *rapid.T) {
				m.now += int64(rapid.IntRange(1, 20).Draw(t, "silent windows")) * windowNs
				if err := m.loop.Poll(); err != nil {
					t.Fatal(err)
				}
				m.check(t)
			},
			"failed read": func(t *rapid.T) {
				m.src.Fail(errors.New("EIO"))
				err := m.loop.Poll()
				m.src.Fail(nil)
				if err != nil {
					t.Fatal(err)
				}
				m.check(t)
			},
			"": func(t *rapid.T) { m.check(t) },
		})
		m.finish(t)
		runs++
		decisions += len(m.decided)
		holds += int(m.loop.Core.Counters().Holds)
		gaps += m.gaps
	})
}

// pauseInForce is the pause the kernel would apply: the actuator's value.
func (m *lockstep) pauseInForce() uint64 {
	p, _ := m.act.Pause()
	return uint64(p)
}
