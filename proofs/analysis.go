package proofs

import (
	"github.com/friendly-vm/fvm/vocab"

	"errors"
	"fmt"
	"io"
	"math"
	"strings"

	"gonum.org/v1/gonum/mat"

	"github.com/friendly-vm/fvm/ref"
)

// Analysis is everything the proofs predict for one configuration.
type Analysis struct {
	Host      vocab.Host
	Signal    vocab.Signal
	Rule      vocab.Rule
	N         int
	Identical bool // all FVMs have the same rule parameters (delays may differ)

	// Alpha and Beta are the per-FVM AIMD parameters as reals.
	Alpha, Beta []float64
	// Matrix is the Shorten–Wirth–Leith epoch matrix (AIMD only, else nil)
	// and Spectrum its eigen-decomposition (swl.md, Theorems 1 and 2).
	Matrix   *mat.Dense
	Spectrum Spectrum
	// FairPoint is the limit of the peak demands as fractions of their
	// total: the Perron vector, proportional to alpha_i/(1-beta_i).
	// AverageShares are the time-averaged demands over a limit epoch, as
	// fractions: proportional to alpha_i (1+beta_i)/(2(1-beta_i)).
	FairPoint, AverageShares []float64
	// Rate is the convergence factor per congestion epoch: |lambda_2| for
	// AIMD, 1 for MIMD and AIAD (no contraction: Theorem "non-AIMD").
	Rate float64
	// FairTolerance is the rounding residual of the projected gap
	// (shared.md, Theorem 4), as used by the Fair property.
	FairTolerance int
	// Epochs predicts how many congestion epochs bring the largest initial
	// gap dmax-dmin down to FairTolerance: Predicted at Rate (real), and
	// for identical AIMD FVMs the proved integer bracket [Lo, Hi] on the
	// number of decreases (shared.md, Corollary 2; Hi = -1: never).
	Epochs EpochPrediction
	// Band is the efficiency band (shared host only; HasBand).
	Band    ref.Band
	HasBand bool
	// Fluid is the delayed fluid model (shared host, AIMD; HasFluid).
	Fluid    Fluid
	HasFluid bool
	// Mode is the averaged difference-mode linearisation (identical AIMD
	// FVMs; HasMode).
	Mode    Mode
	HasMode bool
	// Hetero bounds the integer peak vectors' distance from the fair ray
	// (hetero.md; AIMD on the shared host; HasHetero).
	Hetero    HeteroBound
	HasHetero bool
	// Notes are what the theorems say about this configuration in words.
	Notes []string
}

// EpochPrediction is Analysis.Epochs.
type EpochPrediction struct {
	Gap0, Target int
	Predicted    float64
	Lo, Hi       int
	HasBracket   bool
}

