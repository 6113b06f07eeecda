package runner

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/friendly-vm/fvm/trace"
	"github.com/friendly-vm/fvm/uml-impl/controller"
	"github.com/friendly-vm/fvm/uml-impl/host"
	"github.com/friendly-vm/fvm/vocab"
)

func near(a, b, tol float64) bool { return math.Abs(a-b) <= tol }

func TestJain(t *testing.T) {
	for _, tc := range []struct {
		x    []float64
		want float64
	}{
		{[]float64{0.5, 0.5}, 1},
		{[]float64{1, 0}, 0.5},
		{[]float64{1, 0, 0, 0}, 0.25},
		{[]float64{0.3, 0.1}, 0.8},
	} {
		if got := jainOr(tc.x); !near(got, tc.want, 1e-12) {
			t.Errorf("jainOr(%v) = %v, want %v", tc.x, got, tc.want)
		}
	}
	if jainOr(nil) != -1 || jainOr([]float64{0, 0}) != -1 {
		t.Error("Jain of nothing should be undefined (-1 in summaries)")
	}
}

func TestPrepare(t *testing.T) {
	b := Base(vocab.Steal, false)
	s := Spec{Name: "x", Duration: 10 * time.Second, VMs: []VM{fvm("A", b, 100), greedy("G", "spin", b), pinned("P", b, 70)}}
	if err := s.Prepare(); err != nil {
		t.Fatal(err)
	}
	g := s.VMs[1].Controller
	if g.VM != 1 || g.N != 3 || g.Dmin != 20 || g.Dmax != 20 || g.Init != 20 {
		t.Errorf("greedy controller %+v: want vm 1 of 3 pinned at u = 20", g)
	}
	if p := s.VMs[2].Controller; p.Dmin != 14 || p.Dmax != 14 { // 70% of 20
		t.Errorf("pinned controller %+v", p)
	}
	if s.VMs[0].Stop != 10*time.Second || s.Slack == 0 || s.Poll == 0 {
		t.Errorf("defaults not filled in: %+v", s)
	}
	if got := s.FVMs(); len(got) != 1 || got[0] != 0 {
		t.Errorf("FVMs() = %v", got)
	}
	for _, bad := range []func(*Spec){
		func(s *Spec) { s.VMs[1].Name = "A" },
		func(s *Spec) { s.VMs[0].Workload = "sleep" },
		func(s *Spec) { s.VMs[0].Start = 20 * time.Second },
		func(s *Spec) { s.Name = "a b" },
		func(s *Spec) { s.VMs[0].Controller.Beta = vocab.R(2, 1) },
	} {
		s := Spec{Name: "x", Duration: 10 * time.Second, VMs: []VM{fvm("A", b, 100), greedy("G", "spin", b)}}
		bad(&s)
		if err := s.Prepare(); err == nil {
			t.Errorf("Prepare accepted %+v", s)
		}
	}
}

// TestPreparePeriods: the default actuation periods, 10 ms (step 97 µs)
// for sleeping pauses and 100 ms (step 13 ms) as soon as one VM takes
// work-conserving pauses; a period given is kept.
func TestPreparePeriods(t *testing.T) {
	sleep, idle := Base(vocab.Steal, false), Base(vocab.Steal, false)
	idle.IdlePause = true
	for _, c := range []struct {
		name             string
		vms              []VM
		period, step     int
		wantPer, wantStp int
	}{
		{"sleep", []VM{fvm("A", sleep, 100), fvm("B", sleep, 30)}, 0, 0, 10000, 97},
		{"idle", []VM{fvm("A", idle, 100), fvm("B", idle, 30)}, 0, 0, 100000, 13000},
		{"one idle", []VM{fvm("A", sleep, 100), fvm("B", idle, 30)}, 0, 0, 100000, 13000},
		{"given", []VM{fvm("A", idle, 100)}, 20000, 50, 20000, 50},
	} {
		s := Spec{Name: "x", Duration: 10 * time.Second, VMs: c.vms, PeriodUs: c.period, PeriodStepUs: c.step}
		if err := s.Prepare(); err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if s.PeriodUs != c.wantPer || s.PeriodStepUs != c.wantStp {
			t.Errorf("%s: period %d us step %d us, want %d and %d", c.name, s.PeriodUs, s.PeriodStepUs, c.wantPer, c.wantStp)
		}
	}
}

