package mc

import (
	"slices"

	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
)

func mustCheck[M Model](t *testing.T, m M, invs []Invariant, live []EventuallyAlways, opt Options) *Result {
	t.Helper()
	res, err := Check(m, invs, live, opt)
	if err != nil {
		t.Fatalf("Check: %v", err)
	}
	return res
}

// validPath asserts that steps is a path of m (from an initial state when
// fromInit) and returns its last state.
func validPath[M Model](t *testing.T, m M, steps []Step, fromInit bool) {
	t.Helper()
	if len(steps) == 0 {
		t.Fatal("empty path")
	}
	if fromInit {
		if steps[0].Action != Init {
			t.Fatalf("first step has action %d, want Init", steps[0].Action)
		}
		ok := false
		m.Init(func(s uint64) { ok = ok || s == steps[0].State })
		if !ok {
			t.Fatalf("%#x is not an initial state", steps[0].State)
		}
	}
	for i := 1; i < len(steps); i++ {
		ok := false
		m.Next(steps[i-1].State, func(a int, s uint64) {
			if fromInit { // a prefix may take transient edges, a cycle may not
				a &= labelMask
			}
			ok = ok || (a == steps[i].Action && s == steps[i].State)
		})
		if !ok {
			t.Fatalf("step %d: %#x -%d-> %#x is not a transition", i, steps[i-1].State, steps[i].Action, steps[i].State)
		}
	}
}

// validLasso asserts that v is a weakly fair lasso of m violating <>[]p.
func validLasso[M Model](t *testing.T, m M, v Violation, p func(uint64) bool) {
	t.Helper()
	validPath(t, m, v.Trace, true)
	s := v.Trace[len(v.Trace)-1].State
	if p(s) {
		t.Fatalf("lasso state %#x satisfies P", s)
	}
	if v.Stutter {
		n := 0
		m.Next(s, func(int, uint64) { n++ })
		if n != 0 || len(v.Cycle) != 0 {
			t.Fatalf("stutter lasso at %#x with %d successors and cycle %v", s, n, v.Cycle)
		}
		return
	}
	if len(v.Cycle) == 0 || v.Cycle[len(v.Cycle)-1].State != s {
		t.Fatalf("cycle %v does not return to %#x", v.Cycle, s)
	}
	validPath(t, m, append([]Step{{Action: Init, State: s}}, v.Cycle...), false)
	nact := len(m.Actions())
	for a := 0; a < nact; a++ {
		ok := false
		states := []uint64{s}
		for _, st := range v.Cycle {
			ok = ok || st.Action == a
			states = append(states, st.State)
		}
		for _, u := range states {
			en := false
			m.Next(u, func(b int, _ uint64) { en = en || b&labelMask == a })
			ok = ok || !en
		}
		if !ok {
			t.Fatalf("cycle is not weakly fair to action %d: %v", a, v.Cycle)
		}
	}
}

func TestRingCounts(t *testing.T) {
	for _, w := range []int{1, 2, 4} {
		res := mustCheck(t, ring{k: 10}, nil, nil, Options{Workers: w})
		st := res.Stats
		if st.Distinct != 10 || st.Generated != 10 || st.Depth != 10 || st.Initial != 1 || !res.OK() {
			t.Fatalf("workers=%d: stats %+v, violations %v", w, st, res.Violations)
		}
	}
}

func TestPairProduct(t *testing.T) {
	for _, w := range []int{1, 2, 3} {
		res := mustCheck(t, pair{a: 300, b: 700}, nil, nil, Options{Workers: w})
		st := res.Stats
		if st.Distinct != 300*700 || st.Generated != 2*300*700 || st.Depth != 300+700-1 {
			t.Fatalf("workers=%d: stats %+v", w, st)
		}
		if st.BytesPerState <= 0 || st.StatesPerSec <= 0 {
			t.Fatalf("missing stats: %+v", st)
		}
	}
}

