package proofs

import (
	"math"

	"github.com/friendly-vm/fvm/vocab"
)

// GapBounds are the integer bounds of Theorem 4 (shared.md) on the
// projected-demand gap of two identical AIMD FVMs after m decreases:
// Lower[m] <= gap <= Upper[m], where Upper iterates g -> ceil(beta*g) and
// Lower iterates g -> floor(beta*g). Upper holds always; Lower holds while
// neither FVM is clamped (clamps only narrow the gap).
type GapBounds struct {
	Upper, Lower []int
}

// IterateGap returns the bounds for m = 0..steps decreases from gap g0.
func IterateGap(beta vocab.Rat, g0, steps int) GapBounds {
	b := GapBounds{Upper: make([]int, steps+1), Lower: make([]int, steps+1)}
	b.Upper[0], b.Lower[0] = g0, g0
	for m := 1; m <= steps; m++ {
		b.Upper[m] = int(beta.CeilMul(int64(b.Upper[m-1])))
		b.Lower[m] = int(beta.FloorMul(int64(b.Lower[m-1])))
	}
	return b
}

// DecreasesToGap returns the bracket [lo, hi] on the number of decreases
// after which the projected gap of identical AIMD FVMs, starting at g0, is
// at most target (Corollary 2, shared.md): hi is when the ceil
// iterate reaches target (an upper bound that always holds), lo when the
// floor iterate does (a lower bound while no clamp acts). hi is -1 when
// target is below the rounding residual ref.FairTolerance, which the ceil
// iterate never goes under.
func DecreasesToGap(beta vocab.Rat, g0, target int) (lo, hi int) {
	if target < 0 {
		return -1, -1
	}
	lo = 0
	for g := g0; g > target; lo++ {
		g = int(beta.FloorMul(int64(g))) // floor(beta*g) < g for g >= 1
	}
	hi = 0
	for g := g0; g > target; hi++ {
		next := int(beta.CeilMul(int64(g)))
		if next == g {
			return lo, -1 // a fixed point above target
		}
		g = next
	}
	return lo, hi
}

// PredictedDecreases is the real-valued prediction of the number of
// contractions by rate needed to shrink a gap g0 to target:
// log(g0/target)/log(1/rate). It is +Inf when rate >= 1 and 0 when
// g0 <= target.
func PredictedDecreases(rate, g0, target float64) float64 {
	if g0 <= target {
		return 0
	}
	if rate >= 1 {
		return math.Inf(1)
	}
	if rate <= 0 {
		return 1
	}
	return math.Log(g0/target) / math.Log(1/rate)
}
