package mc

import (
	"fmt"
	"sync"
	"sync/atomic"
)

// counterexample rebuilds the shortest, deterministic, concrete path to a
// safety finding.
func (e *engine[M]) counterexample(f finding) (Violation, error) {
	v := Violation{Kind: KindInvariant}
	if f.prop == len(e.invs) {
		v.Kind = KindDeadlock
		v.Property = "Deadlock"
	} else {
		v.Property = e.invs[f.prop].Name
	}
	chain, err := e.chain(f.state, f.depth)
	if err != nil {
		return v, fmt.Errorf("mc: counterexample to %s: %w", v.Property, err)
	}
	v.Trace, err = e.concretize(chain)
	if err != nil {
		return v, fmt.Errorf("mc: counterexample to %s: %w", v.Property, err)
	}
	last := v.Trace[len(v.Trace)-1].State
	switch v.Kind {
	case KindInvariant:
		if e.invs[f.prop].Holds(last) {
			return v, fmt.Errorf("mc: invariant %s is not symmetric: it fails on canonical state %#x but holds on the concrete state %#x of its orbit", v.Property, f.state, last)
		}
	case KindDeadlock:
		n := 0
		e.m.Next(last, func(int, uint64) { n++ })
		if n != 0 {
			return v, fmt.Errorf("mc: model is not symmetric: canonical state %#x is a deadlock but the concrete state %#x of its orbit has successors", f.state, last)
		}
	}
	return v, nil
}

func (e *engine[M]) canonOf(s uint64) uint64 {
	if e.canon != nil {
		return e.canon(s)
	}
	return s
}

// chain returns stored states c[0..depth] with c[depth] = target and, for
// each d, c[d] the smallest state of level d with a successor whose canonical
// form is c[d+1].
func (e *engine[M]) chain(target uint64, depth int) ([]uint64, error) {
	ch := make([]uint64, depth+1)
	ch[depth] = target
	for d := depth - 1; d >= 0; d-- {
		p, ok := e.smallestPred(e.levels[d], ch[d+1])
		if !ok {
			return nil, fmt.Errorf("no predecessor of %#x at depth %d (is Next deterministic?)", ch[d+1], d)
		}
		ch[d] = p
	}
	return ch, nil
}

// smallestPred scans a level in parallel for the smallest state with a
// successor equivalent to want.
func (e *engine[M]) smallestPred(level [][]uint64, want uint64) (uint64, bool) {
	var best atomic.Uint64 // state+1, 0 = none
	var next atomic.Int64
	var wg sync.WaitGroup
	for w := 0; w < e.nw; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			hit := false
			emit := func(_ int, t uint64) {
				if !hit && e.canonOf(t) == want {
					hit = true
				}
			}
			for {
				i := next.Add(1) - 1
				if i >= int64(len(level)) {
					return
				}
				for _, p := range level[i] {
					hit = false
					e.m.Next(p, emit)
					if hit {
						atomicMin(&best, p+1)
					}
				}
			}
		}()
	}
	wg.Wait()
	b := best.Load()
	return b - 1, b != 0
}

// concretize turns a chain of stored (possibly canonical) states into a real
// path of the model: the smallest initial state in the orbit of ch[0], then
// at each step the first successor (in emit order) in the orbit of the next
// chain state.
func (e *engine[M]) concretize(ch []uint64) ([]Step, error) {
	var s0 uint64
	found := false
	e.m.Init(func(s uint64) {
		if e.canonOf(s) == ch[0] && (!found || s < s0) {
			s0, found = s, true
		}
	})
	if !found {
		return nil, fmt.Errorf("no initial state is equivalent to %#x", ch[0])
	}
	steps := make([]Step, 1, len(ch))
	steps[0] = Step{Action: Init, State: s0}
	cur := s0
	for i := 1; i < len(ch); i++ {
		got := false
		var st Step
		e.m.Next(cur, func(a int, t uint64) {
			if !got && e.canonOf(t) == ch[i] {
				got = true
				st = Step{Action: a, State: t}
			}
		})
		if !got {
			return nil, fmt.Errorf("model is not symmetric: %#x has no successor equivalent to %#x", cur, ch[i])
		}
		steps = append(steps, st)
		cur = st.State
	}
	return steps, nil
}
