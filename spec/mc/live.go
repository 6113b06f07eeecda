package mc

import (
	"fmt"
	"math"
	"slices"
	"sort"
	"sync"
	"sync/atomic"
	"time"
)

// graph is the explicit reachable state graph in CSR form. States are
// numbered by BFS level, then by value, so a smaller id is never farther from
// the initial states.
type graph struct {
	// tab and idOf map a state to its id: idOf[tab.find(s)].
	tab        *table
	idOf       []uint32
	states     []uint64
	levelStart []int64 // ids of level d are levelStart[d] .. levelStart[d+1]-1
	off        []int64 // edges of u are off[u] .. off[u+1]-1
	to         []uint32
	act        []uint16
}

func (g *graph) bytes() int64 { return graphBytes(int64(len(g.states)), int64(len(g.to))) }

// graphBytes is the size of the CSR graph of states and edges: a state
// and an offset per state, a target and an action per edge.
func graphBytes(states, edges int64) int64 { return states*(8+8) + edges*(4+2) }

// LivenessPeakBytes is a lower bound on the liveness check's peak memory
// for a graph of states and edges after a search whose tables took
// searchBytes: while the graph is assembled the search's tables, the
// graph, a state-to-id map (at least 4 bytes a state) and the edge chunks
// being copied (6 bytes an edge) are all live.
func LivenessPeakBytes(searchBytes, states, edges int64) int64 {
	return searchBytes + graphBytes(states, edges) + states*4 + edges*(4+2)
}

// liveness builds the graph, finds the limit sets, and checks the
// eventually-always properties.
func (e *engine[M]) liveness(live []EventuallyAlways, res *Result) error {
	t0 := time.Now()
	var done atomic.Int64 // states of the current phase processed
	total := e.tab.Load().count.Load()
	stop := e.phaseProgress(t0, func() string {
		return fmt.Sprintf("graph: edges of %d of %d states collected", done.Load(), total)
	})
	g, err := e.buildGraph(&done)
	stop()
	if err != nil {
		return err
	}
	e.progressf(t0, "mc: liveness: graph of %d states and %d edges built in %v", len(g.states), len(g.to), time.Since(t0).Round(time.Millisecond))
	done.Store(0)
	stop = e.phaseProgress(t0, func() string {
		return fmt.Sprintf("components: %d of %d states visited", done.Load(), total)
	})
	comp, ncomp := g.tarjan(&done)
	stop()
	e.peak = max(e.peak, g.bytes()+int64(len(g.states))*16)
	an := g.analyse(comp, ncomp, len(e.m.Actions()))
	res.Stats.Edges = int64(len(g.to))
	res.Stats.SCCs = int64(ncomp)
	res.Stats.LimitSets = int64(an.nfair)
	e.progressf(t0, "mc: liveness: %d SCCs, %d limit sets (%v)", ncomp, an.nfair, time.Since(t0).Round(time.Millisecond))

	nact := len(e.m.Actions())
	lasso := func(name string, bad uint32) Violation {
		v := Violation{Kind: KindLiveness, Property: name, Trace: g.prefix(bad)}
		if an.stutter[comp[bad]] {
			v.Stutter = true
		} else {
			v.Cycle = g.fairCycle(bad, comp, an, nact)
		}
		return v
	}
	for _, l := range live {
		bad := -1
		for u := range g.states {
			if an.fair[comp[u]] && !l.P(g.states[u]) {
				bad = u
				break
			}
		}
		if bad < 0 {
			res.Verdicts = append(res.Verdicts, Verdict{Name: l.Name, Kind: KindLiveness, Status: Holds})
			continue
		}
		res.Verdicts = append(res.Verdicts, Verdict{Name: l.Name, Kind: KindLiveness, Status: Violated})
		res.Violations = append(res.Violations, lasso(l.Name, uint32(bad)))
	}
	props := e.opt.LimitSetProperties
	if len(props) > 0 || e.opt.LimitSets != nil {
		bad := make([]int64, len(props))
		for i := range bad {
			bad[i] = -1
		}
		g.limitSets(comp, ncomp, an, func(ls LimitSet) {
			for i, lp := range props {
				if bad[i] < 0 && !lp.Holds(ls) {
					bad[i] = int64(ls.first)
				}
			}
			if e.opt.LimitSets != nil {
				e.opt.LimitSets(ls)
			}
		})
		for i, lp := range props {
			if bad[i] < 0 {
				res.Verdicts = append(res.Verdicts, Verdict{Name: lp.Name, Kind: KindLiveness, Status: Holds})
				continue
			}
			res.Verdicts = append(res.Verdicts, Verdict{Name: lp.Name, Kind: KindLiveness, Status: Violated})
			res.Violations = append(res.Violations, lasso(lp.Name, uint32(bad[i])))
		}
	}
	return nil
}

