package ref

import (
	"github.com/friendly-vm/fvm/vocab"

	"errors"
	"fmt"
)

// ErrDisabled is returned (wrapped) by Step for an action that is not
// enabled in the given state.
var ErrDisabled = errors.New("action not enabled")

// Apply is the rule: FVM i with demand d and a sample saying congested (or
// not) moves to the returned demand. Every result is clamped to [Dmin, Dmax].
func (p *Params) Apply(i, d int, congested bool) (int, vocab.Branch) {
	if congested {
		return p.ApplySym(i, d, vocab.Congested)
	}
	return p.ApplySym(i, d, vocab.Clear)
}

// ApplySym is the rule on a sample symbol: Clear increases, Congested
// decreases, Mild (aimd-prop) decreases by half as much,
// floor(d (1+beta)/2), and Deferred (aimd-phase) keeps d (branch defer).
func (p *Params) ApplySym(i, d int, x vocab.Symbol) (int, vocab.Branch) {
	f := &p.FVMs[i]
	if x == vocab.Deferred {
		return d, vocab.Defer
	}
	cur := int64(d)
	var next int64
	if x != vocab.Clear {
		switch {
		case p.Rule == vocab.AIAD:
			next = cur - int64(f.Delta)
		case x == vocab.Mild:
			next = vocab.R(f.Beta.Num+f.Beta.Den, 2*f.Beta.Den).FloorMul(cur)
		default: // floor(beta*d)
			next = f.Beta.FloorMul(cur)
		}
		if next < int64(p.Dmin) {
			return p.Dmin, vocab.Clamp
		}
		return int(next), vocab.Decrease
	}
	switch p.Rule {
	case vocab.MIMD:
		// ceil, so that a multiplicative increase always makes progress
		// from small demands.
		next = f.Mu.CeilMul(cur)
	default: // AIMD and its variants, AIAD
		next = cur + int64(f.Alpha)
	}
	if next > int64(p.Dmax) {
		return p.Dmax, vocab.Clamp
	}
	return int(next), vocab.Increase
}

// Init returns every initial state: each demand vector in [Dmin, Dmax]^N
// with empty FIFOs, in lexicographic order of the demands, in every tick
// phase (phase-major; only aimd-phase has more than phase 0: where the
// phase cycle starts is not the FVMs' choice).
func Init(p *Params) []State {
	n := p.N()
	var out []State
	for ph := range p.PhaseCount() {
		s := State{Ph: uint8(ph)}
		for i := 0; i < n; i++ {
			s.D[i] = uint16(p.Dmin)
		}
		for {
			out = append(out, s)
			i := n - 1
			for i >= 0 && int(s.D[i]) == p.Dmax {
				s.D[i] = uint16(p.Dmin)
				i--
			}
			if i < 0 {
				break
			}
			s.D[i]++
		}
	}
	return out
}

// InitState returns the initial state with the given demands.
func InitState(p *Params, d []int) (State, error) {
	var s State
	if len(d) != p.N() {
		return s, fmt.Errorf("initial demands %v: want %d values, one per FVM", d, p.N())
	}
	for i, x := range d {
		if x < p.Dmin || x > p.Dmax {
			return s, fmt.Errorf("initial demand d[%d] = %d: must be in [dmin=%d, dmax=%d]", i, x, p.Dmin, p.Dmax)
		}
		s.D[i] = uint16(x)
	}
	return s, nil
}

// TickEnabled reports whether HostTick is enabled: always with Loss (a full
// FIFO drops its oldest sample), else while no FIFO is full.
func TickEnabled(p *Params, s State) bool {
	if p.Loss {
		return true
	}
	for i := range p.FVMs {
		if int(s.Q[i].Len) > p.FVMs[i].Delay {
			return false
		}
	}
	return true
}

// Enabled returns the closed-mode actions enabled in s: HostTick first,
// then Act(i) in FVM order.
func Enabled(p *Params, s State) []Action {
	var out []Action
	if TickEnabled(p, s) {
		out = append(out, Tick())
	}
	for i := range p.FVMs {
		if s.Q[i].Len > 0 {
			out = append(out, ActOf(i))
		}
	}
	return out
}

// Step returns the successor of s under a, or an error wrapping
// ErrDisabled if a is not enabled in s (or is malformed).
func Step(p *Params, s State, a Action) (State, error) {
	n := p.N()
	switch a.Kind {
	case HostTick:
		if !TickEnabled(p, s) {
			return s, fmt.Errorf("%v in %s: a FIFO holds D+1 samples: %w", a, s.Format(n), ErrDisabled)
		}
		w := p.Rule.SampleBits()
		var sym []vocab.Symbol
		if !a.Open {
			sym = p.Samples(s.Demands(n), int(s.Ph))
		} else {
			if w > 1 {
				return s, fmt.Errorf("%v: rule %v has no open mode (a trace records one congestion bit per window): %w", a, p.Rule, ErrDisabled)
			}
			if a.Input>>n != 0 {
				return s, fmt.Errorf("%v: input has bits beyond the %d FVMs: %w", a, n, ErrDisabled)
			}
			sym = make([]vocab.Symbol, n)
			for i := range sym {
				sym[i] = vocab.Symbol(a.Input >> i & 1)
			}
		}
		for i := 0; i < n; i++ {
			if int(s.Q[i].Len) > p.FVMs[i].Delay { // full: only with Loss
				s.Q[i], _ = s.Q[i].PopSym(w)
			}
			s.Q[i] = s.Q[i].PushSym(sym[i], w)
		}
		s.Ph = uint8((int(s.Ph) + 1) % p.PhaseCount())
		return s, nil
	case Act:
		if a.VM < 0 || a.VM >= n {
			return s, fmt.Errorf("%v: no FVM %d (n=%d): %w", a, a.VM, n, ErrDisabled)
		}
		if s.Q[a.VM].Len == 0 {
			return s, fmt.Errorf("%v in %s: FIFO empty: %w", a, s.Format(n), ErrDisabled)
		}
		q, x := s.Q[a.VM].PopSym(p.Rule.SampleBits())
		s.Q[a.VM] = q
		d, _ := p.ApplySym(a.VM, int(s.D[a.VM]), x)
		s.D[a.VM] = uint16(d)
		return s, nil
	case Hold:
		if !a.Open {
			return s, fmt.Errorf("%v: Hold is an open-mode action: %w", a, ErrDisabled)
		}
		if a.VM < 0 || a.VM >= n {
			return s, fmt.Errorf("%v: no FVM %d (n=%d): %w", a, a.VM, n, ErrDisabled)
		}
		if d := int(a.Input); d < p.Dmin || d > p.Dmax {
			return s, fmt.Errorf("%v: demand outside [dmin=%d, dmax=%d]: %w", a, p.Dmin, p.Dmax, ErrDisabled)
		}
		s.D[a.VM] = a.Input
		return s, nil
	}
	return s, fmt.Errorf("action kind %d: %w", a.Kind, ErrDisabled)
}

// Projected returns FVM i's demand after it consumes every sample pending in
// its FIFO: all FVMs have then seen the same number of ticks, so projected
// demands compare FVMs at equal sample index (the Fair property).
func Projected(p *Params, s State, i int) int {
	d := int(s.D[i])
	q, w := s.Q[i], p.Rule.SampleBits()
	for k := 0; k < int(q.Len); k++ {
		d, _ = p.ApplySym(i, d, q.SymAt(k, w))
	}
	return d
}
