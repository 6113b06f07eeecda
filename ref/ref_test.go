package ref

import (
	"errors"
	"math"
	"strings"
	"testing"

	"github.com/friendly-vm/fvm/vocab"
)

func aimd(n int) *Params {
	p := &Params{U: 20, Capacity: 20, Kappa: vocab.R(1, 1), Host: vocab.Shared, Rule: vocab.AIMD, Dmin: 1, Dmax: 20}
	for range n {
		p.FVMs = append(p.FVMs, FVM{Alpha: 1, Beta: vocab.R(1, 2), Delay: 2})
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
		{"beta one", func(p *Params) { p.FVMs[0].Beta = vocab.R(1, 1) }, "fvms[0].beta = 1: must be a fraction in (0, 1)"},
		{"dmin zero", func(p *Params) { p.Dmin = 0 }, "dmin = 0: must be in [1, u=20]"},
		{"dmax above u", func(p *Params) { p.Dmax = 21 }, "dmax = 21: must be in [dmin=1, u=20]"},
		{"kappa above one", func(p *Params) { p.Kappa = vocab.R(3, 2) }, "kappa = 3/2: must be a fraction in (0, 1]"},
		{"delay too long", func(p *Params) { p.FVMs[2].Delay = MaxFIFO }, "fvms[2].delay = 16: must be in [0, 15]"},
		{"no fvms", func(p *Params) { p.FVMs = nil }, "n = 0: must be in [1, 8]"},
		{"greedy above u", func(p *Params) { p.Greedy = []int{30} }, "greedy[0] = 30: must be in [0, u=20]"},
		{"vct theta below one", func(p *Params) { p.Host, p.Signal, p.Theta = vocab.Fair, vocab.VCT, vocab.R(1, 2) }, "theta = 1/2: must be in [1, 100]"},
		{"steal theta one", func(p *Params) { p.Host, p.Signal, p.Theta = vocab.Fair, vocab.Steal, vocab.R(1, 1) }, "theta = 1: must be in [0, 1)"},
		// Found by the TLA+ cross-check: with this theta, Rat.Less overflowed
		// int64 under the duty host and a congested FVM read as uncongested.
		{"theta denominator", func(p *Params) {
			p.Host, p.Signal, p.Theta, p.U, p.Capacity, p.Dmax = vocab.Duty, vocab.VCT, vocab.R(1000000001, 1000000000), 1000, 1000, 1000
		}, "theta = 1000000001/1000000000: must be in [1, 100] with denominator <= 1000"},
		{"duty needs one core", func(p *Params) { p.Host, p.Signal, p.Theta, p.Capacity = vocab.Duty, vocab.VCT, vocab.R(3, 2), 40 }, "capacity = 40: must be equal to u=20"},
		{"no signal on the duty host", func(p *Params) { p.Host, p.Theta = vocab.Duty, vocab.R(1, 5) }, "signal = none: must be one of vct, steal under host duty"},
		{"duty overflow", func(p *Params) {
			p.Host, p.Signal, p.Theta, p.U, p.Capacity, p.Dmax = vocab.Duty, vocab.VCT, vocab.R(3, 2), 1000, 1000, 1000
			for len(p.FVMs) < 8 {
				p.FVMs = append(p.FVMs, p.FVMs[0])
			}
		}, "host duty needs"},
		{"mimd mu", func(p *Params) { p.Rule = vocab.MIMD; p.FVMs[0].Mu = vocab.R(1, 1) }, "fvms[0].mu = 1: must be a ratio in (1, 10]"},
		{"aiad delta", func(p *Params) { p.Rule = vocab.AIAD }, "fvms[0].delta = 0: must be in [1, u=20]"},
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
		rule      vocab.Rule
		d         int
		congested bool
		want      int
		branch    vocab.Branch
	}{
		{vocab.AIMD, 5, false, 6, vocab.Increase},
		{vocab.AIMD, 20, false, 20, vocab.Clamp},
		{vocab.AIMD, 7, true, 3, vocab.Decrease}, // floor(7/2)
		{vocab.AIMD, 1, true, 1, vocab.Clamp},    // floor(1/2)=0 < dmin
		{vocab.MIMD, 3, false, 6, vocab.Increase},
		{vocab.MIMD, 11, false, 20, vocab.Clamp},
		{vocab.MIMD, 9, true, 4, vocab.Decrease},
		{vocab.AIAD, 9, true, 7, vocab.Decrease},
		{vocab.AIAD, 2, true, 1, vocab.Clamp},
		{vocab.AIAD, 19, false, 20, vocab.Increase},
	}
	for _, tc := range tests {
		p := aimd(1)
		p.Rule = tc.rule
		p.FVMs[0].Mu, p.FVMs[0].Delta = vocab.R(2, 1), 2
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
	p.FVMs[1].Delay = 0
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

// With Loss, HostTick stays enabled when a FIFO is full and drops that
// FIFO's oldest sample; the other FIFOs just grow.
func TestStepLoss(t *testing.T) {
	p := aimd(2)
	p.FVMs[0].Delay, p.FVMs[1].Delay = 1, 3
	p.Loss = true
	s, _ := InitState(p, []int{10, 12})
	for k, bits := range []uint16{0b11, 0b00, 0b11} { // c, n, c for both
		var err error
		if s, err = Step(p, s, OpenTick(bits)); err != nil {
			t.Fatalf("tick %d: %v", k, err)
		}
	}
	// FVM 0 (Delay 1) kept the last two samples: n c; FVM 1 all three.
	if got := s.Format(2); got != "d=[10 12] q=[nc cnc]" {
		t.Fatalf("after three ticks with loss: %s, want d=[10 12] q=[nc cnc]", got)
	}
	p.Loss = false
	if _, err := Step(p, s, OpenTick(0)); !errors.Is(err, ErrDisabled) {
		t.Fatalf("without loss a tick into a full FIFO: err = %v, want ErrDisabled", err)
	}
}

func TestObserveFair(t *testing.T) {
	p := aimd(3)
	p.Host, p.Signal, p.Theta = vocab.Fair, vocab.VCT, vocab.R(1, 1)
	// Demands 4, 10, 12 on capacity 20: 4 is served, the rest split 16.
	obs := p.Observe([]int{4, 10, 12})
	want := []struct {
		share, vct vocab.Rat
		congested  bool
	}{{vocab.R(1, 5), vocab.R(1, 1), false}, {vocab.R(2, 5), vocab.R(5, 4), true}, {vocab.R(2, 5), vocab.R(3, 2), true}}
	for i, w := range want {
		if obs[i].Share != w.share || obs[i].VCT != w.vct || obs[i].Congested != w.congested {
			t.Errorf("fvm %d: %+v, want share %v vct %v congested %v", i, obs[i], w.share, w.vct, w.congested)
		}
	}
}

func TestObserveDuty(t *testing.T) {
	// Two VMs: E[1/(1+K_1)] = 1 - r_2/2. r_A = 0.7
	// beside an always-awake B: model shares 0.35 and 0.65.
	p := aimd(1)
	p.U, p.Capacity, p.Dmax = 10, 10, 10
	p.Host, p.Signal, p.Theta, p.Greedy = vocab.Duty, vocab.VCT, vocab.R(3, 2), []int{10}
	obs := p.Observe([]int{7})
	if obs[0].Share != vocab.R(7, 20) || obs[0].VCT != vocab.R(2, 1) || obs[0].Steal != vocab.R(7, 20) || !obs[0].Congested {
		t.Fatalf("duty observation %+v, want share 7/20, vct 2, steal 7/20, congested", obs[0])
	}
	// vct_i depends only on the others: the bigger FVM sees the smaller vocab.VCT.
	p.Greedy = nil
	p.FVMs = append(p.FVMs, p.FVMs[0])
	obs = p.Observe([]int{8, 4})
	if !(obs[0].VCT.Less(obs[1].VCT)) {
		t.Fatalf("vct of the bigger FVM %v should be below the smaller's %v", obs[0].VCT, obs[1].VCT)
	}
	// With two VMs steal is symmetric: r1*r2/2 for both.
	if obs[0].Steal != obs[1].Steal || obs[0].Steal != vocab.R(4, 25) {
		t.Fatalf("steal %v %v, want 4/25 for both", obs[0].Steal, obs[1].Steal)
	}
}

func TestParseRat(t *testing.T) {
	tests := []struct {
		in   string
		want vocab.Rat
		err  bool
	}{
		{"1/2", vocab.R(1, 2), false}, {"0.875", vocab.R(7, 8), false}, {"2", vocab.R(2, 1), false}, {"6/4", vocab.R(3, 2), false},
		{"1/0", vocab.Rat{}, true}, {"x", vocab.Rat{}, true}, {"", vocab.Rat{}, true}, {"1.0000000001", vocab.Rat{}, true},
	}
	for _, tc := range tests {
		got, err := vocab.ParseRat(tc.in)
		if (err != nil) != tc.err || (!tc.err && got != tc.want) {
			t.Errorf("vocab.ParseRat(%q) = %v, %v; want %v, err=%v", tc.in, got, err, tc.want, tc.err)
		}
	}
}

// DemandFloor, derived by hand: with the other VMs always awake, steal is
// r(1 - 1/(m+1)) for m others, so the largest never-congested demand is
// T = floor(theta*U*(m+1)/m), and L = dec^(D+1)(T+1).
func TestDemandFloor(t *testing.T) {
	duty := func(n, delay int, greedy []int) *Params {
		p := aimd(n)
		p.Host, p.Signal, p.Theta, p.Greedy = vocab.Duty, vocab.Steal, vocab.R(1, 5), greedy
		for i := range p.FVMs {
			p.FVMs[i].Delay = delay
		}
		return p
	}
	tests := []struct {
		name string
		p    *Params
		want int
	}{
		{"three FVMs, D=0: T=6, L=floor(7/2)", duty(3, 0, nil), 3},
		{"three FVMs, D=2: 7 -> 3 -> 1 -> 1", duty(3, 2, nil), 1},
		{"beside a greedy VM, D=0: T=8, L=floor(9/2)", duty(1, 0, []int{20}), 4},
		{"alone: never congested", duty(1, 0, nil), 20},
	}
	for _, tc := range tests {
		got, err := DemandFloor(tc.p)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		for i, g := range got {
			if g != tc.want {
				t.Errorf("%s: L[%d] = %d, want %d", tc.name, i, g, tc.want)
			}
		}
	}
	p := duty(2, 0, nil)
	p.Signal, p.Theta = vocab.VCT, vocab.R(3, 2)
	if _, err := DemandFloor(p); !errors.Is(err, ErrNoFloor) {
		t.Errorf("vct: err = %v, want ErrNoFloor", err)
	}
}

func TestUtilisation(t *testing.T) {
	p := aimd(2)
	// shared: min(C, sum)/C
	if got := p.Utilisation([]int{5, 7}); got != vocab.R(3, 5) {
		t.Errorf("shared 5+7 of 20: %v, want 3/5", got)
	}
	if got := p.Utilisation([]int{15, 7}); got != vocab.R(1, 1) {
		t.Errorf("shared 15+7 of 20: %v, want 1", got)
	}
	// duty: 1 - (1-1/4)(1-1/2) = 5/8, and the shares sum to it.
	p.Host, p.Signal, p.Theta = vocab.Duty, vocab.Steal, vocab.R(1, 5)
	d := []int{5, 10}
	u := p.Utilisation(d)
	if u != vocab.R(5, 8) {
		t.Errorf("duty r = 1/4, 1/2: %v, want 5/8", u)
	}
	sum := 0.0
	for _, o := range p.Observe(d) {
		sum += o.Share.Float()
	}
	if math.Abs(sum-u.Float()) > 1e-12 {
		t.Errorf("duty shares sum to %v, utilisation %v", sum, u)
	}
}

// PredictShares on measured awake fractions: the exact model formulas, by
// hand for two VMs (duty: r_A = 0.7 beside an always-awake B gets
// 0.7*(1-1/2) = 0.35, B 1*(1-0.7/2) = 0.65; fair: 0.5 each) and, for three,
// against an enumeration of who is awake.
func TestPredictShares(t *testing.T) {
	near := func(a, b float64) bool { return math.Abs(a-b) < 1e-12 }
	if got := PredictShares(vocab.Duty, []float64{0.7, 1}); !near(got[0], 0.35) || !near(got[1], 0.65) {
		t.Errorf("duty 0.7, 1: %v", got)
	}
	if got := PredictShares(vocab.Fair, []float64{0.7, 1}); !near(got[0], 0.5) || !near(got[1], 0.5) {
		t.Errorf("fair 0.7, 1: %v", got)
	}
	if got := PredictShares(vocab.Fair, []float64{0.2, 0.3, 1}); !near(got[0], 0.2) || !near(got[1], 0.3) || !near(got[2], 0.5) {
		t.Errorf("fair 0.2, 0.3, 1: %v", got)
	}
	if got := PredictShares(vocab.Fair, []float64{0.2, 1, 1}); !near(got[0], 0.2) || !near(got[1], 0.4) || !near(got[2], 0.4) {
		t.Errorf("fair 0.2, 1, 1: %v", got)
	}
	for _, s := range PredictShares(vocab.Duty, []float64{1, 1, 1, 1}) {
		if !near(s, 0.25) {
			t.Errorf("duty, four always awake: %v", s)
		}
	}
	// A beside B (0.5) and C (1): K = 1 or 2, each with probability 1/2.
	if got := PredictShares(vocab.Duty, []float64{0.5, 0.5, 1}); !near(got[0], 0.5*(0.5/2+0.5/3)) {
		t.Errorf("duty 0.5, 0.5, 1: %v", got)
	}
	r := []float64{0.3, 0.6, 1}
	got := PredictShares(vocab.Duty, r)
	for i := range r {
		want := 0.0
		for mask := 0; mask < 1<<len(r); mask++ {
			if mask>>i&1 == 0 {
				continue // VM i awake: its share of the core is 1/(number awake)
			}
			pr, k := 1.0, 0
			for j, rj := range r {
				if mask>>j&1 == 1 {
					pr *= rj
					k++
				} else {
					pr *= 1 - rj
				}
			}
			want += pr / float64(k)
		}
		if !near(got[i], want) {
			t.Errorf("duty %v: VM %d %v, enumeration %v", r, i, got[i], want)
		}
	}
}

// The shared host's bit, worked by hand: kappa 3/4 of C = 20 is 15 units;
// a total (greedy VMs included) of 15 is not congested, 16 is.
func TestSharedCongested(t *testing.T) {
	p := aimd(2)
	p.Kappa = vocab.R(3, 4)
	tests := []struct {
		d      []int
		greedy []int
		want   bool
	}{
		{[]int{7, 8}, nil, false},
		{[]int{8, 8}, nil, true},
		{[]int{5, 6}, []int{4}, false},
		{[]int{5, 6}, []int{5}, true},
		{[]int{1, 1}, nil, false},
	}
	for _, tc := range tests {
		p.Greedy = tc.greedy
		if got := p.SharedCongested(tc.d); got != tc.want {
			t.Errorf("SharedCongested(%v, greedy %v) = %v, want %v", tc.d, tc.greedy, got, tc.want)
		}
		mask := uint16(0)
		if tc.want {
			mask = 0b11
		}
		if got := p.Congested(tc.d); got != mask {
			t.Errorf("Congested(%v, greedy %v) = %b, want %b", tc.d, tc.greedy, got, mask)
		}
	}
}
