package spec

import (
	"fmt"
	"io"
	"math"
	"runtime"
	"sync"
	"sync/atomic"

	"github.com/friendly-vm/fvm/metrics"
	"github.com/friendly-vm/fvm/ref"
	"github.com/friendly-vm/fvm/spec/mc"
)

// Options tunes Check.
type Options struct {
	// Symmetry checks the invariants with symmetry reduction over identical
	// FVMs (when there are any). Liveness is always checked without it.
	Symmetry bool
	// Liveness checks the <>[] and limit-set properties and measures the
	// limit sets.
	Liveness bool
	// LossForever drops the fairness assumption that losses end: a lossy
	// tick is then an ordinary edge, and weak fairness alone is assumed
	// (MODEL.md, "Fairness", says why the liveness claims need it).
	LossForever bool
	// Workers, ExpectedStates, MaxMemory and Progress are passed to the
	// engine (see mc.Options).
	Workers        int
	ExpectedStates int64
	MaxMemory      int64
	Progress       io.Writer
}

// Result is the outcome of checking one parameter set.
type Result struct {
	Params *ref.Params
	Model  *Model
	// Safety is the run that checked the invariants (and deadlock freedom);
	// with symmetry reduction it is a separate run from Liveness.
	Safety *mc.Result
	// Liveness is the run without symmetry that checked the <>[]
	// properties; nil when liveness was not requested. When no symmetry is
	// used it is the same run as Safety.
	Liveness *mc.Result
	// Bounds are the liveness bounds (package ref, from the proofs).
	Bounds LivenessBounds
	// LimitSets has the long-run figures of every limit set (fair SCC), in
	// BFS order of their first state.
	LimitSets []LimitSetFigures
	// WorstJain is the smallest LimitSetFigures.Jain and WorstJainBound the
	// smallest JainBound (both NaN without limit sets).
	WorstJain, WorstJainBound float64
	// UtilMin and UtilCycle are the smallest LimitSetFigures.UtilMin and
	// UtilCycle: in the long run the core is at least UtilMin busy, and
	// every fair behaviour uses at least UtilCycle of it on average.
	UtilMin, UtilCycle float64
}

// LimitSetFigures are the long-run shares of one limit set (MODEL.md,
// "Long-run shares").
type LimitSetFigures struct {
	States, Edges int
	First         uint64 // its first state in BFS order
	// Shares are the FVMs' CPU shares (fractions of one core) averaged
	// uniformly over the limit set's states, and Jain their Jain index.
	Shares []float64
	Jain   float64
	// Delta is the largest cycle mean of share_i - share_j over any pair
	// i != j and any cycle of the set; MinMean the smallest cycle mean of
	// the FVMs' mean share. Every cycle's long-run average shares lie within
	// Delta of each other with mean at least MinMean, so its Jain index is
	// at least JainBound = MinMean^2 / (MinMean^2 + Delta^2/4).
	Delta, MinMean, JainBound float64
	// Utilisation is the fraction of the core in use (the host model's
	// sum of shares, with the greedy VMs'): Util its uniform average over
	// the set, UtilMin its smallest value in a state of the set (in the long
	// run the core is at least this busy), UtilCycle the smallest long-run
	// average of any cycle of the set (the worst fair behaviour).
	Util, UtilMin, UtilCycle float64
	// ShareMin is the smallest share of any FVM in any state of the set
	// (how far an FVM can be starved in the long run).
	ShareMin float64
	// Greedy are the greedy VMs' shares (ref.GreedyShares) averaged
	// uniformly over the set, GreedyMin their smallest values in a state
	// of the set and GreedyCycle the smallest long-run average of any
	// cycle of the set (friendliness: what the FVMs leave them).
	Greedy, GreedyMin, GreedyCycle []float64
	// Symmetric reports whether the set is closed under swapping identical
	// FVMs (FairShares).
	Symmetric bool
}

// Verdicts lists every property's verdict: the invariants and deadlock
// freedom from the safety run, the <>[] properties from the liveness run.
func (r *Result) Verdicts() []mc.Verdict {
	return fromRuns(r, func(m *mc.Result) []mc.Verdict { return m.Verdicts }, func(v mc.Verdict) mc.Kind { return v.Kind })
}

// Violations lists every counterexample, safety first.
func (r *Result) Violations() []mc.Violation {
	return fromRuns(r, func(m *mc.Result) []mc.Violation { return m.Violations }, func(v mc.Violation) mc.Kind { return v.Kind })
}

// fromRuns collects items of both runs, each from the run that owns its
// kind: safety properties from the safety run, liveness properties from
// the liveness run (the liveness run also meets the invariants, without
// symmetry, and would list them twice).
func fromRuns[T any](r *Result, items func(*mc.Result) []T, kind func(T) mc.Kind) []T {
	var out []T
	for _, v := range items(r.Safety) {
		if kind(v) != mc.KindLiveness {
			out = append(out, v)
		}
	}
	if r.Liveness != nil {
		for _, v := range items(r.Liveness) {
			if kind(v) == mc.KindLiveness {
				out = append(out, v)
			}
		}
	}
	return out
}