func TestShortestInvariantCounterexample(t *testing.T) {
	// In pair{a,b}, x+y == 57 is first reached after exactly 57 steps; the
	// smallest violating state at that depth is x=57, y=0 (x in the low bits)
	// ... the smallest packed value is y=0? packed = x | y<<32, so the
	// smallest has y as small as possible: y=0, x=57.
	m := pair{a: 100, b: 100}
	inv := Invariant{Name: "SumNot57", Holds: func(s uint64) bool { return s&0xffffffff+s>>32 != 57 }}
	for _, w := range []int{1, 2, 4} {
		res := mustCheck(t, m, []Invariant{inv}, nil, Options{Workers: w})
		if len(res.Violations) != 1 {
			t.Fatalf("violations: %v", res.Violations)
		}
		v := res.Violations[0]
		if v.Kind != KindInvariant || v.Property != "SumNot57" || len(v.Trace) != 58 {
			t.Fatalf("got %v %s with %d states", v.Kind, v.Property, len(v.Trace))
		}
		validPath(t, m, v.Trace, true)
		if last := v.Trace[57].State; last != 57 {
			t.Fatalf("last state %#x, want 57", last)
		}
		if res.Verdicts[0].Status != Violated || res.Verdicts[1].Status != NotChecked {
			t.Fatalf("verdicts %v", res.Verdicts)
		}
		// The path is deterministic: the smallest predecessor each time,
		// so it only ever increments x.
		for i, st := range v.Trace[1:] {
			if st.Action != 0 || st.State != uint64(i+1) {
				t.Fatalf("step %d: %+v", i+1, st)
			}
		}
	}
}

func TestInitialStateViolation(t *testing.T) {
	inv := Invariant{Name: "NotZero", Holds: func(s uint64) bool { return s != 0 }}
	res := mustCheck(t, ring{k: 5}, []Invariant{inv}, nil, Options{})
	if len(res.Violations) != 1 || len(res.Violations[0].Trace) != 1 || res.Stats.Distinct != 1 {
		t.Fatalf("violations %v stats %+v", res.Violations, res.Stats)
	}
}

func TestKeepGoingGivesEveryVerdict(t *testing.T) {
	m := pair{a: 50, b: 50}
	invs := []Invariant{
		{Name: "Sum30", Holds: func(s uint64) bool { return s&0xffffffff+s>>32 != 30 }},
		{Name: "Sum10", Holds: func(s uint64) bool { return s&0xffffffff+s>>32 != 10 }},
		{Name: "Always", Holds: func(uint64) bool { return true }},
	}
	res := mustCheck(t, m, invs, nil, Options{KeepGoing: true})
	if res.Stats.Distinct != 2500 || len(res.Violations) != 2 {
		t.Fatalf("stats %+v violations %v", res.Stats, res.Violations)
	}
	lens := map[string]int{}
	for _, v := range res.Violations {
		lens[v.Property] = len(v.Trace) - 1
		validPath(t, m, v.Trace, true)
	}
	if lens["Sum30"] != 30 || lens["Sum10"] != 10 {
		t.Fatalf("lengths %v", lens)
	}
	want := []Status{Violated, Violated, Holds, Holds}
	for i, v := range res.Verdicts {
		if v.Status != want[i] {
			t.Fatalf("verdicts %v", res.Verdicts)
		}
	}
}

func TestDeadlock(t *testing.T) {
	res := mustCheck(t, line{n: 20}, nil, nil, Options{Workers: 2})
	if len(res.Violations) != 1 {
		t.Fatalf("violations %v", res.Violations)
	}
	v := res.Violations[0]
	if v.Kind != KindDeadlock || len(v.Trace) != 21 || v.Trace[20].State != 20 {
		t.Fatalf("deadlock violation %+v", v)
	}
	validPath(t, line{n: 20}, v.Trace, true)
	res = mustCheck(t, line{n: 20}, nil, nil, Options{NoDeadlock: true})
	if !res.OK() || res.Stats.Distinct != 21 {
		t.Fatalf("NoDeadlock: %v %+v", res.Violations, res.Stats)
	}
	res = mustCheck(t, line{n: 20, loop: true}, nil, nil, Options{})
	if !res.OK() || res.Stats.Generated != 21 {
		t.Fatalf("self-loop is not a deadlock: %v %+v", res.Violations, res.Stats)
	}
}

