package runner

import (
	"github.com/friendly-vm/fvm/vocab"

	"fmt"
	"sort"
	"time"

	"github.com/friendly-vm/fvm/uml-impl/controller"
)

// Experiment is a named scenario of the paper, run once per signal.
type Experiment struct {
	Name        string
	Description string
	// Duration is the default length of each run.
	Duration time.Duration
	// specs builds the runs for a signal and duration (names unset).
	specs func(base controller.Config, d time.Duration) []Spec
}

// Base returns the default controller configuration of a pause mode (idle:
// work-conserving) with signal s and its default threshold.
func Base(s vocab.Signal, idle bool) controller.Config {
	c := controller.DefaultFor(idle)
	c.Signal, c.ThetaPermille = s, controller.DefaultTheta(s, idle)
	return c
}

// fvm is an adaptive guest starting at pct percent of a core.
func fvm(name string, base controller.Config, pct int) VM {
	c := base
	c.Init = max(c.Dmin, pct*c.U/100)
	return VM{Name: name, Workload: "spin", Controller: c}
}

func greedy(name, workload string, base controller.Config) VM {
	return VM{Name: name, Greedy: true, Workload: workload, Controller: base}
}

// pinned is a guest whose demand is fixed at pct percent of a core.
func pinned(name string, base controller.Config, pct int) VM {
	return VM{Name: name, Pin: max(base.Dmin, pct*base.U/100), Workload: "spin", Controller: base}
}

func one(variant string, d time.Duration, vms ...VM) Spec {
	return Spec{Name: variant, Duration: d, VMs: vms}
}

// table returns the experiments (a function, not a package variable: no
// global state).
func table() []Experiment {
	return []Experiment{
		{
			Name:        "pair",
			Description: "two identical FVMs from unequal starts (100% and 30% of a core): convergence and fairness",
			// Long enough to average a pair's desynchronised AIMD cycles:
			// the duty host's steal is only neutral for two FVMs
			// (proofs/hosts.md), so the shares drift, and 15 s of second
			// half gave Jain 0.93-1.
			Duration: 60 * time.Second,
			specs: func(b controller.Config, d time.Duration) []Spec {
				return []Spec{one("", d, fvm("A", b, 100), fvm("B", b, 30))}
			},
		},
		{
			Name:        "four",
			Description: "four identical FVMs from 100%, 70%, 40%, 10% of a core: convergence and fairness",
			Duration:    60 * time.Second,
			specs: func(b controller.Config, d time.Duration) []Spec {
				return []Spec{one("", d, fvm("A", b, 100), fvm("B", b, 70), fvm("C", b, 40), fvm("D", b, 10))}
			},
		},
		{
			Name:        "join-leave",
			Description: "A runs throughout; B joins at 1/4, C at 1/2, B leaves at 3/4 of the run",
			Duration:    40 * time.Second,
			specs: func(b controller.Config, d time.Duration) []Spec {
				vb, vc := fvm("B", b, 100), fvm("C", b, 100)
				vb.Start, vb.Stop = d/4, 3*d/4
				vc.Start = d / 2
				return []Spec{one("", d, fvm("A", b, 100), vb, vc)}
			},
		},
		{
			Name:        "greedy",
			Description: "one FVM beside a greedy (non-adaptive, pause 0) guest: friendliness",
			Duration:    30 * time.Second,
			specs: func(b controller.Config, d time.Duration) []Spec {
				return []Spec{one("", d, fvm("F", b, 100), greedy("G", "spin", b))}
			},
		},
		{
			Name:        "hetero",
			Description: "two FVMs with alpha 1 and 2 units (beta 1/2): alpha/(1-beta) = 2 vs 4, shares against the proofs' 1:2",
			Duration:    40 * time.Second,
			specs: func(b controller.Config, d time.Duration) []Spec {
				a, c := fvm("A", b, 50), fvm("B", b, 50)
				c.Controller.Alpha = 2 * b.Alpha
				return []Spec{one("", d, a, c)}
			},
		},
		{
			Name:        "pressure",
			Description: "one FVM beside a memory-heavy, then an I/O-heavy greedy neighbour: does the same controller back off?",
			Duration:    30 * time.Second,
			specs: func(b controller.Config, d time.Duration) []Spec {
				return []Spec{
					one("mem", d, fvm("F", b, 100), greedy("M", "mem", b)),
					one("io", d, fvm("F", b, 100), greedy("IO", "io", b)),
				}
			},
		},
		{
			Name:        "overhead",
			Description: "one guest alone: controller on (fvmd adapting) vs off (no fvmd): throughput ratio and the daemon's CPU",
			Duration:    15 * time.Second,
			specs: func(b controller.Config, d time.Duration) []Spec {
				off := fvm("A", b, 100)
				off.NoController = true
				return []Spec{one("on", d, fvm("A", b, 100)), one("off", d, off)}
			},
		},
		{
			Name:        "fidelity",
			Description: "fixed pauses (demands pinned): measured shares vs the duty and fair host models",
			Duration:    12 * time.Second,
			specs: func(b controller.Config, d time.Duration) []Spec {
				return []Spec{
					one("70-100", d, pinned("A", b, 70), greedy("B", "spin", b)),
					one("50-100", d, pinned("A", b, 50), greedy("B", "spin", b)),
					one("50-50", d, pinned("A", b, 50), pinned("B", b, 50)),
					one("30-60-100", d, pinned("A", b, 30), pinned("B", b, 60), greedy("C", "spin", b)),
				}
			},
		},
	}
}

// Experiments returns the named experiments, sorted by name.
func Experiments() []Experiment {
	out := table()
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// Lookup returns the experiment with the given name.
func Lookup(name string) (Experiment, error) {
	for _, e := range table() {
		if e.Name == name {
			return e, nil
		}
	}
	var names []string
	for _, e := range Experiments() {
		names = append(names, e.Name)
	}
	return Experiment{}, fmt.Errorf("unknown experiment %q (want one of %v)", name, names)
}

// RunName is the name `fvm uml experiment` gives the one run of experiment
// exp with controller configuration base (Specs); an error for an unknown
// experiment or one of several runs.
func RunName(exp string, base controller.Config) (string, error) {
	e, err := Lookup(exp)
	if err != nil {
		return "", err
	}
	specs := e.Specs(base, 0, "")
	if len(specs) != 1 {
		return "", fmt.Errorf("experiment %s has %d runs, want 1", exp, len(specs))
	}
	return specs[0].Name, nil
}

// Specs returns the runs of e for controller configuration base (its
// signal names them, and a work-conserving pause adds -idle), each lasting
// d (0: the experiment's default), on kernel. Run names are
// NAME[-VARIANT]-SIGNAL[-idle].
func (e Experiment) Specs(base controller.Config, d time.Duration, kernel string) []Spec {
	if d <= 0 {
		d = e.Duration
	}
	specs := e.specs(base, d)
	for i := range specs {
		n := e.Name
		if specs[i].Name != "" {
			n += "-" + specs[i].Name
		}
		specs[i].Name = n + "-" + base.Signal.String()
		if base.IdlePause {
			specs[i].Name += "-" + controller.PauseModeIdle
		}
		specs[i].Kernel = kernel
	}
	return specs
}
