package docs

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/friendly-vm/fvm/friendly/experiment"
	"github.com/friendly-vm/fvm/report"
	"github.com/friendly-vm/fvm/uml-impl/runner"
)

// The blocks' renderers wrote the committed documents, so holding a
// document to its rendering (Update in check mode) only says that the
// document is not stale. The checks here say that what a document states
// is what the data say: each reads the committed block as text and holds
// its figures to the data, read here with encoding/json and formatted
// here, never through a renderer. The data themselves are held to
// brute-force recomputations from the raw files by the runners' tests
// (uml-impl/runner and friendly/experiment, TestRecordedRuns).

// root is the repository root, seen from this package.
const root = "../.."

// independentCheck returns the check of the block called name, if it has
// one. TestDocs and TestFriendlyDocs run the check of every block they
// hold to its rendering.
func independentCheck(name string) (func(t *testing.T, block string), bool) {
	switch name {
	case "friendly-runs":
		return checkFriendlyRuns, true
	case "friendly-job":
		return checkFriendlyJob, true
	case "friendly-thresholds":
		return checkFriendlyThresholds, true
	case "runs":
		return checkUMLRuns(""), true
	case "verdicts":
		return checkVerdicts, true
	case "establishes":
		return checkEstablishes, true
	case "compare":
		return checkCompare, true
	case "test-rounds":
		return checkUMLThresholds, true
	case "controller-defaults":
		return checkControllerDefaults, true
	}
	if exp, ok := strings.CutPrefix(name, "runs-"); ok {
		return checkUMLRuns(exp + "-"), true
	}
	return nil, false
}

// committedBlock returns the text between a block's markers in the
// committed document file.
func committedBlock(t *testing.T, file, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(root, file))
	if err != nil {
		t.Fatal(err)
	}
	begin := "<!-- fvm:docs " + name + " -->\n"
	_, rest, ok := strings.Cut(string(b), begin)
	if !ok {
		t.Fatalf("%s: no %q marker", file, strings.TrimSpace(begin))
	}
	text, _, ok := strings.Cut(rest, "<!-- fvm:end -->")
	if !ok {
		t.Fatalf("%s: block %s has no end marker", file, name)
	}
	return text
}

// tableRows returns the body rows of the first Markdown table in text,
// keyed by their first cell, and their order.
func tableRows(t *testing.T, text string) (map[string][]string, []string) {
	t.Helper()
	rows := map[string][]string{}
	var order []string
	header := true
	for _, l := range strings.Split(text, "\n") {
		if !strings.HasPrefix(l, "| ") {
			if len(order) > 0 {
				break
			}
			continue
		}
		cells := strings.Split(strings.TrimSuffix(strings.TrimPrefix(l, "| "), " |"), " | ")
		if header {
			header = false
			continue
		}
		if strings.HasPrefix(l, "|---") {
			continue
		}
		rows[cells[0]] = cells
		order = append(order, cells[0])
	}
	if len(order) == 0 {
		t.Fatalf("no table rows in\n%s", text)
	}
	return rows, order
}

// rawFriendly is what the checks read of a friendly run's summary.json.
type rawFriendly struct {
	Jain         float64 `json:"jain_friendly"`
	Utilisation  float64 `json:"utilisation"`
	ConvergenceS float64 `json:"convergence_s"`
	Refines      *bool   `json:"refines"`
	Complete     bool    `json:"complete"`
	Participants []struct {
		Name     string  `json:"name"`
		Workload string  `json:"workload"`
		Share    float64 `json:"share"`
		Latency  *struct {
			Mean float64 `json:"mean_ms"`
			P99  float64 `json:"p99_ms"`
		} `json:"latency"`
	} `json:"participants"`
}

func readJSON(t *testing.T, path string, v any) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}

func friendlySummary(t *testing.T, dir string) rawFriendly {
	t.Helper()
	var s rawFriendly
	readJSON(t, filepath.Join(root, "testdata", "runs", dir, "summary.json"), &s)
	return s
}

func pct(x float64) string { return fmt.Sprintf("%.1f%%", 100*x) }

// checkCells reports every cell of row that differs from want (a cell
// not to check is "").
func checkCells(t *testing.T, what string, row []string, want ...string) {
	t.Helper()
	if len(row) != len(want) {
		t.Errorf("%s: %d cells %q, want %d", what, len(row), row, len(want))
		return
	}
	for i, w := range want {
		if w != "" && row[i] != w {
			t.Errorf("%s: cell %d says %q, the data say %q", what, i+1, row[i], w)
		}
	}
}

