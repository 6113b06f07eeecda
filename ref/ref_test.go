package ref

import (
	"errors"
	"math"
	"strings"
	"testing"

	"pgregory.net/rapid"
)

func aimd(n int) *Params {
	p := &Params{U: 20, Capacity: 20, Kappa: R(1, 1), Host: Shared, Rule: AIMD, Dmin: 1, Dmax: 20}
	for range n {
		p.FVMs = append(p.FVMs, FVM{Alpha: 1, Beta: R(1, 2), D: 2})
	}
	return p
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name   string
		modify func(p *Params)
		want   string // substring of the error; "" means valid
	}{
		{"default", func(p *Params) {}, ""},
		{"negative alpha", func(p *Params) { p.FVMs[1].Alpha = -1 }, "fvms[1].alpha = -1: must be in [1, u=20]"},
		{"beta one", func(p *Params) { p.FVMs[0].Beta = R(1, 1) }, "fvms[0].beta = 1: must be a fraction in (0, 1)"},
		{"dmin zero", func(p *Params) { p.Dmin = 0 }, "dmin = 0: must be in [1, u=20]"},
		{"dmax above u", func(p *Params) { p.Dmax = 21 }, "dmax = 21: must be in [dmin=1, u=20]"},
		{"kappa above one", func(p *Params) { p.Kappa = R(3, 2) }, "kappa = 3/2: must be a fraction in (0, 1]"},
		{"delay too long", func(p *Params) { p.FVMs[2].D = MaxFIFO }, "fvms[2].d = 16: must be in [0, 15]"},
		{"no fvms", func(p *Params) { p.FVMs = nil }, "n = 0: must be in [1, 8]"},
		{"greedy above u", func(p *Params) { p.Greedy = []int{30} }, "greedy[0] = 30: must be in [0, u=20]"},
		{"vct theta below one", func(p *Params) { p.Host, p.Theta = Fair, R(1, 2) }, "theta = 1/2: must be in [1, 100]"},
		{"steal theta one", func(p *Params) { p.Host, p.Signal, p.Theta = Fair, Steal, R(1, 1) }, "theta = 1: must be in [0, 1)"},
		// Found by the TLA+ cross-check: with this theta, Rat.Less overflowed
		// int64 under the duty host and a congested FVM read as uncongested.
		{"theta denominator", func(p *Params) {
			p.Host, p.Theta, p.U, p.Capacity, p.Dmax = Duty, R(1000000001, 1000000000), 1000, 1000, 1000
		}, "theta = 1000000001/1000000000: must be in [1, 100] with denominator <= 1000"},
		{"duty needs one core", func(p *Params) { p.Host, p.Theta, p.Capacity = Duty, R(3, 2), 40 }, "capacity = 40: must be equal to u=20"},
		{"duty overflow", func(p *Params) {
			p.Host, p.Theta, p.U, p.Capacity, p.Dmax = Duty, R(3, 2), 1000, 1000, 1000
			for len(p.FVMs) < 8 {
				p.FVMs = append(p.FVMs, p.FVMs[0])
			}
		}, "host duty needs"},
		{"mimd mu", func(p *Params) { p.Rule = MIMD; p.FVMs[0].Mu = R(1, 1) }, "fvms[0].mu = 1: must be a ratio in (1, 10]"},
		{"aiad delta", func(p *Params) { p.Rule = AIAD }, "fvms[0].delta = 0: must be in [1, u=20]"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := aimd(3)
			tc.modify(p)
			err := p.Validate()
			if tc.want == "" {
				if err != nil {
					t.Fatalf("Validate() = %v, want nil", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Validate() = %v, want it to contain %q", err, tc.want)
			}
		})
	}
}

func TestApply(t *testing.T) {
	tests := []struct {
		rule      Rule
		d         int
		congested bool
		want      int
		branch    Branch
	}{
		{AIMD, 5, false, 6, Increase},
		{AIMD, 20, false, 20, Clamp},
		{AIMD, 7, true, 3, Decrease}, // floor(7/2)
		{AIMD, 1, true, 1, Clamp},    // floor(1/2)=0 < dmin
		{MIMD, 3, false, 6, Increase},
		{MIMD, 11, false, 20, Clamp},
		{MIMD, 9, true, 4, Decrease},
		{AIAD, 9, true, 7, Decrease},
		{AIAD, 2, true, 1, Clamp},
		{AIAD, 19, false, 20, Increase},
	}
	for _, tc := range tests {
		p := aimd(1)
		p.Rule = tc.rule
		p.FVMs[0].Mu, p.FVMs[0].Delta = R(2, 1), 2
		got, br := p.Apply(0, tc.d, tc.congested)
		if got != tc.want || br != tc.branch {
			t.Errorf("%v.Apply(d=%d, congested=%v) = %d %v, want %d %v", tc.rule, tc.d, tc.congested, got, br, tc.want, tc.branch)
		}
	}
}