func TestDeadlockStuttersForLiveness(t *testing.T) {
	// A behaviour that ends in a deadlock stutters there forever: <>[](x=20)
	// holds and <>[](x<20) fails with a stutter lasso.
	m := line{n: 20}
	live := []EventuallyAlways{
		{Name: "Reach20", P: func(s uint64) bool { return s == 20 }},
		{Name: "Below20", P: func(s uint64) bool { return s < 20 }},
	}
	res := mustCheck(t, m, nil, live, Options{NoDeadlock: true})
	if len(res.Violations) != 1 || res.Violations[0].Property != "Below20" || !res.Violations[0].Stutter {
		t.Fatalf("violations %+v", res.Violations)
	}
	validLasso(t, m, res.Violations[0], live[1].P)
	if res.Stats.LimitSets != 1 {
		t.Fatalf("limit sets %d", res.Stats.LimitSets)
	}
}

func TestRingLasso(t *testing.T) {
	m := ring{k: 7}
	p := func(s uint64) bool { return s == 0 }
	res := mustCheck(t, m, nil, []EventuallyAlways{{Name: "Zero", P: p}}, Options{})
	if len(res.Violations) != 1 {
		t.Fatalf("violations %v", res.Violations)
	}
	v := res.Violations[0]
	// The first state (in BFS order) of a fair SCC where P fails is 1.
	if len(v.Trace) != 2 || v.Trace[1].State != 1 || len(v.Cycle) != 7 {
		t.Fatalf("lasso %+v", v)
	}
	validLasso(t, m, v, p)
	var sets []LimitSet
	res = mustCheck(t, m, nil, []EventuallyAlways{{Name: "True", P: func(uint64) bool { return true }}},
		Options{LimitSets: func(ls LimitSet) { sets = append(sets, ls) }})
	if !res.OK() || len(sets) != 1 || len(sets[0].States) != 7 || len(sets[0].Edges) != 7 {
		t.Fatalf("violations %v limit sets %+v", res.Violations, sets)
	}
}

// toggle: states 0 and 1 swap by "loop"; "finish" leads to 2, which loops.
// With finishEverywhere, finish is enabled in both 0 and 1, so the 0<->1
// cycle is unfair and <>[]done holds. Otherwise finish is enabled only in 0,
// the cycle is weakly fair (finish is disabled in 1) and <>[]done fails.
func toggle(finishEverywhere bool) graphModel {
	g := graphModel{init: []uint64{0}, nact: 2, succ: [][]edgeSpec{
		{{a: 0, t: 1}, {a: 1, t: 2}},
		{{a: 0, t: 0}},
		{{a: 0, t: 2}},
	}}
	if finishEverywhere {
		g.succ[1] = append(g.succ[1], edgeSpec{a: 1, t: 2})
	}
	return g
}

func TestUnfairCycleIsNotAViolation(t *testing.T) {
	done := func(s uint64) bool { return s == 2 }
	res := mustCheck(t, toggle(true), nil, []EventuallyAlways{{Name: "Done", P: done}}, Options{})
	if !res.OK() || res.Verdicts[len(res.Verdicts)-1].Status != Holds {
		t.Fatalf("unfair cycle reported: %+v", res.Violations)
	}
	if res.Stats.SCCs != 2 || res.Stats.LimitSets != 1 {
		t.Fatalf("stats %+v", res.Stats)
	}
}

func TestFairCycleIsAViolation(t *testing.T) {
	done := func(s uint64) bool { return s == 2 }
	m := toggle(false)
	res := mustCheck(t, m, nil, []EventuallyAlways{{Name: "Done", P: done}}, Options{})
	if len(res.Violations) != 1 {
		t.Fatalf("fair cycle missed: %+v", res.Violations)
	}
	v := res.Violations[0]
	validLasso(t, m, v, done)
	want := Violation{Kind: KindLiveness, Property: "Done",
		Trace: []Step{{Init, 0}}, Cycle: []Step{{0, 1}, {0, 0}}}
	if !reflect.DeepEqual(v, want) {
		t.Fatalf("lasso %+v, want %+v", v, want)
	}
}

