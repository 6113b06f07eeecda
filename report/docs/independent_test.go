package docs

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/friendly-vm/fvm/friendly/experiment"
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

// independentChecks maps a block's name to its check. TestDocs and
// TestFriendlyDocs run the check of every block they hold to its
// rendering.
var independentChecks = map[string]func(t *testing.T, block string){
	"friendly-runs":       checkFriendlyRuns,
	"friendly-job":        checkFriendlyJob,
	"friendly-thresholds": checkFriendlyThresholds,
}

// independentCheck returns the check of the block called name: its own,
// or the one of its family (runs-pair, runs-four, ...: runs-).
func independentCheck(name string) (func(t *testing.T, block string), bool) {
	if c, ok := independentChecks[name]; ok {
		return c, true
	}
	for prefix, c := range independentChecks {
		if strings.HasSuffix(prefix, "-") && strings.HasPrefix(name, prefix) {
			return c, true
		}
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
	want := []string{"`friendly-pair`", "`friendly-four`", "`friendly-greedy`"}
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
		checkCells(t, "friendly-runs "+name, row, name, "", jain, pct(s.Utilisation), conv, strings.Join(shares, ", "), refines)
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
// under testdata/thresholds/friendly, the minimum, median and maximum of
// the figure over them (read from each round's summary.json or kill.json),
// the threshold the real test asserts, and its margin to the worst round,
// which must be positive.
func checkFriendlyThresholds(t *testing.T, block string) {
	rounds, err := filepath.Glob(filepath.Join(root, "testdata", "thresholds", "friendly", "round-*"))
	if err != nil || len(rounds) < 5 {
		t.Fatalf("%d calibration rounds (%v), want at least 5", len(rounds), err)
	}
	figure := func(f func(round string) float64) []float64 {
		var xs []float64
		for _, r := range rounds {
			xs = append(xs, f(r))
		}
		return xs
	}
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
