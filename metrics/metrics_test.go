package metrics

import (
	"math"
	"testing"
)

func TestJain(t *testing.T) {
	tests := []struct {
		x    []float64
		want float64
	}{{[]float64{1, 1, 1}, 1}, {[]float64{1, 0, 0, 0}, 0.25}, {[]float64{0.9, 0.05, 0.05}, 1.0 / (3 * 0.815)}, {[]float64{2, 1}, 0.9}}
	for _, tc := range tests {
		if got := Jain(tc.x); math.Abs(got-tc.want) > 1e-12 {
			t.Errorf("Jain(%v) = %v, want %v", tc.x, got, tc.want)
		}
	}
	for _, x := range [][]float64{nil, {0, 0}} {
		if !math.IsNaN(Jain(x)) {
			t.Errorf("Jain(%v) = %v, want NaN (undefined)", x, Jain(x))
		}
	}
}

func TestUtilisation(t *testing.T) {
	if got := Utilisation([]float64{0.25, 0.5}, 1); got != 0.75 {
		t.Errorf("one core: %v", got)
	}
	if got := Utilisation([]float64{0.5, 0.5}, 2); got != 0.5 {
		t.Errorf("two cores: %v", got)
	}
}

// Two VMs whose shares are 0.9 / 0.1 until 12 s and 0.5 / 0.5 after.
func TestConvergence(t *testing.T) {
	const s = int64(1e9)
	share := func(i int, a, b int64) float64 {
		// cumulative CPU of VM i at time t
		cum := func(t int64) float64 {
			hi := 0.9
			if i == 1 {
				hi = 0.1
			}
			if t <= 12*s {
				return hi * float64(t)
			}
			return hi*float64(12*s) + 0.5*float64(t-12*s)
		}
		return (cum(b) - cum(a)) / float64(b-a)
	}
	// Jain of the [10, 15] window: shares (2*0.9+3*0.5)/5 = 0.66, 0.34:
	// (1)^2 / (2*(0.4356+0.1156)) = 0.907 >= 0.90; [9, 14]: 0.74, 0.26:
	// 1/(2*(0.5476+0.0676)) = 0.813 < 0.90. So convergence at 10 s.
	if got := Convergence(2, share, 0, 30*s); got != 10*s {
		t.Errorf("Convergence = %v s, want 10 s", float64(got)/1e9)
	}
	if got := Convergence(2, func(int, int64, int64) float64 { return 0 }, 0, 30*s); got != -1 {
		t.Errorf("all zero (Jain undefined): %d, want -1", got)
	}
	if got := Convergence(2, share, 0, 4*s); got != -1 {
		t.Errorf("shorter than a window: %d, want -1", got)
	}
}