// phaseProgress prints "mc: liveness: <line()>" every five seconds until
// the returned function is called: the liveness phases after the search
// take minutes on large graphs and would otherwise be silent.
func (e *engine[M]) phaseProgress(t0 time.Time, line func() string) (stop func()) {
	if e.opt.Progress == nil {
		return func() {}
	}
	return every(5*time.Second, func(now time.Time) {
		fmt.Fprintf(e.opt.Progress, "mc: %6.1fs liveness: %s\n", now.Sub(t0).Seconds(), line())
	})
}

func (e *engine[M]) progressf(t0 time.Time, format string, args ...any) {
	if e.opt.Progress != nil && time.Since(t0) > time.Second {
		fmt.Fprintf(e.opt.Progress, format+"\n", args...)
	}
}

// buildGraph numbers the states and collects every edge.
func (e *engine[M]) buildGraph(done *atomic.Int64) (*graph, error) {
	tab := e.tab.Load()
	n := tab.count.Load()
	if n >= math.MaxUint32 {
		return nil, fmt.Errorf("mc: liveness supports at most %d states, the model has %d", math.MaxUint32-1, n)
	}
	g := &graph{states: make([]uint64, 0, n), levelStart: make([]int64, 0, len(e.levels)+1)}
	for _, lv := range e.levels {
		from := len(g.states)
		g.levelStart = append(g.levelStart, int64(from))
		for _, seg := range lv {
			g.states = append(g.states, seg...)
		}
		slices.Sort(g.states[from:])
	}
	g.levelStart = append(g.levelStart, int64(len(g.states)))
	e.levels = nil // the graph replaces the level lists
	idOf := make([]uint32, tab.n)
	e.peak = max(e.peak, e.searchBytes()+int64(len(g.states))*8+int64(len(idOf))*4)
	parallelRange(e.nw, len(g.states), 1<<14, func(lo, hi int) {
		for u := lo; u < hi; u++ {
			idOf[tab.find(g.states[u])] = uint32(u)
		}
	})

	const chunk = 1 << 13
	nchunks := (len(g.states) + chunk - 1) / chunk
	type part struct {
		deg []uint32
		to  []uint32
		act []uint16
	}
	parts := make([]part, nchunks)
	var next atomic.Int64
	var edges atomic.Int64
	var failed, nondet atomic.Bool
	var wg sync.WaitGroup
	for w := 0; w < e.nw; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var p *part
			emit := func(a int, t uint64) {
				slot := tab.find(t)
				if slot < 0 {
					nondet.Store(true)
					return
				}
				p.to = append(p.to, idOf[slot])
				p.act = append(p.act, uint16(a))
			}
			for !failed.Load() {
				c := int(next.Add(1) - 1)
				if c >= nchunks {
					return
				}
				p = &parts[c]
				lo, hi := c*chunk, min((c+1)*chunk, len(g.states))
				p.deg = make([]uint32, hi-lo)
				for u := lo; u < hi; u++ {
					before := len(p.to)
					e.m.Next(g.states[u], emit)
					p.deg[u-lo] = uint32(len(p.to) - before)
				}
				done.Add(int64(hi - lo))
				tot := edges.Add(int64(len(p.to)))
				if e.searchBytes()+int64(len(g.states))*12+tot*12 > e.maxMem {
					failed.Store(true)
				}
			}
		}()
	}
	wg.Wait()
	ne := edges.Load()
	if nondet.Load() {
		return nil, fmt.Errorf("mc: building the liveness graph: Next emitted a state the search never reached (is Next deterministic?)")
	}
	if failed.Load() {
		return nil, fmt.Errorf("mc: out of memory budget building the liveness graph (%d states, more than %d edges; limit %d MiB)", len(g.states), ne, e.maxMem>>20)
	}
	g.off = make([]int64, len(g.states)+1)
	g.to = make([]uint32, 0, ne)
	g.act = make([]uint16, 0, ne)
	u := 0
	for i := range parts {
		for _, d := range parts[i].deg {
			g.off[u+1] = g.off[u] + int64(d)
			u++
		}
		g.to = append(g.to, parts[i].to...)
		g.act = append(g.act, parts[i].act...)
		parts[i] = part{}
	}
	e.peak = max(e.peak, e.searchBytes()+g.bytes()+int64(len(idOf))*4+ne*6)
	g.tab, g.idOf = tab, idOf
	return g, nil
}