// checkFriendlyRuns: README.md's table of the pair, four and greedy runs
// of friendly groups states each run's Jain index, utilisation,
// convergence, shares and refinement as its summary.json records them,
// and every run is listed and refines ref.
func checkFriendlyRuns(t *testing.T, block string) {
	rows, order := tableRows(t, block)
	want := []string{"`friendly-pair`", "`friendly-four`", "`friendly-greedy`", "`friendly-pair-idle`", "`friendly-four-idle`", "`friendly-greedy-idle`"}
	if strings.Join(order, " ") != strings.Join(want, " ") {
		t.Errorf("friendly-runs lists %v, want %v", order, want)
	}
	for _, name := range want {
		row, ok := rows[name]
		if !ok {
			continue
		}
		s := friendlySummary(t, strings.Trim(name, "`"))
		jain := "—"
		if s.Jain >= 0 {
			jain = fmt.Sprintf("%.3f", s.Jain)
		}
		conv := "never"
		if s.ConvergenceS >= 0 {
			conv = fmt.Sprintf("%.0f s", s.ConvergenceS)
		}
		var shares []string
		for _, p := range s.Participants {
			shares = append(shares, p.Name+" "+pct(p.Share))
		}
		refines := "**no**"
		if s.Refines != nil && *s.Refines {
			refines = "yes"
		}
		var sp struct {
			IdlePause bool `json:"idle_pause"`
		}
		readJSON(t, filepath.Join(root, "testdata", "runs", strings.Trim(name, "`"), "spec.json"), &sp)
		pause := "sleeping (CFS quota)"
		if sp.IdlePause {
			pause = "work-conserving (cpu.idle)"
		}
		if sp.IdlePause != strings.HasSuffix(name, "-idle`") {
			t.Errorf("friendly-runs %s: idle_pause %v in its spec.json, against its name", name, sp.IdlePause)
		}
		checkCells(t, "friendly-runs "+name, row, name, "", pause, jain, pct(s.Utilisation), conv, strings.Join(shares, ", "), refines)
		if refines != "yes" || !s.Complete {
			t.Errorf("friendly-runs %s: refines %s, complete %v; every committed run must refine ref and be complete", name, refines, s.Complete)
		}
	}
}

// checkFriendlyJob: README.md's job table states the latency loop's mean
// and p99 response in each run, their ratios to the loop alone, the job's
// and the loop's shares and the utilisation as the runs' summary.json
// record them.
func checkFriendlyJob(t *testing.T, block string) {
	rows, order := tableRows(t, block)
	runs := []struct{ row, dir string }{
		{"loop alone", "friendly-job-alone"}, {"job unmanaged", "friendly-job-unmanaged"}, {"job nice19", "friendly-job-nice19"},
		{"job idle", "friendly-job-idle"}, {"job friendly", "friendly-job-friendly"},
	}
	if len(order) != len(runs) {
		t.Errorf("friendly-job lists %v, want the %d runs of the job experiment", order, len(runs))
	}
	var aloneMean, aloneP99 float64
	for k, r := range runs {
		s := friendlySummary(t, r.dir)
		var loop, job = -1, -1
		for i, p := range s.Participants {
			switch p.Workload {
			case experiment.Loop:
				loop = i
			case experiment.Gzip:
				job = i
			}
		}
		if loop < 0 || s.Participants[loop].Latency == nil {
			t.Fatalf("%s: no latency loop", r.dir)
		}
		l := s.Participants[loop].Latency
		if k == 0 {
			aloneMean, aloneP99 = l.Mean, l.P99
		}
		jobShare := "—"
		if job >= 0 {
			jobShare = pct(s.Participants[job].Share)
		}
		row, ok := rows[r.row]
		if !ok {
			t.Errorf("friendly-job: no row %q", r.row)
			continue
		}
		checkCells(t, "friendly-job "+r.row, row, r.row, fmt.Sprintf("%.2f", l.Mean), fmt.Sprintf("%.2f", l.P99),
			fmt.Sprintf("%.2f×", l.Mean/aloneMean), fmt.Sprintf("%.2f×", l.P99/aloneP99), jobShare,
			pct(s.Participants[loop].Share), pct(s.Utilisation))
	}
}

