package controller

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Signal selects the window observable that is thresholded.
type Signal uint8

// Signals.
const (
	// Steal is steal_permille: the fraction of wall time the VM wanted a
	// CPU and did not get one.
	Steal Signal = iota
	// VCT is vct_permille: real time per unit of CPU progress while the
	// VM wanted the CPU (1000 alone). The paper's signal.
	VCT
)

// Rule selects the demand update rule.
type Rule uint8

// Rules.
const (
	AIMD Rule = iota // d+alpha, floor(beta*d)
	MIMD             // ceil(mu*d), floor(beta*d)
	AIAD             // d+alpha, d-delta
)

var (
	signalNames = []string{"steal", "vct"}
	ruleNames   = []string{"aimd", "mimd", "aiad"}
)

func name(names []string, i int) string {
	if i >= 0 && i < len(names) {
		return names[i]
	}
	return fmt.Sprintf("invalid(%d)", i)
}

func parseName(kind string, names []string, s string) (int, error) {
	for i, n := range names {
		if strings.EqualFold(n, strings.TrimSpace(s)) {
			return i, nil
		}
	}
	return 0, fmt.Errorf("%s %q: want one of %s", kind, s, strings.Join(names, ", "))
}

func (s Signal) String() string { return name(signalNames, int(s)) }
func (r Rule) String() string   { return name(ruleNames, int(r)) }

// ParseSignal parses "steal" or "vct".
func ParseSignal(s string) (Signal, error) {
	i, err := parseName("signal", signalNames, s)
	return Signal(i), err
}

// ParseRule parses "aimd", "mimd" or "aiad".
func ParseRule(s string) (Rule, error) {
	i, err := parseName("rule", ruleNames, s)
	return Rule(i), err
}

// MarshalText implements encoding.TextMarshaler.
func (s Signal) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler.
func (s *Signal) UnmarshalText(b []byte) (err error) { *s, err = ParseSignal(string(b)); return err }

