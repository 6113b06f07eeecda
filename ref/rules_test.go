package ref

import (
	"errors"
	"strings"
	"testing"

	"pgregory.net/rapid"

	"github.com/friendly-vm/fvm/vocab"
)

// dutyRule is a duty-host configuration of n AIMD FVMs (u = 20, steal
// above 1/5) under rule r.
func dutyRule(n int, r vocab.Rule) *Params {
	p := aimd(n)
	p.Host, p.Signal, p.Theta, p.Rule = vocab.Duty, vocab.Steal, vocab.R(1, 5), r
	if r == vocab.AIMDPhase {
		p.Phases = n
	}
	return p
}

// The symbol rules by hand: aimd-prop's mild decrease is floor(3d/4) at
// beta 1/2, its full one floor(d/2); aimd-phase defers (keeps d); both
// increase by alpha and clamp like AIMD.
func TestApplySym(t *testing.T) {
	p := dutyRule(2, vocab.AIMDProp)
	tests := []struct {
		x      vocab.Symbol
		d      int
		want   int
		branch vocab.Branch
	}{
		{vocab.Clear, 7, 8, vocab.Increase}, {vocab.Clear, 20, 20, vocab.Clamp},
		{vocab.Mild, 8, 6, vocab.Decrease}, {vocab.Mild, 7, 5, vocab.Decrease}, {vocab.Mild, 2, 1, vocab.Decrease},
		{vocab.Mild, 1, 1, vocab.Clamp},
		{vocab.Congested, 8, 4, vocab.Decrease}, {vocab.Congested, 1, 1, vocab.Clamp},
		{vocab.Deferred, 7, 7, vocab.Defer},
	}
	for _, tc := range tests {
		if got, br := p.ApplySym(0, tc.d, tc.x); got != tc.want || br != tc.branch {
			t.Errorf("ApplySym(%d, symbol %d) = %d %v, want %d %v", tc.d, tc.x, got, br, tc.want, tc.branch)
		}
	}
	// The one-bit rules: Apply is ApplySym on Clear and Congested.
	q := aimd(1)
	for d := q.Dmin; d <= q.Dmax; d++ {
		for _, c := range []bool{false, true} {
			x := vocab.Clear
			if c {
				x = vocab.Congested
			}
			a, ab := q.Apply(0, d, c)
			b, bb := q.ApplySym(0, d, x)
			if a != b || ab != bb {
				t.Fatalf("Apply(%d, %v) = %d %v, ApplySym %d %v", d, c, a, ab, b, bb)
			}
		}
	}
}

// Samples by hand. Two FVMs on the duty host: steal = r1 r2 / 2 for both.
// At d = (12, 12), r = 3/5: steal 9/50 <= 1/5: clear. At (14, 14): 49/200 in
// (1/5, 2/5]: mild. At (20, 20): 1/2 > 2/5: congested. Under aimd-phase a
// congested FVM off its phase is deferred.
func TestSamples(t *testing.T) {
	p := dutyRule(2, vocab.AIMDProp)
	for _, tc := range []struct {
		d    int
		want vocab.Symbol
	}{{12, vocab.Clear}, {14, vocab.Mild}, {20, vocab.Congested}} {
		for i, x := range p.Samples([]int{tc.d, tc.d}, 0) {
			if x != tc.want {
				t.Errorf("aimd-prop d=%d: FVM %d sample %d, want %d", tc.d, i, x, tc.want)
			}
		}
	}
	p = dutyRule(2, vocab.AIMDPhase)
	got := p.Samples([]int{20, 20}, 1)
	if got[0] != vocab.Deferred || got[1] != vocab.Congested {
		t.Errorf("aimd-phase, tick phase 1: %v, want [deferred congested]", got)
	}
	if got := p.Samples([]int{12, 12}, 0); got[0] != vocab.Clear || got[1] != vocab.Clear {
		t.Errorf("aimd-phase, uncongested: %v", got)
	}
}