// checkFriendlyThresholds: README.md's table of the real tests'
// thresholds states, for each figure, the number of calibration rounds
// under testdata/thresholds/friendly (friendly-idle for the work-conserving
// pause), the minimum, median and maximum of
// the figure over them (read from each round's summary.json or kill.json),
// the threshold the real test asserts, and its margin to the worst round,
// which must be positive.
func checkFriendlyThresholds(t *testing.T, block string) {
	rounds, err := filepath.Glob(filepath.Join(root, "testdata", "thresholds", "friendly", "round-*"))
	if err != nil || len(rounds) < 5 {
		t.Fatalf("%d calibration rounds (%v), want at least 5", len(rounds), err)
	}
	idleRounds, err := filepath.Glob(filepath.Join(root, "testdata", "thresholds", "friendly-idle", "round-*"))
	if err != nil || len(idleRounds) < 5 {
		t.Fatalf("%d calibration rounds of the work-conserving pause (%v), want at least 5", len(idleRounds), err)
	}
	over := func(rounds []string, f func(round string) float64) []float64 {
		var xs []float64
		for _, r := range rounds {
			xs = append(xs, f(r))
		}
		return xs
	}
	figure := func(f func(round string) float64) []float64 { return over(rounds, f) }
	idleFigure := func(f func(round string) float64) []float64 { return over(idleRounds, f) }
	summary := func(round, run string) rawFriendly {
		var s rawFriendly
		readJSON(t, filepath.Join(round, run, "summary.json"), &s)
		return s
	}
	kill := func(round string) (before, after float64) {
		var k struct {
			Before float64 `json:"share_before"`
			After  float64 `json:"share_after"`
		}
		readJSON(t, filepath.Join(round, "friendly-kill9", "kill.json"), &k)
		return k.Before, k.After
	}
	figs := []struct {
		prefix    string
		xs        []float64
		threshold float64
		atLeast   bool
	}{
		{"pair (", figure(func(r string) float64 { return summary(r, "friendly-pair").Jain }), experiment.PairJainMin, true},
		{"greedy (", figure(func(r string) float64 { return summary(r, "friendly-greedy").Participants[0].Share }), experiment.GreedyFriendlyMax, false},
		{"greedy (", figure(func(r string) float64 { return summary(r, "friendly-greedy").Participants[1].Share }), experiment.GreedyOtherMin, true},
		{"pair, work-conserving (", idleFigure(func(r string) float64 { return summary(r, "friendly-pair-idle").Jain }), experiment.IdlePairJainMin, true},
		{"pair, work-conserving (", idleFigure(func(r string) float64 { return summary(r, "friendly-pair-idle").Utilisation }), experiment.IdlePairUtilisationMin, true},
		{"greedy, work-conserving (", idleFigure(func(r string) float64 { return summary(r, "friendly-greedy-idle").Participants[0].Share }), experiment.IdleGreedyFriendlyMax, false},
		{"greedy, work-conserving (", idleFigure(func(r string) float64 { return summary(r, "friendly-greedy-idle").Participants[1].Share }), experiment.IdleGreedyOtherMin, true},
		{"kill -9: the command's share before", figure(func(r string) float64 { b, _ := kill(r); return b }), experiment.Kill9BeforeMax, false},
		{"kill -9: the command's share after", figure(func(r string) float64 { _, a := kill(r); return a }), experiment.Kill9AfterMin, true},
	}
	rows, order := tableRows(t, block)
	if len(order) != len(figs) {
		t.Fatalf("friendly-thresholds has %d rows, want %d", len(order), len(figs))
	}
	for k, f := range figs {
		row := rows[order[k]]
		if !strings.HasPrefix(order[k], f.prefix) {
			t.Errorf("friendly-thresholds row %d is %q, want a row on %q", k+1, order[k], f.prefix)
		}
		xs := append([]float64(nil), f.xs...)
		sort.Float64s(xs)
		lo, hi := xs[0], xs[len(xs)-1]
		med := xs[len(xs)/2]
		if len(xs)%2 == 0 {
			med = (xs[len(xs)/2-1] + xs[len(xs)/2]) / 2
		}
		rel, margin := "≥", lo-f.threshold
		if !f.atLeast {
			rel, margin = "<", f.threshold-hi
		}
		if margin <= 0 {
			t.Errorf("%s: threshold %s %v fails a calibration round (min %.3f, max %.3f)", order[k], rel, f.threshold, lo, hi)
		}
		checkCells(t, "friendly-thresholds "+order[k], row, "", strconv.Itoa(len(xs)), fmt.Sprintf("%.3f", lo), fmt.Sprintf("%.3f", med),
			fmt.Sprintf("%.3f", hi), fmt.Sprintf("%s %.2f", rel, f.threshold), fmt.Sprintf("%.3f", margin))
	}
}

// rawUML is what the checks read of a UML run's summary.json.
type rawUML struct {
	Jain         float64 `json:"jain_fvm"`
	Utilisation  float64 `json:"utilisation"`
	ConvergenceS float64 `json:"convergence_s"`
	Complete     bool    `json:"complete"`
	VMs          []struct {
		Name       string  `json:"name"`
		Role       string  `json:"role"`
		Share      float64 `json:"share"`
		MeanPause  float64 `json:"mean_pause_permille"`
		DutyShare  float64 `json:"duty_share"`
		Rate       float64 `json:"progress_rate"`
		MaxDelay   int64   `json:"max_delay"`
		GapWindows int64   `json:"gap_windows"`
		Windows    int64   `json:"windows"`
	} `json:"vms"`
}

