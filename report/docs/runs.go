package docs

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/friendly-vm/fvm/friendly/experiment"
	"github.com/friendly-vm/fvm/report"
	"github.com/friendly-vm/fvm/trace/refine"
	"github.com/friendly-vm/fvm/uml-impl/runner"
)

// runsDir is where the committed real runs live, relative to the root.
const runsDir = "testdata/runs"

// recordedRun is one committed run: its directory name, summary and
// whether its traces refine ref (checked when the block is rendered).
type recordedRun struct {
	name    string
	sum     *runner.Summary
	refines string
}

// loadRuns reads every committed run of UML guests whose name starts with
// prefix ("": all of them), in name order, and checks each against ref.
// The runs of friendly groups (experiment.RunPrefix) have summaries of
// their own (report/docs/friendly.go).
func loadRuns(root, prefix string) ([]recordedRun, error) {
	entries, err := os.ReadDir(filepath.Join(root, runsDir))
	if err != nil {
		return nil, err
	}
	var out []recordedRun
	for _, e := range entries {
		if !e.IsDir() || !strings.HasPrefix(e.Name(), prefix) || strings.HasPrefix(e.Name(), experiment.RunPrefix) {
			continue
		}
		dir := filepath.Join(root, runsDir, e.Name())
		s, err := runner.ReadSummary(dir)
		if err != nil {
			return nil, err
		}
		res, err := refine.CheckFiles([]string{dir}, refine.Options{})
		if err != nil {
			return nil, fmt.Errorf("%s: %w", dir, err)
		}
		verdict := "yes"
		if !res.OK() {
			verdict = "**no**: " + res.Failure.Msg
		}
		out = append(out, recordedRun{name: e.Name(), sum: s, refines: verdict})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].name < out[j].name })
	if len(out) == 0 {
		return nil, fmt.Errorf("no run %s* under %s", prefix, filepath.Join(root, runsDir))
	}
	return out, nil
}

// runsTable renders the runs whose names start with prefix: fairness,
// utilisation, convergence, each VM's share beside the duty model's
// prediction, the feedback delay and lost windows, and refinement.
func runsTable(prefix string) func(root string) (string, error) {
	return func(root string) (string, error) {
		runs, err := loadRuns(root, prefix)
		if err != nil {
			return "", err
		}
		var rows [][]string
		for _, r := range runs {
			s := r.sum
			jain := "—"
			if s.JainFVM >= 0 {
				jain = fmt.Sprintf("%.3f", s.JainFVM)
			}
			conv := "never"
			if s.ConvergenceS >= 0 {
				conv = fmt.Sprintf("%.0f s", s.ConvergenceS)
			}
			var vms, delays []string
			var lost int64
			for _, v := range s.VMs {
				vms = append(vms, fmt.Sprintf("%s %s %.1f%% (pause %.0f‰, duty model %.1f%%, work %.3g/s)", v.Name, v.Role, 100*v.Share, v.MeanPause, 100*v.DutyShare, v.ProgressRate))
				if v.Role == "fvm" {
					delays = append(delays, fmt.Sprint(v.MaxDelay))
				}
				lost += v.GapWindows
			}
			if len(delays) == 0 {
				delays = []string{"—"}
			}
			complete := ""
			if !s.Complete {
				complete = " (incomplete)"
			}
			rows = append(rows, []string{"`" + r.name + "`" + complete, jain, fmt.Sprintf("%.1f%%", 100*s.Utilisation), conv,
				strings.Join(vms, "; "), strings.Join(delays, " / "), fmt.Sprint(lost), r.refines})
		}
		return report.MarkdownTable([]string{"run", "Jain (FVMs)", "utilisation", "convergence", "shares (second half)", "max delay (windows)", "lost windows", "refines ref"}, rows), nil
	}
}

// runBlocks are the blocks generated from the committed runs.
func runBlocks(k *checker) []Block {
	bs := []Block{{File: runsDir + "/README.md", Name: "runs", Render: runsTable("")}}
	for _, e := range runner.Experiments() {
		bs = append(bs, Block{File: "uml-impl/README.md", Name: "runs-" + e.Name, Render: runsTable(e.Name + "-")})
	}
	bs = append(bs,
		Block{File: "uml-impl/README.md", Name: "experiments", Render: experiments},
		Block{File: "uml-impl/README.md", Name: "controller-defaults", Render: controllerDefaults},
		Block{File: "uml-impl/README.md", Name: "patch-stat", Render: patchStat},
		Block{File: "uml-impl/README.md", Name: "test-rounds", Render: thresholdRounds},
	)
	return append(bs, Block{File: "README.md", Name: "establishes", Render: k.establishes},
		Block{File: "README.md", Name: "compare", Render: comparison})
}

// comparison renders the committed comparison of mechanisms (fvm uml
// compare --out testdata/runs): its manifest, compare.json, and runs.
func comparison(root string) (string, error) {
	c, err := report.ReadComparison(filepath.Join(root, runsDir))
	if err != nil {
		return "", err
	}
	return c.Markdown(), nil
}
