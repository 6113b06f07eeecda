package proofs

import (
	"math"
	"testing"

	"pgregory.net/rapid"

	"github.com/friendly-vm/fvm/ref"
	"github.com/friendly-vm/fvm/sim"
	"github.com/friendly-vm/fvm/vocab"
)

// projectedByBits recomputes every FVM's projected demand from the tick
// bits alone (Theorem 3, shared.md), independently of ref.Projected, and
// records whether any update was clamped.
type projectedByBits struct {
	p       *ref.Params
	d       []int
	clamped bool
}

func (pb *projectedByBits) tick(mask uint16) {
	for i := range pb.d {
		var br vocab.Branch
		pb.d[i], br = pb.p.Apply(i, pb.d[i], mask>>i&1 == 1)
		if br == vocab.Clamp {
			pb.clamped = true
		}
	}
}

func drawInit(t *rapid.T, p *ref.Params) []int {
	return rapid.SliceOfN(rapid.IntRange(p.Dmin, p.Dmax), p.N(), p.N()).Draw(t, "init")
}

// Theorem 3 (shared.md): under the shared host every FVM's projected
// demand is its rule applied to the same bit sequence, whatever the
// delays and the interleaving.
func TestProjectedFollowsTheBits(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		p := genShared(t, rapid.Bool().Draw(t, "identical"), 5, 4)
		init := drawInit(t, p)
		run, err := sim.Simulate(p, sim.Options{Seed: rapid.Uint64().Draw(t, "seed"), Steps: 600, Init: init})
		if err != nil {
			t.Fatal(err)
		}
		pb := &projectedByBits{p: p, d: append([]int(nil), init...)}
		for k, tp := range Ticks(p, run) {
			if tp.Congested != 0 && tp.Congested != uint16(1)<<p.N()-1 {
				t.Fatalf("tick %d: mask %b is not one shared bit", k, tp.Congested)
			}
			pb.tick(tp.Congested)
			for i := range pb.d {
				if pb.d[i] != tp.Projected[i] {
					t.Fatalf("tick %d FVM %d: projected %d, bits give %d", k, i, tp.Projected[i], pb.d[i])
				}
			}
		}
	})
}

// Lemma 1 (shared.md): |floor(beta a) - floor(beta b)| <= ceil(beta |a-b|),
// exhaustively for small numbers.
func TestFloorGapLemma(t *testing.T) {
	for den := int64(2); den <= 12; den++ {
		for num := int64(1); num < den; num++ {
			b := vocab.R(num, den)
			for x := int64(0); x <= 60; x++ {
				for y := int64(0); y <= x; y++ {
					got := b.FloorMul(x) - b.FloorMul(y)
					if got > b.CeilMul(x-y) || got < b.FloorMul(x-y) {
						t.Fatalf("beta=%v a=%d b=%d: gap %d outside [floor, ceil](beta*%d)", b, x, y, got, x-y)
					}
				}
			}
		}
	}
}

// Theorem 4 (shared.md): the residual ref.FairTolerance is attained, so it is
// exact: for every beta there is a pair at gap eps that a decrease keeps at
// gap eps, and no gap above eps survives the ceil iterate.
func TestFairToleranceIsExact(t *testing.T) {
	for den := int64(2); den <= 30; den++ {
		for num := int64(1); num < den; num++ {
			b := vocab.R(num, den)
			p := &ref.Params{Rule: vocab.AIMD, FVMs: []ref.FVM{{Beta: b}}}
			eps := ref.FairTolerance(p)
			found := false
			for a := int64(0); a < 4*den && !found; a++ {
				found = b.FloorMul(a+int64(eps))-b.FloorMul(a) == int64(eps)
			}
			if !found {
				t.Errorf("beta=%v: no pair at gap %d keeps it after a decrease", b, eps)
			}
			if g := eps + 1; int(b.CeilMul(int64(g))) >= g {
				t.Errorf("beta=%v: gap %d is not contracted, tolerance %d too small", b, g, eps)
			}
		}
	}
}

// Corollary 2 (shared.md): the number of decreases after which the
// projected gap of identical FVMs is at most target lies in
// DecreasesToGap's [lo, hi] (lo only while nothing is clamped), whatever
// the delays; the real-valued prediction log(g0/target)/log(1/beta) lies
// in [lo-1, hi].
func TestConvergesAtPredictedRate(t *testing.T) {
	var slack, cases int
	rapid.Check(t, func(t *rapid.T) {
		p := genShared(t, true, 5, 4)
		init := drawInit(t, p)
		g0 := Gap(init)
		eps := ref.FairTolerance(p)
		if g0 <= eps {
			t.Skip("already within the tolerance")
		}
		target := rapid.IntRange(eps, g0-1).Draw(t, "target")
		beta := p.FVMs[0].Beta
		lo, hi := DecreasesToGap(beta, g0, target)
		if hi < 0 {
			t.Fatalf("target %d >= eps %d but the ceil iterate never reaches it", target, eps)
		}
		if inv := 1 / (1 - beta.Float()); float64(target) > inv {
			if cf := math.Ceil(math.Log(float64(g0)/(float64(target)-inv)) / math.Log(1/beta.Float())); float64(hi) > cf {
				t.Fatalf("hi = %d above the closed form %v", hi, cf)
			}
		}
		pred := PredictedDecreases(beta.Float(), float64(g0), float64(target))
		// 1e-9: log(g0/target)/log(1/beta) is an integer when g0/target
		// is a power of 1/beta, and the float quotient may exceed it.
		if pred < float64(lo)-1-1e-9 || pred > float64(hi)+1e-9 {
			t.Fatalf("prediction %.3f outside [lo-1, hi] = [%d, %d]", pred, lo-1, hi)
		}
		run, err := sim.Simulate(p, sim.Options{Seed: rapid.Uint64().Draw(t, "seed"), Steps: 3000, Init: init})
		if err != nil {
			t.Fatal(err)
		}
		pb := &projectedByBits{p: p, d: append([]int(nil), init...)}
		m, reached, prevGap := 0, false, g0
		for _, tp := range Ticks(p, run) {
			pb.tick(tp.Congested)
			g := Gap(tp.Projected)
			if tp.Congested != 0 {
				m++
				if g > int(beta.CeilMul(int64(prevGap))) {
					t.Fatalf("decrease %d: gap %d -> %d > ceil(beta*%d)", m, prevGap, g, prevGap)
				}
			} else if g > prevGap {
				t.Fatalf("an increase widened the gap %d -> %d", prevGap, g)
			}
			prevGap = g
			if g <= target {
				reached = true
				break
			}
		}
		if !reached {
			if m >= hi {
				t.Fatalf("%d decreases and gap still %d > target %d; bound says %d suffice", m, prevGap, target, hi)
			}
			return
		}
		if m > hi {
			t.Fatalf("reached gap <= %d after %d decreases, bound %d", target, m, hi)
		}
		if !pb.clamped && m < lo {
			t.Fatalf("reached gap <= %d after %d decreases without clamps; floor iterate needs %d", target, m, lo)
		}
		slack += hi - m
		cases++
	})
	t.Logf("decreases to target: mean slack hi - measured = %.2f over %d runs", float64(slack)/float64(max(cases, 1)), cases)
}