// A limit-set property is judged on each limit set; its violation is a
// lasso into the first failing set, and Contains answers for that set only.
func TestLimitSetProperty(t *testing.T) {
	m := toggle(false) // limit sets: {0, 1} (fair cycle) and {2} (self-loop)
	var sizes []int
	notTwo := LimitSetProperty{Name: "NotTwo", Holds: func(ls LimitSet) bool {
		sizes = append(sizes, len(ls.States))
		if ls.Contains(2) != (ls.States[0] == 2) || ls.Contains(7) {
			t.Errorf("Contains disagrees with the set %v", ls.States)
		}
		return ls.States[0] != 2
	}}
	small := LimitSetProperty{Name: "Small", Holds: func(ls LimitSet) bool { return len(ls.States) <= 2 }}
	res := mustCheck(t, m, nil, nil, Options{LimitSetProperties: []LimitSetProperty{notTwo, small}})
	if len(res.Violations) != 1 || res.Violations[0].Property != "NotTwo" {
		t.Fatalf("violations %+v", res.Violations)
	}
	validLasso(t, m, res.Violations[0], func(s uint64) bool { return s != 2 })
	if got := res.Verdicts[len(res.Verdicts)-1]; got.Name != "Small" || got.Status != Holds {
		t.Fatalf("verdicts %+v", res.Verdicts)
	}
	if !slices.Equal(sizes, []int{2, 1}) {
		t.Fatalf("limit set sizes %v, want [2 1] in BFS order", sizes)
	}
}

func TestLassoTakesEveryAction(t *testing.T) {
	// One SCC {0,1,2,3} where action b exists only on 3->0 and c only on
	// 2->2; a and b are enabled in 0: the fair lasso from 0 must take a
	// b-edge and a c-edge.
	m := graphModel{init: []uint64{0}, nact: 3, succ: [][]edgeSpec{
		{{a: 0, t: 1}, {a: 1, t: 0}},               // 0 -a-> 1, 0 -b-> 0
		{{a: 0, t: 2}, {a: 1, t: 1}, {a: 2, t: 1}}, // 1 -a-> 2, -b-> 1, -c-> 1
		{{a: 0, t: 3}, {a: 1, t: 2}, {a: 2, t: 2}}, // 2 -a-> 3, -b-> 2, -c-> 2
		{{a: 0, t: 0}, {a: 1, t: 3}, {a: 2, t: 3}}, // 3 -a-> 0 ...
	}}
	p := func(s uint64) bool { return s != 0 }
	res := mustCheck(t, m, nil, []EventuallyAlways{{Name: "P", P: p}}, Options{})
	if len(res.Violations) != 1 {
		t.Fatalf("violations %+v", res.Violations)
	}
	validLasso(t, m, res.Violations[0], p)
}

func TestMillionStateSCC(t *testing.T) {
	if testing.Short() {
		t.Skip("long")
	}
	const n = 1_000_000
	m := ring{k: n}
	p := func(s uint64) bool { return s != n/2 }
	res := mustCheck(t, m, nil, []EventuallyAlways{{Name: "NotHalf", P: p}}, Options{})
	if res.Stats.Distinct != n || res.Stats.SCCs != 1 || len(res.Violations) != 1 {
		t.Fatalf("stats %+v violations %d", res.Stats, len(res.Violations))
	}
	v := res.Violations[0]
	if len(v.Trace) != n/2+1 || len(v.Cycle) != n {
		t.Fatalf("prefix %d cycle %d", len(v.Trace), len(v.Cycle))
	}
	validLasso(t, m, v, p)
	// A chain of a million singleton SCCs ending in a self-loop: DFS depth n.
	res = mustCheck(t, line{n: n, loop: true}, nil, []EventuallyAlways{{Name: "End", P: func(s uint64) bool { return s == n }}}, Options{})
	if !res.OK() || res.Stats.SCCs != n+1 || res.Stats.LimitSets != 1 {
		t.Fatalf("chain: %+v %v", res.Stats, res.Violations)
	}
}