// parallelRange calls f on consecutive ranges of [0,n) from nw goroutines.
func parallelRange(nw, n, chunk int, f func(lo, hi int)) {
	var next atomic.Int64
	var wg sync.WaitGroup
	for w := 0; w < nw; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				lo := int(next.Add(int64(chunk)) - int64(chunk))
				if lo >= n {
					return
				}
				f(lo, min(lo+chunk, n))
			}
		}()
	}
	wg.Wait()
}

const noComp = math.MaxUint32

// tarjan computes strongly connected components iteratively (an explicit
// call stack instead of recursion). comp[u] is u's component; components are
// numbered in the order Tarjan completes them.
func (g *graph) tarjan(done *atomic.Int64) (comp []uint32, ncomp int) {
	n := len(g.states)
	index := make([]uint32, n) // 0 = unvisited, else DFS number + 1
	low := make([]uint32, n)
	comp = make([]uint32, n)
	for i := range comp {
		comp[i] = noComp
	}
	var stack []uint32
	type frame struct {
		v uint32
		e int64
	}
	var call []frame
	counter := uint32(0)
	visit := func(v uint32) {
		counter++
		if counter&(1<<16-1) == 0 {
			done.Store(int64(counter))
		}
		index[v], low[v] = counter, counter
		stack = append(stack, v)
		call = append(call, frame{v, g.off[v]})
	}
	for root := 0; root < n; root++ {
		if index[root] != 0 {
			continue
		}
		visit(uint32(root))
		for len(call) > 0 {
			f := &call[len(call)-1]
			v := f.v
			if f.e < g.off[v+1] {
				w := g.to[f.e]
				transient := g.act[f.e]&Transient != 0
				f.e++
				if transient {
					continue
				}
				if index[w] == 0 {
					visit(w)
				} else if comp[w] == noComp && index[w] < low[v] {
					low[v] = index[w]
				}
				continue
			}
			call = call[:len(call)-1]
			if low[v] == index[v] {
				for {
					x := stack[len(stack)-1]
					stack = stack[:len(stack)-1]
					comp[x] = uint32(ncomp)
					if x == v {
						break
					}
				}
				ncomp++
			}
			if len(call) > 0 {
				p := call[len(call)-1].v
				if low[v] < low[p] {
					low[p] = low[v]
				}
			}
		}
	}
	return comp, ncomp
}

// analysis classifies the components.
type analysis struct {
	words    int      // uint64 words per action set
	taken    []uint64 // per component: actions with an edge inside it
	disabled []uint64 // per component: actions disabled in one of its states
	fair     []bool   // limit set of a weakly fair behaviour
	stutter  []bool   // a deadlock state
	nfair    int
}

