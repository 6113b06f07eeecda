package proofs

import (
	"math"
	"testing"

	"pgregory.net/rapid"

	"github.com/friendly-vm/fvm/configs"
	"github.com/friendly-vm/fvm/ref"
	"github.com/friendly-vm/fvm/sim"
	"github.com/friendly-vm/fvm/vocab"
)

func loadParams(t testing.TB, name string) *ref.Params {
	t.Helper()
	p, err := configs.LoadParams(name)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// The float duty model agrees with ref's exact rational one at integer
// points (tolerance 1e-12: double rounding of sums of at most 2^8 terms).
func TestDutySignalMatchesRef(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		n := rapid.IntRange(2, 5).Draw(t, "n")
		u := 10
		p := &ref.Params{U: u, Capacity: u, Host: vocab.Duty, Rule: vocab.AIMD, Dmin: 1, Dmax: u, Theta: vocab.R(3, 2)}
		if rapid.Bool().Draw(t, "steal") {
			p.Signal, p.Theta = vocab.Steal, vocab.R(1, 4)
		}
		for range n {
			p.FVMs = append(p.FVMs, ref.FVM{Alpha: 1, Beta: vocab.R(1, 2)})
		}
		if rapid.Bool().Draw(t, "greedy") {
			p.Greedy = []int{rapid.IntRange(0, u).Draw(t, "g")}
		}
		if err := p.Validate(); err != nil {
			t.Skip(err)
		}
		x := rapid.IntRange(1, u).Draw(t, "x")
		d := make([]int, n)
		for i := range d {
			d[i] = x
		}
		o := p.Observe(d)[0]
		want := o.VCT.Float()
		if p.Signal == vocab.Steal {
			want = o.Steal.Float()
		}
		if got := (signalModel{p}).signal(float64(x)); math.Abs(got-want) > 1e-12 {
			t.Fatalf("signal at x=%d: float %v, ref %v", x, got, want)
		}
	})
}

// Lemma 8 (hosts.md): dE/dr_j = -E[1/((1+K')(2+K'))], checked against a
// central difference of E (tolerance 1e-7 for step 1e-5).
func TestDutyDerivative(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		r := rapid.SliceOfN(rapid.Float64Range(0.01, 0.99), 1, 6).Draw(t, "r")
		rest := r[1:]
		_, m := dutyE(rest)
		const h = 1e-5
		up := append([]float64{r[0] + h}, rest...)
		dn := append([]float64{r[0] - h}, rest...)
		eu, _ := dutyE(up)
		ed, _ := dutyE(dn)
		if fd := (eu - ed) / (2 * h); math.Abs(fd+m) > 1e-7 {
			t.Fatalf("dE/dr_j: finite difference %v, closed form %v", fd, -m)
		}
	})
}

// Theorem 9 (hosts.md): Own - Cross for steal under duty is
// (1 - E[1/(1+K')])/U >= 0, zero exactly when no third VM exists (N = 2,
// no greedy VM); for vct it is -Cross < 0.
func TestDutyModeSigns(t *testing.T) {
	for n := 2; n <= 5; n++ {
		for _, sig := range []vocab.Signal{vocab.Steal, vocab.VCT} {
			for x := 1.0; x <= 9; x++ {
				p := &ref.Params{U: 10, Capacity: 10, Host: vocab.Duty, Signal: sig, Rule: vocab.AIMD, Dmin: 1, Dmax: 10}
				for range n {
					p.FVMs = append(p.FVMs, ref.FVM{Alpha: 1, Beta: vocab.R(1, 2)})
				}
				own, cross := (signalModel{p}).sensitivities(x)
				if sig == vocab.VCT {
					if own != 0 || !(cross > 0) {
						t.Errorf("vct n=%d x=%v: own %v cross %v, want 0 and > 0", n, x, own, cross)
					}
					continue
				}
				e, _ := dutyE((signalModel{p}).others(x, 1))
				if want := (1 - e) / 10; math.Abs(own-cross-want) > 1e-12 {
					t.Errorf("steal n=%d x=%v: own-cross %v, want %v", n, x, own-cross, want)
				}
				if n == 2 && math.Abs(own-cross) > 1e-15 || n > 2 && !(own > cross) {
					t.Errorf("steal n=%d x=%v: own %v cross %v", n, x, own, cross)
				}
			}
		}
	}
}

// Theorem 10 (hosts.md): the verdicts for the named configurations, and
// the counterexample for duty-vct: (dmax, dmin, dmin) is absorbing, so
// every interleaving from it stays there forever.
func TestHostVerdicts(t *testing.T) {
	want := map[string]Verdict{
		"default": Neutral, "greedy": Neutral, "hetero-delay": Neutral,
		"fair-host": Restoring, "duty-steal": Restoring, "duty-vct": AntiFair,
	}
	for name, v := range want {
		a, err := Analyze(loadParams(t, name))
		if err != nil {
			t.Fatal(err)
		}
		if !a.HasMode || a.Mode.Verdict != v {
			t.Errorf("%s: verdict %q, want %q", name, a.Mode.Verdict, v)
		}
	}
	p := loadParams(t, "duty-vct")
	a, _ := Analyze(p)
	if a.Mode.Absorbing == nil {
		t.Fatal("duty-vct: no absorbing unfair state")
	}
	t.Logf("duty-vct: unstable for any threshold sharper than %.3g demand units; absorbing %v", a.Mode.CriticalDemand, a.Mode.Absorbing)
	if !(a.Mode.CriticalDemand > 1) {
		t.Errorf("duty-vct: critical blur %v units; the integer model (quantum 1) would not be unstable", a.Mode.CriticalDemand)
	}
	for seed := range uint64(20) {
		run, err := sim.Simulate(p, sim.Options{Seed: seed, Steps: 500, Init: a.Mode.Absorbing})
		if err != nil {
			t.Fatal(err)
		}
		for _, st := range run.Steps {
			for i, d := range st.State.Demands(p.N()) {
				if d != a.Mode.Absorbing[i] {
					t.Fatalf("seed %d: left the absorbing state: %v", seed, st.State.Format(p.N()))
				}
			}
		}
	}
}

