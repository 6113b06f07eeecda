package experiment

import (
	"math"
	"os"
	"path/filepath"
	"testing"
)

// recordedRuns are the committed runs of the experiments: README.md's
// tables are rendered from their summaries (report/docs).
func recordedRuns(t *testing.T) []string {
	t.Helper()
	var dirs []string
	for _, e := range Experiments() {
		for _, s := range e.Specs(0, 0, 0) {
			dirs = append(dirs, filepath.Join("..", "..", "testdata", "runs", s.Name))
		}
	}
	return dirs
}

// TestRecordedRuns recomputes the summary of every committed run from its
// traces and raw files and holds it to the recorded summary.json: shares,
// Jain index, utilisation, convergence, latency and the refinement verdict
// (Summarize runs the trace checker) are what the data say.
func TestRecordedRuns(t *testing.T) {
	for _, dir := range recordedRuns(t) {
		t.Run(filepath.Base(dir), func(t *testing.T) {
			if _, err := os.Stat(dir); err != nil {
				t.Fatalf("no recorded run: %v", err)
			}
			want, err := ReadSummary(dir)
			if err != nil {
				t.Fatal(err)
			}
			got, err := Summarize(dir)
			if err != nil {
				t.Fatal(err)
			}
			near := func(a, b float64) bool { return math.Abs(a-b) < 1e-9 }
			if !near(got.JainFriendly, want.JainFriendly) || !near(got.Utilisation, want.Utilisation) ||
				!near(got.ConvergenceS, want.ConvergenceS) || len(got.Participants) != len(want.Participants) {
				t.Fatalf("summary differs from the recorded one: jain %v/%v util %v/%v conv %v/%v",
					got.JainFriendly, want.JainFriendly, got.Utilisation, want.Utilisation, got.ConvergenceS, want.ConvergenceS)
			}
			for i, p := range got.Participants {
				w := want.Participants[i]
				if !near(p.Share, w.Share) || !near(p.MeanD, w.MeanD) || (p.Latency == nil) != (w.Latency == nil) ||
					(p.Latency != nil && (!near(p.Latency.Mean, w.Latency.Mean) || !near(p.Latency.P99, w.Latency.P99))) {
					t.Errorf("%s: recomputed %+v, recorded %+v", p.Name, p, w)
				}
			}
			if (got.Refines == nil) != (want.Refines == nil) || (got.Refines != nil && *got.Refines != *want.Refines) {
				t.Errorf("refinement verdict recomputed %v (%s), recorded %v", got.Refines, got.RefineFailure, want.Refines)
			}
			if got.Refines != nil && !*got.Refines {
				t.Errorf("%s does not refine ref: %s", filepath.Base(dir), got.RefineFailure)
			}
			if !want.Complete || !got.Complete {
				t.Errorf("recorded run incomplete: %v", want.Errors)
			}
		})
	}
}