func TestScript(t *testing.T) {
	s := Spec{Name: "x", Duration: 10 * time.Second, VMs: []VM{fvm("A", Base(vocab.VCT, false), 40)}}
	if err := s.Prepare(); err != nil {
		t.Fatal(err)
	}
	sc := script(Binaries{Fvmd: "/b/fvmd", Work: "/b/fvmwork"}, &s, &s.VMs[0])
	for _, want := range []string{"'/b/fvmd' '-vm' '0' '-n' '1'", "'-signal' 'vct' '-theta' '1500'", "'-init' '8'", "'-trace' 'A.guest'",
		"'/b/fvmwork' spin -for 10s -progress 'A.progress'", "kill -TERM $C"} {
		if !strings.Contains(sc, want) {
			t.Errorf("script lacks %q:\n%s", want, sc)
		}
	}
	s.VMs[0].Controller.IdlePause = true
	if sc := script(Binaries{Fvmd: "/b/fvmd", Work: "/b/fvmwork"}, &s, &s.VMs[0]); !strings.Contains(sc, "'-pause-mode' 'idle'") {
		t.Errorf("work-conserving script lacks -pause-mode idle:\n%s", sc)
	}
	s.VMs[0].Controller.IdlePause = false
	if sc := script(Binaries{Fvmd: "/b/fvmd", Work: "/b/fvmwork"}, &s, &s.VMs[0]); !strings.Contains(sc, "'-pause-mode' 'sleep'") {
		t.Errorf("script lacks -pause-mode sleep:\n%s", sc)
	}
	s.VMs[0].NoController = true
	if sc := script(Binaries{Fvmd: "/b/fvmd", Work: "/b/fvmwork"}, &s, &s.VMs[0]); strings.Contains(sc, "fvmd") {
		t.Errorf("controller-off script runs fvmd:\n%s", sc)
	}
}

func TestExperimentsBuildValidSpecs(t *testing.T) {
	for _, e := range Experiments() {
		for _, sig := range []vocab.Signal{vocab.VCT, vocab.Steal} {
			for _, s := range e.Specs(Base(sig, false), 0, "/k") {
				if err := s.Prepare(); err != nil {
					t.Errorf("%s: %v", s.Name, err)
				}
				if !strings.HasPrefix(s.Name, e.Name) || !strings.HasSuffix(s.Name, "-"+sig.String()) || s.Kernel != "/k" {
					t.Errorf("%s: bad name or kernel", s.Name)
				}
			}
		}
	}
	// A work-conserving pause names its runs ...-SIGNAL-idle and declares
	// the duty-idle host in every VM's configuration.
	for _, e := range Experiments() {
		b := Base(vocab.Steal, false)
		b.IdlePause = true
		for _, s := range e.Specs(b, 0, "/k") {
			if err := s.Prepare(); err != nil {
				t.Errorf("%s: %v", s.Name, err)
			}
			if !strings.HasSuffix(s.Name, "-steal-idle") {
				t.Errorf("%s: want the suffix -steal-idle", s.Name)
			}
			for _, v := range s.VMs {
				if v.Controller.Host() != vocab.DutyIdle {
					t.Errorf("%s: VM %s declares host %v, want duty-idle", s.Name, v.Name, v.Controller.Host())
				}
			}
		}
	}
	if _, err := Lookup("nope"); err == nil {
		t.Error("Lookup(nope) succeeded")
	}
}

// fakeRun writes a RUN_DIR as two guests would have left it: raw traces
// written by the controller's loop on in-memory I/O, progress files and
// host CPU histories, then merges and summarizes it.
func fakeRun(t *testing.T, killB bool) (string, *Spec) {
	t.Helper()
	dir := t.TempDir()
	b := Base(vocab.Steal, false)
	s := Spec{Name: "fake", Duration: 10 * time.Second, VMs: []VM{fvm("A", b, 100), fvm("B", b, 30)}}
	if err := s.Prepare(); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(dir, "raw"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := writeJSON(filepath.Join(dir, "spec.json"), s); err != nil {
		t.Fatal(err)
	}
	const win = int64(100_000_000)
	const t0 = int64(1_000_000_000_000)
	for i, v := range s.VMs {
		tf, err := controller.CreateTrace(filepath.Join(dir, "raw", v.Name+".guest"))
		if err != nil {
			t.Fatal(err)
		}
		core, err := controller.NewCore(v.Controller, 0, t0)
		if err != nil {
			t.Fatal(err)
		}
		now := t0
		src := &controller.MemSource{}
		l := &controller.Loop{Core: core, Source: src, Act: &controller.MemActuator{}, Sink: tf, Now: func() int64 { return now }}
		h := core.Header()
		h.PeriodUs, h.Kernel, h.Controller, h.Workload = 10000, "fake", "fake", "spin"
		if err := l.Start(h); err != nil {
			t.Fatal(err)
		}
		var prog strings.Builder
		var hist []host.CPUSample
		for k := int64(1); k <= 100; k++ {
			now = t0 + k*win
			// Both get 50% of the core: steal 500 permille.
			w := controller.Window{Seq: uint64(k), StartNs: uint64(now - win), EndNs: uint64(now), WallNs: uint64(win),
				CPUNs: uint64(win / 2), WantNs: uint64(win), StealNs: uint64(win / 2), StealPermille: 500, VCTPermille: 2000,
				PausePermille: uint64(core.Pause()), PeriodUs: 10000}
			if k == 100 {
				// The last window is free: steal 0, VCT 1, and the FVM
				// increases once.
				w.CPUNs, w.StealNs, w.StealPermille, w.VCTPermille = uint64(win), 0, 0, 1000
			}
			src.Push(w)
			if err := l.Poll(); err != nil {
				t.Fatal(err)
			}
			share := int64(5 + i) // A gets 50%, B 60% of each window (impossible, but simple)
			hist = append(hist, host.CPUSample{T: now, CPU: uint64(k * win * share / 10)})
			prog.WriteString(strings.Join([]string{itoa(now), itoa(k * 1000)}, " ") + "\n")
			if killB && i == 1 && k == 60 {
				break
			}
		}
		if !(killB && i == 1) {
			if err := l.Stop(true, "test"); err != nil {
				t.Fatal(err)
			}
		}
		if err := tf.Close(); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "raw", v.Name+".progress"), []byte(prog.String()), 0o644); err != nil {
			t.Fatal(err)
		}
		reason := ""
		if killB && i == 1 {
			// A torn last line, as from a guest killed mid-write.
			f, err := os.OpenFile(filepath.Join(dir, "raw", v.Name+".guest"), os.O_APPEND|os.O_WRONLY, 0)
			if err != nil {
				t.Fatal(err)
			}
			f.WriteString(`{"v":1,"kind":"sam`)
			f.Close()
			reason = "guest B: killed after 70s (deadline)"
		}
		if err := mergeTrace(dir, &s, i, hist, reason); err != nil {
			t.Fatal(err)
		}
	}
	return dir, &s
}

