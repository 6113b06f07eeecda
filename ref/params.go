package ref

import (
	"errors"
	"fmt"
	"strings"
)

// Limits of the reference model. They keep a State small and comparable.
const (
	MaxN      = 8  // FVMs per system
	MaxFIFO   = 16 // samples a FIFO can hold, so D_i <= MaxFIFO-1
	MaxGreedy = 4  // greedy VMs
	MaxU      = 1000
)

// Host selects the host model: what a HostTick sample contains.
type Host uint8

// Host models (spec/MODEL.md, "Host models").
const (
	// Shared is the Chiu–Jain model: one bit for everyone,
	// congested = sum(d) + greedy > Kappa*C.
	Shared Host = iota
	// Fair is a fluid CFS with budget-style demands: max-min fair
	// (water-filling) shares of capacity C.
	Fair
	// Duty is what pause actuation really does: each VM is awake a
	// fraction r_i = d_i/U of every actuation period with independent
	// phases and awake VMs split the core equally.
	Duty
)

// Signal selects the per-FVM observable thresholded by Theta under the Fair
// and Duty host models.
type Signal uint8

// Signals.
const (
	// VCT is virtual clock time: real time per unit of CPU progress while
	// the VM wants the CPU, r_i/s_i (>= 1). The paper's signal.
	VCT Signal = iota
	// Steal is the stolen fraction of wall time, r_i - s_i.
	Steal
)

// Rule selects the demand update rule.
type Rule uint8

// Rules. Increases apply when the sample is not congested, decreases when
// it is; every result is clamped to [Dmin, Dmax].
const (
	AIMD Rule = iota // d+alpha, floor(beta*d)
	MIMD             // ceil(mu*d), floor(beta*d)
	AIAD             // d+alpha, d-delta
)

var (
	hostNames   = []string{"shared", "fair", "duty"}
	signalNames = []string{"vct", "steal"}
	ruleNames   = []string{"aimd", "mimd", "aiad"}
)

func (h Host) String() string   { return enumName(hostNames, int(h)) }
func (s Signal) String() string { return enumName(signalNames, int(s)) }
func (r Rule) String() string   { return enumName(ruleNames, int(r)) }

func enumName(names []string, i int) string {
	if i >= 0 && i < len(names) {
		return names[i]
	}
	return fmt.Sprintf("invalid(%d)", i)
}

func parseEnum(kind string, names []string, s string) (int, error) {
	for i, n := range names {
		if strings.EqualFold(n, s) {
			return i, nil
		}
	}
	return 0, fmt.Errorf("%s %q: want one of %s", kind, s, strings.Join(names, ", "))
}

// ParseHost parses a host model name: shared, fair or duty.
func ParseHost(s string) (Host, error) {
	i, err := parseEnum("host", hostNames, s)
	return Host(i), err
}

// ParseSignal parses a signal name: vct or steal.
func ParseSignal(s string) (Signal, error) {
	i, err := parseEnum("signal", signalNames, s)
	return Signal(i), err
}

// ParseRule parses a rule name: aimd, mimd or aiad.
func ParseRule(s string) (Rule, error) {
	i, err := parseEnum("rule", ruleNames, s)
	return Rule(i), err
}