// OK reports whether every checked property holds.
func (r *Result) OK() bool { return len(r.Violations()) == 0 }

// Check model-checks p: the invariants of MODEL.md (with symmetry reduction
// if asked and possible), and with opt.Liveness the <>[] properties under
// weak fairness without symmetry, plus the long-run figures of every limit
// set. Every property gets a verdict (the search does not stop at the first
// violation).
func Check(p *ref.Params, opt Options) (*Result, error) {
	m, err := NewModel(p)
	if err != nil {
		return nil, err
	}
	m.lossForever = opt.LossForever
	r := &Result{Params: p, Model: m, WorstJain: math.NaN(), WorstJainBound: math.NaN(), UtilMin: math.NaN(), UtilCycle: math.NaN()}
	base := mc.Options{Workers: opt.Workers, ExpectedStates: opt.ExpectedStates, MaxMemory: opt.MaxMemory, Progress: opt.Progress, KeepGoing: true}
	sym := opt.Symmetry && m.Symmetric()
	if sym || !opt.Liveness {
		o := base
		o.Symmetry = sym
		if r.Safety, err = mc.Check(m, m.Invariants(), nil, o); err != nil {
			return nil, fmt.Errorf("safety check: %w", err)
		}
		if !opt.Liveness {
			return r, nil
		}
	}
	if r.Bounds, err = m.LivenessBounds(); err != nil {
		return nil, fmt.Errorf("liveness bounds: %w", err)
	}
	o := base
	invs := m.Invariants()
	if r.Safety != nil {
		invs = nil          // already checked, with symmetry
		o.NoDeadlock = true // likewise
		o.ExpectedStates = 0
	}
	sh := newShareTable(m)
	var figErr error
	o.LimitSets = func(ls mc.LimitSet) {
		if figErr != nil {
			return
		}
		sym := m.symmetricSet(ls)
		f, err := sh.figures(ls, sym && len(m.groups) == 1 && len(m.groups[0]) == m.n)
		if err != nil {
			figErr = err
			return
		}
		f.Symmetric = sym
		r.LimitSets = append(r.LimitSets, f)
	}
	o.LimitSetProperties = m.LimitSetProperties(r.Bounds)
	if r.Liveness, err = mc.Check(m, invs, m.Liveness(r.Bounds), o); err != nil {
		return nil, fmt.Errorf("liveness check: %w", err)
	}
	if figErr != nil {
		return nil, fmt.Errorf("limit set figures: %w", figErr)
	}
	if r.Safety == nil {
		r.Safety = r.Liveness
	}
	for _, f := range r.LimitSets {
		if math.IsNaN(r.WorstJain) || f.Jain < r.WorstJain {
			r.WorstJain = f.Jain
		}
		if math.IsNaN(r.WorstJainBound) || f.JainBound < r.WorstJainBound {
			r.WorstJainBound = f.JainBound
		}
		if math.IsNaN(r.UtilMin) || f.UtilMin < r.UtilMin {
			r.UtilMin = f.UtilMin
		}
		if math.IsNaN(r.UtilCycle) || f.UtilCycle < r.UtilCycle {
			r.UtilCycle = f.UtilCycle
		}
	}
	return r, nil
}

// shareTable caches the VMs' shares per demand vector.
type shareTable struct {
	m      *Model
	n, g   int       // FVMs, greedy VMs
	cache  []float64 // vectors*(n+1+g): n shares, the utilisation, g greedy shares; NaN = not computed; nil if too large
	demand []int
}

func newShareTable(m *Model) *shareTable {
	t := &shareTable{m: m, n: m.n, g: len(m.p.Greedy), demand: make([]int, m.n)}
	if v := m.vectors(); v <= 1<<20 {
		t.cache = make([]float64, v*(m.n+1+t.g))
		for i := range t.cache {
			t.cache[i] = math.NaN()
		}
	}
	return t
}

// shares writes the FVMs' shares in packed state s to out[:n], the
// utilisation to out[n] and the greedy VMs' shares to out[n+1:].
func (t *shareTable) shares(s uint64, out []float64) {
	m := t.m
	w := t.n + 1 + t.g
	v, r := 0, m.p.Dmax-m.p.Dmin+1
	for i := 0; i < t.n; i++ {
		t.demand[i] = m.demand(s, i)
		v = v*r + t.demand[i] - m.p.Dmin
	}
	if t.cache != nil && !math.IsNaN(t.cache[v*w]) {
		copy(out, t.cache[v*w:(v+1)*w])
		return
	}
	for i, o := range m.p.Observe(t.demand) {
		out[i] = o.Share.Float()
	}
	out[t.n] = m.p.Utilisation(t.demand).Float()
	for j, g := range m.p.GreedyShares(t.demand) {
		out[t.n+1+j] = g.Float()
	}
	if t.cache != nil {
		copy(t.cache[v*w:], out[:w])
	}
}

