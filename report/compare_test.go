package report

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// TestCommittedComparisonPlot: the committed plot and table of the
// comparison of mechanisms (testdata/runs/compare.png, compare.md) are
// what its committed runs draw (fvm uml compare --report --out
// testdata/runs rewrites them).
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
