package metrics

import (
	"math"
	"sort"
)

// Jain returns Jain's fairness index of x, (sum x)^2 / (n sum x^2): 1 when
// all values are equal, 1/n when one takes everything. It is NaN when it is
// undefined (no values, or all zero).
func Jain(x []float64) float64 {
	var s, q float64
	for _, v := range x {
		s += v
		q += v * v
	}
	if len(x) == 0 || q == 0 {
		return math.NaN()
	}
	return s * s / (float64(len(x)) * q)
}

// Utilisation is the fraction of the host's capacity the shares use: their
// sum over the capacity in cores (1 for one core).
func Utilisation(shares []float64, cores float64) float64 {
	sum := 0.0
	for _, s := range shares {
		sum += s
	}
	return sum / cores
}

// Convergence parameters: a run has converged at the first time t from
// which the Jain index of the VMs' shares over every window of ConvWindowNs
// starting at t, t+ConvStepNs, ... (until the window would pass the end)
// stays at or above ConvJain. The windows are long enough to hold a few
// AIMD cycles: FVMs on per-VM signals desynchronise, so over a second or
// two even a fair pair's shares differ by a sawtooth's amplitude.
const (
	ConvWindowNs = 5_000_000_000
	ConvStepNs   = 1_000_000_000
	ConvJain     = 0.90
)

// SettleTol: with one VM, a run has settled at the first time from which
// its share over every window stays within SettleTol of its share over the
// second half of the run.
const SettleTol = 0.10

// Convergence returns the convergence time in ns after start (-1: never,
// or the run is shorter than one window) of n VMs whose share of the core
// over [a, b] is share(i, a, b), over the interval [start, end].
func Convergence(n int, share func(i int, a, b int64) float64, start, end int64) int64 {
	x := make([]float64, n)
	return firstForGood(start, end, func(a, b int64) bool {
		for i := range x {
			x[i] = share(i, a, b)
		}
		return Jain(x) >= ConvJain
	})
}

// Settle returns the time in ns after start (-1: never) from which every
// VM's share over every window stays within SettleTol of final[i].
func Settle(final []float64, share func(i int, a, b int64) float64, start, end int64) int64 {
	return firstForGood(start, end, func(a, b int64) bool {
		for i, f := range final {
			if math.Abs(share(i, a, b)-f) > SettleTol {
				return false
			}
		}
		return true
	})
}

// firstForGood returns the start of the first window (relative to start)
// from which ok holds for every later window; -1 if none.
func firstForGood(start, end int64, ok func(a, b int64) bool) int64 {
	first := int64(-1)
	for a := start; a+ConvWindowNs <= end; a += ConvStepNs {
		switch {
		case !ok(a, a+ConvWindowNs):
			first = -1
		case first < 0:
			first = a
		}
	}
	if first < 0 {
		return -1
	}
	return first - start
}

// Point is a time (ns) and a cumulative value (CPU ns, work done).
type Point struct {
	T int64
	V float64
}

// Series is a cumulative series in time order.
type Series []Point

// At interpolates s linearly at t, clamped to its ends (0 when empty).
func (s Series) At(t int64) float64 {
	if len(s) == 0 {
		return 0
	}
	if t <= s[0].T {
		return s[0].V
	}
	if t >= s[len(s)-1].T {
		return s[len(s)-1].V
	}
	i := sort.Search(len(s), func(i int) bool { return s[i].T >= t })
	p, q := s[i-1], s[i]
	return p.V + (q.V-p.V)*float64(t-p.T)/float64(q.T-p.T)
}

// Rate is the mean slope of s over [a, b] (a share of the core when s is
// cumulative CPU ns); 0 for an empty interval.
func (s Series) Rate(a, b int64) float64 {
	if b <= a {
		return 0
	}
	return (s.At(b) - s.At(a)) / float64(b-a)
}