// figures computes a limit set's long-run figures. allSwappable says the
// set is closed under every permutation of the FVMs: then the largest
// cycle mean of share_i - share_j is the same for every pair (a
// permutation maps the cycles of one pair's problem onto another's), and
// one pair is computed instead of n(n-1).
func (t *shareTable) figures(ls mc.LimitSet, allSwappable bool) (LimitSetFigures, error) {
	n, k, ng := t.n, len(ls.States), t.g
	f := LimitSetFigures{States: k, Edges: len(ls.Edges), First: ls.States[0], Shares: make([]float64, n),
		Greedy: make([]float64, ng), GreedyMin: make([]float64, ng), GreedyCycle: make([]float64, ng)}
	// share[i][v]; share[n] is the utilisation, share[n+1+j] greedy VM j's
	share := make([][]float64, n+1+ng)
	for i := range share {
		share[i] = make([]float64, k)
	}
	row := make([]float64, n+1+ng)
	f.UtilMin, f.ShareMin = math.Inf(1), math.Inf(1)
	for j := range f.GreedyMin {
		f.GreedyMin[j] = math.Inf(1)
	}
	for v, s := range ls.States {
		t.shares(s, row)
		for i := range n {
			share[i][v] = row[i]
			f.Shares[i] += row[i]
			f.ShareMin = math.Min(f.ShareMin, row[i])
		}
		share[n][v] = row[n]
		f.Util += row[n]
		f.UtilMin = math.Min(f.UtilMin, row[n])
		for j := range ng {
			share[n+1+j][v] = row[n+1+j]
			f.Greedy[j] += row[n+1+j]
			f.GreedyMin[j] = math.Min(f.GreedyMin[j], row[n+1+j])
		}
	}
	f.Util /= float64(k)
	for i := range f.Shares {
		f.Shares[i] /= float64(k)
	}
	for j := range f.Greedy {
		f.Greedy[j] /= float64(k)
	}
	f.Jain = metrics.Jain(f.Shares)
	// The limit set as a local graph (a deadlock state stutters: self-loop).
	g := &digraph{off: make([]int32, k+1)}
	deg := make([]int32, k)
	for _, e := range ls.Edges {
		deg[e.From]++
	}
	if ls.Stutter {
		deg[0] = 1
		g.to = []int32{0}
		g.off[1] = 1
	} else {
		for v := range k {
			g.off[v+1] = g.off[v] + deg[v]
		}
		g.to = make([]int32, len(ls.Edges))
		fill := make([]int32, k)
		copy(fill, g.off[:k])
		for _, e := range ls.Edges {
			g.to[fill[e.From]] = e.To
			fill[e.From]++
		}
	}
	// One maximum-cycle-mean problem per ordered pair (i, j), plus the
	// smallest mean share; they are independent, so they run in parallel.
	// j = -1: the mean share; j = -2: the utilisation; j = -3: greedy VM i's share
	type job struct{ i, j int }
	var jobs []job
	for i := 0; i < n; i++ {
		for j := 0; j < n; j++ {
			if i != j && (!allSwappable || i == 0 && j == 1) {
				jobs = append(jobs, job{i, j})
			}
		}
	}
	jobs = append(jobs, job{-1, -1}, job{-1, -2})
	for j := range ng {
		jobs = append(jobs, job{j, -3})
	}
	results := make([]float64, len(jobs))
	errs := make([]error, len(jobs))
	var next atomic.Int64
	var wg sync.WaitGroup
	for range min(runtime.GOMAXPROCS(0), len(jobs)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			w := make([]float64, k)
			for {
				q := int(next.Add(1) - 1)
				if q >= len(jobs) {
					return
				}
				jb := jobs[q]
				for v := range w {
					switch jb.j {
					case -3:
						w[v] = -share[n+1+jb.i][v]
						continue
					case -2:
						w[v] = -share[n][v]
						continue
					case -1:
						sum := 0.0
						for i := 0; i < n; i++ {
							sum += share[i][v]
						}
						w[v] = -sum / float64(n)
						continue
					}
					w[v] = share[jb.i][v] - share[jb.j][v]
				}
				results[q], errs[q] = maxCycleMean(g, w)
			}
		}()
	}
	wg.Wait()
	for q, jb := range jobs {
		if errs[q] != nil {
			return f, errs[q]
		}
		if jb.j >= 0 {
			f.Delta = math.Max(f.Delta, results[q])
		}
	}
	for q, jb := range jobs {
		switch jb.j {
		case -1:
			f.MinMean = -results[q]
		case -2:
			f.UtilCycle = -results[q]
		case -3:
			f.GreedyCycle[jb.i] = -results[q]
		}
	}
	f.JainBound = 1
	if f.Delta > 0 {
		f.JainBound = f.MinMean * f.MinMean / (f.MinMean*f.MinMean + f.Delta*f.Delta/4)
	}
	return f, nil
}
