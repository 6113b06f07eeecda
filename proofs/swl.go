package proofs

import (
	"errors"
	"fmt"
	"math"
	"math/cmplx"
	"sort"

	"gonum.org/v1/gonum/floats"
	"gonum.org/v1/gonum/mat"
)

// ErrBadParams is returned (wrapped) for rule parameters outside the range
// the theorems assume: alpha_i > 0 and 0 < beta_i < 1.
var ErrBadParams = errors.New("rule parameters outside the proved range")

// EpochMatrix returns the Shorten–Wirth–Leith matrix of synchronous AIMD
// over congestion epochs (swl.md, Theorem 1):
//
//	A = diag(beta) + alpha (1-beta)^T / sum(alpha),
//
// so that the peak demands W(k) at the k-th congestion satisfy
// W(k+1) = A W(k) when the total at every congestion is the same.
func EpochMatrix(alpha, beta []float64) (*mat.Dense, error) {
	if err := checkAIMD(alpha, beta); err != nil {
		return nil, err
	}
	n := len(alpha)
	sa := floats.Sum(alpha)
	a := mat.NewDense(n, n, nil)
	for i := range n {
		for j := range n {
			v := alpha[i] * (1 - beta[j]) / sa
			if i == j {
				v += beta[i]
			}
			a.Set(i, j, v)
		}
	}
	return a, nil
}

func checkAIMD(alpha, beta []float64) error {
	if len(alpha) == 0 || len(alpha) != len(beta) {
		return fmt.Errorf("alpha has %d entries, beta %d: want the same positive number: %w", len(alpha), len(beta), ErrBadParams)
	}
	for i := range alpha {
		if !(alpha[i] > 0) || !(beta[i] > 0 && beta[i] < 1) {
			return fmt.Errorf("FVM %d: alpha = %v, beta = %v: want alpha > 0 and 0 < beta < 1: %w", i, alpha[i], beta[i], ErrBadParams)
		}
	}
	return nil
}

// Spectrum is the eigen-decomposition of an epoch matrix.
type Spectrum struct {
	// Values are the eigenvalues sorted by decreasing modulus; Values[0]
	// is the Perron root 1.
	Values []complex128
	// Perron is the right Perron eigenvector scaled to sum 1: the fair
	// point, as fractions of the total peak demand.
	Perron []float64
	// Rate is |Values[1]|, the convergence factor per congestion epoch
	// (0 for a single FVM).
	Rate float64
}

// Eigen decomposes the epoch matrix a with gonum's (LAPACK) eigen solver.
func Eigen(a *mat.Dense) (Spectrum, error) {
	n, _ := a.Dims()
	var eig mat.Eigen
	if !eig.Factorize(a, mat.EigenRight) {
		return Spectrum{}, errors.New("eigen-decomposition of the epoch matrix did not converge")
	}
	vals := eig.Values(nil)
	var vecs mat.CDense
	eig.VectorsTo(&vecs)
	idx := make([]int, n)
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(x, y int) bool { return cmplx.Abs(vals[idx[x]]) > cmplx.Abs(vals[idx[y]]) })
	sp := Spectrum{Values: make([]complex128, n), Perron: make([]float64, n)}
	for k, i := range idx {
		sp.Values[k] = vals[i]
	}
	top := idx[0]
	if math.Abs(real(vals[top])-1) > 1e-9 || math.Abs(imag(vals[top])) > 1e-9 {
		return sp, fmt.Errorf("Perron root is %v, want 1 (the matrix is not column-stochastic)", vals[top])
	}
	sum := 0.0
	for i := range n {
		sp.Perron[i] = real(vecs.At(i, top))
		sum += sp.Perron[i]
	}
	for i := range sp.Perron {
		sp.Perron[i] /= sum
	}
	if n > 1 {
		sp.Rate = cmplx.Abs(sp.Values[1])
	}
	return sp, nil
}

// FairPointClosedForm is the fair point of Theorem 1 in closed form:
// x_i = alpha_i/(1-beta_i), scaled to sum 1.
func FairPointClosedForm(alpha, beta []float64) []float64 {
	x := make([]float64, len(alpha))
	for i := range x {
		x[i] = alpha[i] / (1 - beta[i])
	}
	floats.Scale(1/floats.Sum(x), x)
	return x
}

// SecondEigenvalueSecular returns the second-largest eigenvalue of the
// epoch matrix from the secular equation of Theorem 2,
//
//	sum_i alpha_i (1-beta_i) / (lambda - beta_i) = sum(alpha),
//
// solved by bisection between the two largest distinct betas (or the
// largest beta when it is repeated). It needs no matrix.
func SecondEigenvalueSecular(alpha, beta []float64) (float64, error) {
	if err := checkAIMD(alpha, beta); err != nil {
		return 0, err
	}
	if len(beta) == 1 {
		return 0, nil
	}
	s := append([]float64(nil), beta...)
	sort.Float64s(s)
	hi := s[len(s)-1]
	if s[len(s)-2] == hi {
		return hi, nil
	}
	lo := s[len(s)-2]
	sa := floats.Sum(alpha)
	// f decreases from +inf (at lo+) to -inf (at hi-) on (lo, hi).
	f := func(l float64) float64 {
		v := -sa
		for i := range alpha {
			v += alpha[i] * (1 - beta[i]) / (l - beta[i])
		}
		return v
	}
	a, b := lo, hi
	for range 200 {
		m := (a + b) / 2
		if m == a || m == b {
			break
		}
		if f(m) > 0 {
			a = m
		} else {
			b = m
		}
	}
	return (a + b) / 2, nil
}

// FluidEpoch is the epoch map of the real-valued synchronous AIMD model
// with threshold total s: every FVM grows by alpha_i per tick until the
// total reaches s (a real, not an integer, number of ticks), then every
// FVM multiplies its demand by beta_i. It maps the peak vector W (sum s)
// to the next peak vector and is what Theorem 1 linearises; tests iterate
// it (power iteration) independently of EpochMatrix.
func FluidEpoch(alpha, beta, w []float64, s float64) []float64 {
	next := make([]float64, len(w))
	total := 0.0
	for i := range w {
		next[i] = beta[i] * w[i]
		total += next[i]
	}
	t := (s - total) / floats.Sum(alpha)
	for i := range next {
		next[i] += alpha[i] * t
	}
	return next
}
