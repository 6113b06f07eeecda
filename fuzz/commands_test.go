package fuzz

import (
	"flag"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/leanovate/gopter"
	"github.com/leanovate/gopter/commands"
	"github.com/leanovate/gopter/gen"

	"github.com/friendly-vm/fvm/ref"
	"github.com/friendly-vm/fvm/trace"
	"github.com/friendly-vm/fvm/uml-impl/controller"
	"github.com/friendly-vm/fvm/vocab"
)

var gopterSeed = flag.Int64("gopter.seed", 0, "seed of the gopter command suite (0: from the clock; a failure prints the seed that reproduces it)")

// The gopter suite drives the controller's external interface — start,
// windows, polls (late ones too), silence, stop, restart, config reload —
// with generated command sequences, and holds every decision it traces to
// the one ref takes from the same windows: the model below is ref (one FVM,
// open mode, loss) plus what the documented contract says about silence,
// restarts and reloads. A failing sequence is shrunk and its seed printed.

// decision is one decision the controller must trace.
type decision struct {
	sample        uint64 // the window used; 0: a hold
	before, after int
	branch        vocab.Branch
}

func (d decision) String() string {
	return fmt.Sprintf("{window %d: %d -> %d %v}", d.sample, d.before, d.after, d.branch)
}

// cmdModel is the expected state (a value: gopter keeps every intermediate
// state, so slices are copied, never appended to in place).
type cmdModel struct {
	cfg      controller.Config
	p        *ref.Params // ref's parameters for cfg (replaced, never changed, on reload)
	running  bool
	s        ref.State
	fifo     []uint64 // windows in ref's FIFO, oldest first (ref holds their bits)
	produced uint64   // windows the kernel has closed
	done     uint64   // every window up to done is consumed, reported lost or predates the controller
	now      int64
	lastNew  int64 // host time of the last read that brought a new window
	blind    bool
	kpause   int        // the kernel's pause
	want     []decision // every decision traced so far, across restarts
}

// paramsOf mirrors a controller configuration as ref parameters (open
// mode: the host model is unused).
func paramsOf(c controller.Config) *ref.Params {
	return &ref.Params{U: c.U, Capacity: c.U, Kappa: vocab.R(1, 1), Host: vocab.Shared, Rule: c.Rule, Dmin: c.Dmin, Dmax: c.Dmax, Loss: true,
		FVMs: []ref.FVM{{Alpha: c.Alpha, Beta: c.Beta, Mu: c.Mu, Delta: c.Delta, Delay: c.Delay}}}
}

func (m cmdModel) step(a ref.Action) cmdModel {
	next, err := ref.Step(m.p, m.s, a)
	if err != nil {
		panic(fmt.Sprintf("commands: ref rejects %v from %s: %v (a test bug: the model only takes enabled steps)", a, m.s.Format(1), err))
	}
	m.s = next
	return m
}

func (m cmdModel) decide(d decision) cmdModel {
	m.want = append(slices.Clone(m.want), d)
	m.kpause = pauseOf(m.cfg.U, d.after)
	return m
}

// cmdSUT is the controller with in-memory I/O.
type cmdSUT struct {
	cfg     controller.Config
	src     *controller.MemSource
	act     *controller.MemActuator
	sink    *controller.MemSink
	loop    *controller.Loop
	now     int64
	seq     uint64
	checked int // decide events already compared
}