// MarshalText implements encoding.TextMarshaler.
func (r Rule) MarshalText() ([]byte, error) { return []byte(r.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler.
func (r *Rule) UnmarshalText(b []byte) (err error) { *r, err = ParseRule(string(b)); return err }

// Rat is an exact non-negative rational Num/Den. The controller uses no
// floating point in its decisions.
type Rat struct {
	Num, Den int64
}

// R returns num/den.
func R(num, den int64) Rat { return Rat{Num: num, Den: den} }

// String formats r as "num/den", or "num" when Den is 1.
func (r Rat) String() string {
	if r.Den == 1 {
		return strconv.FormatInt(r.Num, 10)
	}
	return fmt.Sprintf("%d/%d", r.Num, r.Den)
}

// floorMul returns floor(x*r) for x >= 0.
func (r Rat) floorMul(x int64) int64 { return x * r.Num / r.Den }

// ceilMul returns ceil(x*r) for x >= 0.
func (r Rat) ceilMul(x int64) int64 { return (x*r.Num + r.Den - 1) / r.Den }

// ParseRat parses "a/b", an integer, or a decimal such as "0.875".
func ParseRat(s string) (Rat, error) {
	s = strings.TrimSpace(s)
	if num, den, ok := strings.Cut(s, "/"); ok {
		n, err1 := strconv.ParseInt(strings.TrimSpace(num), 10, 64)
		d, err2 := strconv.ParseInt(strings.TrimSpace(den), 10, 64)
		if err1 != nil || err2 != nil || d <= 0 || n < 0 {
			return Rat{}, fmt.Errorf("rational %q: want a/b with integers a >= 0 and b > 0", s)
		}
		return Rat{n, d}.reduce(), nil
	}
	ip, frac, _ := strings.Cut(s, ".")
	if len(frac) > 9 || ip == "" && frac == "" {
		return Rat{}, fmt.Errorf("rational %q: want a/b, an integer or a decimal with at most 9 places", s)
	}
	den := int64(1)
	for range frac {
		den *= 10
	}
	n, err := strconv.ParseInt(ip+frac, 10, 64)
	if err != nil || n < 0 {
		return Rat{}, fmt.Errorf("rational %q: want a/b, an integer or a decimal", s)
	}
	return Rat{n, den}.reduce(), nil
}

func (r Rat) reduce() Rat {
	a, b := r.Num, r.Den
	for b != 0 {
		a, b = b, a%b
	}
	if a <= 0 {
		return Rat{0, 1}
	}
	return Rat{r.Num / a, r.Den / a}
}

// MarshalJSON writes r as the string "a/b".
func (r Rat) MarshalJSON() ([]byte, error) { return json.Marshal(r.String()) }

// UnmarshalJSON accepts "a/b", "a", 0.875 or 2.
func (r *Rat) UnmarshalJSON(b []byte) error {
	v, err := ParseRat(strings.Trim(string(b), `"`))
	if err != nil {
		return err
	}
	*r = v
	return nil
}

// Kernel limits of /proc/fvm (uml-impl/README.md, interface version 1).
const (
	MaxPausePermille = 950
	RingSize         = 64
	DefaultWindowNs  = 100_000_000
	// MaxD is the largest delay bound: the reference model's FIFOs hold
	// at most 16 samples (D+1).
	MaxD = 15
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

	Rule  Rule `json:"rule"`
	Alpha int  `json:"alpha"` // additive increase (AIMD, AIAD)
	Beta  Rat  `json:"beta"`  // multiplicative decrease (AIMD, MIMD)
	Mu    Rat  `json:"mu"`    // multiplicative increase (MIMD)
	Delta int  `json:"delta"` // additive decrease (AIAD)

	Signal        Signal `json:"signal"`
	ThetaPermille int    `json:"theta_permille"` // congested iff signal_permille > theta_permille
	// EWMA is the weight of the newest window in the smoothed signal:
	// s' = floor((num*x + (den-num)*s) / den); 1 means no smoothing.
	EWMA Rat `json:"ewma"`

	// D is the delay bound in windows: a window is consumed while at most
	// D newer windows exist; older ones are skipped and reported as a gap.
	D int `json:"d"`
	// WindowNs is the kernel's window length, used to recognise garbage.
	WindowNs int64 `json:"window_ns"`
	// HoldAfterNs: with no new window for this long, hold Safe.
	HoldAfterNs int64 `json:"hold_after_ns"`
	// HoldGarbage: after this many garbage windows in a row, hold Safe.
	HoldGarbage int `json:"hold_garbage"`
	// FidelityTol is the tolerance the run declares (trace header) for
	// host-vs-guest CPU consistency and model fidelity.
	FidelityTol Rat `json:"fidelity_tol"`
}

// Default returns the default configuration: U=100 (pause in steps of 10
// permille), AIMD alpha=5 beta=1/2 on steal > 200 permille, D=15 (the
// largest the reference model allows: a guest starved by its host for up
// to 1.5 s still uses every window).
func Default() Config {
	return Config{
		VM: 0, N: 1, U: 100, Dmin: 5, Dmax: 100, Init: 100, Safe: 5,
		Rule: AIMD, Alpha: 5, Beta: R(1, 2), Mu: R(2, 1), Delta: 5,
		Signal: Steal, ThetaPermille: 200, EWMA: R(1, 1),
		D: 15, WindowNs: DefaultWindowNs, HoldAfterNs: 1_000_000_000, HoldGarbage: 3,
		FidelityTol: R(1, 10),
	}
}

// DefaultTheta returns the default threshold for a signal, in permille:
// steal > 20% of wall time, or VCT > 1.5 (the duty-vct model
// configuration's). For steal, the duty model puts a lone FVM beside a
// greedy VM at steal = r/2, so AIMD keeps it between r = θ and 2θ and the
// greedy VM gets about 1 − 0.75θ of the core: θ = 200‰ leaves it 85%
// (measured: 80-83%; with θ = 250‰, the model's first duty-steal value,
// 74-78%, too close to the 75% friendliness target on a noisy host). The
// price is utilisation with FVMs only (a pair: about 75% instead of 82%).
func DefaultTheta(s Signal) int {
	if s == VCT {
		return 1500
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
		} else if p := 1000 - c.Dmin*(1000/c.U); p > MaxPausePermille {
			bad("dmin", c.Dmin, "at least %d (the kernel's pause is at most %d permille; dmin gives %d)", (1000-MaxPausePermille+1000/c.U-1)/(1000/c.U), MaxPausePermille, p)
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
	switch c.Rule {
	case AIMD, AIAD, MIMD:
	default:
		bad("rule", c.Rule, "one of %s", strings.Join(ruleNames, ", "))
	}
	if (c.Rule == AIMD || c.Rule == AIAD) && (c.Alpha < 1 || c.Alpha > c.U) {
		bad("alpha", c.Alpha, "in [1, u=%d]", c.U)
	}
	if (c.Rule == AIMD || c.Rule == MIMD) && (c.Beta.Den <= 0 || c.Beta.Num <= 0 || c.Beta.Num >= c.Beta.Den || c.Beta.Den > 1000) {
		bad("beta", c.Beta, "a fraction in (0, 1) with denominator <= 1000")
	}
	if c.Rule == MIMD && (c.Mu.Den <= 0 || c.Mu.Num <= c.Mu.Den || c.Mu.Num > 10*c.Mu.Den || c.Mu.Den > 1000) {
		bad("mu", c.Mu, "a ratio in (1, 10] with denominator <= 1000")
	}
	if c.Rule == AIAD && (c.Delta < 1 || c.Delta > c.U) {
		bad("delta", c.Delta, "in [1, u=%d]", c.U)
	}
	switch c.Signal {
	case Steal:
		if c.ThetaPermille < 0 || c.ThetaPermille >= 1000 {
			bad("theta_permille", c.ThetaPermille, "in [0, 1000) for signal steal")
		}
	case VCT:
		if c.ThetaPermille < 1000 || c.ThetaPermille > 100000 {
			bad("theta_permille", c.ThetaPermille, "in [1000, 100000] for signal vct")
		}
	default:
		bad("signal", c.Signal, "one of %s", strings.Join(signalNames, ", "))
	}
	if c.EWMA.Den <= 0 || c.EWMA.Num <= 0 || c.EWMA.Num > c.EWMA.Den || c.EWMA.Den > 1000 {
		bad("ewma", c.EWMA, "a weight in (0, 1] with denominator <= 1000")
	}
	if c.D < 0 || c.D > MaxD {
		bad("d", c.D, "in [0, %d] windows", MaxD)
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
// fraction: 1000 - 1000*d/U.
func (c *Config) Pause(d int) int { return 1000 - d*(1000/c.U) }

// Theta returns the threshold as an exact rational: theta_permille/1000.
func (c *Config) Theta() Rat { return Rat{int64(c.ThetaPermille), 1000}.reduce() }

// Apply is the rule: from demand d with the given congestion bit, the next
// demand and the branch taken ("increase", "decrease" or "clamp"). The
// result is always in [Dmin, Dmax].
func (c *Config) Apply(d int, congested bool) (int, Branch) {
	x := int64(d)
	var next int64
	if congested {
		if c.Rule == AIAD {
			next = x - int64(c.Delta)
		} else {
			next = c.Beta.floorMul(x)
		}
		if next < int64(c.Dmin) {
			return c.Dmin, Clamp
		}
		return int(next), Decrease
	}
	if c.Rule == MIMD {
		next = c.Mu.ceilMul(x)
	} else {
		next = x + int64(c.Alpha)
	}
	if next > int64(c.Dmax) {
		return c.Dmax, Clamp
	}
	return int(next), Increase
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
		"-d", strconv.Itoa(c.D), "-hold-after-ns", strconv.FormatInt(c.HoldAfterNs, 10),
		"-hold-garbage", strconv.Itoa(c.HoldGarbage), "-fidelity-tol", c.FidelityTol.String(),
	}
}
