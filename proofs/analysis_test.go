package proofs

import (
	"github.com/friendly-vm/fvm/vocab"

	"io"
	"math"
	"testing"

	"pgregory.net/rapid"

	"github.com/friendly-vm/fvm/ref"
)

// Analyze succeeds on every valid configuration (any host, rule, signal,
// N >= 1, greedy VMs), its numbers are finite where defined, and the text
// renders.
func TestAnalyzeAnyValidConfig(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		n := rapid.IntRange(1, 4).Draw(t, "n")
		u := rapid.IntRange(2, 12).Draw(t, "u")
		p := &ref.Params{U: u, Capacity: u, Kappa: vocab.R(int64(rapid.IntRange(1, 4).Draw(t, "kappa")), 4),
			Host: vocab.Host(rapid.IntRange(0, 2).Draw(t, "host")), Signal: vocab.Signal(rapid.IntRange(0, 1).Draw(t, "signal")),
			Rule: vocab.Rule(rapid.IntRange(0, 2).Draw(t, "rule")), Dmin: 1, Dmax: u}
		if p.Host == vocab.Shared {
			p.Capacity = rapid.IntRange(1, n*u).Draw(t, "capacity")
		}
		if p.Signal == vocab.VCT {
			p.Theta = vocab.R(int64(rapid.IntRange(4, 12).Draw(t, "thetaNum")), 4)
		} else {
			p.Theta = vocab.R(int64(rapid.IntRange(0, 3).Draw(t, "thetaNum")), 4)
		}
		if rapid.Bool().Draw(t, "greedy") {
			p.Greedy = []int{rapid.IntRange(0, u).Draw(t, "g")}
		}
		for range n {
			p.FVMs = append(p.FVMs, ref.FVM{Alpha: rapid.IntRange(1, 3).Draw(t, "alpha"), Beta: vocab.R(int64(rapid.IntRange(1, 3).Draw(t, "betaNum")), 4),
				Mu: vocab.R(3, 2), Delta: 1, Delay: rapid.IntRange(0, 2).Draw(t, "d")})
		}
		if err := p.Validate(); err != nil {
			t.Skip(err)
		}
		a, err := Analyze(p)
		if err != nil {
			t.Fatalf("Analyze: %v", err)
		}
		if math.IsNaN(a.Rate) || a.Rate < 0 || a.Rate > 1 {
			t.Fatalf("rate %v", a.Rate)
		}
		if a.HasMode && (math.IsNaN(a.Mode.Point) || math.IsNaN(a.Mode.Share) || a.Mode.Point < float64(p.Dmin)-1e-9 || a.Mode.Point > float64(p.Dmax)+1e-9) {
			t.Fatalf("mode %+v outside [dmin, dmax]", a.Mode)
		}
		if a.HasFluid && (math.IsNaN(a.Fluid.CriticalDelay) || !(a.Fluid.PStar > 0 && a.Fluid.PStar < 1)) {
			t.Fatalf("fluid %+v", a.Fluid)
		}
		if err := a.WriteText(io.Discard); err != nil {
			t.Fatal(err)
		}
	})
	if _, err := Analyze(&ref.Params{}); err == nil {
		t.Error("Analyze accepted invalid parameters")
	}
}
