package ref

import (
	"github.com/friendly-vm/fvm/vocab"

	"math/big"
	"testing"

	"pgregory.net/rapid"
)

// Observe's int64 arithmetic agrees with an independent big.Rat computation
// of the duty host (the model's widest numbers) for every valid
// configuration: no cross-multiplication overflows.
func TestDutyObserveMatchesBigRat(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		u := rapid.IntRange(1, MaxU).Draw(t, "u")
		n := rapid.IntRange(1, 5).Draw(t, "n")
		g := rapid.IntRange(0, 2).Draw(t, "greedy")
		p := &Params{U: u, Capacity: u, Host: vocab.Duty, Rule: vocab.AIMD, Dmin: 1, Dmax: u,
			Signal: vocab.Signal(rapid.IntRange(1, 2).Draw(t, "signal"))}
		den := int64(rapid.IntRange(1, 1000).Draw(t, "theta den"))
		if p.Signal == vocab.VCT {
			p.Theta = vocab.R(rapid.Int64Range(den, 100*den).Draw(t, "theta num"), den)
		} else {
			p.Theta = vocab.R(rapid.Int64Range(0, den-1).Draw(t, "theta num"), den)
		}
		for range n {
			p.FVMs = append(p.FVMs, FVM{Alpha: 1, Beta: vocab.R(1, 2)})
		}
		for range g {
			p.Greedy = append(p.Greedy, rapid.IntRange(0, u).Draw(t, "greedy demand"))
		}
		if p.Validate() != nil {
			t.Skip("outside the validated range")
		}
		d := make([]int, n)
		for i := range d {
			d[i] = rapid.IntRange(1, u).Draw(t, "d")
		}
		obs := p.Observe(d)
		theta := new(big.Rat).SetFrac64(p.Theta.Num, p.Theta.Den)
		for i := range d {
			// E[1/(1+K)] over the other VMs, by enumerating who is awake.
			var others []int
			for j, x := range d {
				if j != i {
					others = append(others, x)
				}
			}
			others = append(others, p.Greedy...)
			e := new(big.Rat)
			for mask := 0; mask < 1<<len(others); mask++ {
				pr, k := big.NewRat(1, 1), 0
				for j, x := range others {
					if mask>>j&1 == 1 {
						pr.Mul(pr, big.NewRat(int64(x), int64(u)))
						k++
					} else {
						pr.Mul(pr, big.NewRat(int64(u-x), int64(u)))
					}
				}
				e.Add(e, pr.Mul(pr, big.NewRat(1, int64(k+1))))
			}
			r := big.NewRat(int64(d[i]), int64(u))
			var signal *big.Rat
			if p.Signal == vocab.VCT {
				signal = new(big.Rat).Inv(e)
			} else {
				signal = new(big.Rat).Mul(r, new(big.Rat).Sub(big.NewRat(1, 1), e))
			}
			if want := signal.Cmp(theta) > 0; obs[i].Congested != want {
				t.Fatalf("d=%v greedy=%v theta=%v: FVM %d congested %v, exact arithmetic says %v (signal %s)",
					d, p.Greedy, p.Theta, i, obs[i].Congested, want, signal.FloatString(6))
			}
			if share := new(big.Rat).Mul(r, e); share.Cmp(new(big.Rat).SetFrac64(obs[i].Share.Num, obs[i].Share.Den)) != 0 {
				t.Fatalf("FVM %d share %v, exact %s", i, obs[i].Share, share.RatString())
			}
		}
	})
}
