package ref

import (
	"errors"
	"math"
	"math/big"
	"testing"

	"pgregory.net/rapid"

	"github.com/friendly-vm/fvm/vocab"
)

// bigOf is r as a big.Rat.
func bigOf(r vocab.Rat) *big.Rat { return new(big.Rat).SetFrac64(r.Num, r.Den) }

// The duty-idle host, from its definition rather than from the duty
// formulas: enumerate which VMs are at normal priority (VM j with
// probability x_j/U, independently); the ones that are split the core
// equally, and when none is, the N FVMs (all at SCHED_IDLE, all wanting the
// core) split it equally. Every FVM's share and every greedy VM's
// (GreedyShares) must be exactly that; the samples must be the duty host's
// (the signal is measured over the normal-priority part); the shares of all
// VMs must sum to Utilisation, which is 1.
func TestDutyIdleMatchesEnumeration(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		u := rapid.IntRange(1, 40).Draw(t, "u")
		n := rapid.IntRange(1, 4).Draw(t, "n")
		g := rapid.IntRange(0, 2).Draw(t, "greedy")
		p := &Params{U: u, Capacity: u, Host: vocab.DutyIdle, Rule: vocab.AIMD, Dmin: 1, Dmax: u,
			Signal: vocab.Steal, Theta: vocab.R(int64(rapid.IntRange(0, 9).Draw(t, "theta")), 10)}
		for range n {
			p.FVMs = append(p.FVMs, FVM{Alpha: 1, Beta: vocab.R(1, 2)})
		}
		for range g {
			p.Greedy = append(p.Greedy, rapid.IntRange(0, u).Draw(t, "greedy demand"))
		}
		if err := p.Validate(); err != nil {
			t.Fatalf("valid by construction: %v", err)
		}
		d := make([]int, n)
		for i := range d {
			d[i] = rapid.IntRange(1, u).Draw(t, "d")
		}
		all := append(append([]int(nil), d...), p.Greedy...)
		want := make([]*big.Rat, len(all))
		for j := range want {
			want[j] = new(big.Rat)
		}
		for mask := 0; mask < 1<<len(all); mask++ {
			pr, k := big.NewRat(1, 1), 0
			for j, x := range all {
				if mask>>j&1 == 1 {
					pr.Mul(pr, big.NewRat(int64(x), int64(u)))
					k++
				} else {
					pr.Mul(pr, big.NewRat(int64(u-x), int64(u)))
				}
			}
			for j := range all {
				switch {
				case k > 0 && mask>>j&1 == 1:
					want[j].Add(want[j], new(big.Rat).Mul(pr, big.NewRat(1, int64(k))))
				case k == 0 && j < n: // nobody at normal priority: the FVMs share
					want[j].Add(want[j], new(big.Rat).Mul(pr, big.NewRat(1, int64(n))))
				}
			}
		}
		obs := p.Observe(d)
		duty := *p
		duty.Host = vocab.Duty
		dobs := duty.Observe(d)
		total := new(big.Rat)
		for i := range d {
			if got := bigOf(obs[i].Share); got.Cmp(want[i]) != 0 {
				t.Fatalf("d=%v greedy=%v: FVM %d share %s, enumeration %s", d, p.Greedy, i, got.RatString(), want[i].RatString())
			}
			if obs[i].Steal != dobs[i].Steal || obs[i].VCT != dobs[i].VCT || obs[i].Congested != dobs[i].Congested {
				t.Fatalf("d=%v: FVM %d samples %+v, the duty host's %+v", d, i, obs[i], dobs[i])
			}
			total.Add(total, want[i])
		}
		for j, s := range p.GreedyShares(d) {
			if got := bigOf(s); got.Cmp(want[n+j]) != 0 {
				t.Fatalf("d=%v greedy=%v: greedy %d share %s, enumeration %s", d, p.Greedy, j, got.RatString(), want[n+j].RatString())
			}
			total.Add(total, want[n+j])
		}
		if util := bigOf(p.Utilisation(d)); util.Cmp(total) != 0 || util.Cmp(big.NewRat(1, 1)) != 0 {
			t.Fatalf("d=%v greedy=%v: utilisation %s, the shares sum to %s, want 1", d, p.Greedy, util.RatString(), total.RatString())
		}
	})
}

