package fuzz

import (
	"fmt"
	"testing"

	"github.com/leanovate/gopter"
	"github.com/leanovate/gopter/commands"
	"github.com/leanovate/gopter/gen"

	"github.com/friendly-vm/fvm/ref"
	"github.com/friendly-vm/fvm/trace"
	"github.com/friendly-vm/fvm/uml-impl/controller"
	"github.com/friendly-vm/fvm/vocab"
)

// The gopter suite tests the controller's external interface — start,
// sample, silence, stop, restart, config reload — against a model of what
// each command must do, checking invariants after every command.

// ifModel is the expected state of the controller (a value: gopter keeps
// every intermediate state).
type ifModel struct {
	cfg      controller.Config
	running  bool
	d        int
	produced uint64 // windows the kernel has closed
	silentNs int64  // host time since the last new window (or start)
}

// ifSUT is the controller with in-memory I/O.
type ifSUT struct {
	cfg  controller.Config
	src  *controller.MemSource
	act  *controller.MemActuator
	sink *controller.MemSink
	loop *controller.Loop
	now  int64
	seq  uint64
}

func (s *ifSUT) start() error {
	core, err := controller.NewCore(s.cfg, s.seq, s.now)
	if err != nil {
		return err
	}
	s.loop = &controller.Loop{Core: core, Source: s.src, Act: s.act, Sink: s.sink, Now: func() int64 { return s.now }}
	h := core.Header()
	h.Kernel, h.Controller, h.Workload, h.PeriodUs = "mem", "fuzz commands", "scripted", 10000
	return s.loop.Start(h)
}

// window is the window the kernel closes when the VM gets cpuPermille of
// the time it wants, under the pause p in force.
func window(seq uint64, start int64, pause int, cpuPermille uint64) controller.Window {
	wall := uint64(windowNs)
	pauseNs := wall * uint64(pause) / 1000
	cpu := (wall - pauseNs) * cpuPermille / 1000
	return kernelWindow(seq, uint64(start), wall, cpu, 0, pauseNs, uint64(pause))
}

// ruleOf mirrors a controller configuration as reference parameters: the
// model applies the rule with ref.Params.Apply.
func ruleOf(cfg controller.Config) *ref.Params {
	rule := map[vocab.Rule]vocab.Rule{vocab.AIMD: vocab.AIMD, vocab.MIMD: vocab.MIMD, vocab.AIAD: vocab.AIAD}[cfg.Rule]
	return &ref.Params{U: cfg.U, Rule: rule, Dmin: cfg.Dmin, Dmax: cfg.Dmax, FVMs: []ref.FVM{{
		Alpha: cfg.Alpha, Beta: vocab.R(cfg.Beta.Num, cfg.Beta.Den), Mu: vocab.R(cfg.Mu.Num, cfg.Mu.Den), Delta: cfg.Delta}}}
}

// invariants hold after every command.
func invariants(m ifModel, s *ifSUT) *gopter.PropResult {
	fail := func(format string, args ...any) *gopter.PropResult {
		r := gopter.NewPropResult(false, fmt.Sprintf(format, args...))
		r.Error = fmt.Errorf(format, args...)
		return r
	}
	if s.loop == nil {
		return gopter.NewPropResult(true, "")
	}
	d := s.loop.Core.Demand()
	if d < s.cfg.Dmin || d > s.cfg.Dmax {
		return fail("demand %d outside [%d, %d]", d, s.cfg.Dmin, s.cfg.Dmax)
	}
	if m.running && d != m.d {
		return fail("controller demand %d, model %d", d, m.d)
	}
	if p, _ := s.act.Pause(); m.running && p != s.cfg.Pause(d) {
		return fail("pause in force %d for demand %d, want %d", p, d, s.cfg.Pause(d))
	}
	var last int64
	for _, e := range s.sink.Events {
		switch e.Kind {
		case trace.KindHeader:
			last = 0 // a restart starts a new run
		case trace.KindDecide:
			if e.Decide.Branch == vocab.Hold || e.Decide.SampleSeq == 0 {
				continue
			}
			if e.Decide.SampleSeq <= last {
				return fail("window %d decided after window %d", e.Decide.SampleSeq, last)
			}
			last = e.Decide.SampleSeq
		}
	}
	if !m.running && (len(s.sink.Events) == 0 || s.sink.Events[len(s.sink.Events)-1].Kind != trace.KindEnd) {
		return fail("stopped, but the trace does not end with an end event")
	}
	return gopter.NewPropResult(true, "")
}

func cmd(name string, pre func(ifModel) bool, run func(*ifSUT) error, next func(ifModel) ifModel) commands.Command {
	return &commands.ProtoCommand{
		Name:             name,
		PreConditionFunc: func(st commands.State) bool { return pre(st.(ifModel)) },
		RunFunc: func(sut commands.SystemUnderTest) commands.Result {
			s := sut.(*ifSUT)
			if err := run(s); err != nil {
				return err
			}
			return s
		},
		NextStateFunc: func(st commands.State) commands.State { return next(st.(ifModel)) },
		PostConditionFunc: func(st commands.State, res commands.Result) *gopter.PropResult {
			if err, ok := res.(error); ok {
				return &gopter.PropResult{Status: gopter.PropError, Error: err}
			}
			return invariants(st.(ifModel), res.(*ifSUT))
		},
	}
}