func TestInitCoversTheBox(t *testing.T) {
	p := aimd(3)
	p.Dmin, p.Dmax = 2, 5
	init := Init(p)
	if len(init) != 4*4*4 {
		t.Fatalf("len(Init) = %d, want 64", len(init))
	}
	seen := map[State]bool{}
	for _, s := range init {
		if seen[s] {
			t.Fatalf("duplicate initial state %s", s.Format(3))
		}
		seen[s] = true
		for i := 0; i < 3; i++ {
			if s.D[i] < 2 || s.D[i] > 5 || s.Q[i].Len != 0 {
				t.Fatalf("bad initial state %s", s.Format(3))
			}
		}
	}
}

func TestStepEnabling(t *testing.T) {
	p := aimd(2)
	p.FVMs[1].D = 0
	s, _ := InitState(p, []int{10, 12})
	if _, err := Step(p, s, ActOf(0)); !errors.Is(err, ErrDisabled) {
		t.Fatalf("Act(0) on an empty FIFO: err = %v, want ErrDisabled", err)
	}
	s, err := Step(p, s, Tick()) // sum 22 > 20: congested
	if err != nil {
		t.Fatal(err)
	}
	if got := s.Format(2); got != "d=[10 12] q=[c c]" {
		t.Fatalf("after tick: %s", got)
	}
	// FVM 1 has D=0, so its FIFO is full and HostTick is disabled.
	if _, err := Step(p, s, Tick()); !errors.Is(err, ErrDisabled) {
		t.Fatalf("HostTick with a full FIFO: err = %v, want ErrDisabled", err)
	}
	if got := len(Enabled(p, s)); got != 2 {
		t.Fatalf("enabled actions = %d, want Act(0), Act(1)", got)
	}
	s, _ = Step(p, s, ActOf(1))
	if got := s.Format(2); got != "d=[10 6] q=[c -]" {
		t.Fatalf("after Act(1): %s", got)
	}
	if got := Projected(p, s, 0); got != 5 {
		t.Fatalf("Projected(0) = %d, want 5", got)
	}
	s, _ = Step(p, s, OpenTick(0b10))
	if got := s.Format(2); got != "d=[10 6] q=[cn c]" {
		t.Fatalf("after open tick: %s", got)
	}
	if _, err := Step(p, s, ActOf(2)); !errors.Is(err, ErrDisabled) {
		t.Fatalf("Act(2) with n=2: err = %v", err)
	}
	// Hold sets a demand without touching the FIFO, in open mode only.
	h, err := Step(p, s, HoldOf(0, 3))
	if err != nil || h.Format(2) != "d=[3 6] q=[cn c]" {
		t.Fatalf("Hold(0, 3): %s, %v", h.Format(2), err)
	}
	for _, a := range []Action{{Kind: Hold, VM: 0, Input: 3}, HoldOf(0, 21), HoldOf(0, 0), HoldOf(5, 3)} {
		if _, err := Step(p, s, a); !errors.Is(err, ErrDisabled) {
			t.Errorf("%v: err = %v, want ErrDisabled", a, err)
		}
	}
}

func TestObserveFair(t *testing.T) {
	p := aimd(3)
	p.Host, p.Signal, p.Theta = Fair, VCT, R(1, 1)
	// Demands 4, 10, 12 on capacity 20: 4 is served, the rest split 16.
	obs := p.Observe([]int{4, 10, 12})
	want := []struct {
		share, vct Rat
		congested  bool
	}{{R(1, 5), R(1, 1), false}, {R(2, 5), R(5, 4), true}, {R(2, 5), R(3, 2), true}}
	for i, w := range want {
		if obs[i].Share != w.share || obs[i].VCT != w.vct || obs[i].Congested != w.congested {
			t.Errorf("fvm %d: %+v, want share %v vct %v congested %v", i, obs[i], w.share, w.vct, w.congested)
		}
	}
}

func TestObserveDuty(t *testing.T) {
	// Two VMs: E[1/(1+K_1)] = 1 - r_2/2. The uml-notes measurement r_A=0.7
	// beside an always-awake B: model shares 0.35 and 0.65.
	p := aimd(1)
	p.U, p.Capacity, p.Dmax = 10, 10, 10
	p.Host, p.Signal, p.Theta, p.Greedy = Duty, VCT, R(3, 2), []int{10}
	obs := p.Observe([]int{7})
	if obs[0].Share != R(7, 20) || obs[0].VCT != R(2, 1) || obs[0].Steal != R(7, 20) || !obs[0].Congested {
		t.Fatalf("duty observation %+v, want share 7/20, vct 2, steal 7/20, congested", obs[0])
	}
	// vct_i depends only on the others: the bigger FVM sees the smaller VCT.
	p.Greedy = nil
	p.FVMs = append(p.FVMs, p.FVMs[0])
	obs = p.Observe([]int{8, 4})
	if !(obs[0].VCT.Less(obs[1].VCT)) {
		t.Fatalf("vct of the bigger FVM %v should be below the smaller's %v", obs[0].VCT, obs[1].VCT)
	}
	// With two VMs steal is symmetric: r1*r2/2 for both.
	if obs[0].Steal != obs[1].Steal || obs[0].Steal != R(4, 25) {
		t.Fatalf("steal %v %v, want 4/25 for both", obs[0].Steal, obs[1].Steal)
	}
}

