package spec

import (
	"math"
	"math/rand/v2"
	"testing"
)

// bruteMaxCycleMean enumerates every simple cycle (the maximum mean is
// attained on one).
func bruteMaxCycleMean(g *digraph, w []float64) float64 {
	n := len(w)
	best := math.Inf(-1)
	on := make([]bool, n)
	var dfs func(start, v int32, sum float64, length int)
	dfs = func(start, v int32, sum float64, length int) {
		for k := g.off[v]; k < g.off[v+1]; k++ {
			u := g.to[k]
			if u == start {
				best = math.Max(best, (sum+w[v])/float64(length+1))
				continue
			}
			if u > start && !on[u] {
				on[u] = true
				dfs(start, u, sum+w[v], length+1)
				on[u] = false
			}
		}
	}
	for s := int32(0); s < int32(n); s++ {
		on[s] = true
		dfs(s, s, 0, 0)
		on[s] = false
	}
	return best
}

func randomSCC(r *rand.Rand, n int) *digraph {
	// A Hamiltonian ring plus random chords and self-loops: strongly connected.
	adj := make([][]int32, n)
	for v := 0; v < n; v++ {
		adj[v] = append(adj[v], int32((v+1)%n))
		for k := r.IntN(3); k > 0; k-- {
			adj[v] = append(adj[v], int32(r.IntN(n)))
		}
	}
	g := &digraph{off: make([]int32, n+1)}
	for v := 0; v < n; v++ {
		g.to = append(g.to, adj[v]...)
		g.off[v+1] = int32(len(g.to))
	}
	return g
}

func TestMaxCycleMeanAgainstBruteForce(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for iter := 0; iter < 2000; iter++ {
		n := 1 + r.IntN(8)
		g := randomSCC(r, n)
		w := make([]float64, n)
		for i := range w {
			w[i] = float64(r.IntN(41)-20) / 7
		}
		got, err := maxCycleMean(g, w)
		if err != nil {
			t.Fatal(err)
		}
		if want := bruteMaxCycleMean(g, w); math.Abs(got-want) > 1e-9 {
			t.Fatalf("iter %d: max cycle mean %v, brute force %v (graph %+v, w %v)", iter, got, want, g, w)
		}
	}
}

func TestMaxCycleMeanLongRing(t *testing.T) {
	// A ring of a million nodes with one chord: the iteration is not
	// recursive and handles long cycles.
	const n = 1_000_000
	g := &digraph{off: make([]int32, n+1)}
	w := make([]float64, n)
	for v := 0; v < n; v++ {
		g.to = append(g.to, int32((v+1)%n))
		if v == n/2 {
			g.to = append(g.to, int32(n/2)) // self-loop of weight 0.5
		}
		g.off[v+1] = int32(len(g.to))
		w[v] = 0
	}
	w[n/2] = 0.5
	got, err := maxCycleMean(g, w)
	if err != nil || got != 0.5 {
		t.Fatalf("got %v, %v; want 0.5", got, err)
	}
}