func itoa(x int64) string { return strconv.FormatInt(x, 10) }

func TestMergeAndSummarize(t *testing.T) {
	dir, _ := fakeRun(t, false)
	for _, name := range []string{"A", "B"} {
		evs, err := trace.ReadFile(filepath.Join(dir, name+".jsonl"))
		if err != nil {
			t.Fatal(err)
		}
		count := map[trace.Kind]int{}
		for _, e := range evs {
			count[e.Kind]++
		}
		if evs[0].Kind != trace.KindHeader || evs[len(evs)-1].Kind != trace.KindEnd || !evs[len(evs)-1].End.Clean {
			t.Errorf("%s: trace does not start with a header and end with a clean end", name)
		}
		if count[trace.KindHost] != 99 || count[trace.KindSample] != 100 || count[trace.KindDecide] != 100 {
			t.Errorf("%s: event counts %v", name, count)
		}
		// fakeRun sampled the host every window: A got 5/10 of it, B 6/10.
		share := map[string]int64{"A": 5, "B": 6}[name]
		for _, e := range evs {
			if e.Kind == trace.KindHost && (e.Host.WallNs != 100_000_000 || e.Host.CPUNs != 100_000_000*share/10) {
				t.Errorf("%s: host event %d: wall %d ns, cpu %d ns; want one window, 100000000 and %d", name, e.Host.Seq, e.Host.WallNs, e.Host.CPUNs, 100_000_000*share/10)
				break
			}
		}
	}
	sum, err := Summarize(dir)
	if err != nil {
		t.Fatal(err)
	}
	a, b := sum.VMs[0], sum.VMs[1]
	if !near(a.Share, 0.5, 1e-9) || !near(b.Share, 0.6, 1e-9) {
		t.Errorf("shares %v, %v: want 0.5, 0.6", a.Share, b.Share)
	}
	if !near(sum.JainFVM, jainOr([]float64{0.5, 0.6}), 1e-9) || !near(sum.Utilisation, 1.1, 1e-9) {
		t.Errorf("jain %v, utilisation %v", sum.JainFVM, sum.Utilisation)
	}
	if sum.FairS != 0 || sum.ConvergenceS != 0 {
		t.Errorf("fair from the start (jain %.3f >= 0.95): fair_s %v, convergence %v", sum.JainFVM, sum.FairS, sum.ConvergenceS)
	}
	if !near(a.ProgressRate, 10000, 1e-6) || a.Progress != 99000 {
		t.Errorf("progress %d, rate %v/s: want 99000, 10000/s", a.Progress, a.ProgressRate)
	}
	// Steal 500 > 200 in every window but the last: both decrease to dmin
	// and stay there, then increase once to 2. The second half is windows
	// 51..100 (t0 = window 1, t1 = window 100, h0 half-way): 50 samples,
	// all at pause 950, steal 500 (the last 0), VCT 2000 (the last 1000);
	// 50 decisions, to 1 (the last to 2).
	if !near(a.MeanD, 51.0/50, 1e-12) || a.MeanPause != 950 || !near(a.MeanSteal, 490, 1e-9) || !near(a.MeanVCT, 1980, 1e-9) || !a.CleanEnd || a.Holds != 0 {
		t.Errorf("A: mean d %v, mean pause %v, steal %v, vct %v, clean %v, holds %d; want 1.02, 950, 490, 1980, true, 0",
			a.MeanD, a.MeanPause, a.MeanSteal, a.MeanVCT, a.CleanEnd, a.Holds)
	}
}

