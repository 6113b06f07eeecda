package experiment

import (
	"errors"
	"fmt"
	"regexp"
	"sort"
	"time"

	"github.com/friendly-vm/fvm/friendly/port"
	"github.com/friendly-vm/fvm/uml-impl/controller"
	"github.com/friendly-vm/fvm/vocab"
)

// Role is how a participant runs.
type Role string

// Roles.
const (
	Friendly  Role = "friendly"  // under fvm friendly
	Unmanaged Role = "unmanaged" // as is
	Nice19    Role = "nice19"    // at nice 19
	Idle      Role = "idle"      // under SCHED_IDLE
)

// Workloads.
const (
	Spin = "spin"  // sh -c 'while :; do :; done': always runnable
	Gzip = "gzip"  // two gzip -6 loops over a 48 MiB text file: a real job of several processes
	Loop = "probe" // the latency-sensitive loop (Probe)
)

// Participant is one process tree of a run.
type Participant struct {
	Name     string `json:"name"`
	Role     Role   `json:"role"`
	Workload string `json:"workload"`
	// Init is a friendly group's initial demand (units of 1/U of a core;
	// 0: the controller's default).
	Init int `json:"init,omitempty"`
}

// ProbeSpec is the latency loop's timing.
type ProbeSpec struct {
	Period time.Duration `json:"period_ns"`
	Work   time.Duration `json:"work_ns"`
}

// Spec is one run.
type Spec struct {
	Name     string        `json:"name"`
	Duration time.Duration `json:"duration_ns"`
	// CPU is the core every participant is pinned to.
	CPU int `json:"cpu"`
	// PeriodUs is friendly group 0's CFS period; group i gets PeriodUs +
	// i*PeriodStepUs, so that the groups' periods drift against each other
	// instead of keeping fixed phases (as the UML guests' pauses do); a
	// step of -1 asks for equal periods (0: DefaultPeriodStepUs).
	PeriodUs     int64     `json:"period_us"`
	PeriodStepUs int64     `json:"period_step_us"`
	Probe        ProbeSpec `json:"probe"`
	// Nice, if not 0, raises every participant together: the runner's
	// session's autogroup (which the other participants share) gets this
	// nice, and each friendly group the same CPU weight, so that they keep
	// the kernel's default weights against each other while background
	// load on a shared machine cannot take their core. A nice-19 job is
	// still at nice 19 within the session.
	Nice int `json:"nice,omitempty"`
	// IdlePause: the friendly groups take work-conserving pauses (fvm
	// friendly --pause-mode idle: cpu.idle for the pause's part of each
	// period, host model duty-idle) instead of CFS quotas.
	IdlePause    bool          `json:"idle_pause,omitempty"`
	Participants []Participant `json:"participants"`
}

// DefaultPeriodStepUs is the default step between the friendly groups'
// CFS periods. Two groups' quotas meet at a relative phase that moves by
// the step every period, through a whole period in P²/step: 0.4 s at
// 20 ms and 1 ms, four controller windows, so that each window sees the
// phases about evenly. With a step of 100 µs (a 4 s cycle) a pair's
// demands followed the phase for seconds at a time; with equal periods
// the phase never moves and one group can keep the better one for a whole
// run. The calibration rounds of both steps are committed
// (testdata/thresholds/friendly and friendly-step100): the larger step
// raised the pair's median Jain index, not its worst run.
const DefaultPeriodStepUs = 1000

var reName = regexp.MustCompile(`^[A-Za-z0-9_-]{1,32}$`)

// Prepare fills in defaults and validates.
func (s *Spec) Prepare() error {
	if s.PeriodUs == 0 {
		s.PeriodUs = port.DefaultPeriodUs
		if s.IdlePause {
			s.PeriodUs = vocab.IdlePeriodUs
		}
	}
	if s.PeriodStepUs == 0 {
		s.PeriodStepUs = DefaultPeriodStepUs
		if s.IdlePause {
			s.PeriodStepUs = vocab.IdlePeriodStepUs
		}
	}
	if s.Probe.Period == 0 {
		s.Probe = ProbeSpec{Period: 10 * time.Millisecond, Work: 2 * time.Millisecond}
	}
	var errs []error
	if !reName.MatchString(s.Name) {
		errs = append(errs, fmt.Errorf("run name %q: want 1-32 letters, digits, - or _", s.Name))
	}
	if s.Duration < 2*time.Second {
		errs = append(errs, fmt.Errorf("duration %v: want at least 2s", s.Duration))
	}
	if s.Nice < -20 || s.Nice > 19 {
		errs = append(errs, fmt.Errorf("nice %d: want -20..19", s.Nice))
	}
	if s.CPU < 0 {
		errs = append(errs, fmt.Errorf("cpu %d: want a CPU number", s.CPU))
	}
	n := len(s.Friendly())
	if p := s.GroupPeriodUs(max(n-1, 0)); s.PeriodUs < port.MinPeriodUs || s.PeriodStepUs < -1 || p > 1_000_000 {
		errs = append(errs, fmt.Errorf("period %d us, step %d us: want periods in [%d, 1000000] us and a step of -1 (equal periods) or more", s.PeriodUs, s.PeriodStepUs, port.MinPeriodUs))
	}
	if s.Probe.Work <= 0 || s.Probe.Work >= s.Probe.Period {
		errs = append(errs, fmt.Errorf("probe period %v, work %v: want 0 < work < period", s.Probe.Period, s.Probe.Work))
	}
	seen := map[string]bool{}
	cfg := controller.DefaultFor(s.IdlePause)
	for _, p := range s.Participants {
		if !reName.MatchString(p.Name) || seen[p.Name] {
			errs = append(errs, fmt.Errorf("participant name %q: want a unique name of 1-32 letters, digits, - or _", p.Name))
		}
		seen[p.Name] = true
		switch p.Role {
		case Friendly, Unmanaged, Nice19, Idle:
		default:
			errs = append(errs, fmt.Errorf("participant %s: role %q: want friendly, unmanaged, nice19 or idle", p.Name, p.Role))
		}
		switch p.Workload {
		case Spin, Gzip, Loop:
		default:
			errs = append(errs, fmt.Errorf("participant %s: workload %q: want spin, gzip or probe", p.Name, p.Workload))
		}
		if p.Init != 0 && (p.Role != Friendly || p.Init < cfg.Dmin || p.Init > cfg.Dmax) {
			errs = append(errs, fmt.Errorf("participant %s: init %d: only for a friendly group, in [%d, %d]", p.Name, p.Init, cfg.Dmin, cfg.Dmax))
		}
	}
	if len(s.Participants) == 0 {
		errs = append(errs, errors.New("no participants"))
	}
	return errors.Join(errs...)
}

