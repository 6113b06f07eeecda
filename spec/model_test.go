package spec

import (
	"slices"
	"testing"

	"github.com/friendly-vm/fvm/configs"
	"github.com/friendly-vm/fvm/ref"
	"github.com/friendly-vm/fvm/sim"
	"github.com/friendly-vm/fvm/spec/mc"
)

// loadParams loads an embedded configuration's parameters.
func loadParams(t testing.TB, name string) *ref.Params {
	t.Helper()
	p, err := configs.LoadParams(name)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// tlcSized lists the configurations small enough to explore exhaustively in
// unit tests.
func tlcSized(t testing.TB) []string {
	var names []string
	for _, name := range configs.Names() {
		c, err := configs.Load(name)
		if err != nil {
			t.Fatal(err)
		}
		if c.Check.TLC {
			names = append(names, name)
		}
	}
	return names
}

// The packed model is a faithful encoding of ref: for every reachable state
// its successors, with their action labels, are exactly ref.Step's.
type lossVariant struct {
	name, config string
	loss         bool
}

// lossVariants is every configuration with and without Loss.
func lossVariants(names []string) []lossVariant {
	var out []lossVariant
	for _, n := range names {
		out = append(out, lossVariant{n, n, false}, lossVariant{n + "/loss", n, true})
	}
	return out
}

func TestModelAgreesWithRef(t *testing.T) {
	for _, run := range lossVariants(tlcSized(t)) {
		t.Run(run.name, func(t *testing.T) {
			p := loadParams(t, run.config)
			p.Loss = run.loss
			m, err := NewModel(p)
			if err != nil {
				t.Fatal(err)
			}
			n := p.N()
			seen := map[ref.State]bool{}
			queue := ref.Init(p)
			for _, s := range queue {
				seen[s] = true
			}
			type succ struct {
				action int
				state  uint64
			}
			var got, want []succ
			for len(queue) > 0 {
				s := queue[len(queue)-1]
				queue = queue[:len(queue)-1]
				x := m.Pack(s)
				if u := m.Unpack(x); u != s {
					t.Fatalf("Unpack(Pack(%s)) = %s", s.Format(n), u.Format(n))
				}
				want = want[:0]
				for _, a := range ref.Enabled(p, s) {
					next, err := ref.Step(p, s, a)
					if err != nil {
						t.Fatal(err)
					}
					label := 0
					if a.Kind == ref.Act {
						label = 1 + a.VM
					}
					want = append(want, succ{label, m.Pack(next)})
					if !seen[next] {
						seen[next] = true
						queue = append(queue, next)
					}
				}
				got = got[:0]
				full := false
				for i := 0; i < n; i++ {
					full = full || int(s.Q[i].Len) > p.FVMs[i].Delay
				}
				m.Next(x, func(a int, y uint64) {
					// A tick into a full FIFO (Loss) drops a sample: transient.
					if tr := a&mc.Transient != 0; tr != (a&^mc.Transient == 0 && full) {
						t.Fatalf("state %s: action %d transient %v, a FIFO full %v", s.Format(n), a&^mc.Transient, tr, full)
					}
					got = append(got, succ{a &^ mc.Transient, y})
				})
				cmp := func(a, b succ) int { return a.action - b.action }
				slices.SortFunc(got, cmp)
				slices.SortFunc(want, cmp)
				if !slices.Equal(got, want) {
					t.Fatalf("state %s: packed successors %v, ref successors %v", s.Format(n), got, want)
				}
			}
			t.Logf("%s: %d reachable states agree", run.name, len(seen))
		})
	}
}

// Canon picks one representative per orbit of the permutations of identical
// FVMs: permuting identical FVMs never changes it, and it is in the orbit.
func TestCanon(t *testing.T) {
	p := loadParams(t, "default")
	p.FVMs = append(p.FVMs, p.FVMs[0])
	p.FVMs[1].Alpha = 2 // FVMs 0, 2, 3 identical; 1 different
	m, err := NewModel(p)
	if err != nil {
		t.Fatal(err)
	}
	run, err := sim.Simulate(p, sim.Options{Seed: 3, Steps: 500})
	if err != nil {
		t.Fatal(err)
	}
	perms := [][4]int{{0, 1, 2, 3}, {2, 1, 0, 3}, {3, 1, 2, 0}, {0, 1, 3, 2}, {2, 1, 3, 0}, {3, 1, 0, 2}}
	for _, st := range run.Steps {
		c := m.Canon(m.Pack(st.State))
		if m.Canon(c) != c {
			t.Fatalf("Canon not idempotent at %s", st.State.Format(4))
		}
		inOrbit := false
		for _, pm := range perms {
			var q ref.State
			for i, j := range pm {
				q.D[i], q.Q[i] = st.State.D[j], st.State.Q[j]
			}
			if m.Canon(m.Pack(q)) != c {
				t.Fatalf("permutation %v of %s has another canonical form", pm, st.State.Format(4))
			}
			inOrbit = inOrbit || m.Pack(q) == c
		}
		if !inOrbit {
			t.Fatalf("Canon(%s) = %s is not a permutation of it", st.State.Format(4), m.Format(c))
		}
		if m.Unpack(c).D[1] != st.State.D[1] || m.Unpack(c).Q[1] != st.State.Q[1] {
			t.Fatalf("Canon moved the non-identical FVM 1: %s -> %s", st.State.Format(4), m.Format(c))
		}
	}
}

func TestNewModelTooWide(t *testing.T) {
	p := loadParams(t, "default")
	for len(p.FVMs) < ref.MaxN {
		p.FVMs = append(p.FVMs, p.FVMs[0])
	}
	_, err := NewModel(p)
	if err == nil {
		t.Fatal("8 FVMs with 5-bit demands and D=2 packed into 64 bits")
	}
	t.Log(err)
}

// The packed property helpers agree with ref on every state of a run.
func TestProjectedAndSumAgreeWithRef(t *testing.T) {
	for _, name := range []string{"default", "hetero-delay", "duty-vct", "aiad", "mimd", "prop-pair", "phase-pair"} {
		p := loadParams(t, name)
		m, err := NewModel(p)
		if err != nil {
			t.Fatal(err)
		}
		run, err := sim.Simulate(p, sim.Options{Seed: 11, Steps: 2000})
		if err != nil {
			t.Fatal(err)
		}
		for _, st := range run.Steps {
			x := m.Pack(st.State)
			sum := 0
			for i := 0; i < p.N(); i++ {
				sum += int(st.State.D[i])
				if got, want := m.Projected(x, i), ref.Projected(p, st.State, i); got != want {
					t.Fatalf("%s: Projected(%s, %d) = %d, ref says %d", name, st.State.FormatRule(p.N(), p.Rule), i, got, want)
				}
			}
			if m.Sum(x) != sum {
				t.Fatalf("%s: Sum(%s) = %d, want %d", name, st.State.Format(p.N()), m.Sum(x), sum)
			}
		}
	}
}

// Rotating the FVMs together with the phase is an automorphism of the
// aimd-phase model (what FairShares uses, symmetricSet): over every
// reachable state of phase-pair and of a three-FVM, three-phase variant,
// the rotated state is reachable, and its successors are the rotations of
// the state's successors, with Act(i) relabelled Act(i+1).
func TestRotationIsASymmetry(t *testing.T) {
	three := loadParams(t, "phase-pair")
	three.FVMs = append(three.FVMs, three.FVMs[0])
	three.Phases, three.U, three.Capacity, three.Dmax, three.FVMs[0].Delay = 3, 8, 8, 8, 1
	three.FVMs[1].Delay, three.FVMs[2].Delay = 1, 1
	for _, p := range []*ref.Params{loadParams(t, "phase-pair"), three} {
		m, err := NewModel(p)
		if err != nil {
			t.Fatal(err)
		}
		if !m.rotates() {
			t.Fatal("rotates() is false under aimd-phase")
		}
		reach := map[uint64]bool{}
		var queue []uint64
		m.Init(func(s uint64) {
			if !reach[s] {
				reach[s] = true
				queue = append(queue, s)
			}
		})
		for len(queue) > 0 {
			s := queue[len(queue)-1]
			queue = queue[:len(queue)-1]
			m.Next(s, func(_ int, y uint64) {
				if !reach[y] {
					reach[y] = true
					queue = append(queue, y)
				}
			})
		}
		type succ struct {
			a int
			s uint64
		}
		succs := func(s uint64) map[succ]bool {
			out := map[succ]bool{}
			m.Next(s, func(a int, y uint64) { out[succ{a &^ mc.Transient, y}] = true })
			return out
		}
		n := p.N()
		for s := range reach {
			r := m.rotate(s)
			if !reach[r] {
				t.Fatalf("rotation of reachable %s is unreachable", m.Format(s))
			}
			want := map[succ]bool{}
			for x := range succs(s) {
				a := x.a
				if a > 0 {
					a = 1 + a%n // Act(i) -> Act(i+1): label 1+i -> 1+(i+1)%n
				}
				want[succ{a, m.rotate(x.s)}] = true
			}
			got := succs(r)
			if len(got) != len(want) {
				t.Fatalf("%s: %d successors of the rotation, %d rotated successors", m.Format(s), len(got), len(want))
			}
			for x := range got {
				if !want[x] {
					t.Fatalf("%s: the rotation has successor %v (%s) that no successor rotates to", m.Format(s), x.a, m.Format(x.s))
				}
			}
		}
		t.Logf("n=%d, %d phases: %d reachable states, rotation an automorphism", n, p.Phases, len(reach))
	}
}