// umlRunDirs lists the committed runs of UML guests whose names start
// with prefix (the friendly groups' runs have tables of their own).
func umlRunDirs(t *testing.T, prefix string) []string {
	t.Helper()
	entries, err := os.ReadDir(filepath.Join(root, "testdata", "runs"))
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range entries {
		if e.IsDir() && strings.HasPrefix(e.Name(), prefix) && !strings.HasPrefix(e.Name(), "friendly-") {
			out = append(out, e.Name())
		}
	}
	return out
}

// checkUMLRuns is the check of the tables of UML runs: testdata/runs's
// "runs" (every run) and uml-impl/README.md's runs-EXPERIMENT (the runs
// called EXPERIMENT-*). Each lists exactly its committed runs, with the
// Jain index of the FVMs, the utilisation, the convergence, every VM's
// share, pause, duty model share and work rate, the FVMs' largest delay,
// the lost windows, as the run's summary.json records them, and every run
// refines ref and is complete.
func checkUMLRuns(prefix string) func(t *testing.T, block string) {
	return func(t *testing.T, block string) {
		rows, order := tableRows(t, block)
		dirs := umlRunDirs(t, prefix)
		var want []string
		for _, d := range dirs {
			want = append(want, "`"+d+"`")
		}
		if strings.Join(order, " ") != strings.Join(want, " ") {
			t.Errorf("runs table %q lists %v, the committed runs are %v", prefix, order, want)
		}
		for _, d := range dirs {
			row, ok := rows["`"+d+"`"]
			if !ok {
				continue
			}
			var s rawUML
			readJSON(t, filepath.Join(root, "testdata", "runs", d, "summary.json"), &s)
			jain := "—"
			if s.Jain >= 0 {
				jain = fmt.Sprintf("%.3f", s.Jain)
			}
			conv := "never"
			if s.ConvergenceS >= 0 {
				conv = fmt.Sprintf("%.0f s", s.ConvergenceS)
			}
			var vms, delays []string
			var lost int64
			for _, v := range s.VMs {
				vms = append(vms, fmt.Sprintf("%s %s %s (pause %.0f‰, duty model %s, work %.3g/s)", v.Name, v.Role, pct(v.Share), v.MeanPause, pct(v.DutyShare), v.Rate))
				if v.Role == "fvm" {
					delays = append(delays, strconv.FormatInt(v.MaxDelay, 10))
				}
				lost += v.GapWindows
			}
			if len(delays) == 0 {
				delays = []string{"—"}
			}
			checkCells(t, "runs "+d, row, "`"+d+"`", jain, pct(s.Utilisation), conv, strings.Join(vms, "; "),
				strings.Join(delays, " / "), strconv.FormatInt(lost, 10), "yes")
			if !s.Complete {
				t.Errorf("runs %s: incomplete", d)
			}
		}
	}
}

// rawConfig is what the checks read of a configuration file: the
// verdicts its author recorded (a property not listed holds).
type rawConfig struct {
	Check struct {
		Liveness bool              `json:"liveness"`
		Expect   map[string]string `json:"expect"`
	} `json:"check"`
}

// checkVerdicts: spec/MODEL.md's verdict table states, for every
// configuration it lists, the verdicts recorded by hand in the
// configuration's file: **violated** exactly for the properties its
// "expect" lists, holds for the others the checker judges ("—": the
// property does not apply to the configuration's host).
func checkVerdicts(t *testing.T, block string) {
	rows, order := tableRows(t, block)
	props := []string{"Efficient", "DemandsConverge", "Utilised", "FairShares"}
	for _, key := range order {
		name, _, ok := strings.Cut(strings.TrimPrefix(key, "`"), "`")
		if !ok {
			t.Errorf("verdicts: row %q names no configuration", key)
			continue
		}
		var c rawConfig
		readJSON(t, filepath.Join(root, "configs", name+".json"), &c)
		if !c.Check.Liveness {
			t.Errorf("verdicts: %s has no liveness check, yet the table lists its liveness verdicts", name)
		}
		row := rows[key]
		if len(row) < 1+len(props)+1 {
			t.Errorf("verdicts %s: %d cells", name, len(row))
			continue
		}
		for k, prop := range props {
			cell := row[2+k]
			switch {
			case c.Check.Expect[prop] == "violated":
				if cell != "**violated**" {
					t.Errorf("verdicts %s: %s says %q; configs/%s.json records it violated", name, prop, cell, name)
				}
			case cell != "—" && !strings.HasPrefix(cell, "holds"):
				t.Errorf("verdicts %s: %s says %q; configs/%s.json records no violation", name, prop, cell, name)
			}
		}
		if cell := row[2+3]; cell == "—" {
			t.Errorf("verdicts %s: FairShares has no verdict; every host has one", name)
		}
	}
	if len(order) < 5 {
		t.Errorf("verdicts lists %d configurations", len(order))
	}
}

