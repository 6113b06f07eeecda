package ref

import "math"

// Jain returns Jain's fairness index of x, (sum x)^2 / (n sum x^2): 1 when
// all values are equal, 1/n when one takes everything. It is NaN when it is
// undefined (no values, or all zero). It is the one definition every
// package uses (checker limit sets, trace summaries, run summaries).
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
