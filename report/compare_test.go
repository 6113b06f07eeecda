package report

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/friendly-vm/fvm/uml-impl/runner"
)

// TestCommittedComparisonPlot: the committed plot and table of the
// comparison of mechanisms (testdata/runs/compare.png, compare.md) are
// not stale: they are what its committed runs draw (fvm uml compare
// --report --out testdata/runs rewrites them). What they state is held to
// the runs' data by report/docs's TestComparisonFilesStateTheData.
func TestCommittedComparisonPlot(t *testing.T) {
	runs := filepath.Join("..", "testdata", "runs")
	c, err := ReadComparison(runs)
	if err != nil {
		t.Fatal(err)
	}
	got := filepath.Join(t.TempDir(), "compare.png")
	if err := c.Plot(got); err != nil {
		t.Fatal(err)
	}
	a, err := os.ReadFile(got)
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(runs, "compare.png"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a, b) {
		t.Errorf("testdata/runs/compare.png differs from the plot of the committed runs: run go run ./cmd/fvm uml compare --report --out testdata/runs")
	}
	md, err := os.ReadFile(filepath.Join(runs, "compare.md"))
	if err != nil {
		t.Fatal(err)
	}
	if string(md) != c.Markdown() {
		t.Errorf("testdata/runs/compare.md differs from the table of the committed runs: run go run ./cmd/fvm uml compare --report --out testdata/runs")
	}
}

// TestDefaultMechanismPredicted: for the default mechanism (the
// work-conserving pause at controller.Default, the comparison's
// steal-idle), the proofs' prediction for each committed pair and four run
// is within 20% of what the run measured, in utilisation and in the epoch
// length that sets the convergence rate (a gap shrinks by beta per epoch).
func TestDefaultMechanismPredicted(t *testing.T) {
	runs := filepath.Join("..", "testdata", "runs")
	rows, err := runner.ReadComparison(runs)
	if err != nil {
		t.Fatal(err)
	}
	checked := 0
	for _, r := range rows {
		if r.Label() != "steal-idle" {
			continue
		}
		for scenario, s := range map[string]*runner.Summary{runner.ComparePair: r.Pair, runner.CompareFour: r.Four} {
			if s == nil {
				t.Errorf("steal-idle %s: no committed run", scenario)
				continue
			}
			pr, _, err := predictRun(r.Dir(scenario), s)
			if err != nil {
				t.Fatal(err)
			}
			for _, q := range []struct {
				what       string
				real, pred float64
			}{{"utilisation", s.Utilisation, pr.Utilisation}, {"epoch length", s.EpochWindows, pr.EpochLen}} {
				if q.pred <= 0 || q.real < 0.8*q.pred || q.real > 1.2*q.pred {
					t.Errorf("steal-idle %s: %s real %.3f, predicted %.3f: not within 20%%", scenario, q.what, q.real, q.pred)
				}
			}
			checked++
		}
	}
	if checked != 2 {
		t.Errorf("checked %d runs of the default mechanism, want its pair and four", checked)
	}
}
