package docs

import (
	"fmt"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"github.com/friendly-vm/fvm/report"
	"github.com/friendly-vm/fvm/uml-impl/runner"
)

// thresholdsDir holds the summaries of the real-kernel test rounds from
// which the runner tests' thresholds come: ROUND/RUN/summary.json.
const thresholdsDir = "testdata/thresholds"

// thresholdRounds renders, for each run of the recorded test rounds, the
// minimum, median and maximum of every measure a real-kernel test asserts,
// and the test's threshold with its margin over the rounds
// (runner.Thresholds). It fails when a round breaks a threshold.
func thresholdRounds(root string) (string, error) {
	sums, err := filepath.Glob(filepath.Join(root, thresholdsDir, "*", "*", "summary.json"))
	if err != nil || len(sums) == 0 {
		return "", fmt.Errorf("no test round under %s (%v)", filepath.Join(root, thresholdsDir), err)
	}
	type key struct{ run, measure string }
	vals := map[key][]float64{}
	rounds := map[string]bool{}
	for _, p := range sums {
		dir := filepath.Dir(p)
		run := filepath.Base(dir)
		rounds[filepath.Base(filepath.Dir(dir))] = true
		s, err := runner.ReadSummary(dir)
		if err != nil {
			return "", err
		}
		add := func(m string, v float64) { vals[key{run, m}] = append(vals[key{run, m}], v) }
		if s.JainFVM >= 0 {
			add(runner.MeasureJain, s.JainFVM)
		}
		add(runner.MeasureUtilisation, s.Utilisation)
		if len(s.VMs) > 1 && !strings.HasPrefix(run, "greedy") {
			// -1 (never) sorts first, so a round that never converged is
			// the minimum.
			add(runner.MeasureConvergence, s.ConvergenceS)
		}
		var lost, windows, maxDelay int64
		for _, v := range s.VMs {
			if v.Role == "greedy" {
				add(runner.MeasureGreedyShare, v.Share)
			}
			if v.Role != "fvm" {
				continue
			}
			if strings.HasPrefix(run, "greedy") {
				add(runner.MeasureFVMShare, v.Share)
			}
			lost += v.GapWindows
			windows += int64(v.Windows) + v.GapWindows
			maxDelay = max(maxDelay, v.MaxDelay)
		}
		add(runner.MeasureMaxDelay, float64(maxDelay))
		add(runner.MeasureLost, float64(lost))
		if windows > 0 {
			add(runner.MeasureLostShare, float64(lost)/float64(windows))
		}
	}
	keys := make([]key, 0, len(vals))
	for k := range vals {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if keys[i].run != keys[j].run {
			return keys[i].run < keys[j].run
		}
		return keys[i].measure < keys[j].measure
	})
	thresholds := map[key]runner.Threshold{}
	for _, th := range runner.Thresholds() {
		k := key{th.Run, th.Measure}
		if len(vals[k]) == 0 {
			return "", fmt.Errorf("threshold on %s of %s: no round under %s measures it", th.Measure, th.Run, filepath.Join(root, thresholdsDir))
		}
		thresholds[k] = th
	}
	var rows [][]string
	for _, k := range keys {
		v := slices.Clone(vals[k])
		slices.Sort(v)
		med := v[len(v)/2]
		if len(v)%2 == 0 {
			med = (v[len(v)/2-1] + v[len(v)/2]) / 2
		}
		bound, margin := "—", "—"
		if th, ok := thresholds[k]; ok {
			m, rel := th.Margin(v[0], v[len(v)-1])
			if m < 0 || m == 0 && th.Strict {
				return "", fmt.Errorf("%s of %s: threshold %s %v fails a test round (min %v, max %v)", k.measure, k.run, rel, th.Value, v[0], v[len(v)-1])
			}
			bound, margin = rel+" "+fmt.Sprint(th.Value), num(m)
		}
		rows = append(rows, []string{"`" + k.run + "`", k.measure, fmt.Sprint(len(v)), num(v[0]), num(med), num(v[len(v)-1]), bound, margin})
	}
	return fmt.Sprintf("%d rounds.\n\n", len(rounds)) + report.MarkdownTable([]string{"run", "measure", "runs", "min", "median", "max", "test's threshold", "margin"}, rows), nil
}

// num prints a measure: integers as such, fractions to four places.
func num(x float64) string {
	if x == float64(int64(x)) {
		return fmt.Sprint(int64(x))
	}
	return fmt.Sprintf("%.4f", x)
}
