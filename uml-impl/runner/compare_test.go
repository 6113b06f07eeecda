package runner

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/friendly-vm/fvm/uml-impl/controller"
	"github.com/friendly-vm/fvm/vocab"
)

// TestCompareSpecs: the comparison's runs, counted by hand: six mechanisms
// in pair, four and greedy (18 runs), and the two steal controllers (sleep,
// default 200‰, and idle, default 75‰) at each further threshold in pair
// and greedy (2 runs each a threshold).
func TestCompareSpecs(t *testing.T) {
	for _, tc := range []struct {
		name  string
		sweep []int
		only  []string
		runs  int
	}{
		{"default sweep", []int{100, 300}, nil, 18 + 2*4},
		{"no sweep", nil, nil, 18},
		{"sweep of the default threshold adds nothing to steal", []int{200}, nil, 18 + 2},
		{"the command's default sweep", []int{100, 200, 300}, nil, 18 + 2*2 + 3*2},
		{"baselines only", []int{100}, []string{"cfs", "nice19", "sched-idle"}, 9},
		{"one controller", []int{100, 300}, []string{"steal-idle"}, 3 + 2*2},
		{"vct is not swept", []int{100}, []string{"vct"}, 3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			runs, err := CompareSpecs("vmlinux", tc.sweep, tc.only)
			if err != nil {
				t.Fatal(err)
			}
			if len(runs) != tc.runs {
				t.Errorf("%d runs, want %d", len(runs), tc.runs)
			}
			seen := map[string]bool{}
			for _, r := range runs {
				if seen[r.Run] || !strings.HasPrefix(r.Run, ComparePrefix) || r.Spec.Name != r.Run {
					t.Errorf("run %q (spec %q): want a unique name starting %q", r.Run, r.Spec.Name, ComparePrefix)
				}
				seen[r.Run] = true
				s := r.Spec
				if err := s.Prepare(); err != nil {
					t.Errorf("%s: %v", r.Run, err)
					continue
				}
				baseline := r.ThetaPermille == 0
				for _, v := range s.VMs {
					switch {
					case v.Greedy:
						if r.Scenario != CompareGreedy {
							t.Errorf("%s: greedy guest %s outside the greedy scenario", r.Run, v.Name)
						}
					case baseline:
						if v.Baseline != r.Mechanism || !v.NoController || v.Role() != "baseline" {
							t.Errorf("%s: guest %s baseline %q, no controller %v: want the %s baseline", r.Run, v.Name, v.Baseline, v.NoController, r.Mechanism)
						}
					default:
						c := v.Controller
						if v.Baseline != "" || c.ThetaPermille != r.ThetaPermille || c.IdlePause != strings.HasSuffix(r.Mechanism, "-idle") {
							t.Errorf("%s: guest %s: baseline %q, theta %d, idle %v", r.Run, v.Name, v.Baseline, c.ThetaPermille, c.IdlePause)
						}
					}
				}
				if n, want := len(s.FVMs()), map[string]int{ComparePair: 2, CompareFour: 4, CompareGreedy: 1}[r.Scenario]; n != want {
					t.Errorf("%s: %d measured guests, want %d", r.Run, n, want)
				}
			}
		})
	}
	for _, bad := range []struct {
		sweep []int
		only  []string
	}{{[]int{0}, nil}, {[]int{1000}, nil}, {nil, []string{"nice20"}}} {
		if _, err := CompareSpecs("", bad.sweep, bad.only); err == nil {
			t.Errorf("CompareSpecs accepted sweep %v, only %v", bad.sweep, bad.only)
		}
	}
}

// TestPrepareBaseline: a baseline guest runs no controller; one that is
// also greedy or pinned, or of an unknown baseline, is refused.
func TestPrepareBaseline(t *testing.T) {
	b := Base(vocab.Steal, false)
	v := fvm("A", b, 100)
	v.Baseline = BaselineNice19
	s := Spec{Name: "x", Duration: 10 * time.Second, VMs: []VM{v, greedy("G", "spin", b)}}
	if err := s.Prepare(); err != nil {
		t.Fatal(err)
	}
	if !s.VMs[0].NoController || s.VMs[0].Role() != "baseline" {
		t.Errorf("baseline guest: no controller %v, role %q", s.VMs[0].NoController, s.VMs[0].Role())
	}
	for _, bad := range []func(*VM){
		func(v *VM) { v.Baseline = "nice20" },
		func(v *VM) { v.Greedy = true },
		func(v *VM) { v.Pin = 10 },
	} {
		v := fvm("A", b, 100)
		v.Baseline = BaselineSchedIdle
		bad(&v)
		s := Spec{Name: "x", Duration: 10 * time.Second, VMs: []VM{v}}
		if err := s.Prepare(); err == nil {
			t.Errorf("Prepare accepted %+v", v)
		}
	}
}

