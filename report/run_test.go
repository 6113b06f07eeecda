package report

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/friendly-vm/fvm/configs"
	"github.com/friendly-vm/fvm/sim"
	"github.com/friendly-vm/fvm/trace"
	"github.com/friendly-vm/fvm/vocab"
)

// writeSimulatedRun writes a simulated default-configuration run as a run
// directory with one trace file.
func writeSimulatedRun(t *testing.T, mutate func([]trace.Event)) string {
	t.Helper()
	p, err := configs.LoadParams("default")
	if err != nil {
		t.Fatal(err)
	}
	run, err := sim.Simulate(p, sim.Options{Seed: 5, Steps: 300})
	if err != nil {
		t.Fatal(err)
	}
	evs, err := sim.Trace(p, run, sim.TraceOptions{Seed: 5})
	if err != nil {
		t.Fatal(err)
	}
	if mutate != nil {
		mutate(evs)
	}
	dir := t.TempDir()
	f, err := os.Create(filepath.Join(dir, "sim.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	w := trace.NewWriter(f)
	for i := range evs {
		if err := w.Write(&evs[i]); err != nil {
			t.Fatal(err)
		}
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	return dir
}

func TestRunReportOfARefiningRun(t *testing.T) {
	dir := writeSimulatedRun(t, nil)
	doc, err := Run(dir, dir)
	if err != nil {
		t.Fatal(err)
	}
	if err := doc.Write(dir); err != nil {
		t.Fatal(err)
	}
	md, _ := os.ReadFile(filepath.Join(dir, "report.md"))
	for _, want := range []string{"**Refines ref**", "demand.png", "jain.png", "delays.png"} {
		if !strings.Contains(string(md), want) {
			t.Errorf("report.md lacks %q:\n%s", want, md)
		}
	}
	for _, png := range []string{"demand.png", "jain.png", "delays.png"} {
		if st, err := os.Stat(filepath.Join(dir, png)); err != nil || st.Size() < 1000 {
			t.Errorf("%s: %v", png, err)
		}
	}
}

func TestRunReportShowsANonRefiningEvent(t *testing.T) {
	dir := writeSimulatedRun(t, func(evs []trace.Event) {
		for i := range evs {
			if evs[i].Kind == trace.KindDecide && evs[i].Decide.Branch == vocab.Decrease {
				evs[i].Decide.DAfter++ // a wrong decrease
				return
			}
		}
	})
	doc, err := Run(dir, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	md := string(doc.Markdown())
	if !strings.Contains(md, "**Does not refine ref.**") || !strings.Contains(md, "sim.jsonl:") {
		t.Fatalf("the report does not name the non-refining event:\n%s", md)
	}
}

func TestRunReportMissingPath(t *testing.T) {
	if _, err := Run(filepath.Join(t.TempDir(), "nope"), t.TempDir()); err == nil {
		t.Fatal("a missing run directory gave no error")
	}
}
