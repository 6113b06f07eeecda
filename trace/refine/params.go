package refine

import (
	"fmt"

	"github.com/friendly-vm/fvm/ref"
	"github.com/friendly-vm/fvm/trace"
)

// Params builds validated reference parameters from the models the
// headers of a run's VMs declare, one FVM per header in VM order. With a
// single header it is the N=1 model the checker drives for that VM.
func Params(headers ...*trace.Header) (*ref.Params, error) {
	if len(headers) == 0 {
		return nil, fmt.Errorf("params: no header")
	}
	h := headers[0]
	if h.Rule.SampleBits() > 1 {
		return nil, fmt.Errorf("params from header: rule %v: a trace records one congestion bit per window, and this rule's samples say more; traces of aimd, mimd and aiad only", h.Rule)
	}
	p := &ref.Params{
		U: h.U, Capacity: h.Capacity, Kappa: h.Kappa, Greedy: h.Greedy, Host: h.Host,
		Signal: h.Signal, Theta: h.Theta, Rule: h.Rule, Dmin: h.Dmin, Dmax: h.Dmax, Loss: h.Loss,
	}
	for _, hh := range headers {
		p.FVMs = append(p.FVMs, ref.FVM{Alpha: hh.Alpha, Beta: hh.Beta, Mu: hh.Mu, Delta: hh.Delta, Delay: hh.Delay})
	}
	if err := p.Validate(); err != nil {
		return nil, fmt.Errorf("params from header: %w", err)
	}
	return p, nil
}