// GroupPeriodUs is the CFS period of friendly group k (PeriodStepUs).
func (s *Spec) GroupPeriodUs(k int) int64 {
	return s.PeriodUs + int64(k)*max(s.PeriodStepUs, 0)
}

// Friendly returns the indices of the friendly groups, in order (group i
// of them is vm i of the run's traces).
func (s *Spec) Friendly() []int {
	var out []int
	for i, p := range s.Participants {
		if p.Role == Friendly {
			out = append(out, i)
		}
	}
	return out
}

// Experiment is a named set of runs.
type Experiment struct {
	Name        string
	Description string
	Duration    time.Duration // of each run, by default
	runs        func(d time.Duration) []Spec
}

func f(name string, pct int) Participant {
	c := controller.DefaultSleep()
	return Participant{Name: name, Role: Friendly, Workload: Spin, Init: max(c.Dmin, pct*c.U/100)}
}

func table() []Experiment {
	return []Experiment{
		{Name: "pair", Description: "two friendly groups, busy, from 100% and 30% of the core: fairness, utilisation, convergence",
			Duration: 40 * time.Second, runs: func(d time.Duration) []Spec {
				return []Spec{{Duration: d, Participants: []Participant{f("A", 100), f("B", 30)}}}
			}},
		{Name: "four", Description: "four friendly groups, busy, from 100%, 70%, 40%, 10%: fairness, utilisation, convergence",
			Duration: 40 * time.Second, runs: func(d time.Duration) []Spec {
				return []Spec{{Duration: d, Participants: []Participant{f("A", 100), f("B", 70), f("C", 40), f("D", 10)}}}
			}},
		{Name: "greedy", Description: "a busy friendly group beside an unthrottled busy process: friendliness",
			Duration: 30 * time.Second, runs: func(d time.Duration) []Spec {
				return []Spec{{Duration: d, Participants: []Participant{f("F", 100), {Name: "G", Role: Unmanaged, Workload: Spin}}}}
			}},
		{Name: "job", Description: "a parallel gzip job beside a latency-sensitive loop (2 ms of CPU every 10 ms): the loop alone, then beside the job unmanaged, at nice 19, under SCHED_IDLE and as a friendly group",
			Duration: 20 * time.Second, runs: func(d time.Duration) []Spec {
				loop := Participant{Name: "L", Role: Unmanaged, Workload: Loop}
				var out []Spec
				out = append(out, Spec{Name: "alone", Duration: d, Participants: []Participant{loop}})
				for _, r := range []Role{Unmanaged, Nice19, Idle, Friendly} {
					out = append(out, Spec{Name: string(r), Duration: d, Participants: []Participant{loop, {Name: "J", Role: r, Workload: Gzip}}})
				}
				return out
			}},
	}
}

// Experiments returns the experiments, sorted by name.
func Experiments() []Experiment {
	out := table()
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// Lookup returns the named experiment.
func Lookup(name string) (Experiment, error) {
	var names []string
	for _, e := range Experiments() {
		if e.Name == name {
			return e, nil
		}
		names = append(names, e.Name)
	}
	return Experiment{}, fmt.Errorf("unknown experiment %q (want one of %v)", name, names)
}

// IdleRecorded returns the experiments committed under testdata/runs with
// work-conserving pauses too (runs named ...-idle); the others only with
// sleeping ones.
func IdleRecorded() []string { return []string{"pair", "four", "greedy"} }

// RunPrefix begins the name of every run of an experiment (and of the real
// tests' runs): committed runs of friendly groups sit beside the UML
// guests' runs under testdata/runs, told apart by it.
const RunPrefix = "friendly-"

// Specs returns the runs of e, each lasting d (0: the default), on cpu,
// at nice (Spec.Nice), with work-conserving pauses if idle (Spec.IdlePause),
// named RunPrefix+NAME[-VARIANT][-idle].
func (e Experiment) Specs(d time.Duration, cpu, nice int, idle bool) []Spec {
	if d <= 0 {
		d = e.Duration
	}
	specs := e.runs(d)
	for i := range specs {
		n := RunPrefix + e.Name
		if specs[i].Name != "" {
			n += "-" + specs[i].Name
		}
		if idle {
			n += "-" + controller.PauseModeIdle
		}
		specs[i].Name, specs[i].CPU, specs[i].Nice, specs[i].IdlePause = n, cpu, nice, idle
	}
	return specs
}
