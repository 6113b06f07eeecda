package controller

import (
	"errors"
	"fmt"
	"slices"
	"strconv"

	"github.com/friendly-vm/fvm/vocab"
)

// Config is the controller's complete configuration. Zero values are not
// defaults: start from Default and change fields.
type Config struct {
	VM int `json:"vm"` // the VM's index in the run (trace field vm)
	N  int `json:"n"`  // VMs in the run

	U    int `json:"u"`    // demand units per core: d = r*U; U divides 1000
	Dmin int `json:"dmin"` // lowest demand (> 0: an FVM never starves itself)
	Dmax int `json:"dmax"` // highest demand
	Init int `json:"init"` // demand at start
	Safe int `json:"safe"` // demand held while blind (no or garbage windows)

	Rule  vocab.Rule `json:"rule"`
	Alpha int        `json:"alpha"` // additive increase (AIMD, AIAD), units of 1/U
	Beta  vocab.Rat  `json:"beta"`  // multiplicative decrease (AIMD, MIMD)
	Mu    vocab.Rat  `json:"mu"`    // multiplicative increase (MIMD)
	Delta int        `json:"delta"` // additive decrease (AIAD), units of 1/U

	Signal        vocab.Signal `json:"signal"`
	ThetaPermille int          `json:"theta_permille"` // congested iff signal_permille > theta_permille
	// EWMA is the weight of the newest window in the smoothed signal:
	// s' = floor((num*x + (den-num)*s) / den); 1 means no smoothing.
	EWMA vocab.Rat `json:"ewma"`

	// Delay is the delay bound in windows: a window is consumed while at
	// most Delay newer windows exist; older ones are skipped and reported
	// as a gap.
	Delay int `json:"delay"`
	// WindowNs is the kernel's window length, used to recognise garbage.
	WindowNs int64 `json:"window_ns"`
	// HoldAfterNs: with no new window for this long, hold Safe.
	HoldAfterNs int64 `json:"hold_after_ns"`
	// HoldGarbage: after this many garbage windows in a row, hold Safe.
	HoldGarbage int `json:"hold_garbage"`
	// FidelityTol is the tolerance the run declares (trace header) for
	// model fidelity.
	FidelityTol vocab.Rat `json:"fidelity_tol"`
	// IdlePause makes the kernel's pauses work-conserving (pause_mode
	// idle: the VM runs at host SCHED_IDLE instead of sleeping; host model
	// duty-idle). False, the zero value of configurations written before
	// it existed, is pause_mode sleep (host model duty).
	IdlePause bool `json:"idle_pause,omitempty"`
}

// Host returns the host model the controller's pause actuation is: duty
// for a sleeping pause, duty-idle for a work-conserving one.
func (c *Config) Host() vocab.Host {
	if c.IdlePause {
		return vocab.DutyIdle
	}
	return vocab.Duty
}

// PauseMode returns the kernel's pause_mode (uml-impl/README.md): sleep or
// idle.
func (c *Config) PauseMode() string { return PauseModeOf(c.IdlePause) }

// PauseModeOf is the name of a pause mode (idle: work-conserving), the
// inverse of ParsePauseMode.
func PauseModeOf(idle bool) string {
	if idle {
		return PauseModeIdle
	}
	return PauseModeSleep
}

// The kernel's pause modes (/proc/fvm/pause_mode).
const (
	PauseModeSleep = "sleep"
	PauseModeIdle  = "idle"
)

// ParsePauseMode parses a pause mode name into Config.IdlePause. The error
// quotes the name; callers put their flag's name in front of it.
func ParsePauseMode(m string) (idle bool, err error) {
	switch m {
	case PauseModeSleep:
		return false, nil
	case PauseModeIdle:
		return true, nil
	}
	return false, fmt.Errorf("%q: want %s or %s", m, PauseModeSleep, PauseModeIdle)
}

// Rules returns the decision rules the controller implements: the model's
// one-bit rules. The model's candidate rules aimd-prop and aimd-phase are
// ranked by the checker and the proofs but not built into the controller,
// so a configuration naming one is rejected rather than run as plain AIMD.
func Rules() []vocab.Rule { return []vocab.Rule{vocab.AIMD, vocab.MIMD, vocab.AIAD} }

// Default returns the default configuration, the one configs/deployed.json
// describes and the model checker verifies (a test keeps the two equal):
// the work-conserving pause (host model duty-idle: the pause runs at host
// SCHED_IDLE instead of sleeping, so the core idles only when no VM wants
// it). U=20 (demands in steps of 5% of a core), AIMD alpha=1 beta=1/2 on
// steal > 75 permille of the normal-priority part of the window, demands
// 2..20 (pause 900..0 permille), delay bound 2 windows (the real system's
// measured delay; a window older than that is given up and traced as a
// gap). On duty-idle, beside an always-awake greedy VM steal = r/2 and the
// demand ceiling (proofs/mechanisms.md, Theorem 18) leaves the greedy VM
// 85% iff θ < 100‰; the lowest demand of 2 keeps the FVM at least 5%.
// The pause needs the host's CAP_SYS_NICE (a process may drop to
// SCHED_IDLE but not come back without it) and, for several VMs on one
// host, CAP_SYS_ADMIN (uml-impl/README.md); DefaultSleep needs neither.
func Default() Config {
	c := DefaultSleep()
	c.IdlePause, c.ThetaPermille, c.Dmin, c.Safe = true, DefaultTheta(vocab.Steal, true), 2, 2
	return c
}

