package runner

import (
	"errors"
	"fmt"
	"regexp"
	"time"

	"github.com/friendly-vm/fvm/uml-impl/controller"
	"github.com/friendly-vm/fvm/uml-impl/host"
	"github.com/friendly-vm/fvm/vocab"
)

// isWorkload reports whether w is a workload a guest can run (an fvmwork
// subcommand).
func isWorkload(w string) bool { return w == "spin" || w == "mem" || w == "io" }

// VM is one guest of a run.
type VM struct {
	// Name names the guest's files (<Name>.jsonl); letters, digits, - and _.
	Name string `json:"name"`
	// Greedy guests run the controller pinned at demand U (pause 0): a
	// non-adaptive VM. Their trace still records the signal they see.
	Greedy bool `json:"greedy"`
	// Pin, if positive, pins the demand of a non-greedy VM at Pin units
	// (a fixed pause: the fidelity experiment).
	Pin int `json:"pin,omitempty"`
	// NoController runs the workload alone, without fvmd (the overhead
	// benchmark's baseline); the runner writes the VM's header and end.
	NoController bool `json:"no_controller,omitempty"`
	// Baseline, if set, makes the guest a stand-in for an FVM in a
	// comparison (Baselines): no controller, and a host priority that a
	// user could pick instead of one. It implies NoController.
	Baseline string `json:"baseline,omitempty"`
	// Workload is spin, mem or io.
	Workload string `json:"workload"`
	// Start is when the guest boots, after the run starts (join).
	Start time.Duration `json:"start_ns"`
	// Stop is when its workload stops, after the run starts (leave); 0
	// means the end of the run.
	Stop time.Duration `json:"stop_ns"`
	// Controller is the guest's controller configuration; VM and N are
	// set by the runner, and for a greedy guest so are the demand bounds.
	Controller controller.Config `json:"controller"`
}

// CheckPrivileges says whether this process may run the spec: guests
// that take work-conserving pauses need host privilege
// (host.CheckIdlePause). Run checks it; a command checks it before it
// builds anything.
func (s *Spec) CheckPrivileges() error {
	if n := s.idlePausers(); n > 0 {
		if err := host.CheckIdlePause(n); err != nil {
			return fmt.Errorf("run %s: %w", s.Name, err)
		}
	}
	return nil
}

// idlePausers counts the guests that take work-conserving pauses: those
// with a controller that may pause (not greedy) in pause mode idle.
func (s *Spec) idlePausers() int {
	n := 0
	for _, v := range s.VMs {
		if v.Controller.IdlePause && !v.Greedy && !v.NoController && v.Baseline == "" {
			n++
		}
	}
	return n
}

// Spec is one run.
type Spec struct {
	Name     string        `json:"name"`
	Kernel   string        `json:"kernel"`
	Duration time.Duration `json:"duration_ns"`
	VMs      []VM          `json:"vms"`
	// CPU is the host CPU every guest is pinned to.
	CPU int `json:"cpu"`
	// Slack is added to each guest's own duration for its deadline (boot,
	// shutdown); a guest still running then is killed and the run is
	// incomplete. 0 means a minute; a negative slack (tests of the
	// deadline) kills guests before their workload ends.
	Slack time.Duration `json:"slack_ns"`
	// Poll is fvmd's poll interval.
	Poll time.Duration `json:"poll_ns"`
	// PeriodUs is the actuation period of VM 0; VM i gets PeriodUs +
	// i*PeriodStepUs (fvmd -period-us), so that the VMs' duty cycles drift
	// against each other instead of keeping fixed phases: with equal
	// periods one VM's awake slot can stay where the others sleep, and
	// it then sees less contention for the same demand. 0: 10000 and 97,
	// or vocab.IdlePeriodUs and vocab.IdlePeriodStepUs when a VM takes
	// work-conserving pauses.
	PeriodUs     int `json:"period_us,omitempty"`
	PeriodStepUs int `json:"period_step_us,omitempty"`
	// Nice, if not 0, is the host nice value of every guest process (the
	// runner renices each guest's whole process tree; root only for < 0).
	// Guests still compete with each other at equal weights; a negative
	// value lets them win against unrelated host load on a shared machine.
	// Real experiments on an otherwise idle host (CI) leave it 0.
	Nice int `json:"nice,omitempty"`
	// PollLog makes every fvmd write its polls' timings to raw/NAME.polls
	// (fvmd -poll-log): for finding where a poll's time goes. It costs
	// two clock reads a poll, so measured runs leave it off.
	PollLog bool `json:"poll_log,omitempty"`
}

var reName = regexp.MustCompile(`^[A-Za-z0-9_-]{1,32}$`)