// MarshalText implements encoding.TextMarshaler.
func (h Host) MarshalText() ([]byte, error) { return []byte(h.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler.
func (h *Host) UnmarshalText(b []byte) (err error) { *h, err = ParseHost(string(b)); return err }

// MarshalText implements encoding.TextMarshaler.
func (s Signal) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler.
func (s *Signal) UnmarshalText(b []byte) (err error) { *s, err = ParseSignal(string(b)); return err }

// MarshalText implements encoding.TextMarshaler.
func (r Rule) MarshalText() ([]byte, error) { return []byte(r.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler.
func (r *Rule) UnmarshalText(b []byte) (err error) { *r, err = ParseRule(string(b)); return err }

// FVM holds the per-FVM parameters. Only the fields of the configured rule
// matter: Alpha for additive increase, Mu for multiplicative increase, Beta
// for multiplicative decrease, Delta for additive decrease.
type FVM struct {
	Alpha int `json:"alpha"`
	Beta  Rat `json:"beta"`
	Mu    Rat `json:"mu"`
	Delta int `json:"delta"`
	// D is the delay bound: FIFO capacity is D+1 samples.
	D int `json:"d"`
}

// Params is a complete, validated configuration of the reference model.
type Params struct {
	U        int    `json:"u"`        // demand units per core: d = r*U
	Capacity int    `json:"capacity"` // C, host capacity in units (U = one core)
	Kappa    Rat    `json:"kappa"`    // Shared: congested iff sum(d)+greedy > Kappa*C
	Greedy   []int  `json:"greedy"`   // fixed demands of non-adaptive VMs, part of the host
	Host     Host   `json:"host"`
	Signal   Signal `json:"signal"` // Fair, Duty: the observable thresholded by Theta
	Theta    Rat    `json:"theta"`  // Fair, Duty: congested_i iff signal_i > Theta
	Rule     Rule   `json:"rule"`
	Dmin     int    `json:"dmin"`
	Dmax     int    `json:"dmax"`
	FVMs     []FVM  `json:"fvms"`
}

// N returns the number of FVMs.
func (p *Params) N() int { return len(p.FVMs) }

// Identical reports whether FVMs i and j have equal parameters, so that
// swapping them is a symmetry of the model.
func (p *Params) Identical(i, j int) bool { return p.FVMs[i] == p.FVMs[j] }

// Validate checks every field and returns all problems, each naming the
// field, its value and the allowed range.
func (p *Params) Validate() error {
	var errs []error
	bad := func(field string, val any, allowed string, args ...any) {
		errs = append(errs, fmt.Errorf("%s = %v: must be %s", field, val, fmt.Sprintf(allowed, args...)))
	}
	if p.U < 1 || p.U > MaxU {
		bad("u", p.U, "in [1, %d]", MaxU)
	}
	if p.Capacity < 1 || p.Capacity > MaxN*MaxU {
		bad("capacity", p.Capacity, "in [1, %d]", MaxN*MaxU)
	}
	if n := len(p.FVMs); n < 1 || n > MaxN {
		bad("n", n, "in [1, %d]", MaxN)
	}
	if len(p.Greedy) > MaxGreedy {
		bad("greedy", len(p.Greedy), "at most %d VMs", MaxGreedy)
	}
	for j, g := range p.Greedy {
		if g < 0 || g > p.U {
			bad(fmt.Sprintf("greedy[%d]", j), g, "in [0, u=%d]", p.U)
		}
	}
	if p.Host > Duty {
		bad("host", p.Host, "one of %s", strings.Join(hostNames, ", "))
	}
	switch p.Host {
	case Shared:
		if p.Kappa.Den <= 0 || p.Kappa.Num <= 0 || p.Kappa.Num > p.Kappa.Den {
			bad("kappa", p.Kappa, "a fraction in (0, 1]")
		}
	case Fair, Duty:
		switch p.Signal {
		// The denominator bound keeps theta's cross-multiplications with the
		// duty host's observables (denominators up to 2^36 * U) in int64.
		case VCT:
			if p.Theta.Den <= 0 || p.Theta.Den > 1000 || p.Theta.Num < p.Theta.Den || p.Theta.Num > 100*p.Theta.Den {
				bad("theta", p.Theta, "in [1, 100] with denominator <= 1000 for signal vct (a ratio of times)")
			}
		case Steal:
			if p.Theta.Den <= 0 || p.Theta.Den > 1000 || p.Theta.Num < 0 || p.Theta.Num >= p.Theta.Den {
				bad("theta", p.Theta, "in [0, 1) with denominator <= 1000 for signal steal (a fraction of wall time)")
			}
		default:
			bad("signal", p.Signal, "one of %s", strings.Join(signalNames, ", "))
		}
		if p.Host == Duty && p.Capacity != p.U {
			bad("capacity", p.Capacity, "equal to u=%d under host duty (one core)", p.U)
		}
	}
	if p.Rule > AIAD {
		bad("rule", p.Rule, "one of %s", strings.Join(ruleNames, ", "))
	}
	if p.Dmin < 1 || p.Dmin > p.U {
		bad("dmin", p.Dmin, "in [1, u=%d] (an FVM never starves itself)", p.U)
	}
	if p.Dmax < p.Dmin || p.Dmax > p.U {
		bad("dmax", p.Dmax, "in [dmin=%d, u=%d]", p.Dmin, p.U)
	}
	for i, f := range p.FVMs {
		at := func(name string) string { return fmt.Sprintf("fvms[%d].%s", i, name) }
		if p.Rule == AIMD || p.Rule == AIAD {
			if f.Alpha < 1 || f.Alpha > p.U {
				bad(at("alpha"), f.Alpha, "in [1, u=%d]", p.U)
			}
		}
		if p.Rule == AIMD || p.Rule == MIMD {
			if f.Beta.Den <= 0 || f.Beta.Num <= 0 || f.Beta.Num >= f.Beta.Den || f.Beta.Den > 1000 {
				bad(at("beta"), f.Beta, "a fraction in (0, 1) with denominator <= 1000")
			}
		}
		if p.Rule == MIMD {
			if f.Mu.Den <= 0 || f.Mu.Num <= f.Mu.Den || f.Mu.Num > 10*f.Mu.Den || f.Mu.Den > 1000 {
				bad(at("mu"), f.Mu, "a ratio in (1, 10] with denominator <= 1000")
			}
		}
		if p.Rule == AIAD {
			if f.Delta < 1 || f.Delta > p.U {
				bad(at("delta"), f.Delta, "in [1, u=%d]", p.U)
			}
		}
		if f.D < 0 || f.D > MaxFIFO-1 {
			bad(at("d"), f.D, "in [0, %d]", MaxFIFO-1)
		}
	}
	if len(errs) == 0 {
		if err := p.validateDuty(); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}
