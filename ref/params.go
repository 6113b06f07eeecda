package ref

import (
	"errors"
	"fmt"

	"github.com/friendly-vm/fvm/vocab"
)

// Limits of the reference model. They keep a State small and comparable.
const (
	MaxN      = 8                  // FVMs per system
	MaxFIFO   = vocab.MaxDelay + 1 // samples a FIFO can hold
	MaxGreedy = 4                  // greedy VMs
	MaxU      = 1000
)

// FVM holds the per-FVM parameters. Only the fields of the configured rule
// matter: Alpha for additive increase, Mu for multiplicative increase, Beta
// for multiplicative decrease, Delta for additive decrease.
type FVM struct {
	Alpha int
	Beta  vocab.Rat
	Mu    vocab.Rat
	Delta int
	// Delay is the delay bound: a sample waits at most Delay further
	// ticks, so the FIFO holds at most Delay+1 samples.
	Delay int
}

// Params is a complete, validated configuration of the reference model.
type Params struct {
	U        int          // demand units per core: d = r*U
	Capacity int          // C, host capacity in units (U = one core)
	Kappa    vocab.Rat    // Shared: congested iff sum(d)+greedy > Kappa*C
	Greedy   []int        // fixed demands of non-adaptive VMs, part of the host
	Host     vocab.Host   //
	Signal   vocab.Signal // Fair, Duty: the observable thresholded by Theta
	Theta    vocab.Rat    // Fair, Duty: congested_i iff signal_i > Theta
	Rule     vocab.Rule   //
	Dmin     int          //
	Dmax     int          //
	FVMs     []FVM        //
	// Loss lets the host's samples outrun an FVM: a HostTick into a FIFO
	// that already holds Delay+1 samples drops the oldest one (it has become
	// older than the delay bound, and the FVM will never act on it).
	// Without Loss, HostTick waits instead (it is disabled while a FIFO is
	// full), so no sample is ever lost.
	Loss bool
	// Phases (rule aimd-phase only, else 0) is how many ticks make a
	// phase cycle: FVM i acts on congestion in the ticks t with
	// t mod Phases = i mod Phases. It divides N, so rotating the FVMs
	// together with the phase is a symmetry of the model.
	Phases int
}

// PhaseCount is the number of tick phases the model distinguishes: Phases
// under aimd-phase, else 1 (the phase is always 0).
func (p *Params) PhaseCount() int {
	if p.Rule == vocab.AIMDPhase {
		return p.Phases
	}
	return 1
}

// PhaseOf is FVM i's phase under aimd-phase: the tick phase in which it
// acts on congestion.
func (p *Params) PhaseOf(i int) int { return i % p.PhaseCount() }

// N returns the number of FVMs.
func (p *Params) N() int { return len(p.FVMs) }

// Identical reports whether FVMs i and j have equal parameters (and, under
// aimd-phase, the same phase), so that swapping them is a symmetry of the
// model.
func (p *Params) Identical(i, j int) bool {
	return p.FVMs[i] == p.FVMs[j] && p.PhaseOf(i) == p.PhaseOf(j)
}

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
	if !p.Host.Valid() {
		bad("host", p.Host, "one of shared, fair, duty, duty-idle")
	}
	switch p.Host {
	case vocab.Shared:
		if p.Kappa.Den <= 0 || p.Kappa.Num <= 0 || p.Kappa.Num > p.Kappa.Den {
			bad("kappa", p.Kappa, "a fraction in (0, 1]")
		}
	case vocab.Fair, vocab.Duty, vocab.DutyIdle:
		switch p.Signal {
		// The denominator bound keeps theta's cross-multiplications with the
		// duty host's observables (denominators up to 2^36 * U) in int64.
		case vocab.VCT:
			if p.Theta.Den <= 0 || p.Theta.Den > 1000 || p.Theta.Num < p.Theta.Den || p.Theta.Num > 100*p.Theta.Den {
				bad("theta", p.Theta, "in [1, 100] with denominator <= 1000 for signal vct (a ratio of times)")
			}
		case vocab.Steal:
			if p.Theta.Den <= 0 || p.Theta.Den > 1000 || p.Theta.Num < 0 || p.Theta.Num >= p.Theta.Den {
				bad("theta", p.Theta, "in [0, 1) with denominator <= 1000 for signal steal (a fraction of wall time)")
			}
		default:
			bad("signal", p.Signal, "one of vct, steal under host %v", p.Host)
		}
		if p.Host.DutyCycle() && p.Capacity != p.U {
			bad("capacity", p.Capacity, "equal to u=%d under host %v (one core)", p.U, p.Host)
		}
	}
	if !p.Rule.Valid() {
		bad("rule", p.Rule, "one of aimd, mimd, aiad, aimd-prop, aimd-phase")
	}
	if w := p.Rule.SampleBits(); w > 1 {
		// Their samples say more than the shared host's one bit can.
		if p.Host == vocab.Shared {
			bad("rule", p.Rule, "used with a per-FVM signal (host fair, duty or duty-idle), not host shared")
		}
		if p.Rule == vocab.AIMDProp && (!p.Host.DutyCycle() || p.Signal != vocab.Steal) {
			bad("rule", p.Rule, "used with host duty or duty-idle and signal steal (its mild level is theta < steal <= 2 theta)")
		}
	}
	if p.Rule == vocab.AIMDPhase {
		if n := len(p.FVMs); p.Phases < 1 || n > 0 && n%p.Phases != 0 {
			bad("phases", p.Phases, "a divisor of n=%d under rule aimd-phase", len(p.FVMs))
		}
	} else if p.Phases != 0 {
		bad("phases", p.Phases, "0 (only rule aimd-phase has phases)")
	}
	if p.Dmin < 1 || p.Dmin > p.U {
		bad("dmin", p.Dmin, "in [1, u=%d] (an FVM never starves itself)", p.U)
	}
	if p.Dmax < p.Dmin || p.Dmax > p.U {
		bad("dmax", p.Dmax, "in [dmin=%d, u=%d]", p.Dmin, p.U)
	}
	for i, f := range p.FVMs {
		at := func(name string) string { return fmt.Sprintf("fvms[%d].%s", i, name) }
		if p.Rule != vocab.MIMD {
			if f.Alpha < 1 || f.Alpha > p.U {
				bad(at("alpha"), f.Alpha, "in [1, u=%d]", p.U)
			}
		}
		if p.Rule != vocab.AIAD {
			if f.Beta.Den <= 0 || f.Beta.Num <= 0 || f.Beta.Num >= f.Beta.Den || f.Beta.Den > 1000 {
				bad(at("beta"), f.Beta, "a fraction in (0, 1) with denominator <= 1000")
			}
		}
		if p.Rule == vocab.MIMD {
			if f.Mu.Den <= 0 || f.Mu.Num <= f.Mu.Den || f.Mu.Num > 10*f.Mu.Den || f.Mu.Den > 1000 {
				bad(at("mu"), f.Mu, "a ratio in (1, 10] with denominator <= 1000")
			}
		}
		if p.Rule == vocab.AIAD {
			if f.Delta < 1 || f.Delta > p.U {
				bad(at("delta"), f.Delta, "in [1, u=%d]", p.U)
			}
		}
		// A FIFO holds Delay+1 samples of SampleBits bits in 16 bits.
		if maxDelay := 16/p.Rule.SampleBits() - 1; f.Delay < 0 || f.Delay > maxDelay {
			bad(at("delay"), f.Delay, "in [0, %d] windows (rule %v)", maxDelay, p.Rule)
		}
	}
	if len(errs) == 0 {
		if err := p.validateDuty(); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}