// DefaultSleep returns the default configuration of the sleeping pause
// (host model duty), the one configs/deployed-sleep.json describes and the
// model checker verifies: Default's, with the pause sleeping, steal > 200
// permille of wall time and demands from 1 (pause at most 950 permille).
// It needs no privilege, and it is what a friendly process group runs (CFS
// bandwidth control throttles a group as a sleeping pause does).
func DefaultSleep() Config {
	return Config{
		VM: 0, N: 1, U: 20, Dmin: 1, Dmax: 20, Init: 20, Safe: 1,
		Rule: vocab.AIMD, Alpha: 1, Beta: vocab.R(1, 2), Mu: vocab.R(2, 1), Delta: 1,
		Signal: vocab.Steal, ThetaPermille: DefaultTheta(vocab.Steal, false), EWMA: vocab.R(1, 1),
		Delay: 2, WindowNs: vocab.WindowNs, HoldAfterNs: 1_000_000_000, HoldGarbage: 3,
		FidelityTol: vocab.R(1, 10),
	}
}

// DefaultFor returns the default configuration of a pause mode: Default
// (idle, work-conserving) or DefaultSleep.
func DefaultFor(idle bool) Config {
	if idle {
		return Default()
	}
	return DefaultSleep()
}

// DefaultTheta returns the default threshold for a signal and pause mode
// (idle: work-conserving), in permille: for the work-conserving pause on
// steal Default's 75; otherwise steal > 20% of wall time, or VCT > 1.5
// (the duty-vct model configuration's). For steal with a sleeping pause, the duty model puts a lone FVM beside a
// greedy VM at steal = r/2, so AIMD keeps it between r = θ and 2θ and the
// greedy VM gets about 1 − 0.75θ of the core: θ = 200‰ leaves it 85%
// (measured: 80-83%; with θ = 250‰, the model's first duty-steal value,
// 74-78%, too close to the 75% friendliness target on a noisy host). The
// price is utilisation with FVMs only (a pair: about 75% instead of 82%).
func DefaultTheta(s vocab.Signal, idle bool) int {
	switch {
	case s == vocab.VCT:
		return 1500
	case idle:
		return 75
	}
	return 200
}