func TestSymmetryOrbits(t *testing.T) {
	// 3 counters mod 5: 125 states, C(5+3-1, 3) = 35 orbits (multisets).
	m := counters{n: 3, k: 5}
	res := mustCheck(t, m, nil, nil, Options{})
	if res.Stats.Distinct != 125 || res.Stats.Generated != 375 {
		t.Fatalf("plain: %+v", res.Stats)
	}
	res = mustCheck(t, m, nil, []EventuallyAlways{{Name: "X", P: func(uint64) bool { return true }}}, Options{Symmetry: true})
	if res.Stats.Distinct != 35 || res.Stats.Generated != 105 || !res.Stats.Symmetry {
		t.Fatalf("symmetry: %+v", res.Stats)
	}
	if res.Verdicts[len(res.Verdicts)-1].Status != NotChecked || !strings.Contains(strings.Join(res.Notes, " "), "symmetry") {
		t.Fatalf("liveness under symmetry must be reported as not checked: %v %v", res.Verdicts, res.Notes)
	}
	// 4 counters mod 6: 1296 states, C(9,4) = 126 orbits.
	m4 := counters{n: 4, k: 6}
	res = mustCheck(t, m4, nil, nil, Options{Symmetry: true, Workers: 2})
	if res.Stats.Distinct != 126 {
		t.Fatalf("4x6: %d orbits", res.Stats.Distinct)
	}
}

func TestSymmetryConcreteCounterexample(t *testing.T) {
	m := counters{n: 4, k: 6}
	inv := Invariant{Name: "SumBelow13", Holds: func(s uint64) bool { return m.sum(s) < 13 }}
	plain := mustCheck(t, m, []Invariant{inv}, nil, Options{})
	sym := mustCheck(t, m, []Invariant{inv}, nil, Options{Symmetry: true})
	for _, res := range []*Result{plain, sym} {
		if len(res.Violations) != 1 || len(res.Violations[0].Trace) != 14 {
			t.Fatalf("violations %+v", res.Violations)
		}
		v := res.Violations[0]
		validPath(t, m, v.Trace, true)
		if inv.Holds(v.Trace[13].State) {
			t.Fatal("last state satisfies the invariant")
		}
	}
	if r := mustCheck(t, m, []Invariant{inv}, nil, Options{Symmetry: true, Workers: 3}); !reflect.DeepEqual(r.Violations, sym.Violations) {
		t.Fatal("symmetric counterexample depends on the number of workers")
	}
}

func TestSymmetryNeedsCanon(t *testing.T) {
	if _, err := Check(ring{k: 3}, nil, nil, Options{Symmetry: true}); err == nil {
		t.Fatal("want an error for a model without Canon")
	}
}

// mapBFS is the obvious sequential checker, used as an oracle.
func mapBFS[M Model](m M) (dist map[uint64]int, generated int64) {
	dist = map[uint64]int{}
	var q []uint64
	m.Init(func(s uint64) {
		if _, ok := dist[s]; !ok {
			dist[s] = 0
			q = append(q, s)
		}
	})
	for i := 0; i < len(q); i++ {
		s := q[i]
		m.Next(s, func(_ int, t uint64) {
			generated++
			if _, ok := dist[t]; !ok {
				dist[t] = dist[s] + 1
				q = append(q, t)
			}
		})
	}
	return dist, generated
}