// The symbol FIFO against a slice: any sequence of pushes and pops of w-bit
// symbols within capacity reads back in order.
func TestFIFOSymbols(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		w := rapid.IntRange(1, 2).Draw(t, "w")
		var q FIFO
		var model []vocab.Symbol
		for range rapid.IntRange(0, 60).Draw(t, "ops") {
			if len(model) < 16/w && (len(model) == 0 || rapid.Bool().Draw(t, "push")) {
				x := vocab.Symbol(rapid.IntRange(0, 1<<w-1).Draw(t, "x"))
				q = q.PushSym(x, w)
				model = append(model, x)
			} else {
				var x vocab.Symbol
				q, x = q.PopSym(w)
				if x != model[0] {
					t.Fatalf("popped %d, want %d", x, model[0])
				}
				model = model[1:]
			}
			if int(q.Len) != len(model) {
				t.Fatalf("len %d, want %d", q.Len, len(model))
			}
			for k, x := range model {
				if q.SymAt(k, w) != x {
					t.Fatalf("SymAt(%d) = %d, want %d", k, q.SymAt(k, w), x)
				}
			}
		}
	})
}

// aimd-phase: every phase is initial, a tick advances the phase, an Act
// leaves it; the open mode refuses the symbol rules (a trace records bits).
func TestPhaseSteps(t *testing.T) {
	p := dutyRule(2, vocab.AIMDPhase)
	init := Init(p)
	if want := 2 * 20 * 20; len(init) != want {
		t.Fatalf("%d initial states, want %d (every demand vector in both phases)", len(init), want)
	}
	s, err := InitState(p, []int{20, 20})
	if err != nil {
		t.Fatal(err)
	}
	s, err = Step(p, s, Tick())
	if err != nil || s.Ph != 1 || s.Q[0].SymAt(0, 2) != vocab.Congested || s.Q[1].SymAt(0, 2) != vocab.Deferred {
		t.Fatalf("tick in phase 0 at (20, 20): %s, %v", s.FormatRule(2, p.Rule), err)
	}
	if s2, _ := Step(p, s, Tick()); s2.Ph != 0 {
		t.Fatalf("second tick: phase %d, want 0", s2.Ph)
	}
	s, err = Step(p, s, ActOf(1))
	if err != nil || s.Ph != 1 || s.D[1] != 20 {
		t.Fatalf("Act(1) on a deferred sample: %s, %v", s.FormatRule(2, p.Rule), err)
	}
	if got := s.FormatRule(2, p.Rule); got != "d=[20 20] q=[c -] ph=1" {
		t.Errorf("format %q", got)
	}
	if _, err := Step(p, s, OpenTick(0)); !errors.Is(err, ErrDisabled) || !strings.Contains(err.Error(), "no open mode") {
		t.Errorf("open tick under aimd-phase: %v", err)
	}
}

// Validate's rules for the symbol rules.
func TestValidateSymbolRules(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(p *Params)
		want   string
	}{
		{"phases must divide n", func(p *Params) { p.Phases = 2 }, "phases = 2: must be a divisor of n=3"},
		{"phases only for aimd-phase", func(p *Params) { p.Rule, p.Phases = vocab.AIMD, 3 }, "phases = 3: must be 0"},
		{"no shared host", func(p *Params) { p.Host = vocab.Shared; p.Kappa = vocab.R(1, 1) }, "not host shared"},
		{"aimd-prop needs steal", func(p *Params) { p.Rule, p.Phases, p.Signal, p.Theta = vocab.AIMDProp, 0, vocab.VCT, vocab.R(3, 2) }, "signal steal"},
		{"two-bit samples: delay <= 7", func(p *Params) { p.FVMs[1].Delay = 8 }, "fvms[1].delay = 8: must be in [0, 7]"},
	}
	for _, tc := range tests {
		p := dutyRule(3, vocab.AIMDPhase)
		tc.mutate(p)
		if err := p.Validate(); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: Validate() = %v, want it to contain %q", tc.name, err, tc.want)
		}
	}
	if err := dutyRule(3, vocab.AIMDPhase).Validate(); err != nil {
		t.Errorf("valid aimd-phase: %v", err)
	}
}