// checkEstablishes: README.md's claims table counts the committed runs
// that refine ref as "all N of N" for the UML guests' runs and for the
// friendly groups' runs with a trace, N counted here from the run
// directories (that each refines is TestRealRunsRefine's), and names the
// configurations whose recorded verdicts (configs/*.json) violate
// fairness.
func checkEstablishes(t *testing.T, block string) {
	uml := len(umlRunDirs(t, ""))
	fr, err := filepath.Glob(filepath.Join(root, "testdata", "runs", "friendly-*", "*.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	withTrace := map[string]bool{}
	for _, f := range fr {
		withTrace[filepath.Dir(f)] = true
	}
	want := fmt.Sprintf("%d of the %d committed runs of UML guests and %d of the %d of friendly process groups", uml, uml, len(withTrace), len(withTrace))
	if !strings.Contains(block, want) {
		t.Errorf("establishes: no %q", want)
	}
	for _, name := range []string{"mimd", "aiad", "hetero-params"} {
		var c rawConfig
		readJSON(t, filepath.Join(root, "configs", name+".json"), &c)
		var violated []string
		for _, p := range []string{"DemandsConverge", "FairShares"} {
			if c.Check.Expect[p] == "violated" {
				violated = append(violated, p)
			}
		}
		if w := fmt.Sprintf("`%s` violates %s", name, strings.Join(violated, ", ")); len(violated) == 0 || !strings.Contains(block, w) {
			t.Errorf("establishes: no %q (configs/%s.json records %v violated)", w, name, violated)
		}
	}
}

// What the documents state is what the data say, for every block with an
// independent check, without rendering any block (no model checking: this
// runs in -short too). The blocks without one are logged: their numbers
// come from the model checker (held to the proofs and to TLC by the spec,
// proofs and tla tests) or their text is checked elsewhere (the patch
// statistics by TestPatchStatAgreesWithGit, the mechanisms' prose by
// TestMechanismsDoc).
func TestDocsStateTheData(t *testing.T) {
	var without []string
	for _, b := range All() {
		check, ok := independentCheck(b.Name)
		if !ok {
			without = append(without, b.File+" "+b.Name)
			continue
		}
		t.Run(b.Name, func(t *testing.T) { check(t, committedBlock(t, b.File, b.Name)) })
	}
	t.Logf("blocks held to their renderers only (TestDocs): %s", strings.Join(without, ", "))
}

// compareEntry is one run of the comparison's manifest, compare.json.
type compareEntry struct {
	Run      string `json:"run"`
	Mech     string `json:"mechanism"`
	Theta    int    `json:"theta_permille"`
	Sweep    bool   `json:"sweep"`
	Scenario string `json:"scenario"`
}

// label is the row of the comparison the run belongs to: its mechanism,
// and for a sweep its threshold.
func (e compareEntry) label() string {
	if e.Sweep {
		return e.Mech + "-t" + strconv.Itoa(e.Theta)
	}
	return e.Mech
}

// checkCompare: README.md's comparison of mechanisms lists one row per
// mechanism and threshold of testdata/runs/compare.json, in its order, and
// each row's figures are those of the runs' summary.json: Jain,
// utilisation and convergence of pair and four, the greedy guest's share
// and its neighbour's, the pair's work against the cfs pair's, and every
// run refining ref.
func checkCompare(t *testing.T, block string) {
	rows, order := tableRows(t, block)
	var manifest []compareEntry
	runs := filepath.Join(root, "testdata", "runs")
	readJSON(t, filepath.Join(runs, "compare.json"), &manifest)
	type want struct {
		theta string
		cells map[string][]string
		work  float64
	}
	wants := map[string]*want{}
	var labels []string
	work := func(s rawUML) float64 {
		w := 0.0
		for _, v := range s.VMs {
			if v.Role == "fvm" || v.Role == "baseline" {
				w += v.Rate
			}
		}
		return w
	}
	for _, m := range manifest {
		label := m.label()
		w, ok := wants[label]
		if !ok {
			w = &want{theta: "—", cells: map[string][]string{}}
			if m.Theta > 0 {
				w.theta = strconv.Itoa(m.Theta) + "‰"
			}
			wants[label] = w
			labels = append(labels, label)
		}
		var s rawUML
		readJSON(t, filepath.Join(runs, m.Run, "summary.json"), &s)
		if !s.Complete {
			t.Errorf("compare: run %s is incomplete", m.Run)
		}
		conv := "never"
		if s.ConvergenceS >= 0 {
			conv = fmt.Sprintf("%.0f s", s.ConvergenceS)
		}
		switch m.Scenario {
		case "pair", "four":
			w.cells[m.Scenario] = []string{fmt.Sprintf("%.3f", s.Jain), pct(s.Utilisation), conv}
			if m.Scenario == "pair" {
				w.work = work(s)
			}
		case "greedy":
			var g, o float64
			for _, v := range s.VMs {
				if v.Role == "greedy" {
					g += v.Share
				} else {
					o += v.Share
				}
			}
			w.cells["greedy"] = []string{pct(g), pct(o)}
		default:
			t.Errorf("compare: run %s of unknown scenario %q", m.Run, m.Scenario)
		}
	}
	if strings.Join(order, " ") != strings.Join(labels, " ") {
		t.Errorf("compare table lists %v, compare.json %v", order, labels)
	}
	cfs := wants["cfs"]
	if cfs == nil || cfs.work == 0 {
		t.Fatal("compare: no cfs pair to measure work against")
	}
	for _, l := range labels {
		w := wants[l]
		cells := []string{l, w.theta}
		for _, sc := range []string{"pair", "four"} {
			if c, ok := w.cells[sc]; ok {
				cells = append(cells, c...)
			} else {
				cells = append(cells, "—", "—", "—")
			}
		}
		if c, ok := w.cells["greedy"]; ok {
			cells = append(cells, c...)
		} else {
			cells = append(cells, "—", "—")
		}
		cells = append(cells, fmt.Sprintf("%.2f", w.work/cfs.work), "yes")
		checkCells(t, "compare "+l, rows[l], cells...)
	}
	checkComparePredictions(t, block, manifest2runs(manifest))
}

// manifest2runs maps (row label, scenario) to the run's directory name.
func manifest2runs(m []compareEntry) map[[2]string]string {
	out := map[[2]string]string{}
	for _, r := range m {
		label := r.label()
		out[[2]string{label, r.Scenario}] = r.Run
	}
	return out
}

// checkComparePredictions: the second table of the comparison lists the
// controllers' pair and four runs (rows of a threshold), and its measured
// halves are the runs' summary.json: utilisation, Jain, convergence and
// its epochs, the epoch length. (The predicted halves are proofs.Predict's,
// which package proofs tests.)
func checkComparePredictions(t *testing.T, block string, runs map[[2]string]string) {
	_, rest, ok := strings.Cut(block, "against the proofs' prediction")
	if !ok {
		t.Fatal("compare: no table of predictions")
	}
	seen := 0
	for _, l := range strings.Split(rest, "\n") {
		if !strings.HasPrefix(l, "| ") || strings.HasPrefix(l, "| mechanism") {
			continue
		}
		c := strings.Split(strings.TrimSuffix(strings.TrimPrefix(l, "| "), " |"), " | ")
		run, ok := runs[[2]string{c[0], c[1]}]
		if !ok || len(c) != 8 {
			t.Errorf("compare predictions: row %q names no run of compare.json", l)
			continue
		}
		seen++
		var s struct {
			rawUML
			Epochs   int     `json:"convergence_epochs"`
			EpochLen float64 `json:"epoch_windows"`
		}
		readJSON(t, filepath.Join(root, "testdata", "runs", run, "summary.json"), &s)
		conv, epochs := "never (within the run)", "—"
		if s.ConvergenceS >= 0 {
			conv = fmt.Sprintf("%.1f s", s.ConvergenceS)
		}
		if s.Epochs >= 0 {
			epochs = fmt.Sprintf("%d epochs", s.Epochs)
		}
		for i, want := range map[int]string{
			2: fmt.Sprintf("%.3f / ", s.Utilisation), 3: fmt.Sprintf("%.3f / ", s.Jain),
			4: fmt.Sprintf("%s (%s)", conv, epochs), 6: fmt.Sprintf("%.1f / ", s.EpochLen),
		} {
			if !strings.HasPrefix(c[i], want) {
				t.Errorf("compare predictions %s %s: cell %d says %q, the run's summary %q", c[0], c[1], i+1, c[i], want)
			}
		}
	}
	want := 0
	for k := range runs {
		if (k[1] == "pair" || k[1] == "four") && !isBaselineLabel(k[0]) {
			want++
		}
	}
	if seen != want {
		t.Errorf("compare predictions: %d rows, want one per controller pair and four run (%d)", seen, want)
	}
}

func isBaselineLabel(l string) bool { return l == "cfs" || l == "nice19" || l == "sched-idle" }

// checkUMLThresholds: uml-impl/README.md's test-rounds table states, for
// every run of the real-kernel test rounds (testdata/thresholds/round-K/RUN),
// the minimum, median and maximum over the rounds of each measure the
// tests assert, as the rounds' summary.json record them, and for each
// threshold of the TestReal* tests (runner.Thresholds) its value and its
// margin, which is positive: no round breaks a threshold.
func checkUMLThresholds(t *testing.T, block string) {
	sums, err := filepath.Glob(filepath.Join(root, "testdata", "thresholds", "round-*", "*", "summary.json"))
	if err != nil || len(sums) == 0 {
		t.Fatalf("no test round (%v)", err)
	}
	vals := map[[2]string][]float64{}
	rounds := map[string]bool{}
	for _, p := range sums {
		run := filepath.Base(filepath.Dir(p))
		rounds[filepath.Base(filepath.Dir(filepath.Dir(p)))] = true
		var s rawUML
		readJSON(t, p, &s)
		add := func(m string, v float64) { vals[[2]string{run, m}] = append(vals[[2]string{run, m}], v) }
		greedy := strings.HasPrefix(run, "greedy")
		if s.Jain >= 0 {
			add("Jain index of the FVMs' shares", s.Jain)
		}
		add("utilisation", s.Utilisation)
		if !greedy && len(s.VMs) > 1 {
			add("convergence (s)", s.ConvergenceS)
		}
		var lost, windows, delay int64
		for _, v := range s.VMs {
			switch {
			case v.Role == "greedy":
				add("greedy guest's share", v.Share)
			case v.Role == "fvm":
				if greedy {
					add("FVM's share", v.Share)
				}
				lost, windows, delay = lost+v.GapWindows, windows+v.Windows+v.GapWindows, max(delay, v.MaxDelay)
			}
		}
		add("largest feedback delay (windows)", float64(delay))
		add("windows lost (all FVMs)", float64(lost))
		if windows > 0 {
			add("fraction of windows lost", float64(lost)/float64(windows))
		}
	}
	if !strings.HasPrefix(block, fmt.Sprintf("%d rounds.", len(rounds))) {
		t.Errorf("test-rounds begins %q, the rounds are %d", strings.SplitN(block, "\n", 2)[0], len(rounds))
	}
	if len(rounds) < 5 {
		t.Errorf("%d test rounds, want at least 5", len(rounds))
	}
	number := func(x float64) string {
		if x == math.Trunc(x) {
			return strconv.FormatFloat(x, 'f', 0, 64)
		}
		return strconv.FormatFloat(x, 'f', 4, 64)
	}
	thresholds := map[[2]string]runner.Threshold{}
	for _, th := range runner.Thresholds() {
		thresholds[[2]string{th.Run, th.Measure}] = th
	}
	seen := map[[2]string]bool{}
	for _, l := range strings.Split(block, "\n") {
		if !strings.HasPrefix(l, "| `") {
			continue
		}
		c := strings.Split(strings.TrimSuffix(strings.TrimPrefix(l, "| "), " |"), " | ")
		if len(c) != 8 {
			t.Errorf("test-rounds row %q: %d cells, want 8", l, len(c))
			continue
		}
		k := [2]string{strings.Trim(c[0], "`"), c[1]}
		xs, ok := vals[k]
		if !ok {
			t.Errorf("test-rounds row %q: no round measures it", l)
			continue
		}
		seen[k] = true
		xs = append([]float64(nil), xs...)
		sort.Float64s(xs)
		lo, hi := xs[0], xs[len(xs)-1]
		med := xs[len(xs)/2]
		if len(xs)%2 == 0 {
			med = (xs[len(xs)/2-1] + xs[len(xs)/2]) / 2
		}
		bound, margin := "—", "—"
		if th, ok := thresholds[k]; ok {
			var m float64
			switch {
			case th.AtLeast:
				m, bound = lo-th.Value, "≥ "+strconv.FormatFloat(th.Value, 'f', -1, 64)
			case th.Strict:
				m, bound = th.Value-hi, "< "+strconv.FormatFloat(th.Value, 'f', -1, 64)
			default:
				m, bound = th.Value-hi, "≤ "+strconv.FormatFloat(th.Value, 'f', -1, 64)
				if lo < 0 { // never converged
					m = lo
				}
			}
			if m < 0 || m == 0 && th.Strict {
				t.Errorf("%s of %s: threshold %s fails a round (min %v, max %v)", k[1], k[0], bound, lo, hi)
			}
			margin = number(m)
		}
		checkCells(t, "test-rounds "+k[0]+" "+k[1], c, c[0], k[1], strconv.Itoa(len(xs)), number(lo), number(med), number(hi), bound, margin)
	}
	for k := range vals {
		if !seen[k] {
			t.Errorf("test-rounds has no row for %s of %s", k[1], k[0])
		}
	}
	for k := range thresholds {
		if !seen[k] {
			t.Errorf("test-rounds has no row for the threshold on %s of %s", k[1], k[0])
		}
	}
}

// checkControllerDefaults: uml-impl/README.md's table of the controller's
// defaults states the parameters of configs/deployed.json (the default,
// work-conserving pause) and of configs/deployed-sleep.json (the sleeping
// pause's row), read here from the files.
func checkControllerDefaults(t *testing.T, block string) {
	type cfg struct {
		U     int    `json:"u"`
		DMin  int    `json:"dmin"`
		DMax  int    `json:"dmax"`
		Delay int    `json:"delay"`
		Rule  string `json:"rule"`
		Alpha int    `json:"alpha"`
		Beta  string `json:"beta"`
		Host  string `json:"host"`
		Sig   string `json:"signal"`
		Theta string `json:"theta"`
	}
	var def, sleep cfg
	readJSON(t, filepath.Join(root, "configs", "deployed.json"), &def)
	readJSON(t, filepath.Join(root, "configs", "deployed-sleep.json"), &sleep)
	permille := func(theta string) string {
		n, d, ok := strings.Cut(theta, "/")
		a, err1 := strconv.Atoi(n)
		b, err2 := strconv.Atoi(d)
		if !ok || err1 != nil || err2 != nil || b == 0 || 1000*a%b != 0 {
			t.Fatalf("theta %q is not a fraction of whole permille", theta)
		}
		return strconv.Itoa(1000 * a / b)
	}
	rows, _ := tableRows(t, block)
	p, s := def, sleep
	if p.Host != "duty-idle" || s.Host != "duty" {
		t.Fatalf("deployed.json host %q, deployed-sleep.json host %q: want duty-idle and duty", p.Host, s.Host)
	}
	for _, c := range []struct{ row, cell, want string }{
		{"pause mode", "default", "idle"},
		{"demand units per core `u`", "default", strconv.Itoa(p.U)},
		{"demands `dmin`..`dmax`, initial, safe", "default", fmt.Sprintf("%d..%d, ", p.DMin, p.DMax)},
		{"rule", "default", fmt.Sprintf("%s, α = %d, β = %s", p.Rule, p.Alpha, p.Beta)},
		{"signal, threshold", "default", fmt.Sprintf("%s > %s‰", p.Sig, permille(p.Theta))},
		{"delay bound `delay`", "default", fmt.Sprintf("%d windows", p.Delay)},
		{"sleeping pause (`-pause-mode sleep`)", "default", fmt.Sprintf("%s > %s‰, demands %d..%d", s.Sig, permille(s.Theta), s.DMin, s.DMax)},
	} {
		r, ok := rows[c.row]
		if !ok || len(r) < 2 {
			t.Errorf("controller-defaults: no row %q", c.row)
			continue
		}
		if !strings.HasPrefix(r[1], c.want) {
			t.Errorf("controller-defaults %s: %q, configs say %q", c.row, r[1], c.want)
		}
	}
}

// TestComparisonFilesStateTheData: the comparison's own files under
// testdata/runs (fvm uml compare --report writes them; report's
// TestCommittedComparisonPlot says they are not stale) state the data
// too: compare.md passes README's check of the comparison, and the plot
// has one point per mechanism with both a pair and a greedy run, at the
// greedy guest's share in the greedy run and the pair's utilisation, as
// the runs' summary.json record them.
func TestComparisonFilesStateTheData(t *testing.T) {
	runs := filepath.Join(root, "testdata", "runs")
	md, err := os.ReadFile(filepath.Join(runs, "compare.md"))
	if err != nil {
		t.Fatal(err)
	}
	t.Run("compare.md", func(t *testing.T) { checkCompare(t, string(md)) })

	var manifest []compareEntry
	readJSON(t, filepath.Join(runs, "compare.json"), &manifest)
	byLabel := manifest2runs(manifest)
	var want []report.PlotPoint
	seen := map[string]bool{}
	for _, m := range manifest {
		label := m.label()
		pair, okP := byLabel[[2]string{label, "pair"}]
		greedy, okG := byLabel[[2]string{label, "greedy"}]
		if seen[label] || !okP || !okG {
			continue
		}
		seen[label] = true
		var p, g rawUML
		readJSON(t, filepath.Join(runs, pair, "summary.json"), &p)
		readJSON(t, filepath.Join(runs, greedy, "summary.json"), &g)
		share := 0.0
		for _, v := range g.VMs {
			if v.Role == "greedy" {
				share += v.Share
			}
		}
		want = append(want, report.PlotPoint{Label: label, GreedyShare: share, PairUtilisation: p.Utilisation})
	}
	c, err := report.ReadComparison(runs)
	if err != nil {
		t.Fatal(err)
	}
	got := c.PlotPoints()
	if len(want) < 2 {
		t.Fatalf("%d mechanisms with a pair and a greedy run, want several", len(want))
	}
	if len(got) != len(want) {
		t.Fatalf("the plot has %d points %v, the runs give %d %v", len(got), got, len(want), want)
	}
	for i := range want {
		if got[i].Label != want[i].Label || math.Abs(got[i].GreedyShare-want[i].GreedyShare) > 1e-12 ||
			math.Abs(got[i].PairUtilisation-want[i].PairUtilisation) > 1e-12 {
			t.Errorf("plot point %d: %+v, the runs give %+v", i, got[i], want[i])
		}
	}
}