// Analyze computes the analysis of a validated configuration.
func Analyze(p *ref.Params) (Analysis, error) {
	if err := p.Validate(); err != nil {
		return Analysis{}, fmt.Errorf("analyze: %w", err)
	}
	n := p.N()
	a := Analysis{Host: p.Host, Signal: p.Signal, Rule: p.Rule, N: n, Identical: true,
		FairTolerance: ref.FairTolerance(p)}
	for i := range p.FVMs {
		f, g := p.FVMs[i], p.FVMs[0]
		if f.Alpha != g.Alpha || f.Beta != g.Beta || f.Mu != g.Mu || f.Delta != g.Delta {
			a.Identical = false
		}
	}
	switch p.Rule {
	case vocab.AIMD, vocab.AIMDProp, vocab.AIMDPhase:
		for _, f := range p.FVMs {
			a.Alpha = append(a.Alpha, float64(f.Alpha))
			a.Beta = append(a.Beta, DecreaseFactor(p, f))
		}
		m, err := EpochMatrix(a.Alpha, a.Beta)
		if err != nil {
			return a, fmt.Errorf("analyze: %w", err)
		}
		a.Matrix = m
		if a.Spectrum, err = Eigen(m); err != nil {
			return a, fmt.Errorf("analyze: %w", err)
		}
		a.FairPoint = a.Spectrum.Perron
		a.Rate = a.Spectrum.Rate
		a.AverageShares = make([]float64, n)
		sum := 0.0
		for i := range n {
			a.AverageShares[i] = a.FairPoint[i] * (1 + a.Beta[i]) / 2
			sum += a.AverageShares[i]
		}
		for i := range n {
			a.AverageShares[i] /= sum
		}
	case vocab.MIMD:
		a.Rate = 1
		a.Notes = append(a.Notes, "MIMD: every update multiplies all demands alike, so the ratio d_i/d_j never changes away from the clamps (rate 1): no convergence to fairness (nonaimd.md).")
	case vocab.AIAD:
		a.Rate = 1
		a.Notes = append(a.Notes, "AIAD: every update adds the same amount to all demands, so d_i - d_j never changes away from the clamps (rate 1): no convergence to fairness (nonaimd.md).")
	}
	if n == 1 {
		a.Rate = 0
	}
	a.Epochs = EpochPrediction{Gap0: p.Dmax - p.Dmin, Target: a.FairTolerance}
	a.Epochs.Predicted = PredictedDecreases(a.Rate, float64(a.Epochs.Gap0), float64(max(a.Epochs.Target, 1)))
	if p.Rule == vocab.AIMD && a.Identical && p.Host == vocab.Shared {
		a.Epochs.Lo, a.Epochs.Hi = DecreasesToGap(p.FVMs[0].Beta, a.Epochs.Gap0, a.Epochs.Target)
		a.Epochs.HasBracket = true
	}
	if p.Host == vocab.Shared {
		b, err := ref.EfficiencyBand(p)
		if err != nil {
			return a, fmt.Errorf("analyze: %w", err)
		}
		a.Band, a.HasBand = b, true
		if p.Rule == vocab.AIMD && b.Hi > b.Lo {
			tau := 0.0
			for _, f := range p.FVMs {
				tau = math.Max(tau, float64(f.Delay+1))
			}
			fl, err := FluidModel(a.Alpha, a.Beta, float64(b.Lo), float64(b.Hi), tau)
			if err != nil {
				return a, fmt.Errorf("analyze: fluid model: %w", err)
			}
			a.Fluid, a.HasFluid = fl, true
		}
		if p.Rule == vocab.AIMD {
			h, err := HeteroPeakBound(p)
			if err == nil {
				a.Hetero, a.HasHetero = h, true
			} else if !errors.Is(err, ErrBadParams) {
				return a, fmt.Errorf("analyze: %w", err)
			}
		}
	}
	if a.Matrix != nil && a.Identical {
		m, err := modeOf(p)
		if err != nil {
			return a, fmt.Errorf("analyze: %w", err)
		}
		a.Mode, a.HasMode = m, true
	}
	if p.Rule == vocab.AIMD && !a.Identical && p.Host == vocab.Shared {
		a.Notes = append(a.Notes, "heterogeneous AIMD: the peaks converge to the Perron vector, not to equal shares (hetero.md).")
	}
	if a.HasMode && a.Mode.Verdict == AntiFair {
		note := "the signal is anti-fair: the difference mode of the averaged dynamics is unstable (hosts.md)"
		if a.Mode.Absorbing != nil {
			note += fmt.Sprintf("; the unfair state d=%v is absorbing", a.Mode.Absorbing)
		}
		a.Notes = append(a.Notes, note+".")
	}
	return a, nil
}

// DecreaseFactor is the multiplicative decrease an AIMD-like rule applies
// on congestion, for the epoch matrix and the averaged dynamics: beta, or
// under aimd-prop its mild decrease (1+beta)/2, the gentler one, which
// bounds how slowly a congestion epoch contracts the demands' differences.
func DecreaseFactor(p *ref.Params, f ref.FVM) float64 {
	if p.Rule == vocab.AIMDProp {
		return (f.Beta.Float() + 1) / 2
	}
	return f.Beta.Float()
}

// PredictedEpochs is the number of congestion epochs after which the
// distance from the fair point shrinks from g0 to target at the
// analysis' rate.
func (a Analysis) PredictedEpochs(g0, target float64) float64 {
	return PredictedDecreases(a.Rate, g0, target)
}

