package refine

import (
	"fmt"

	"github.com/friendly-vm/fvm/ref"
	"github.com/friendly-vm/fvm/trace"
)

// PausePermille is the pause that actuates demand d of u units: the
// largest pause whose awake fraction 1 - pause/1000 is at least d/u,
// i.e. floor((u-d)*1000/u). It is exact when u divides 1000.
func PausePermille(u, d int) int64 {
	if u <= 0 {
		return 0
	}
	return int64(u-d) * 1000 / int64(u)
}

func rat(r trace.Rat) ref.Rat {
	if r.IsZero() {
		return ref.Rat{}
	}
	return ref.R(r.Num, r.Den)
}

func traceRat(r ref.Rat) trace.Rat { return trace.Rat{Num: r.Num, Den: r.Den} }

// fvmOf returns the per-FVM parameters a header describes.
func fvmOf(h *trace.Header) ref.FVM {
	return ref.FVM{Alpha: h.Alpha, Beta: rat(h.Beta), Mu: rat(h.Mu), Delta: h.Delta, D: h.D}
}

// Params builds validated reference parameters from the headers of a
// run's VMs, one per FVM in VM order. With a single header it is the N=1
// model the checker drives for that VM.
func Params(headers ...*trace.Header) (*ref.Params, error) {
	if len(headers) == 0 {
		return nil, fmt.Errorf("params: no header")
	}
	h := headers[0]
	p := &ref.Params{
		U: h.U, Capacity: h.Capacity, Kappa: rat(h.Kappa), Greedy: h.Greedy,
		Theta: rat(h.Theta), Dmin: h.Dmin, Dmax: h.Dmax,
	}
	var err error
	if p.Host, err = ref.ParseHost(h.Host); err != nil {
		return nil, fmt.Errorf("params: %w", err)
	}
	if h.Signal != "" {
		if p.Signal, err = ref.ParseSignal(h.Signal); err != nil {
			return nil, fmt.Errorf("params: %w", err)
		}
	}
	if p.Rule, err = ref.ParseRule(h.Rule); err != nil {
		return nil, fmt.Errorf("params: %w", err)
	}
	for _, hh := range headers {
		p.FVMs = append(p.FVMs, fvmOf(hh))
	}
	if err := p.Validate(); err != nil {
		return nil, fmt.Errorf("params from header: %w", err)
	}
	return p, nil
}

// Header describes FVM i of p as a trace header. The caller fills in the
// run's identity (kernel, controller, workload, seed, init_d).
func Header(p *ref.Params, i int) trace.Header {
	f := p.FVMs[i]
	h := trace.Header{
		N: p.N(), U: p.U, Capacity: p.Capacity, Host: p.Host.String(),
		Kappa: traceRat(p.Kappa), Greedy: append([]int(nil), p.Greedy...), Rule: p.Rule.String(),
		Dmin: p.Dmin, Dmax: p.Dmax, D: f.D,
		WindowNs: DefaultWindowNs, PeriodUs: DefaultPeriodUs, FidelityTol: trace.Rat{Num: 1, Den: 20},
	}
	if len(h.Greedy) == 0 {
		h.Greedy = nil
	}
	if p.Host != ref.Shared {
		h.Signal = p.Signal.String()
		h.Theta = traceRat(p.Theta)
	}
	switch p.Rule {
	case ref.AIMD:
		h.Alpha, h.Beta = f.Alpha, traceRat(f.Beta)
	case ref.MIMD:
		h.Mu, h.Beta = traceRat(f.Mu), traceRat(f.Beta)
	case ref.AIAD:
		h.Alpha, h.Delta = f.Alpha, f.Delta
	}
	return h
}

// Defaults of the real system (uml-impl/README.md).
const (
	DefaultWindowNs = 100_000_000 // 100 ms sampling window
	DefaultPeriodUs = 10_000      // 10 ms actuation period
)

func toTraceBranch(b ref.Branch) trace.Branch {
	switch b {
	case ref.Increase:
		return trace.BranchIncrease
	case ref.Decrease:
		return trace.BranchDecrease
	case ref.Clamp:
		return trace.BranchClamp
	}
	return trace.BranchInvalid
}