func TestParseRat(t *testing.T) {
	tests := []struct {
		in   string
		want Rat
		err  bool
	}{
		{"1/2", R(1, 2), false}, {"0.875", R(7, 8), false}, {"2", R(2, 1), false}, {"6/4", R(3, 2), false},
		{"1/0", Rat{}, true}, {"x", Rat{}, true}, {"", Rat{}, true}, {"1.0000000001", Rat{}, true},
	}
	for _, tc := range tests {
		got, err := ParseRat(tc.in)
		if (err != nil) != tc.err || (!tc.err && got != tc.want) {
			t.Errorf("ParseRat(%q) = %v, %v; want %v, err=%v", tc.in, got, err, tc.want, tc.err)
		}
	}
}

// Every trajectory of Simulate is accepted step by step by Step, and its
// bookkeeping (sequence numbers, delays, branches) is consistent.
func TestSimulateAcceptedByStep(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		n := rapid.IntRange(1, 4).Draw(t, "n")
		p := &Params{
			U: 20, Capacity: 20, Kappa: R(int64(rapid.IntRange(1, 4).Draw(t, "kappa")), 4),
			Host: Host(rapid.IntRange(0, 2).Draw(t, "host")), Signal: Signal(rapid.IntRange(0, 1).Draw(t, "signal")),
			Rule: Rule(rapid.IntRange(0, 2).Draw(t, "rule")), Dmin: 1, Dmax: rapid.IntRange(1, 20).Draw(t, "dmax"),
		}
		if p.Signal == VCT {
			p.Theta = R(int64(rapid.IntRange(4, 12).Draw(t, "vct theta")), 4)
		} else {
			p.Theta = R(int64(rapid.IntRange(0, 3).Draw(t, "steal theta")), 4)
		}
		for range n {
			p.FVMs = append(p.FVMs, FVM{
				Alpha: rapid.IntRange(1, 5).Draw(t, "alpha"), Beta: R(int64(rapid.IntRange(1, 7).Draw(t, "beta")), 8),
				Mu: R(int64(rapid.IntRange(5, 16).Draw(t, "mu")), 4), Delta: rapid.IntRange(1, 5).Draw(t, "delta"),
				D: rapid.IntRange(0, 4).Draw(t, "d"),
			})
		}
		run, err := Simulate(p, SimOptions{Seed: rapid.Uint64().Draw(t, "seed"), Steps: 300})
		if err != nil {
			t.Fatal(err)
		}
		s := run.Init
		consumed := make([]int, n)
		for k, st := range run.Steps {
			next, err := Step(p, s, st.Action)
			if err != nil {
				t.Fatalf("step %d: Step rejects %v from %s: %v", k, st.Action, s.Format(n), err)
			}
			if next != st.State {
				t.Fatalf("step %d: Step gives %s, Simulate recorded %s", k, next.Format(n), st.State.Format(n))
			}
			if st.Action.Kind == Act {
				i := st.Action.VM
				if st.Seq != consumed[i] || st.Newest-st.Seq > p.FVMs[i].D {
					t.Fatalf("step %d: seq %d newest %d consumed %d D %d", k, st.Seq, st.Newest, consumed[i], p.FVMs[i].D)
				}
				consumed[i]++
				if int(next.D[i]) != st.After || int(s.D[i]) != st.Before {
					t.Fatalf("step %d: recorded %d->%d, state %d->%d", k, st.Before, st.After, s.D[i], next.D[i])
				}
			}
			for i := 0; i < n; i++ {
				if int(next.D[i]) < p.Dmin || int(next.D[i]) > p.Dmax || int(next.Q[i].Len) > p.FVMs[i].D+1 {
					t.Fatalf("step %d: state %s out of bounds", k, next.Format(n))
				}
			}
			s = next
		}
	})
}

func TestSimulateDeterministic(t *testing.T) {
	p := aimd(3)
	a, _ := Simulate(p, SimOptions{Seed: 7, Steps: 200})
	b, _ := Simulate(p, SimOptions{Seed: 7, Steps: 200})
	c, _ := Simulate(p, SimOptions{Seed: 8, Steps: 200})
	if a.Init != b.Init || a.Steps[199].State != b.Steps[199].State {
		t.Fatal("same seed, different runs")
	}
	if a.Init == c.Init && a.Steps[199].State == c.Steps[199].State {
		t.Fatal("different seeds, same run (extremely unlikely)")
	}
}

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