// GreedyShares on the other hosts, by hand: the shared host's allocation
// g/U; the fair host's water level (20 units of capacity over demands 15,
// 10, 12: level 20/3, every VM capped); the duty host's g/U * E[1/(1+K)],
// with the duty shares of every VM summing to the utilisation.
func TestGreedyShares(t *testing.T) {
	p := aimd(1)
	p.Greedy = []int{10, 4}
	if got := p.GreedyShares([]int{7}); got[0] != vocab.R(1, 2) || got[1] != vocab.R(1, 5) {
		t.Errorf("shared: %v, want [1/2 1/5]", got)
	}
	p.Host, p.Signal, p.Theta, p.Greedy = vocab.Fair, vocab.VCT, vocab.R(1, 1), []int{10, 12}
	if got := p.GreedyShares([]int{15}); got[0] != vocab.R(1, 3) || got[1] != vocab.R(1, 3) {
		t.Errorf("fair: %v, want [1/3 1/3]", got)
	}
	p.Host, p.Signal, p.Theta, p.Greedy = vocab.Duty, vocab.Steal, vocab.R(1, 5), []int{20}
	// An always-awake greedy VM beside one FVM at r = 1/2: 1 - r/2 = 3/4.
	if got := p.GreedyShares([]int{10}); got[0] != vocab.R(3, 4) {
		t.Errorf("duty: %v, want [3/4]", got)
	}
	p.Greedy = []int{8}
	d := []int{6}
	sum := bigOf(p.Observe(d)[0].Share)
	sum.Add(sum, bigOf(p.GreedyShares(d)[0]))
	if sum.Cmp(bigOf(p.Utilisation(d))) != 0 {
		t.Errorf("duty: the shares sum to %s, utilisation %v", sum.RatString(), p.Utilisation(d))
	}
}

// PredictShares under duty-idle against the enumeration of who is at normal
// priority, the idle time going to the VMs that pause (r < 1).
func TestPredictSharesDutyIdle(t *testing.T) {
	for _, r := range [][]float64{{0.3, 0.6, 1}, {0.3, 0.6}, {0.25, 0.5, 0.75, 0.1}, {1, 1}} {
		got := PredictShares(vocab.DutyIdle, r)
		paused := 0
		for _, rj := range r {
			if rj < 1 {
				paused++
			}
		}
		sum := 0.0
		for i := range r {
			want := 0.0
			for mask := 0; mask < 1<<len(r); mask++ {
				pr, k := 1.0, 0
				for j, rj := range r {
					if mask>>j&1 == 1 {
						pr *= rj
						k++
					} else {
						pr *= 1 - rj
					}
				}
				switch {
				case k > 0 && mask>>i&1 == 1:
					want += pr / float64(k)
				case k == 0 && r[i] < 1:
					want += pr / float64(paused)
				}
			}
			if math.Abs(got[i]-want) > 1e-12 {
				t.Errorf("duty-idle %v: VM %d %v, enumeration %v", r, i, got[i], want)
			}
			sum += got[i]
		}
		if math.Abs(sum-1) > 1e-12 {
			t.Errorf("duty-idle %v: shares sum to %v, want 1 (work-conserving)", r, sum)
		}
	}
}

// DemandCeiling, derived by hand: beside an always-awake greedy VM (and no
// other FVM) steal is r/2, so the largest never-congested demand is
// T = floor(2 theta U) and H = inc^(D+1)(T); with the other FVMs at dmin
// steal is far smaller and the ceiling is dmax.
func TestDemandCeiling(t *testing.T) {
	duty := func(host vocab.Host, n, dmin int, theta vocab.Rat, greedy []int) *Params {
		p := aimd(n)
		p.Host, p.Signal, p.Theta, p.Greedy, p.Dmin = host, vocab.Steal, theta, greedy, dmin
		return p
	}
	tests := []struct {
		name string
		p    *Params
		want int
	}{
		{"beside greedy, theta 3/40: T = 3, H = 3+3", duty(vocab.DutyIdle, 1, 2, vocab.R(3, 40), []int{20}), 6},
		{"the same on the duty host (same samples)", duty(vocab.Duty, 1, 2, vocab.R(3, 40), []int{20}), 6},
		// Theorem 18's design rule: 4/40 is the first threshold whose ceiling
		// leaves the greedy VM less than 85% (1 - 7/40).
		{"beside greedy, theta 4/40: T = 4, H = 4+3", duty(vocab.DutyIdle, 1, 2, vocab.R(4, 40), []int{20}), 7},
		{"beside greedy, theta 1/5: T = 8, H = 11", duty(vocab.Duty, 1, 1, vocab.R(1, 5), []int{20}), 11},
		{"beside greedy, theta 1/100: congested even at dmin", duty(vocab.DutyIdle, 1, 2, vocab.R(1, 100), []int{20}), 2},
		// Others at dmin = 2: E = 1 - 0.1/2, steal = r/20 <= 3/40 for every r.
		{"a pair, theta 3/40: never congested", duty(vocab.DutyIdle, 2, 2, vocab.R(3, 40), nil), 20},
	}
	for _, tc := range tests {
		got, err := DemandCeiling(tc.p)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		for i, g := range got {
			if g != tc.want {
				t.Errorf("%s: H[%d] = %d, want %d", tc.name, i, g, tc.want)
			}
		}
	}
	p := duty(vocab.Duty, 1, 1, vocab.R(3, 2), []int{20})
	p.Signal = vocab.VCT
	if _, err := DemandCeiling(p); !errors.Is(err, ErrNoCeiling) {
		t.Errorf("vct: err = %v, want ErrNoCeiling", err)
	}
}
