package proofs

import (
	"github.com/friendly-vm/fvm/vocab"

	"testing"

	"github.com/friendly-vm/fvm/ref"
)

func TestFairTolerance(t *testing.T) {
	tests := []struct {
		beta vocab.Rat
		want int
	}{{vocab.R(1, 2), 1}, {vocab.R(7, 8), 7}, {vocab.R(3, 4), 3}, {vocab.R(2, 3), 2}, {vocab.R(1, 10), 1}}
	for _, tc := range tests {
		p := &ref.Params{Rule: vocab.AIMD, FVMs: []ref.FVM{{Beta: tc.beta}}}
		got := ref.FairTolerance(p)
		if got != tc.want {
			t.Errorf("ref.FairTolerance(beta=%v) = %d, want %d", tc.beta, got, tc.want)
		}
		// The residual is the largest fixed point of g -> ceil(beta*g),
		// checked here by brute force.
		fixed := 0
		for g := 1; g < 1000; g++ {
			if int(tc.beta.CeilMul(int64(g))) == g {
				fixed = g
			}
		}
		if fixed != got {
			t.Errorf("beta=%v: largest fixed point of ceil(beta*g) is %d, formula gives %d", tc.beta, fixed, got)
		}
	}
}

func TestEfficiencyBandDegenerate(t *testing.T) {
	p := &ref.Params{U: 20, Capacity: 20, Kappa: vocab.R(1, 1), Host: vocab.Shared, Rule: vocab.AIMD, Dmin: 1, Dmax: 5,
		FVMs: []ref.FVM{{Alpha: 1, Beta: vocab.R(1, 2), Delay: 1}, {Alpha: 1, Beta: vocab.R(1, 2), Delay: 1}}}
	b, err := ref.EfficiencyBand(p)
	if err != nil || b.Lo != 10 || b.Hi != 10 {
		t.Fatalf("never congested: band %+v, %v; want [10, 10]", b, err)
	}
	p.Dmax, p.Dmin = 20, 11
	b, err = ref.EfficiencyBand(p)
	if err != nil || b.Lo != 22 || b.Hi != 22 {
		t.Fatalf("always congested: band %+v, %v; want [22, 22]", b, err)
	}
}

func TestEfficiencyBandByHand(t *testing.T) {
	// One FVM, D=0, alpha 1, beta 1/2, threshold 10: from sum <= 10 one
	// increase gives at most 11; from sum >= 11 one halving gives at least 5.
	p := &ref.Params{U: 20, Capacity: 10, Kappa: vocab.R(1, 1), Host: vocab.Shared, Rule: vocab.AIMD, Dmin: 1, Dmax: 20,
		FVMs: []ref.FVM{{Alpha: 1, Beta: vocab.R(1, 2), Delay: 0}}}
	b, err := ref.EfficiencyBand(p)
	if err != nil || b.Lo != 5 || b.Hi != 11 || b.Threshold != 10 {
		t.Fatalf("band %+v, %v; want Lo 5, Hi 11, threshold 10", b, err)
	}
}