func running(m ifModel) bool { return m.running }

func startCmd() commands.Command {
	return cmd("start", func(m ifModel) bool { return !m.running }, (*ifSUT).start,
		func(m ifModel) ifModel { m.running, m.d, m.silentNs = true, m.cfg.Init, 0; return m })
}

func sampleCmd(cpuPermille uint64) commands.Command {
	return cmd(fmt.Sprintf("sample(cpu %d‰ of want)", cpuPermille), running,
		func(s *ifSUT) error {
			s.seq++
			p, _ := s.act.Pause()
			s.src.Push(window(s.seq, s.now, p, cpuPermille))
			s.now += windowNs
			return s.loop.Poll()
		},
		func(m ifModel) ifModel {
			m.produced++
			w := window(m.produced, 0, m.cfg.Pause(m.d), cpuPermille)
			congested := signalPermille(m.cfg, w) > uint64(m.cfg.ThetaPermille)
			m.d, _ = ruleOf(m.cfg).Apply(0, m.d, congested)
			m.silentNs = 0
			return m
		})
}

func silenceCmd(windows int) commands.Command {
	return cmd(fmt.Sprintf("silence(%d windows)", windows), running,
		func(s *ifSUT) error { s.now += int64(windows) * windowNs; return s.loop.Poll() },
		func(m ifModel) ifModel {
			m.silentNs += int64(windows) * windowNs
			if m.silentNs >= m.cfg.HoldAfterNs {
				m.d = m.cfg.Safe
			}
			return m
		})
}

func stopCmd() commands.Command {
	return cmd("stop", running,
		func(s *ifSUT) error { return s.loop.Stop(true, "stopped by the test") },
		func(m ifModel) ifModel { m.running = false; return m })
}

func restartCmd() commands.Command {
	return cmd("restart", running,
		func(s *ifSUT) error {
			if err := s.loop.Stop(false, "restart"); err != nil {
				return err
			}
			return s.start()
		},
		func(m ifModel) ifModel { m.d, m.silentNs = m.cfg.Init, 0; return m })
}

func reloadCmd(alpha, dmin, dmax int) commands.Command {
	reconf := func(cfg controller.Config) controller.Config {
		cfg.Alpha, cfg.Dmin, cfg.Dmax = alpha, dmin, dmax
		cfg.Init = min(max(cfg.Init, dmin), dmax)
		cfg.Safe = min(max(cfg.Safe, dmin), dmax)
		return cfg
	}
	return cmd(fmt.Sprintf("reload(alpha %d, d in [%d, %d])", alpha, dmin, dmax), running,
		func(s *ifSUT) error {
			s.cfg = reconf(s.cfg)
			return s.loop.Reconfigure(s.cfg)
		},
		func(m ifModel) ifModel {
			m.cfg = reconf(m.cfg)
			m.d = min(max(m.d, dmin), dmax)
			return m
		})
}

func TestControllerInterfaceCommands(t *testing.T) {
	base := controller.Default()
	base.U, base.Dmin, base.Dmax, base.Init, base.Safe = 20, 1, 20, 20, 2
	base.HoldAfterNs = 3 * windowNs
	proto := &commands.ProtoCommands{
		NewSystemUnderTestFunc: func(st commands.State) commands.SystemUnderTest {
			m := st.(ifModel)
			return &ifSUT{cfg: m.cfg, src: &controller.MemSource{}, act: &controller.MemActuator{}, sink: &controller.MemSink{}, now: 1_000_000_000}
		},
		InitialStateGen: gen.IntRange(1, 2).Map(func(signal int) ifModel {
			cfg := base
			cfg.Signal = vocab.Signal(signal)
			cfg.ThetaPermille = controller.DefaultTheta(cfg.Signal)
			return ifModel{cfg: cfg}
		}),
		GenCommandFunc: func(st commands.State) gopter.Gen {
			if !st.(ifModel).running {
				return gen.Const(startCmd())
			}
			return gen.Weighted([]gen.WeightedGen{
				{Weight: 10, Gen: gen.UInt64Range(0, 1000).Map(sampleCmd)},
				{Weight: 2, Gen: gen.IntRange(1, 4).Map(silenceCmd)},
				{Weight: 1, Gen: gen.Const(stopCmd())},
				{Weight: 1, Gen: gen.Const(restartCmd())},
				{Weight: 2, Gen: gopter.CombineGens(gen.IntRange(1, 5), gen.IntRange(1, 4), gen.IntRange(10, 20)).Map(func(v []any) commands.Command {
					return reloadCmd(v[0].(int), v[1].(int), v[2].(int))
				})},
			})
		},
	}
	params := gopter.DefaultTestParametersWithSeed(20261125)
	params.MinSuccessfulTests = 200
	props := gopter.NewProperties(params)
	props.Property("the controller's interface follows its model", commands.Prop(proto))
	props.TestingRun(t)
}