func (s *cmdSUT) start() error {
	core, err := controller.NewCore(s.cfg, s.seq, s.now)
	if err != nil {
		return err
	}
	s.loop = &controller.Loop{Core: core, Source: s.src, Act: s.act, Sink: s.sink, Now: func() int64 { return s.now }}
	h := core.Header()
	h.Kernel, h.Controller, h.Workload, h.PeriodUs = "mem", "fuzz commands", "scripted", vocab.PeriodUs
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

// postcondition: the decisions traced since the last command are the
// model's, the demand is ref's and the kernel holds its pause.
func postcondition(m cmdModel, s *cmdSUT) *gopter.PropResult {
	fail := func(format string, args ...any) *gopter.PropResult {
		r := gopter.NewPropResult(false, fmt.Sprintf(format, args...))
		r.Error = fmt.Errorf(format, args...)
		return r
	}
	var got []decision
	for _, e := range s.sink.Events {
		if e.Kind == trace.KindDecide {
			d := e.Decide
			got = append(got, decision{uint64(d.SampleSeq), d.DBefore, d.DAfter, d.Branch})
		}
	}
	if len(got) != len(m.want) || !slices.Equal(got[s.checked:], m.want[s.checked:]) {
		return fail("decisions traced %v; ref's are %v", got[s.checked:], m.want[min(s.checked, len(m.want)):])
	}
	s.checked = len(got)
	if s.loop == nil {
		return gopter.NewPropResult(true, "")
	}
	if m.running {
		if d := s.loop.Core.Demand(); d != int(m.s.D[0]) {
			return fail("controller demand %d, ref's %d", d, m.s.D[0])
		}
	} else if last := s.sink.Events[len(s.sink.Events)-1]; last.Kind != trace.KindEnd {
		return fail("stopped, but the trace ends with a %v event", last.Kind)
	}
	if p, _ := s.act.Pause(); p != m.kpause {
		return fail("the kernel's pause is %d; ref's demand %d needs %d", p, m.s.D[0], m.kpause)
	}
	return gopter.NewPropResult(true, "")
}

func cmd(name string, pre func(cmdModel) bool, run func(*cmdSUT) error, next func(cmdModel) cmdModel) commands.Command {
	return &commands.ProtoCommand{
		Name:             name,
		PreConditionFunc: func(st commands.State) bool { return pre(st.(cmdModel)) },
		RunFunc: func(sut commands.SystemUnderTest) commands.Result {
			s := sut.(*cmdSUT)
			if err := run(s); err != nil {
				return err
			}
			return s
		},
		NextStateFunc: func(st commands.State) commands.State { return next(st.(cmdModel)) },
		PostConditionFunc: func(st commands.State, res commands.Result) *gopter.PropResult {
			if err, ok := res.(error); ok {
				return &gopter.PropResult{Status: gopter.PropError, Error: err}
			}
			return postcondition(st.(cmdModel), res.(*cmdSUT))
		},
	}
}

func running(m cmdModel) bool { return m.running }

func startCmd() commands.Command {
	return cmd("start", func(m cmdModel) bool { return !m.running }, (*cmdSUT).start, func(m cmdModel) cmdModel {
		s, err := ref.InitState(m.p, []int{m.cfg.Init})
		if err != nil {
			panic(err)
		}
		m.running, m.s, m.fifo, m.done, m.lastNew, m.blind = true, s, nil, m.produced, m.now, false
		m.kpause = pauseOf(m.cfg.U, m.cfg.Init)
		return m
	})
}

// produce closes a window in the model: ref ticks with the window's bit
// (no smoothing here: the bit is fixed when the window is closed).
func (m cmdModel) produce(cpuPermille uint64) cmdModel {
	m.produced++
	w := window(m.produced, m.now, m.kpause, cpuPermille)
	m.now += windowNs
	bit := signalPermille(m.cfg, w) > uint64(m.cfg.ThetaPermille)
	before := m.s.Q[0].Len
	m = m.step(ref.OpenTick(map[bool]uint16{false: 0, true: 1}[bit]))
	m.fifo = slices.Clone(m.fifo)
	if before == m.s.Q[0].Len { // ref's loss dropped the oldest
		m.fifo = m.fifo[1:]
	}
	m.fifo = append(m.fifo, m.produced)
	return m
}

// poll is one read of the whole ring: every window in ref's FIFO is used,
// in order; without a new window, silence for HoldAfterNs holds the safe
// demand once.
func (m cmdModel) poll() cmdModel {
	if m.produced == m.done {
		if !m.blind && m.now-m.lastNew >= m.cfg.HoldAfterNs {
			before := int(m.s.D[0])
			m = m.step(ref.HoldOf(0, m.cfg.Safe))
			m.blind = true
			m = m.decide(decision{0, before, m.cfg.Safe, vocab.Hold})
		}
		return m
	}
	m.lastNew, m.done = m.now, m.produced
	for _, seq := range m.fifo {
		before := int(m.s.D[0])
		_, br := m.p.Apply(0, before, m.s.Q[0].At(0))
		m = m.step(ref.ActOf(0))
		m.blind = false
		m = m.decide(decision{seq, before, int(m.s.D[0]), br})
	}
	m.fifo = nil
	return m
}

func (s *cmdSUT) produce(cpuPermille uint64) {
	s.seq++
	p, _ := s.act.Pause()
	s.src.Push(window(s.seq, s.now, p, cpuPermille))
	s.now += windowNs
}

func sampleCmd(cpuPermille uint64) commands.Command {
	return cmd(fmt.Sprintf("sample(cpu %d‰ of want)", cpuPermille), running,
		func(s *cmdSUT) error { s.produce(cpuPermille); return s.loop.Poll() },
		func(m cmdModel) cmdModel { return m.produce(cpuPermille).poll() })
}

func windowCmd(cpuPermille uint64) commands.Command {
	return cmd(fmt.Sprintf("window(cpu %d‰ of want, not read)", cpuPermille), running,
		func(s *cmdSUT) error { s.produce(cpuPermille); return nil },
		func(m cmdModel) cmdModel { return m.produce(cpuPermille) })
}

func pollCmd() commands.Command {
	return cmd("poll", running, func(s *cmdSUT) error { return s.loop.Poll() }, cmdModel.poll)
}

func silenceCmd(windows int) commands.Command {
	return cmd(fmt.Sprintf("silence(%d windows)", windows), running,
		func(s *cmdSUT) error { s.now += int64(windows) * windowNs; return s.loop.Poll() },
		func(m cmdModel) cmdModel { m.now += int64(windows) * windowNs; return m.poll() })
}

func stopCmd() commands.Command {
	return cmd("stop", running,
		func(s *cmdSUT) error { return s.loop.Stop(true, "stopped by the test") },
		func(m cmdModel) cmdModel { m.running = false; return m })
}

func restartCmd() commands.Command {
	start := startCmd().(*commands.ProtoCommand)
	return cmd("restart", running,
		func(s *cmdSUT) error {
			if err := s.loop.Stop(false, "restart"); err != nil {
				return err
			}
			return s.start()
		},
		func(m cmdModel) cmdModel {
			m.running = false
			return start.NextStateFunc(m).(cmdModel)
		})
}

func reloadCmd(alpha, dmin, dmax int) commands.Command {
	reconf := func(cfg controller.Config) controller.Config {
		cfg.Alpha, cfg.Dmin, cfg.Dmax = alpha, dmin, dmax
		cfg.Init = min(max(cfg.Init, dmin), dmax)
		cfg.Safe = min(max(cfg.Safe, dmin), dmax)
		return cfg
	}
	return cmd(fmt.Sprintf("reload(alpha %d, d in [%d, %d])", alpha, dmin, dmax), running,
		func(s *cmdSUT) error {
			s.cfg = reconf(s.cfg)
			return s.loop.Reconfigure(s.cfg)
		},
		func(m cmdModel) cmdModel {
			m.cfg = reconf(m.cfg)
			m.p = paramsOf(m.cfg)
			if before := int(m.s.D[0]); before < dmin || before > dmax {
				// A demand outside the new bounds moves to the nearest one:
				// ref's Hold, consuming no window.
				m = m.step(ref.HoldOf(0, min(max(before, dmin), dmax)))
				m = m.decide(decision{0, before, int(m.s.D[0]), vocab.Hold})
			}
			return m
		})
}

// initialModel draws a configuration: every rule and signal, delay bounds
// 0..4, and where the silence hold starts.
func initialModel() gopter.Gen {
	return gopter.CombineGens(gen.IntRange(0, 2), gen.IntRange(1, 2), gen.IntRange(0, 4), gen.IntRange(1, 7),
		gen.IntRange(1, 20), gen.IntRange(1, 20), gen.IntRange(2, 5), gen.IntRange(0, 1000)).Map(func(v []any) cmdModel {
		c := controller.DefaultSleep() // dmin 1: init and safe may be drawn from 1..20
		c.Rule, c.Signal, c.Delay = vocab.Rule(v[0].(int)), vocab.Signal(v[1].(int)), v[2].(int)
		c.Beta, c.Mu, c.Delta = vocab.R(int64(v[3].(int)), 8), vocab.R(int64(v[3].(int)+8), 8), 1+v[3].(int)%3
		c.Init, c.Safe = v[4].(int), v[5].(int)
		c.HoldAfterNs = int64(v[6].(int)) * windowNs
		c.ThetaPermille = v[7].(int) % 1000
		if c.Signal == vocab.VCT {
			c.ThetaPermille = 1000 + 2*v[7].(int)
		}
		if err := c.Validate(); err != nil {
			panic(err)
		}
		p := paramsOf(c)
		if err := p.Validate(); err != nil {
			panic(err)
		}
		return cmdModel{cfg: c, p: p, now: 1_000_000_000, kpause: 0}
	})
}

func TestControllerCommandsFollowRef(t *testing.T) {
	seed := *gopterSeed
	if seed == 0 {
		seed = time.Now().UnixNano()
	}
	t.Logf("gopter seed %d (rerun with -gopter.seed=%d)", seed, seed)
	proto := &commands.ProtoCommands{
		NewSystemUnderTestFunc: func(st commands.State) commands.SystemUnderTest {
			m := st.(cmdModel)
			return &cmdSUT{cfg: m.cfg, src: &controller.MemSource{}, act: &controller.MemActuator{}, sink: &controller.MemSink{}, now: m.now}
		},
		InitialStateGen: initialModel(),
		GenCommandFunc: func(st commands.State) gopter.Gen {
			if !st.(cmdModel).running {
				return gen.Const(startCmd())
			}
			return gen.Weighted([]gen.WeightedGen{
				{Weight: 10, Gen: gen.UInt64Range(0, 1000).Map(sampleCmd)},
				{Weight: 4, Gen: gen.UInt64Range(0, 1000).Map(windowCmd)},
				{Weight: 3, Gen: gen.Const(pollCmd())},
				{Weight: 2, Gen: gen.IntRange(1, 4).Map(silenceCmd)},
				{Weight: 1, Gen: gen.Const(stopCmd())},
				{Weight: 1, Gen: gen.Const(restartCmd())},
				{Weight: 2, Gen: gopter.CombineGens(gen.IntRange(1, 5), gen.IntRange(1, 4), gen.IntRange(10, 20)).Map(func(v []any) commands.Command {
					return reloadCmd(v[0].(int), v[1].(int), v[2].(int))
				})},
			})
		},
	}
	params := gopter.DefaultTestParametersWithSeed(seed)
	params.MinSuccessfulTests = 150
	props := gopter.NewProperties(params)
	props.Property("the controller's command sequences follow ref", commands.Prop(proto))
	props.TestingRun(t)
}