func TestAgainstMapBFSWithGrowth(t *testing.T) {
	// 300k reachable-ish states from a table sized for far fewer: the
	// visited set grows several times while workers run.
	for _, seed := range []uint64{1, 2} {
		m := hashModel{n: 400_000, seed: seed}
		dist, gen := mapBFS(m)
		depth := 0
		for _, d := range dist {
			depth = max(depth, d)
		}
		target := uint64(0)
		for s, d := range dist {
			if d == depth {
				target = s
				break
			}
		}
		inv := Invariant{Name: "Avoid", Holds: func(s uint64) bool { return s != target }}
		for _, w := range []int{1, 2, 4} {
			res := mustCheck(t, m, nil, nil, Options{Workers: w, ExpectedStates: 1000})
			if res.Stats.Distinct != int64(len(dist)) || res.Stats.Generated != gen || res.Stats.Depth != depth+1 {
				t.Fatalf("seed %d workers %d: %+v, want %d distinct %d generated depth %d", seed, w, res.Stats, len(dist), gen, depth+1)
			}
			res = mustCheck(t, m, []Invariant{inv}, nil, Options{Workers: w, ExpectedStates: 1000})
			if len(res.Violations) != 1 || len(res.Violations[0].Trace) != depth+1 {
				t.Fatalf("seed %d: counterexample %+v, want length %d", seed, res.Violations, depth)
			}
			validPath(t, m, res.Violations[0].Trace, true)
		}
	}
}

func TestMemoryLimit(t *testing.T) {
	_, err := Check(hashModel{n: 2_000_000, seed: 3}, nil, nil, Options{MaxMemory: 4 << 20})
	if err == nil || !strings.Contains(err.Error(), "memory") {
		t.Fatalf("want a memory error, got %v", err)
	}
}

func TestReservedState(t *testing.T) {
	m := graphModel{init: []uint64{0}, nact: 1, succ: [][]edgeSpec{{{a: 0, t: reserved}}}}
	if _, err := Check(m, nil, nil, Options{}); err == nil || !strings.Contains(err.Error(), "reserved") {
		t.Fatalf("want a reserved-value error, got %v", err)
	}
}

// fairLimitOracle finds, by brute force over all subsets of a small graph,
// the states that lie in a weakly fair limit set: a set S of reachable
// states that is strongly connected using non-transient edges inside S (a
// single state needs a self-loop) in which every action is taken by a
// non-transient edge inside S or disabled (no edge at all, transient or
// not) in some state of S, or a deadlock state (stuttering).
func fairLimitOracle(g graphModel, reach map[uint64]int) map[uint64]bool {
	var states []uint64
	for s := range reach {
		states = append(states, s)
	}
	n := len(states)
	in := map[uint64]bool{}
	for mask := 1; mask < 1<<n; mask++ {
		member := map[uint64]bool{}
		for i := 0; i < n; i++ {
			if mask>>i&1 == 1 {
				member[states[i]] = true
			}
		}
		ok := true
		for a := 0; a < g.nact && ok; a++ {
			sat := false
			for s := range member {
				en := false
				for _, e := range g.succ[s] {
					en = en || e.a == a
					sat = sat || (e.a == a && !e.tr && member[e.t])
				}
				sat = sat || !en
			}
			ok = sat
		}
		if !ok {
			continue
		}
		// strongly connected with at least one edge inside
		var first uint64
		for s := range member {
			first = s
			break
		}
		reachIn := func(from uint64, rev bool) int {
			seen := map[uint64]bool{from: true}
			q := []uint64{from}
			for len(q) > 0 {
				u := q[0]
				q = q[1:]
				for v := range member {
					edge := false
					for _, e := range g.succ[u] {
						if !rev && !e.tr && e.t == v {
							edge = true
						}
					}
					for _, e := range g.succ[v] {
						if rev && !e.tr && e.t == u {
							edge = true
						}
					}
					if edge && !seen[v] {
						seen[v] = true
						q = append(q, v)
					}
				}
			}
			return len(seen)
		}
		if reachIn(first, false) != len(member) || reachIn(first, true) != len(member) {
			continue
		}
		cyclic := len(member) > 1
		for _, e := range g.succ[first] {
			cyclic = cyclic || !e.tr && e.t == first
		}
		if !cyclic {
			continue
		}
		for s := range member {
			in[s] = true
		}
	}
	for s := range reach {
		if len(g.succ[s]) == 0 {
			in[s] = true
		}
	}
	return in
}

