package spec

import (
	"errors"
	"math"
)

// digraph is a small CSR graph on local state indices (one limit set).
type digraph struct {
	off []int32 // edges of v: to[off[v]:off[v+1]]
	to  []int32
}

// errNoConvergence is returned if policy iteration does not settle (it
// always does in practice; the bound only guards against a bug).
var errNoConvergence = errors.New("policy iteration did not converge")

// maxCycleMean returns the largest mean of the node weights w over the
// cycles of g, which must be strongly connected with an edge out of every
// node (a limit set). It is Howard's policy iteration for max-plus
// spectral problems (Cochet-Terrasson, Cohen, Gaubert, McGettrick and
// Quadrat, 1998): a policy picks one successor per node; its value is the
// mean of the cycle each node's path ends in (eta) plus a bias (x); the
// policy is improved first on eta, then on the bias, until it is stable.
func maxCycleMean(g *digraph, w []float64) (float64, error) {
	n := len(w)
	pi := make([]int32, n)
	for v := range pi {
		pi[v] = g.to[g.off[v]]
	}
	eta := make([]float64, n)
	x := make([]float64, n)
	mark := make([]int32, n) // 0 unseen, -1 done, k>0 on walk k
	var stack []int32
	scale := 0.0
	for _, v := range w {
		scale = math.Max(scale, math.Abs(v))
	}
	eps := 1e-12 * math.Max(scale, 1) * float64(n)
	for iter := 0; iter < 100000; iter++ {
		// Value determination on the functional graph of pi.
		clear(mark)
		walk := int32(0)
		for s := range n {
			if mark[s] != 0 {
				continue
			}
			walk++
			stack = stack[:0]
			v := int32(s)
			for mark[v] == 0 {
				mark[v] = walk
				stack = append(stack, v)
				v = pi[v]
			}
			if mark[v] == walk { // a new cycle through v
				sum, length := 0.0, 0
				for u := v; ; {
					sum += w[u]
					length++
					u = pi[u]
					if u == v {
						break
					}
				}
				mean := sum / float64(length)
				// Walk the cycle backwards from v: x(u) = w(u) - mean + x(pi(u)).
				cyc := stack[len(stack)-length:]
				x[v], eta[v] = 0, mean
				for k := len(cyc) - 1; k >= 1; k-- {
					u := cyc[k]
					x[u] = w[u] - mean + x[pi[u]]
					eta[u] = mean
				}
				for _, u := range cyc {
					mark[u] = -1
				}
				stack = stack[:len(stack)-length]
			}
			for k := len(stack) - 1; k >= 0; k-- {
				u := stack[k]
				eta[u] = eta[pi[u]]
				x[u] = w[u] - eta[u] + x[pi[u]]
				mark[u] = -1
			}
		}
		// Improvement of eta.
		changed := false
		for v := range n {
			best, arg := eta[pi[v]], pi[v]
			for k := g.off[v]; k < g.off[v+1]; k++ {
				if u := g.to[k]; eta[u] > best+eps {
					best, arg = eta[u], u
				}
			}
			if arg != pi[v] {
				pi[v] = arg
				changed = true
			}
		}
		if changed {
			continue
		}
		// Improvement of the bias among successors with the same eta.
		for v := range n {
			best, arg := w[v]-eta[v]+x[pi[v]], pi[v]
			for k := g.off[v]; k < g.off[v+1]; k++ {
				u := g.to[k]
				if math.Abs(eta[u]-eta[v]) > eps {
					continue
				}
				if val := w[v] - eta[v] + x[u]; val > best+eps {
					best, arg = val, u
				}
			}
			if arg != pi[v] {
				pi[v] = arg
				changed = true
			}
		}
		if !changed {
			m := math.Inf(-1)
			for _, e := range eta {
				m = math.Max(m, e)
			}
			return m, nil
		}
	}
	return 0, errNoConvergence
}