// The averaged linearisation predicts what the integer model does: from
// near-symmetric starts duty-vct ends with one FVM at dmax and the others
// at dmin, while duty-steal and fair-host keep every FVM's long-run
// average demand within 10% of the mean (Jain index > 0.99).
func TestHostVerdictsInSimulation(t *testing.T) {
	for _, name := range []string{"duty-vct", "duty-steal", "fair-host"} {
		p := loadParams(t, name)
		a, _ := Analyze(p)
		for seed := range uint64(6) {
			init := []int{5, 4, 4}
			run, err := sim.Simulate(p, sim.Options{Seed: seed, Steps: 20000, Init: init})
			if err != nil {
				t.Fatal(err)
			}
			avg := make([]float64, p.N())
			half := run.Steps[len(run.Steps)/2:]
			for _, st := range half {
				for i := range avg {
					avg[i] += float64(st.State.D[i]) / float64(len(half))
				}
			}
			j := jain(avg)
			switch a.Mode.Verdict {
			case AntiFair:
				if g := Gap(run.Steps[len(run.Steps)-1].State.Demands(p.N())); g != p.Dmax-p.Dmin {
					t.Errorf("%s seed %d: final gap %d, want winner-takes-all %d", name, seed, g, p.Dmax-p.Dmin)
				}
			default:
				if j < 0.99 {
					t.Errorf("%s seed %d: Jain %.4f of averages %v", name, seed, j, avg)
				}
			}
			if seed == 0 {
				t.Logf("%s (%s): long-run averages %.3f, Jain %.4f; operating point %.3f", name, a.Mode.Verdict, avg, j, a.Mode.Point)
			}
		}
	}
}

func jain(x []float64) float64 {
	s, s2 := 0.0, 0.0
	for _, v := range x {
		s += v
		s2 += v * v
	}
	return s * s / (float64(len(x)) * s2)
}

// Theorem 8 (hosts.md): the difference-mode eigenvalue of the averaged
// dynamics F_i = alpha(1-p_i) - (1-beta) d_i p_i, p_i = phi(sigma_i - theta),
// with phi a logistic of slope 1/w through p* at 0, computed from a
// central-difference Jacobian of F with general (asymmetric) signals,
// equals Mode.DiffEigenvalue to 1e-5 (relative, plus 1e-9).
func TestDiffEigenvalue(t *testing.T) {
	for _, name := range []string{"duty-vct", "duty-steal", "default", "greedy"} {
		p := loadParams(t, name)
		a, err := Analyze(p)
		if err != nil {
			t.Fatal(err)
		}
		m := a.Mode
		n, u := p.N(), float64(p.U)
		alpha, beta := a.Alpha[0], a.Beta[0]
		sigma := func(d []float64, i int) float64 {
			if p.Host == vocab.Shared {
				s := 0.0
				for _, x := range d {
					s += x
				}
				return s
			}
			var r []float64
			for j, x := range d {
				if j != i {
					r = append(r, x/u)
				}
			}
			for _, g := range p.Greedy {
				r = append(r, float64(g)/u)
			}
			e, _ := dutyE(r)
			if p.Signal == vocab.VCT {
				return 1 / e
			}
			return d[i] / u * (1 - e)
		}
		sym := make([]float64, n)
		for i := range sym {
			sym[i] = m.Point
		}
		theta := sigma(sym, 0)
		for _, w := range []float64{0.05, 0.5, 5} {
			k := 1 / (w * m.PStar * (1 - m.PStar))
			c := math.Log(m.PStar / (1 - m.PStar))
			F := func(d []float64, i int) float64 {
				pi := 1 / (1 + math.Exp(-(k*(sigma(d, i)-theta) + c)))
				return alpha*(1-pi) - (1-beta)*d[i]*pi
			}
			if f := F(sym, 0); math.Abs(f) > 1e-9 {
				t.Fatalf("%s: F = %v at the operating point, want 0", name, f)
			}
			const h = 1e-6
			up, dn := append([]float64(nil), sym...), append([]float64(nil), sym...)
			up[0] += h
			up[1] -= h
			dn[0] -= h
			dn[1] += h
			got := (F(up, 0) - F(dn, 0)) / (2 * h)
			want := m.DiffEigenvalue(alpha, beta, w)
			if math.Abs(got-want) > 1e-5*math.Abs(want)+1e-9 {
				t.Errorf("%s w=%v: difference-mode eigenvalue %v by finite differences, %v by Theorem 8", name, w, got, want)
			}
			// J y = mu y on the difference subspace: FVM 1 moves by -mu too.
			if got1 := (F(up, 1) - F(dn, 1)) / (2 * h); math.Abs(got1+want) > 1e-5*math.Abs(want)+1e-9 {
				t.Errorf("%s w=%v: FVM 1 component %v, want %v", name, w, got1, -want)
			}
		}
	}
}