// Prepare fills in defaults and the per-VM controller fields (VM index,
// N; pinned bounds for greedy guests) and validates the spec.
func (s *Spec) Prepare() error {
	if s.Slack == 0 {
		s.Slack = 60 * time.Second
	}
	if s.Poll == 0 {
		s.Poll = 100 * time.Millisecond
	}
	idle := false
	for _, v := range s.VMs {
		idle = idle || v.Controller.IdlePause
	}
	if s.PeriodUs == 0 {
		s.PeriodUs = 10000
		if idle {
			s.PeriodUs = vocab.IdlePeriodUs
		}
	}
	if s.PeriodStepUs == 0 {
		s.PeriodStepUs = 97
		if idle {
			s.PeriodStepUs = vocab.IdlePeriodStepUs
		}
	}
	var errs []error
	if !reName.MatchString(s.Name) {
		errs = append(errs, fmt.Errorf("run name %q: want 1-32 letters, digits, - or _", s.Name))
	}
	if s.Nice < -20 || s.Nice > 19 {
		errs = append(errs, fmt.Errorf("nice %d: want -20..19", s.Nice))
	}
	if s.Duration <= 0 {
		errs = append(errs, fmt.Errorf("duration %v: must be positive", s.Duration))
	}
	if len(s.VMs) == 0 {
		errs = append(errs, errors.New("no VMs"))
	}
	if p := s.PeriodUs + (len(s.VMs)-1)*s.PeriodStepUs; s.PeriodUs < 1000 || s.PeriodStepUs < 0 || p > 1_000_000 {
		errs = append(errs, fmt.Errorf("period_us %d, step %d: want periods in [1000, 1000000] us", s.PeriodUs, s.PeriodStepUs))
	}
	seen := map[string]bool{}
	for i := range s.VMs {
		v := &s.VMs[i]
		if !reName.MatchString(v.Name) || seen[v.Name] {
			errs = append(errs, fmt.Errorf("vm %d: name %q: want a unique name of 1-32 letters, digits, - or _", i, v.Name))
		}
		seen[v.Name] = true
		if v.Baseline != "" {
			if !isBaseline(v.Baseline) {
				errs = append(errs, fmt.Errorf("vm %s: baseline %q: want one of %v", v.Name, v.Baseline, Baselines()))
			}
			if v.Greedy || v.Pin > 0 {
				errs = append(errs, fmt.Errorf("vm %s: a baseline guest stands in for an FVM: it cannot also be greedy or pinned", v.Name))
			}
			v.NoController = true
		}
		if !isWorkload(v.Workload) {
			errs = append(errs, fmt.Errorf("vm %s: workload %q: want spin, mem or io", v.Name, v.Workload))
		}
		if v.Stop == 0 {
			v.Stop = s.Duration
		}
		if v.Start < 0 || v.Stop <= v.Start || v.Stop > s.Duration {
			errs = append(errs, fmt.Errorf("vm %s: start %v, stop %v: want 0 <= start < stop <= duration %v", v.Name, v.Start, v.Stop, s.Duration))
		} else if v.Stop-v.Start+s.Slack <= 0 {
			errs = append(errs, fmt.Errorf("vm %s: deadline %v (duration + slack): must be positive", v.Name, v.Stop-v.Start+s.Slack))
		}
		c := &v.Controller
		c.VM, c.N = i, len(s.VMs)
		switch {
		case v.Greedy:
			c.Dmin, c.Dmax, c.Init, c.Safe = c.U, c.U, c.U, c.U
		case v.Pin > 0:
			c.Dmin, c.Dmax, c.Init, c.Safe = v.Pin, v.Pin, v.Pin, v.Pin
		}
		if err := c.Validate(); err != nil {
			errs = append(errs, fmt.Errorf("vm %s: %w", v.Name, err))
		}
	}
	return errors.Join(errs...)
}

// Role is "greedy", "pinned", "baseline" (a stand-in for an FVM at a
// fixed host priority), "off" (no controller) or "fvm" (adaptive).
func (v *VM) Role() string {
	switch {
	case v.Greedy:
		return "greedy"
	case v.Baseline != "":
		return "baseline"
	case v.NoController:
		return "off"
	case v.Pin > 0:
		return "pinned"
	}
	return "fvm"
}

// measured reports whether a guest of this role is one whose share a run's
// fairness is about: an FVM, or a baseline guest in an FVM's place.
func measured(role string) bool { return role == "fvm" || role == "baseline" }

// FVMs returns the indices of the adaptive VMs, and of the baseline
// guests that stand in their place: the guests whose fairness a run
// measures.
func (s *Spec) FVMs() []int {
	var out []int
	for i := range s.VMs {
		if measured(s.VMs[i].Role()) {
			out = append(out, i)
		}
	}
	return out
}