func (g *graph) analyse(comp []uint32, ncomp, nact int) *analysis {
	words := (nact + 63) / 64
	an := &analysis{
		words:    words,
		taken:    make([]uint64, ncomp*words),
		disabled: make([]uint64, ncomp*words),
		fair:     make([]bool, ncomp),
		stutter:  make([]bool, ncomp),
	}
	size := make([]uint32, ncomp)
	cyclic := make([]bool, ncomp)
	all := actionMask(nact, words)
	enabled := make([]uint64, words)
	for u := range g.states {
		c := int(comp[u])
		size[c]++
		clear(enabled)
		for k := g.off[u]; k < g.off[u+1]; k++ {
			a := int(g.act[k] & labelMask)
			enabled[a/64] |= 1 << (a % 64)
			if g.act[k]&Transient == 0 && comp[g.to[k]] == uint32(c) {
				an.taken[c*words+a/64] |= 1 << (a % 64)
				if g.to[k] == uint32(u) {
					cyclic[c] = true
				}
			}
		}
		for i := range words {
			an.disabled[c*words+i] |= all[i] &^ enabled[i]
		}
		if g.off[u] == g.off[u+1] {
			an.stutter[c] = true
		}
	}
	for c := 0; c < ncomp; c++ {
		if size[c] > 1 {
			cyclic[c] = true
		}
		ok := true
		for i := range words {
			if an.taken[c*words+i]|an.disabled[c*words+i] != all[i] {
				ok = false
			}
		}
		an.fair[c] = an.stutter[c] || (cyclic[c] && ok)
		if an.fair[c] {
			an.nfair++
		}
	}
	return an
}

func actionMask(nact, words int) []uint64 {
	m := make([]uint64, words)
	for a := 0; a < nact; a++ {
		m[a/64] |= 1 << (a % 64)
	}
	return m
}

func (g *graph) depthOf(u uint32) int {
	return sort.Search(len(g.levelStart)-1, func(d int) bool { return g.levelStart[d+1] > int64(u) })
}

// prefix is a shortest path from an initial state to target: each state's
// predecessor is the smallest-id state one level up with an edge to it (the
// first edge in CSR order gives the action).
func (g *graph) prefix(target uint32) []Step {
	d := g.depthOf(target)
	ids := make([]uint32, d+1)
	acts := make([]int, d+1)
	ids[d] = target
	acts[0] = Init
	for lvl := d - 1; lvl >= 0; lvl-- {
		want := ids[lvl+1]
	scan:
		for u := g.levelStart[lvl]; u < g.levelStart[lvl+1]; u++ {
			for k := g.off[u]; k < g.off[u+1]; k++ {
				if g.to[k] == want {
					ids[lvl] = uint32(u)
					acts[lvl+1] = int(g.act[k] & labelMask)
					break scan
				}
			}
		}
	}
	steps := make([]Step, d+1)
	for i := range steps {
		steps[i] = Step{Action: acts[i], State: g.states[ids[i]]}
	}
	return steps
}

// fairCycle builds a cycle inside s's component from s back to s that, for
// every action, takes an edge of it or passes a state where it is disabled.
// It chains shortest in-component paths, handling the actions in label order,
// so it is deterministic.
func (g *graph) fairCycle(s uint32, comp []uint32, an *analysis, nact int) []Step {
	c := comp[s]
	words := an.words
	done := make([]uint64, words) // actions satisfied so far
	enabled := make([]uint64, words)
	markState := func(u uint32) {
		clear(enabled)
		for k := g.off[u]; k < g.off[u+1]; k++ {
			a := int(g.act[k] & labelMask)
			enabled[a/64] |= 1 << (a % 64)
		}
		for i := range words {
			done[i] |= ^enabled[i]
		}
	}
	var path []Step
	cur := s
	take := func(k int64) {
		a := int(g.act[k] & labelMask)
		done[a/64] |= 1 << (a % 64)
		cur = g.to[k]
		markState(cur)
		path = append(path, Step{Action: a, State: g.states[cur]})
	}
	b := newBFS(len(g.states))
	markState(s)
	for a := 0; a < nact; a++ {
		if done[a/64]&(1<<(a%64)) != 0 {
			continue
		}
		// Go to the nearest state where a is disabled or has an edge inside
		// the component, and take that edge.
		edge := int64(-1)
		goal := func(u uint32) bool {
			has := false
			for k := g.off[u]; k < g.off[u+1]; k++ {
				if int(g.act[k]&labelMask) == a {
					has = true
					if g.act[k]&Transient == 0 && comp[g.to[k]] == c {
						edge = k
						return true
					}
				}
			}
			return !has
		}
		for _, k := range b.path(g, comp, c, cur, false, goal) {
			take(k)
		}
		if edge >= 0 {
			take(edge)
		}
	}
	if cur != s || len(path) == 0 {
		for _, k := range b.path(g, comp, c, cur, cur == s, func(u uint32) bool { return u == s }) {
			take(k)
		}
	}
	return path
}