// TestReadComparison: a manifest written in two parts lists both; rows
// gather a mechanism's runs by threshold, a run without a summary leaves
// its field nil, and the greedy scenario's shares are read by role.
func TestReadComparison(t *testing.T) {
	dir := t.TempDir()
	runs, err := CompareSpecs("", []int{100}, []string{"steal"})
	if err != nil {
		t.Fatal(err)
	}
	if err := AddToManifest(dir, runs[:2]); err != nil {
		t.Fatal(err)
	}
	if err := AddToManifest(dir, runs); err != nil {
		t.Fatal(err)
	}
	summaries := map[string]*Summary{
		"compare-steal-pair":        {Name: "p", JainFVM: 0.9},
		"compare-steal-greedy":      {Name: "g", VMs: []VMSummary{{Role: "fvm", Share: 0.2}, {Role: "greedy", Share: 0.7}}},
		"compare-steal-t100-greedy": {Name: "g1", VMs: []VMSummary{{Role: "greedy", Share: 0.9}, {Role: "fvm", Share: 0.05}}},
	}
	for run, s := range summaries {
		if err := os.MkdirAll(filepath.Join(dir, run), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := WriteSummary(filepath.Join(dir, run), s); err != nil {
			t.Fatal(err)
		}
	}
	rows, err := ReadComparison(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 2 || rows[0].ThetaPermille != 200 || rows[1].ThetaPermille != 100 || rows[0].Sweep || !rows[1].Sweep {
		t.Fatalf("rows %+v: want steal at 200 then the sweep's 100", rows)
	}
	r := rows[0]
	if r.Pair == nil || r.Pair.Name != "p" || r.Four != nil || r.Greedy == nil || len(r.Runs) != 2 {
		t.Errorf("row at 200: pair %v, four %v, greedy %v, runs %v", r.Pair, r.Four, r.Greedy, r.Runs)
	}
	if g, o, ok := r.GreedyShares(); !ok || g != 0.7 || o != 0.2 {
		t.Errorf("greedy shares %v %v %v, want 0.7 and 0.2", g, o, ok)
	}
	if g, o, ok := rows[1].GreedyShares(); !ok || g != 0.9 || o != 0.05 || rows[1].Pair != nil {
		t.Errorf("row at 100: greedy shares %v %v %v, pair %v", g, o, ok, rows[1].Pair)
	}
	if _, err := ReadComparison(t.TempDir()); err == nil || !strings.Contains(err.Error(), "fvm uml compare") {
		t.Errorf("a directory without a manifest: %v, want an error saying how to make one", err)
	}
}

// TestSameRun: a run recorded from a spec is the same run as that spec;
// another threshold, pause mode or baseline is not.
func TestSameRun(t *testing.T) {
	runs, err := CompareSpecs("", nil, []string{"steal-idle"})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	rec := runs[0].Spec
	rec.Kernel = "/some/kernel" // where the kernel was is no part of the run's configuration
	if err := rec.Prepare(); err != nil {
		t.Fatal(err)
	}
	if err := writeJSON(filepath.Join(dir, "spec.json"), rec); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name   string
		change func(*Spec)
		same   bool
	}{
		{"as recorded", func(*Spec) {}, true},
		{"threshold", func(s *Spec) { s.VMs[0].Controller.ThetaPermille = 200 }, false},
		{"pause mode", func(s *Spec) { s.VMs[1].Controller.IdlePause = false }, false},
		{"baseline", func(s *Spec) { s.VMs[0].Baseline = BaselineCFS }, false},
		{"period step", func(s *Spec) { s.PeriodStepUs = 1000 }, false},
	} {
		s := runs[0].Spec
		s.VMs = append([]VM(nil), s.VMs...)
		tc.change(&s)
		same, err := SameRun(dir, s)
		if err != nil || same != tc.same {
			t.Errorf("%s: same %v (%v), want %v", tc.name, same, err, tc.same)
		}
	}
}

// The guests that take work-conserving pauses, and need host privilege:
// adaptive or pinned guests in pause mode idle, not greedy guests (their
// pause is 0), baselines or guests without a controller.
func TestIdlePausers(t *testing.T) {
	idle, sleep := Base(vocab.Steal, true), Base(vocab.Steal, false)
	pinned := fvm("P", idle, 50)
	pinned.Pin = 10
	for _, tc := range []struct {
		name string
		vms  []VM
		want int
	}{
		{"two idle FVMs and a greedy guest", []VM{fvm("A", idle, 100), fvm("B", idle, 30), {Name: "G", Greedy: true, Workload: "spin", Controller: idle}}, 2},
		{"sleeping pauses", []VM{fvm("A", sleep, 100), fvm("B", sleep, 30)}, 0},
		{"a pinned idle pause", []VM{pinned}, 1},
		{"baselines", []VM{{Name: "A", Baseline: BaselineCFS, Workload: "spin", Controller: idle}, {Name: "B", NoController: true, Workload: "spin", Controller: idle}}, 0},
	} {
		s := Spec{Name: "x", VMs: tc.vms}
		if got := s.idlePausers(); got != tc.want {
			t.Errorf("%s: %d guests take work-conserving pauses, want %d", tc.name, got, tc.want)
		}
	}
}

// RunName: the names the README and make verify cite, NAME-SIGNAL[-idle];
// an experiment of several runs or an unknown one is an error.
func TestRunName(t *testing.T) {
	for _, tc := range []struct {
		exp  string
		base controller.Config
		want string
	}{
		{"pair", Base(vocab.Steal, true), "pair-steal-idle"},
		{"greedy", Base(vocab.VCT, false), "greedy-vct"},
		{"pressure", Base(vocab.Steal, true), ""},
		{"nope", Base(vocab.Steal, true), ""},
	} {
		got, err := RunName(tc.exp, tc.base)
		if got != tc.want || (err == nil) != (tc.want != "") {
			t.Errorf("RunName(%s): %q, %v; want %q", tc.exp, got, err, tc.want)
		}
	}
}
