package mc

import (
	"slices"
)

// ring is a counter mod k: one action, init 0.
type ring struct{ k uint64 }

func (r ring) Init(emit func(uint64)) { emit(0) }
func (r ring) Next(s uint64, emit func(int, uint64)) {
	emit(0, (s+1)%r.k)
}
func (r ring) Actions() []string { return []string{"inc"} }

// pair is two independent counters mod a and b: state x | y<<32.
type pair struct{ a, b uint64 }

func (p pair) Init(emit func(uint64)) { emit(0) }
func (p pair) Next(s uint64, emit func(int, uint64)) {
	x, y := s&0xffffffff, s>>32
	emit(0, (x+1)%p.a|y<<32)
	emit(1, x|((y+1)%p.b)<<32)
}
func (p pair) Actions() []string { return []string{"incX", "incY"} }

// line is 0 -> 1 -> ... -> n; n has no successor (a deadlock), unless loop
// is set, in which case n has a self-loop.
type line struct {
	n    uint64
	loop bool
}

func (l line) Init(emit func(uint64)) { emit(0) }
func (l line) Next(s uint64, emit func(int, uint64)) {
	if s < l.n {
		emit(0, s+1)
	} else if l.loop {
		emit(0, s)
	}
}
func (l line) Actions() []string { return []string{"step"} }

// graphModel is an explicit graph: succ[s] lists (action, target).
type graphModel struct {
	init []uint64
	succ [][]edgeSpec
	nact int
}

type edgeSpec struct {
	a  int
	t  uint64
	tr bool // transient
}

func (g graphModel) Init(emit func(uint64)) {
	for _, s := range g.init {
		emit(s)
	}
}
func (g graphModel) Next(s uint64, emit func(int, uint64)) {
	for _, e := range g.succ[s] {
		a := e.a
		if e.tr {
			a |= Transient
		}
		emit(a, e.t)
	}
}
func (g graphModel) Actions() []string {
	names := make([]string, g.nact)
	for i := range names {
		names[i] = string(rune('a' + i))
	}
	return names
}

// counters is n identical counters mod k (8 bits each); action i
// increments counter i. Symmetric under permutations of the counters.
type counters struct{ n, k int }

func (c counters) get(s uint64, i int) uint64 { return s >> (8 * i) & 0xff }
func (c counters) Init(emit func(uint64))     { emit(0) }
func (c counters) Next(s uint64, emit func(int, uint64)) {
	for i := 0; i < c.n; i++ {
		v := c.get(s, i)
		nv := (v + 1) % uint64(c.k)
		emit(i, s&^(0xff<<(8*i))|nv<<(8*i))
	}
}
func (c counters) Actions() []string {
	names := make([]string, c.n)
	for i := range names {
		names[i] = "inc" + string(rune('0'+i))
	}
	return names
}
func (c counters) Canon(s uint64) uint64 {
	vs := make([]uint64, c.n)
	for i := range vs {
		vs[i] = c.get(s, i)
	}
	slices.Sort(vs)
	var r uint64
	for i, v := range vs {
		r |= v << (8 * i)
	}
	return r
}
func (c counters) sum(s uint64) uint64 {
	var t uint64
	for i := 0; i < c.n; i++ {
		t += c.get(s, i)
	}
	return t
}

// hashModel is a pseudo-random graph over [0,n): state s has 1..4 successors
// given by a hash; init is {0, 1}.
type hashModel struct {
	n    uint64
	seed uint64
}

func (h hashModel) Init(emit func(uint64)) { emit(0); emit(1) }
func (h hashModel) Next(s uint64, emit func(int, uint64)) {
	x := mix(s ^ h.seed)
	deg := int(x%4) + 1
	for i := 0; i < deg; i++ {
		x = mix(x + uint64(i) + 1)
		emit(i, x%h.n)
	}
}
func (h hashModel) Actions() []string { return []string{"a0", "a1", "a2", "a3"} }

// fan: 0 -> 1..w; each i in 1..w -> w+1+(i-1)*f .. +f-1 (f fresh states);
// the leaves loop. Wide levels with high fan-out fill the table between two
// flushes, exercising the overflow path while the table grows.
type fan struct{ w, f uint64 }

func (m fan) Init(emit func(uint64)) { emit(0) }
func (m fan) Next(s uint64, emit func(int, uint64)) {
	switch {
	case s == 0:
		for i := uint64(1); i <= m.w; i++ {
			emit(0, i)
		}
	case s <= m.w:
		for j := uint64(0); j < m.f; j++ {
			emit(1, m.w+1+(s-1)*m.f+j)
		}
	default:
		emit(2, s)
	}
}
func (m fan) Actions() []string { return []string{"spread", "fan", "loop"} }

// automata is n identical copies of one small random automaton (states
// 0..k-1, 8 bits per copy); action a*n+i moves copy i along its edge a.
// Some moves are guarded by "some other copy is in state 0", a condition
// every permutation of the copies preserves, so the system is symmetric.
type automata struct {
	n, k  int
	edges [][2]int // edges[q] = targets of moves 0 and 1 from q (-1: none)
	guard []bool   // guard[q]: move 1 from q needs some other copy at 0
}

func (m automata) get(s uint64, i int) int { return int(s >> (8 * i) & 0xff) }
func (m automata) Init(emit func(uint64))  { emit(0) }
func (m automata) Next(s uint64, emit func(int, uint64)) {
	for i := 0; i < m.n; i++ {
		q := m.get(s, i)
		otherZero := false
		for j := 0; j < m.n; j++ {
			otherZero = otherZero || (j != i && m.get(s, j) == 0)
		}
		for a := 0; a < 2; a++ {
			t := m.edges[q][a]
			if t < 0 || (a == 1 && m.guard[q] && !otherZero) {
				continue
			}
			emit(a*m.n+i, s&^(0xff<<(8*i))|uint64(t)<<(8*i))
		}
	}
}
func (m automata) Actions() []string {
	names := make([]string, 2*m.n)
	for i := range names {
		names[i] = string(rune('a' + i))
	}
	return names
}
func (m automata) Canon(s uint64) uint64 {
	vs := make([]int, m.n)
	for i := range vs {
		vs[i] = m.get(s, i)
	}
	slices.Sort(vs)
	var r uint64
	for i, v := range vs {
		r |= uint64(v) << (8 * i)
	}
	return r
}