func randomGraph(r *rand.Rand, n, nact int) graphModel {
	return randomGraphT(r, n, nact, false)
}

// randomGraphT is randomGraph with, if transient, about a quarter of the
// edges transient.
func randomGraphT(r *rand.Rand, n, nact int, transient bool) graphModel {
	g := graphModel{init: []uint64{0}, nact: nact, succ: make([][]edgeSpec, n)}
	if r.IntN(3) == 0 {
		g.init = append(g.init, uint64(r.IntN(n)))
	}
	for s := 0; s < n; s++ {
		deg := r.IntN(4)
		if r.IntN(8) == 0 {
			deg = 0
		}
		for k := 0; k < deg; k++ {
			g.succ[s] = append(g.succ[s], edgeSpec{r.IntN(nact), uint64(r.IntN(n)), transient && r.IntN(4) == 0})
		}
	}
	return g
}

func TestLivenessAgainstBruteForce(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 11))
	violations, holds := 0, 0
	for iter := 0; iter < 800; iter++ {
		n := 2 + r.IntN(9)
		g := randomGraphT(r, n, 1+r.IntN(3), iter%2 == 1)
		reach, _ := mapBFS(g)
		oracle := fairLimitOracle(g, reach)
		pmask := r.Uint64()
		p := func(s uint64) bool { return pmask>>s&1 == 1 }
		best := -1
		for s := range reach {
			if oracle[s] && !p(s) && (best < 0 || reach[s] < best) {
				best = reach[s]
			}
		}
		res := mustCheck(t, g, nil, []EventuallyAlways{{Name: "P", P: p}}, Options{NoDeadlock: true, Workers: 1 + iter%3})
		if best < 0 {
			holds++
			if !res.OK() {
				t.Fatalf("iter %d: false alarm %+v on %+v", iter, res.Violations, g)
			}
			continue
		}
		violations++
		if len(res.Violations) != 1 {
			t.Fatalf("iter %d: MISSED liveness violation on %+v (p=%b)", iter, g, pmask)
		}
		v := res.Violations[0]
		validLasso(t, g, v, p)
		if len(v.Trace)-1 != best {
			t.Fatalf("iter %d: prefix of %d steps, shortest is %d", iter, len(v.Trace)-1, best)
		}
		var sets int64
		want := 0
		res = mustCheck(t, g, nil, nil, Options{NoDeadlock: true, LimitSets: func(ls LimitSet) {
			sets++
			for _, s := range ls.States {
				if !oracle[s] {
					t.Fatalf("iter %d: limit set holds %d, which is in no fair limit set", iter, s)
				}
				want++
			}
		}})
		if want != len(oracle) {
			t.Fatalf("iter %d: limit sets cover %d states, oracle %d", iter, want, len(oracle))
		}
	}
	if violations < 100 || holds < 100 {
		t.Fatalf("unbalanced test: %d violations, %d holds", violations, holds)
	}
}

func TestDeterministicAcrossWorkers(t *testing.T) {
	m := hashModel{n: 100_000, seed: 9}
	inv := Invariant{Name: "Avoid", Holds: func(s uint64) bool { return s%9973 != 17 }}
	live := []EventuallyAlways{{Name: "Low", P: func(s uint64) bool { return s%7 != 3 }}}
	var first *Result
	for _, w := range []int{1, 2, 4, 2, 1} {
		res := mustCheck(t, m, []Invariant{inv}, live, Options{Workers: w, KeepGoing: true})
		if first == nil {
			first = res
			if len(res.Violations) != 2 {
				t.Fatalf("violations %+v", res.Violations)
			}
			validLasso(t, m, res.Violations[1], live[0].P)
			continue
		}
		if !reflect.DeepEqual(res.Violations, first.Violations) || res.Stats.Distinct != first.Stats.Distinct {
			t.Fatalf("workers=%d: results differ", w)
		}
	}
}

