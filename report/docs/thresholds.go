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
// minimum, median and maximum of every measure a real-kernel test asserts.
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
			add("Jain index of the FVMs' shares", s.JainFVM)
		}
		add("utilisation", s.Utilisation)
		if len(s.VMs) > 1 && !strings.HasPrefix(run, "greedy") {
			// -1 (never) sorts first, so a round that never converged is
			// the minimum.
			add("convergence (s)", s.ConvergenceS)
		}
		var lost, windows, maxDelay int64
		for _, v := range s.VMs {
			if v.Role == "greedy" {
				add("greedy guest's share", v.Share)
			}
			if v.Role != "fvm" {
				continue
			}
			if strings.HasPrefix(run, "greedy") {
				add("FVM's share", v.Share)
			}
			lost += v.GapWindows
			windows += int64(v.Windows) + v.GapWindows
			maxDelay = max(maxDelay, v.MaxDelay)
		}
		add("largest feedback delay (windows)", float64(maxDelay))
		add("windows lost (all FVMs)", float64(lost))
		if windows > 0 {
			add("fraction of windows lost", float64(lost)/float64(windows))
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
	var rows [][]string
	for _, k := range keys {
		v := slices.Clone(vals[k])
		slices.Sort(v)
		med := v[len(v)/2]
		if len(v)%2 == 0 {
			med = (v[len(v)/2-1] + v[len(v)/2]) / 2
		}
		rows = append(rows, []string{"`" + k.run + "`", k.measure, fmt.Sprint(len(v)), num(v[0]), num(med), num(v[len(v)-1])})
	}
	return fmt.Sprintf("%d rounds.\n\n", len(rounds)) + report.MarkdownTable([]string{"run", "measure", "runs", "min", "median", "max"}, rows), nil
}

// num prints a measure: integers as such, fractions to four places.
func num(x float64) string {
	if x == float64(int64(x)) {
		return fmt.Sprint(int64(x))
	}
	return fmt.Sprintf("%.4f", x)
}