// Validate checks every field and returns all problems.
func (c *Config) Validate() error {
	var errs []error
	bad := func(field string, v any, want string, args ...any) {
		errs = append(errs, fmt.Errorf("%s = %v: must be %s", field, v, fmt.Sprintf(want, args...)))
	}
	if c.N < 1 || c.N > 1024 {
		bad("n", c.N, "in [1, 1024]")
	}
	if c.VM < 0 || c.VM >= c.N {
		bad("vm", c.VM, "in [0, n=%d)", c.N)
	}
	if c.U < 1 || c.U > 1000 || 1000%c.U != 0 {
		bad("u", c.U, "a divisor of 1000 (pause = 1000 - 1000*d/u is exact)")
	} else {
		if c.Dmin < 1 || c.Dmin > c.U {
			bad("dmin", c.Dmin, "in [1, u=%d]", c.U)
		} else if p := 1000 - c.Dmin*(1000/c.U); p > vocab.MaxPausePermille {
			bad("dmin", c.Dmin, "at least %d (the kernel's pause is at most %d permille; dmin gives %d)", (1000-vocab.MaxPausePermille+1000/c.U-1)/(1000/c.U), vocab.MaxPausePermille, p)
		}
		if c.Dmax < c.Dmin || c.Dmax > c.U {
			bad("dmax", c.Dmax, "in [dmin=%d, u=%d]", c.Dmin, c.U)
		}
		if c.Init < c.Dmin || c.Init > c.Dmax {
			bad("init", c.Init, "in [dmin=%d, dmax=%d]", c.Dmin, c.Dmax)
		}
		if c.Safe < c.Dmin || c.Safe > c.Dmax {
			bad("safe", c.Safe, "in [dmin=%d, dmax=%d]", c.Dmin, c.Dmax)
		}
	}
	if !slices.Contains(Rules(), c.Rule) {
		bad("rule", c.Rule, "one of aimd, mimd, aiad (aimd-prop and aimd-phase are model candidates the controller does not implement)")
	}
	if (c.Rule == vocab.AIMD || c.Rule == vocab.AIAD) && (c.Alpha < 1 || c.Alpha > c.U) {
		bad("alpha", c.Alpha, "in [1, u=%d]", c.U)
	}
	if (c.Rule == vocab.AIMD || c.Rule == vocab.MIMD) && (c.Beta.Den <= 0 || c.Beta.Num <= 0 || c.Beta.Num >= c.Beta.Den || c.Beta.Den > 1000) {
		bad("beta", c.Beta, "a fraction in (0, 1) with denominator <= 1000")
	}
	if c.Rule == vocab.MIMD && (c.Mu.Den <= 0 || c.Mu.Num <= c.Mu.Den || c.Mu.Num > 10*c.Mu.Den || c.Mu.Den > 1000) {
		bad("mu", c.Mu, "a ratio in (1, 10] with denominator <= 1000")
	}
	if c.Rule == vocab.AIAD && (c.Delta < 1 || c.Delta > c.U) {
		bad("delta", c.Delta, "in [1, u=%d]", c.U)
	}
	switch c.Signal {
	case vocab.Steal:
		if c.ThetaPermille < 0 || c.ThetaPermille >= 1000 {
			bad("theta_permille", c.ThetaPermille, "in [0, 1000) for signal steal")
		}
	case vocab.VCT:
		if c.ThetaPermille < 1000 || c.ThetaPermille > 100000 {
			bad("theta_permille", c.ThetaPermille, "in [1000, 100000] for signal vct")
		}
	default:
		bad("signal", c.Signal, "one of vct, steal")
	}
	if c.EWMA.Den <= 0 || c.EWMA.Num <= 0 || c.EWMA.Num > c.EWMA.Den || c.EWMA.Den > 1000 {
		bad("ewma", c.EWMA, "a weight in (0, 1] with denominator <= 1000")
	}
	if c.Delay < 0 || c.Delay > vocab.MaxDelay {
		bad("delay", c.Delay, "in [0, %d] windows", vocab.MaxDelay)
	}
	if c.WindowNs < 1_000_000 {
		bad("window_ns", c.WindowNs, "at least 1 ms")
	}
	if c.HoldAfterNs < c.WindowNs {
		bad("hold_after_ns", c.HoldAfterNs, "at least one window (%d ns)", c.WindowNs)
	}
	if c.FidelityTol.Den <= 0 || c.FidelityTol.Num <= 0 {
		bad("fidelity_tol", c.FidelityTol, "a positive fraction")
	}
	if c.HoldGarbage < 1 {
		bad("hold_garbage", c.HoldGarbage, "at least 1")
	}
	return errors.Join(errs...)
}

// Pause returns the pause (permille) that makes demand d the VM's awake
// fraction: 1000 - 1000*d/U (exact: U divides 1000).
func (c *Config) Pause(d int) int { return int(vocab.PausePermille(c.U, d)) }

// Theta returns the threshold as an exact rational: theta_permille/1000.
func (c *Config) Theta() vocab.Rat { return vocab.R(int64(c.ThetaPermille), 1000).Reduce() }

// Apply is the rule: from demand d with the given congestion bit, the next
// demand and the branch taken ("increase", "decrease" or "clamp"). The
// result is always in [Dmin, Dmax].
func (c *Config) Apply(d int, congested bool) (int, vocab.Branch) {
	x := int64(d)
	var next int64
	if congested {
		if c.Rule == vocab.AIAD {
			next = x - int64(c.Delta)
		} else {
			next = c.Beta.FloorMul(x)
		}
		if next < int64(c.Dmin) {
			return c.Dmin, vocab.Clamp
		}
		return int(next), vocab.Decrease
	}
	if c.Rule == vocab.MIMD {
		next = c.Mu.CeilMul(x)
	} else {
		next = x + int64(c.Alpha)
	}
	if next > int64(c.Dmax) {
		return c.Dmax, vocab.Clamp
	}
	return int(next), vocab.Increase
}

// Args renders c as fvmd flags (cmd/fvmd), so that a runner on the host
// can start the daemon in a guest with exactly this configuration.
func (c *Config) Args() []string {
	return []string{
		"-vm", strconv.Itoa(c.VM), "-n", strconv.Itoa(c.N),
		"-u", strconv.Itoa(c.U), "-dmin", strconv.Itoa(c.Dmin), "-dmax", strconv.Itoa(c.Dmax),
		"-init", strconv.Itoa(c.Init), "-safe", strconv.Itoa(c.Safe),
		"-rule", c.Rule.String(), "-alpha", strconv.Itoa(c.Alpha), "-beta", c.Beta.String(),
		"-mu", c.Mu.String(), "-delta", strconv.Itoa(c.Delta),
		"-signal", c.Signal.String(), "-theta", strconv.Itoa(c.ThetaPermille), "-ewma", c.EWMA.String(),
		"-delay", strconv.Itoa(c.Delay), "-hold-after-ns", strconv.FormatInt(c.HoldAfterNs, 10),
		"-hold-garbage", strconv.Itoa(c.HoldGarbage), "-fidelity-tol", c.FidelityTol.String(),
		"-pause-mode", c.PauseMode(),
	}
}
