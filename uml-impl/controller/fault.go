package controller

// Fault is a deliberate bug a Core can be told to have, so that the trace
// checker, the property suites and the fuzzers can show they catch a
// broken controller. Never set outside such tests.
type Fault uint8

// Faults.
const (
	NoFault Fault = iota
	// FaultClampOffByOne clamps a decrease that falls below Dmin to
	// Dmin+1 instead of Dmin (when Dmin < Dmax): still within bounds, but
	// not the reference's step.
	FaultClampOffByOne
	// FaultStaleTwice acts a second time on the newest window consumed
	// when a later read shows it again (a stale sample used twice).
	FaultStaleTwice
)

// SetFault makes the core misbehave as f says (NoFault: correct again).
func (c *Core) SetFault(f Fault) { c.fault = f }