func TestProgressOutput(t *testing.T) {
	if testing.Short() {
		t.Skip("long")
	}
	var b strings.Builder
	res := mustCheck(t, slowModel{}, nil, nil, Options{Progress: &b})
	if res.Stats.Distinct != 3000 || !strings.Contains(b.String(), "distinct") {
		t.Fatalf("progress %q stats %+v", b.String(), res.Stats)
	}
}

// slowModel takes about 1.5 s: 3000 states, 0.5 ms each.
type slowModel struct{}

func (slowModel) Init(emit func(uint64)) { emit(0) }
func (slowModel) Next(s uint64, emit func(int, uint64)) {
	spin(500_000)
	if s+1 < 3000 {
		emit(0, s+1)
	} else {
		emit(0, 0)
	}
}
func (slowModel) Actions() []string { return []string{"step"} }

func TestWideFanOutGrowth(t *testing.T) {
	m := fan{w: 3000, f: 200}
	leaf := m.w + 1 + 1234*m.f + 7
	inv := Invariant{Name: "NotLeaf", Holds: func(s uint64) bool { return s != leaf }}
	for _, w := range []int{1, 2, 4} {
		res := mustCheck(t, m, []Invariant{inv}, nil, Options{Workers: w, KeepGoing: true})
		st := res.Stats
		n := int64(1 + m.w + m.w*m.f)
		if st.Distinct != n || st.Generated != int64(m.w+m.w*m.f)+int64(m.w*m.f) || st.Depth != 3 {
			t.Fatalf("workers %d: %+v", w, st)
		}
		if len(res.Violations) != 1 || len(res.Violations[0].Trace) != 3 || res.Violations[0].Trace[1].State != 1235 {
			t.Fatalf("violations %+v", res.Violations)
		}
	}
}

// Symmetry reduction on random identical automata: the number of canonical
// states equals the number of orbits among the reachable states (by brute
// force), and a symmetric invariant's counterexample is a concrete path of
// the same shortest length as without symmetry.
func TestSymmetryRandomAutomata(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 8))
	for iter := 0; iter < 60; iter++ {
		m := automata{n: 2 + r.IntN(3), k: 2 + r.IntN(5)}
		m.edges = make([][2]int, m.k)
		m.guard = make([]bool, m.k)
		for q := range m.edges {
			for a := 0; a < 2; a++ {
				m.edges[q][a] = r.IntN(m.k+1) - 1
			}
			m.guard[q] = r.IntN(2) == 0
		}
		dist, _ := mapBFS(m)
		orbits := map[uint64]int{}
		for s, d := range dist {
			if o, ok := orbits[m.Canon(s)]; !ok || d < o {
				orbits[m.Canon(s)] = d
			}
		}
		res := mustCheck(t, m, nil, nil, Options{Symmetry: true, NoDeadlock: true, Workers: 1 + iter%3})
		if res.Stats.Distinct != int64(len(orbits)) {
			t.Fatalf("iter %d: %d canonical states, %d orbits", iter, res.Stats.Distinct, len(orbits))
		}
		// An invariant that fails on the orbit farthest from the start.
		var far uint64
		fd := -1
		for c, d := range orbits {
			if d > fd || (d == fd && c < far) {
				far, fd = c, d
			}
		}
		inv := Invariant{Name: "NotFar", Holds: func(s uint64) bool { return m.Canon(s) != far }}
		for _, sym := range []bool{false, true} {
			res := mustCheck(t, m, []Invariant{inv}, nil, Options{Symmetry: sym, NoDeadlock: true})
			if len(res.Violations) != 1 || len(res.Violations[0].Trace) != fd+1 {
				t.Fatalf("iter %d sym=%v: %+v, want a trace of %d steps", iter, sym, res.Violations, fd)
			}
			validPath(t, m, res.Violations[0].Trace, true)
			if inv.Holds(res.Violations[0].Trace[fd].State) {
				t.Fatalf("iter %d: last state satisfies the invariant", iter)
			}
		}
	}
}