func TestMergeKilledGuest(t *testing.T) {
	dir, _ := fakeRun(t, true)
	evs, err := trace.ReadFile(filepath.Join(dir, "B.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	end := evs[len(evs)-1]
	if end.Kind != trace.KindEnd || end.End.Clean || !strings.Contains(end.End.Reason, "killed after 70s") ||
		!strings.Contains(end.End.Reason, "truncated line") {
		t.Errorf("end of a killed guest: %+v", end.End)
	}
	sum, err := Summarize(dir)
	if err != nil {
		t.Fatal(err)
	}
	if sum.VMs[1].CleanEnd || sum.VMs[1].Windows != 60 {
		t.Errorf("B: clean %v, windows %d: want false, 60", sum.VMs[1].CleanEnd, sum.VMs[1].Windows)
	}
}

func TestMergeWithoutGuestTrace(t *testing.T) {
	dir := t.TempDir()
	b := Base(vocab.Steal, false)
	s := Spec{Name: "x", Duration: time.Second, VMs: []VM{fvm("A", b, 100)}}
	if err := s.Prepare(); err != nil {
		t.Fatal(err)
	}
	hist := []host.CPUSample{{T: 100, CPU: 0}, {T: 200, CPU: 50}}
	if err := mergeTrace(dir, &s, 0, hist, "guest A: kernel ended before its init finished"); err != nil {
		t.Fatal(err)
	}
	evs, err := trace.ReadFile(filepath.Join(dir, "A.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	if len(evs) != 3 || evs[0].Kind != trace.KindHeader || evs[1].Kind != trace.KindHost || evs[2].End.Clean {
		t.Errorf("events %+v", evs)
	}
}

// TestRecordedRuns holds the summaries of the real runs committed under
// testdata/runs to three things: Summarize recomputes them unchanged (a
// regression check); a second, brute-force computation written here from
// the raw lines (encoding/json, not package trace or metrics) gives the
// same interval, shares, Jain index, utilisation, counts, delays and daemon
// CPU; and the verdicts each experiment exists to show hold, with the
// thresholds of the real-kernel tests, which no update of the data can
// move.
func TestRecordedRuns(t *testing.T) {
	dirs, err := filepath.Glob("../../testdata/runs/*-*")
	if err != nil || len(dirs) == 0 {
		t.Fatalf("no recorded runs: %v", err)
	}
	// lessFairThanSteal: under pause actuation VCT-threshold AIMD is
	// anti-fair (spec/MODEL.md), so the VCT run of an experiment ends less
	// fair than its steal run.
	lessFairThanSteal := func(stealRun string) func(s *Summary) string {
		return func(s *Summary) string {
			st, err := ReadSummary("../../testdata/runs/" + stealRun)
			if err != nil {
				return err.Error()
			}
			return check(s.JainFVM < st.JainFVM, "Jain %.4f on VCT, want below that of the steal run %s, %.4f", s.JainFVM, stealRun, st.JainFVM)
		}
	}
	jainAtLeast := func(min float64) func(s *Summary) string {
		return func(s *Summary) string {
			return check(s.JainFVM >= min, "Jain %.4f of the FVMs' shares, want >= %.2f", s.JainFVM, min)
		}
	}
	// Each experiment with both pauses: the sleeping one (runs NAME-SIGNAL)
	// and the default, work-conserving one (NAME-SIGNAL-idle).
	verdicts := map[string]func(s *Summary) string{}
	for _, mode := range []string{"", "-idle"} {
		for run, v := range map[string]func(s *Summary) string{
			"pair-vct":       lessFairThanSteal("pair-steal" + mode),
			"four-vct":       lessFairThanSteal("four-steal" + mode),
			"join-leave-vct": lessFairThanSteal("join-leave-steal" + mode),
			"hetero-vct":     lessFairThanSteal("hetero-steal" + mode),
			// alpha/(1-beta) 4 against 2: the larger increase gets more.
			"hetero-steal": func(s *Summary) string {
				a, b := s.VMs[0], s.VMs[1]
				return check(b.Share > a.Share, "B (alpha 2) share %.3f, want above A's (alpha 1) %.3f", b.Share, a.Share)
			},
			// A friendly VM yields to a greedy one.
			"greedy-vct": friendly,
			// The same controller backs off beside a memory- or I/O-heavy
			// neighbour: below its fair share, and below the neighbour's.
			"pressure-mem-steal": backsOff,
			"pressure-mem-vct":   backsOff,
			"pressure-io-steal":  backsOff,
			"pressure-io-vct":    backsOff,
			// Alone, the controller leaves its VM the core.
			"overhead-on-steal":  aloneGetsCore,
			"overhead-on-vct":    aloneGetsCore,
			"overhead-off-steal": aloneGetsCore,
			"overhead-off-vct":   aloneGetsCore,
		} {
			verdicts[run+mode] = v
		}
		// Pinned pauses: the shares the run's declared host model (duty or
		// duty-idle) predicts.
		for _, name := range []string{"30-60-100", "50-100", "50-50", "70-100"} {
			for _, sig := range []string{"steal", "vct"} {
				verdicts["fidelity-"+name+"-"+sig+mode] = dutyModelHolds
			}
		}
	}
	// The sleeping pause: steal is fair (TestRealPairIsFair,
	// TestRealFourIsFair), also while FVMs join and leave, and friendly
	// (TestRealGreedyIsFriendly).
	verdicts["pair-steal"] = jainAtLeast(0.95)
	verdicts["four-steal"] = jainAtLeast(0.98)
	verdicts["join-leave-steal"] = jainAtLeast(0.95)
	verdicts["greedy-steal"] = friendly
	// The work-conserving pause, the default: fair, full and converged
	// within 10 s (TestRealIdlePairIsFairAndFull, ...FourIsFairAndFull),
	// fair while FVMs join and leave, and beside a greedy guest the greedy
	// guest keeps 85% and the FVM 5% (TestRealIdleGreedyIsFriendly).
	verdicts["pair-steal-idle"] = fairAndFull
	verdicts["four-steal-idle"] = fairAndFull
	verdicts["join-leave-steal-idle"] = jainAtLeast(0.95)
	verdicts["greedy-steal-idle"] = friendlyAndNotStarved
	compared, err := CompareSpecs("", []int{100, 200, 300}, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range compared {
		verdicts[r.Run] = compareVerdict(r)
	}
	for _, dir := range dirs {
		name := filepath.Base(dir)
		if strings.HasPrefix(name, "friendly-") {
			continue // friendly groups' runs: package friendly/experiment checks them
		}
		t.Run(name, func(t *testing.T) {
			want, err := ReadSummary(dir)
			if err != nil {
				t.Fatal(err)
			}
			got, err := Summarize(dir)
			if err != nil {
				t.Fatal(err)
			}
			if !near(got.JainFVM, want.JainFVM, 1e-9) || !near(got.Utilisation, want.Utilisation, 1e-9) ||
				got.ConvergenceS != want.ConvergenceS || len(got.VMs) != len(want.VMs) {
				t.Errorf("Summarize differs from the recorded summary: jain %v/%v util %v/%v conv %v/%v",
					got.JainFVM, want.JainFVM, got.Utilisation, want.Utilisation, got.ConvergenceS, want.ConvergenceS)
			}
			// The brute force holds both the committed summary (data that
			// may be stale) and Summarize's own (code that may be wrong).
			bruteForceSummary(t, dir, want)
			bruteForceSummary(t, dir, got)
			v, ok := verdicts[name]
			if !ok {
				t.Fatalf("recorded run %s has no verdict to hold it to: add one", name)
			}
			if msg := v(want); msg != "" {
				t.Error(msg)
			}
			if !want.Complete {
				t.Errorf("recorded run is incomplete: %v", want.Errors)
			}
		})
	}
}

// compareVerdict is what a run of the comparison of mechanisms (fvm uml
// compare) must show, from what its mechanism is:
//   - a baseline's guests, all at the same priority, share the core fairly
//     and fully; beside a greedy guest CFS (and SCHED_IDLE, which inside a
//     session of its own changes nothing against another session) gives
//     the neighbour about half, and nice 19 (weight 15 against 1024)
//     starves the guest;
//   - VCT is less fair than steal (anti-fair under pause actuation);
//   - the steal controllers back off beside a greedy guest; the sleeping
//     pause leaves part of the core idle, less used than the
//     work-conserving pause at the same threshold, which uses at least 95%
//     (Theorem 19: all of it in the model); at its default threshold the
//     work-conserving pause leaves the greedy guest at least 85% and keeps
//     at least 5% (Theorem 18).
func compareVerdict(r CompareRun) func(s *Summary) string {
	fairAndFull := func(s *Summary) string {
		return check(s.JainFVM >= 0.99 && s.Utilisation >= 0.98, "Jain %.4f, utilisation %.3f: want >= 0.99 and >= 0.98", s.JainFVM, s.Utilisation)
	}
	shares := func(s *Summary) (g, o float64) {
		for _, v := range s.VMs {
			if v.Role == "greedy" {
				g += v.Share
			} else {
				o += v.Share
			}
		}
		return g, o
	}
	theta := func(m string, theta int, sc string) string {
		if theta == Base(vocab.Steal, m == "steal-idle").ThetaPermille {
			return ComparePrefix + m + "-" + sc
		}
		return fmt.Sprintf("%s%s-t%d-%s", ComparePrefix, m, theta, sc)
	}
	greedy := r.Scenario == CompareGreedy
	switch {
	case r.Mechanism == BaselineNice19 && greedy:
		return func(s *Summary) string {
			_, o := shares(s)
			return check(o < 0.05, "nice 19 beside a greedy guest: share %.3f, want below 0.05", o)
		}
	case r.ThetaPermille == 0 && greedy: // cfs, sched-idle
		return func(s *Summary) string {
			g, _ := shares(s)
			return check(g < 0.6, "%s beside a greedy guest: the greedy guest keeps %.3f, want below 0.6", r.Mechanism, g)
		}
	case r.ThetaPermille == 0:
		return fairAndFull
	case r.Mechanism == "vct" && !greedy:
		return func(s *Summary) string {
			st, err := ReadSummary("../../testdata/runs/" + ComparePrefix + "steal-" + r.Scenario)
			if err != nil {
				return err.Error()
			}
			return check(s.JainFVM < st.JainFVM, "Jain %.4f on VCT, want below steal's %.4f", s.JainFVM, st.JainFVM)
		}
	case r.Mechanism == "steal-idle" && greedy && !r.Sweep:
		return func(s *Summary) string {
			g, o := shares(s)
			return check(g >= 0.85 && o >= 0.05, "greedy guest %.3f, FVM %.3f: want >= 0.85 and >= 0.05", g, o)
		}
	case greedy:
		return friendly
	case r.Mechanism == "steal-idle":
		return func(s *Summary) string {
			return check(s.Utilisation >= 0.95, "work-conserving pause: utilisation %.3f, want >= 0.95", s.Utilisation)
		}
	default: // steal, sleeping pause, pair or four
		return func(s *Summary) string {
			if r.Scenario == CompareFour {
				return check(s.JainFVM >= 0.95, "Jain %.4f, want >= 0.95", s.JainFVM)
			}
			wc, err := ReadSummary("../../testdata/runs/" + theta("steal-idle", r.ThetaPermille, r.Scenario))
			if err != nil {
				return err.Error()
			}
			if msg := check(s.Utilisation < wc.Utilisation, "sleeping pause: utilisation %.3f, want below the work-conserving pause's %.3f at the same threshold", s.Utilisation, wc.Utilisation); msg != "" {
				return msg
			}
			// The lower the threshold, the less of the core a sleeping
			// pair uses (the sweep's next threshold, where there is one).
			if r.ThetaPermille >= 300 {
				return ""
			}
			up, err := ReadSummary("../../testdata/runs/" + theta("steal", r.ThetaPermille+100, r.Scenario))
			if err != nil {
				return err.Error()
			}
			return check(s.Utilisation < up.Utilisation, "sleeping pause at %d‰: utilisation %.3f, want below its %.3f at %d‰", r.ThetaPermille, s.Utilisation, up.Utilisation, r.ThetaPermille+100)
		}
	}
}

func check(ok bool, format string, args ...any) string {
	if ok {
		return ""
	}
	return fmt.Sprintf(format, args...)
}

// friendly: the FVM keeps below its fair share, the greedy VM gets >= 75%.
// backsOff: every FVM stays below its fair share and below every greedy
// neighbour.
func backsOff(s *Summary) string {
	for _, v := range s.VMs {
		if v.Role != "fvm" {
			continue
		}
		if v.Share >= 0.5 {
			return fmt.Sprintf("FVM %s share %.3f, want below its fair share 0.5", v.Name, v.Share)
		}
		for _, g := range s.VMs {
			if g.Role == "greedy" && g.Share <= v.Share {
				return fmt.Sprintf("FVM %s share %.3f, want below the greedy %s's %.3f", v.Name, v.Share, g.Name, g.Share)
			}
		}
	}
	return ""
}

// aloneGetsCore: a guest alone, with or without its controller, gets at
// least 95% of the core.
func aloneGetsCore(s *Summary) string {
	return check(s.VMs[0].Share >= 0.95, "%s alone: share %.3f, want >= 0.95", s.VMs[0].Name, s.VMs[0].Share)
}

// dutyModelHolds: each VM's measured share is within 0.1 of a core (the
// header's fidelity_tol, 1/10) of the duty host model's prediction for
// the pauses in force.
func dutyModelHolds(s *Summary) string {
	for _, v := range s.VMs {
		if math.Abs(v.Share-v.DutyShare) > 0.1 {
			return fmt.Sprintf("%s: share %.3f, duty model %.3f: more than 0.1 apart", v.Name, v.Share, v.DutyShare)
		}
	}
	return ""
}

// fairAndFull: the targets of the work-conserving pause for identical
// FVMs: Jain >= 0.99, utilisation >= 0.95, convergence within 10 s.
func fairAndFull(s *Summary) string {
	return check(s.JainFVM >= 0.99 && s.Utilisation >= 0.95 && s.ConvergenceS >= 0 && s.ConvergenceS <= 10,
		"Jain %.4f, utilisation %.3f, convergence %.0f s: want >= 0.99, >= 0.95, within 10 s", s.JainFVM, s.Utilisation, s.ConvergenceS)
}

// friendlyAndNotStarved: beside a greedy guest, the greedy guest keeps at
// least 85% and the FVM at least 5%.
func friendlyAndNotStarved(s *Summary) string {
	for _, v := range s.VMs {
		if v.Role == "fvm" && v.Share < 0.05 {
			return fmt.Sprintf("FVM %s share %.3f, want >= 0.05", v.Name, v.Share)
		}
		if v.Role == "greedy" && v.Share < 0.85 {
			return fmt.Sprintf("greedy %s share %.3f, want >= 0.85", v.Name, v.Share)
		}
	}
	return ""
}

func friendly(s *Summary) string {
	for _, v := range s.VMs {
		if v.Role == "fvm" && v.Share >= 0.5 {
			return fmt.Sprintf("FVM %s share %.3f, want below its fair share 0.5", v.Name, v.Share)
		}
		if v.Role == "greedy" && v.Share < 0.75 {
			return fmt.Sprintf("greedy %s share %.3f, want >= 0.75", v.Name, v.Share)
		}
	}
	return ""
}

// rawLine is what the brute-force summary reads of a trace line.
type rawLine struct {
	Kind      string `json:"kind"`
	TNs       int64  `json:"t_ns"`
	WallNs    int64  `json:"wall_ns"`
	CPUNs     int64  `json:"cpu_ns"`
	Pause     int64  `json:"pause_permille"`
	SampleSeq int64  `json:"sample_seq"`
	NewestSeq int64  `json:"newest_seq"`
	Clean     bool   `json:"clean"`
	Branch    string `json:"branch"`
	InitD     int    `json:"init_d"`
}

// bruteForceSummary recomputes a run's summary the long way and compares.
func bruteForceSummary(t *testing.T, dir string, want *Summary) {
	t.Helper()
	type vmRaw struct {
		hostT, hostCPU []int64 // cumulative host CPU at each host event, from 0 at the first one's start
		progT          []int64
		lines          []rawLine
	}
	raws := make([]vmRaw, len(want.VMs))
	origin := int64(math.MaxInt64)
	t0, t1 := int64(math.MinInt64), int64(math.MaxInt64)
	for i, vs := range want.VMs {
		r := &raws[i]
		b, err := os.ReadFile(filepath.Join(dir, vs.Name+".jsonl"))
		if err != nil {
			t.Fatal(err)
		}
		for _, l := range strings.Split(strings.TrimSpace(string(b)), "\n") {
			var e rawLine
			if err := json.Unmarshal([]byte(l), &e); err != nil {
				t.Fatalf("%s: %v", vs.Name, err)
			}
			r.lines = append(r.lines, e)
			if e.Kind == "host" {
				if len(r.hostT) == 0 {
					r.hostT, r.hostCPU = append(r.hostT, e.TNs-e.WallNs), append(r.hostCPU, 0)
				}
				r.hostT, r.hostCPU = append(r.hostT, e.TNs), append(r.hostCPU, r.hostCPU[len(r.hostCPU)-1]+e.CPUNs)
			}
		}
		if last := r.lines[len(r.lines)-1]; last.Kind != "end" || !last.Clean {
			t.Errorf("%s: the trace ends with %s (clean %v), want a clean end", vs.Name, last.Kind, last.Clean)
		}
		pb, _ := os.ReadFile(filepath.Join(dir, "raw", vs.Name+".progress"))
		for _, l := range strings.Split(strings.TrimSpace(string(pb)), "\n") {
			if f := strings.Fields(l); len(f) == 2 {
				x, _ := strconv.ParseInt(f[0], 10, 64)
				r.progT = append(r.progT, x)
			}
		}
		span := r.progT
		if len(span) < 2 {
			span = r.hostT
		}
		origin = min(origin, r.hostT[0])
		t0, t1 = max(t0, span[0]), min(t1, span[len(span)-1])
	}
	h0 := t0 + (t1-t0)/2
	sec := func(x int64) float64 { return float64(x-origin) / 1e9 }
	if !near(want.SecondHalfS[0], sec(h0), 1e-6) || !near(want.SecondHalfS[1], sec(t1), 1e-6) {
		t.Errorf("second half [%.6f, %.6f] s, brute force [%.6f, %.6f] s", want.SecondHalfS[0], want.SecondHalfS[1], sec(h0), sec(t1))
	}
	// cpuAt interpolates the cumulative host CPU linearly between events.
	cpuAt := func(r *vmRaw, x int64) float64 {
		for k := 1; k < len(r.hostT); k++ {
			if x <= r.hostT[k] {
				a, b := r.hostT[k-1], r.hostT[k]
				if x <= a {
					return float64(r.hostCPU[k-1])
				}
				return float64(r.hostCPU[k-1]) + float64(r.hostCPU[k]-r.hostCPU[k-1])*float64(x-a)/float64(b-a)
			}
		}
		return float64(r.hostCPU[len(r.hostCPU)-1])
	}
	var sum, sumSq, util, gapSum float64
	nFVM, gaps, lead, leadInit := 0, 0, -1, -1
	var decs [][]int64
	for i, vs := range want.VMs {
		r := &raws[i]
		share := (cpuAt(r, t1) - cpuAt(r, h0)) / float64(t1-h0)
		if !near(vs.Share, share, 1e-9) {
			t.Errorf("%s: share %.9f, brute force %.9f", vs.Name, vs.Share, share)
		}
		util += share
		if vs.Role == "fvm" || vs.Role == "baseline" {
			sum, sumSq, nFVM = sum+share, sumSq+share*share, nFVM+1
		}
		// Congestion epochs: the windows between two decreases in the
		// second half, and the lead FVM's (highest init_d, the first of
		// equals) decreases before the convergence time.
		if vs.Role == "fvm" {
			var dec []int64
			for _, e := range r.lines {
				if e.Kind == "header" && e.InitD > leadInit {
					lead, leadInit = i, e.InitD
				}
				if e.Kind == "decide" && e.Branch == "decrease" && e.TNs <= t1 {
					dec = append(dec, e.TNs)
				}
			}
			for k := 1; k < len(dec); k++ {
				if dec[k-1] >= h0 {
					gaps, gapSum = gaps+1, gapSum+float64(dec[k]-dec[k-1])/1e8
				}
			}
			decs = append(decs, dec)
		} else {
			decs = append(decs, nil)
		}
		var samples, decisions int
		var pauseSum, np int64
		var ds []int64
		for _, e := range r.lines {
			switch e.Kind {
			case "sample":
				samples++
				if e.TNs >= h0 && e.TNs <= t1 {
					pauseSum, np = pauseSum+e.Pause, np+1
				}
			case "decide":
				decisions++
				if e.SampleSeq > 0 {
					ds = append(ds, e.NewestSeq-e.SampleSeq)
				}
			}
		}
		if vs.Windows != samples || vs.Decisions != decisions {
			t.Errorf("%s: windows %d, decisions %d; brute force %d, %d", vs.Name, vs.Windows, vs.Decisions, samples, decisions)
		}
		if np > 0 && !near(vs.MeanPause, float64(pauseSum)/float64(np), 1e-9) {
			t.Errorf("%s: mean pause %.6f, brute force %.6f", vs.Name, vs.MeanPause, float64(pauseSum)/float64(np))
		}
		// The largest delay, and the 99th percentile: the smallest delay
		// that at least 99% of the decisions on a window do not exceed.
		var maxD, p99 int64 = 0, -1
		for _, d := range ds {
			maxD = max(maxD, d)
		}
		for d := int64(0); p99 < 0 && len(ds) > 0; d++ {
			within := 0
			for _, x := range ds {
				if x <= d {
					within++
				}
			}
			if 100*within >= 99*len(ds) {
				p99 = d
			}
		}
		if len(ds) > 0 && (vs.MaxDelay != maxD || vs.P99Delay != p99) {
			t.Errorf("%s: delays max %d p99 %d; brute force %d, %d", vs.Name, vs.MaxDelay, vs.P99Delay, maxD, p99)
		}
		var fv struct {
			CPU  int64 `json:"cpu_ns"`
			Wall int64 `json:"wall_ns"`
		}
		if b, err := os.ReadFile(filepath.Join(dir, "raw", vs.Name+".fvmd.json")); err == nil {
			if err := json.Unmarshal(b, &fv); err != nil {
				t.Fatal(err)
			}
			if fv.Wall > 0 && !near(vs.FvmdCPUPermille, 1000*float64(fv.CPU)/float64(fv.Wall), 1e-9) {
				t.Errorf("%s: fvmd CPU %.6f permille, brute force %.6f", vs.Name, vs.FvmdCPUPermille, 1000*float64(fv.CPU)/float64(fv.Wall))
			}
		}
	}
	if jain := sum * sum / (float64(nFVM) * sumSq); nFVM > 0 && !near(want.JainFVM, jain, 1e-9) {
		t.Errorf("Jain of the FVMs %.9f, brute force %.9f", want.JainFVM, jain)
	}
	if !near(want.Utilisation, util, 1e-9) {
		t.Errorf("utilisation %.9f, brute force %.9f", want.Utilisation, util)
	}
	epochLen := 0.0
	if gaps > 0 {
		epochLen = gapSum / float64(gaps)
	}
	if !near(want.EpochWindows, epochLen, 1e-9) {
		t.Errorf("epoch %.6f windows, brute force %.6f", want.EpochWindows, epochLen)
	}
	epochs := -1
	if lead >= 0 && want.ConvergenceS >= 0 {
		epochs = 0
		for _, x := range decs[lead] {
			if x >= t0 && float64(x-t0) < want.ConvergenceS*1e9 {
				epochs++
			}
		}
	}
	if want.ConvergenceEpochs != epochs {
		t.Errorf("%d epochs before convergence, brute force %d", want.ConvergenceEpochs, epochs)
	}
}