// bfs is reusable scratch space for shortest paths inside a component.
type bfs struct {
	stamp  []uint32
	via    []int64  // edge used to reach a state
	from   []uint32 // state that edge leaves
	queue  []uint32
	epoch  uint32
	result []int64
}

func newBFS(n int) *bfs {
	return &bfs{stamp: make([]uint32, n), via: make([]int64, n), from: make([]uint32, n)}
}

// path returns the edges of a shortest path inside component c from src to
// the first state (in BFS order) satisfying goal; with step the path has at
// least one edge (src itself is a candidate only when reached again).
func (b *bfs) path(g *graph, comp []uint32, c uint32, src uint32, step bool, goal func(uint32) bool) []int64 {
	b.epoch++
	b.queue = b.queue[:0]
	b.result = b.result[:0]
	if !step {
		if goal(src) {
			return nil
		}
		b.stamp[src] = b.epoch
	}
	found := int64(-1)
	expand := func(u uint32) bool {
		for k := g.off[u]; k < g.off[u+1]; k++ {
			v := g.to[k]
			if g.act[k]&Transient != 0 || comp[v] != c || b.stamp[v] == b.epoch {
				continue
			}
			b.stamp[v] = b.epoch
			b.via[v], b.from[v] = k, u
			if goal(v) {
				found = int64(v)
				return true
			}
			b.queue = append(b.queue, v)
		}
		return false
	}
	if !expand(src) {
		for i := 0; i < len(b.queue); i++ {
			if expand(b.queue[i]) {
				break
			}
		}
	}
	if found < 0 {
		panic("mc: internal error: no path inside a strongly connected component")
	}
	for v := uint32(found); ; {
		b.result = append(b.result, b.via[v])
		if b.from[v] == src {
			break
		}
		v = b.from[v]
	}
	slices.Reverse(b.result)
	return b.result
}

// limitSets reports every fair component to f, in BFS order of their first
// state.
func (g *graph) limitSets(comp []uint32, ncomp int, an *analysis, f func(LimitSet)) {
	// Bucket the states by component (counting sort keeps BFS order).
	start := make([]int64, ncomp+1)
	for _, c := range comp {
		start[c+1]++
	}
	for c := 0; c < ncomp; c++ {
		start[c+1] += start[c]
	}
	members := make([]uint32, len(comp))
	fill := slices.Clone(start[:ncomp])
	for u, c := range comp {
		members[fill[c]] = uint32(u)
		fill[c]++
	}
	local := make([]int32, len(comp))
	reported := make([]bool, ncomp)
	for u := range g.states {
		c := comp[u]
		if !an.fair[c] || reported[c] {
			continue
		}
		reported[c] = true
		ms := members[start[c]:start[c+1]]
		ls := LimitSet{first: ms[0], States: make([]uint64, len(ms)), Stutter: an.stutter[c], Contains: func(s uint64) bool {
			slot := g.tab.find(s)
			return slot >= 0 && comp[g.idOf[slot]] == c
		}}
		for i, v := range ms {
			local[v] = int32(i)
			ls.States[i] = g.states[v]
		}
		for _, v := range ms {
			for k := g.off[v]; k < g.off[v+1]; k++ {
				if g.act[k]&Transient == 0 && comp[g.to[k]] == c {
					ls.Edges = append(ls.Edges, Edge{From: local[v], To: local[g.to[k]], Action: int(g.act[k])})
				}
			}
		}
		f(ls)
	}
}