// WriteText prints the analysis for people (fvm prove).
func (a Analysis) WriteText(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "host %v, rule %v, N = %d FVMs", a.Host, a.Rule, a.N)
	if a.Host != vocab.Shared {
		fmt.Fprintf(&b, ", signal %v", a.Signal)
	}
	if a.Identical {
		b.WriteString(" (identical)")
	} else {
		b.WriteString(" (heterogeneous)")
	}
	b.WriteString("\n")
	if a.Matrix != nil {
		fmt.Fprintf(&b, "\nepoch matrix A = diag(beta) + alpha (1-beta)^T / sum(alpha):\n  %v\n",
			mat.Formatted(a.Matrix, mat.Prefix("  "), mat.Squeeze()))
		b.WriteString("eigenvalues (by modulus): ")
		for i, v := range a.Spectrum.Values {
			if i > 0 {
				b.WriteString(", ")
			}
			if imag(v) == 0 {
				fmt.Fprintf(&b, "%.6g", real(v))
			} else {
				fmt.Fprintf(&b, "%.6g", v)
			}
		}
		b.WriteString("\n")
		fmt.Fprintf(&b, "fair point (peak shares, Perron vector): %s\n", fmtVec(a.FairPoint))
		fmt.Fprintf(&b, "average shares over a limit epoch:       %s\n", fmtVec(a.AverageShares))
	}
	fmt.Fprintf(&b, "convergence rate per congestion epoch: %.6g", a.Rate)
	if a.Rate > 0 && a.Rate < 1 {
		fmt.Fprintf(&b, " (gap halves every %.3g epochs; 10x in %.3g)", math.Log(2)/math.Log(1/a.Rate), math.Log(10)/math.Log(1/a.Rate))
	}
	b.WriteString("\n")
	if a.Host != vocab.Shared {
		b.WriteString("  (the epoch matrix and rate idealise a shared signal; with per-FVM signals see the difference mode below)\n")
	}
	fmt.Fprintf(&b, "fair tolerance (projected-gap rounding residual): %d units\n", a.FairTolerance)
	e := a.Epochs
	fmt.Fprintf(&b, "epochs to shrink a gap of %d units to %d: %.3g predicted", e.Gap0, e.Target, e.Predicted)
	if e.HasBracket {
		fmt.Fprintf(&b, ", proved integer bracket [%d, %d] decreases (any delays)", e.Lo, e.Hi)
	}
	b.WriteString("\n")
	if a.HasBand {
		fmt.Fprintf(&b, "efficiency band: total FVM demand eventually in [%d, %d] (threshold %d)\n", a.Band.Lo, a.Band.Hi, a.Band.Threshold)
	}
	if a.HasFluid {
		f := a.Fluid
		fmt.Fprintf(&b, "fluid model (threshold blurred over the band): p* = %.4g, fixed point %s\n", f.PStar, fmtVec(f.Point))
		fmt.Fprintf(&b, "  delay %.3g ticks, critical delay %.4g ticks, margin %.4g (%s)\n", f.Delay, f.CriticalDelay, f.Margin, map[bool]string{true: "stable", false: "unstable: limit cycle"}[f.Stable()])
	}
	if a.HasHetero && a.Hetero.Applies {
		fmt.Fprintf(&b, "integer peaks (D=0): limsup distance from the fair ray <= %.4g units\n", a.Hetero.Limit)
	}
	if a.HasMode {
		m := a.Mode
		fmt.Fprintf(&b, "difference mode of the averaged dynamics at the symmetric point d = %.4g (share %.4g each, greedy %.4g): %s\n", m.Point, m.Share, m.GreedyShare, m.Verdict)
		if m.Verdict != Saturated {
			fmt.Fprintf(&b, "  d sigma_i/d d_i = %.4g, d sigma_i/d d_j = %.4g, p* = %.4g\n", m.Own, m.Cross, m.PStar)
		}
		if m.Verdict == AntiFair {
			fmt.Fprintf(&b, "  unstable for any threshold sharper than %.4g demand units\n", m.CriticalDemand)
		}
	}
	for _, n := range a.Notes {
		fmt.Fprintf(&b, "note: %s\n", n)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func fmtVec(v []float64) string {
	parts := make([]string, len(v))
	for i, x := range v {
		parts[i] = fmt.Sprintf("%.6g", x)
	}
	return "[" + strings.Join(parts, " ") + "]"
}
