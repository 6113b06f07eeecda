package refine

import (
	"bytes"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"pgregory.net/rapid"

	"github.com/friendly-vm/fvm/trace"
)

// realRuns are recorded runs of the real system (uml-impl: patched UML
// guests, fvmd, the host runner), committed under testdata/runs.
var realRuns = []string{"four-steal", "four-vct", "greedy-steal", "greedy-vct"}

func realRunFiles(t tb, run string) []string {
	t.Helper()
	files, err := Paths([]string{filepath.Join("..", "..", "testdata", "runs", run)})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

// traceless reports whether the committed run called run is a baseline of
// the friendly groups' job experiment (the job unmanaged, at nice 19, ...):
// no friendly group, so no trace to check.
func traceless(run string) bool {
	traces, _ := filepath.Glob(filepath.Join("..", "..", "testdata", "runs", run, "*.jsonl"))
	return len(traces) == 0 && strings.HasPrefix(run, "friendly-")
}

// Every recorded real run refines ref: every directory of testdata/runs
// (the UML guests' and the friendly groups' runs).
func TestRealRunsRefine(t *testing.T) {
	dirs, err := filepath.Glob(filepath.Join("..", "..", "testdata", "runs", "*", "summary.json"))
	if err != nil || len(dirs) < len(realRuns) {
		t.Fatalf("%d recorded runs (%v), want at least %d", len(dirs), err, len(realRuns))
	}
	for _, sum := range dirs {
		run := filepath.Base(filepath.Dir(sum))
		if traceless(run) {
			t.Logf("%s: no friendly group, no trace", run)
			continue
		}
		res, err := CheckFiles([]string{filepath.Join("..", "..", "testdata", "runs", run)}, Options{})
		if err != nil {
			t.Fatalf("%s: %v", run, err)
		}
		if !res.OK() {
			t.Fatalf("%s does not refine ref: %v", run, res.Failure)
		}
		s := res.Summary
		t.Logf("%s: %d files, %d events, %d windows, Jain %.3f, utilisation %.3f", run, len(s.Files), s.Events, s.Windows, s.Jain, s.Utilisation)
	}
}

// TestHostGuestToleranceMargin: in every recorded real run, the guest's and
// the host's measure of each VM's CPU share agree to a tenth of the
// checker's tolerance, so the tolerance has a margin of ten over the data;
// min, median and max are logged.
func TestHostGuestToleranceMargin(t *testing.T) {
	var diffs []float64
	sums, err := filepath.Glob(filepath.Join("..", "..", "testdata", "runs", "*", "summary.json"))
	if err != nil {
		t.Fatal(err)
	}
	for _, sum := range sums {
		run := filepath.Base(filepath.Dir(sum))
		if traceless(run) {
			continue
		}
		res, err := CheckFiles([]string{filepath.Dir(sum)}, Options{})
		if err != nil || !res.OK() {
			t.Fatalf("%s: %v %v", run, err, res.Failure)
		}
		for _, v := range res.Summary.VMs {
			if v.GuestShare >= 0 && v.HostShare >= 0 && v.Samples > 0 {
				diffs = append(diffs, math.Abs(v.GuestShare-v.HostShare))
			}
		}
	}
	if len(diffs) < 5 {
		t.Fatalf("%d VMs with both measures in the recorded runs, want >= 5", len(diffs))
	}
	slices.Sort(diffs)
	maxD := diffs[len(diffs)-1]
	t.Logf("|guest - host share| over %d VMs: min %.5f, median %.5f, max %.5f points; tolerance %d permille = %.1f points",
		len(diffs), 100*diffs[0], 100*diffs[len(diffs)/2], 100*maxD, HostGuestTolPermille, float64(HostGuestTolPermille)/10)
	if 10*maxD > float64(HostGuestTolPermille)/1000 {
		t.Errorf("the recorded runs differ by up to %.4f of a core: less than a margin of 10 below the tolerance %d permille", maxD, HostGuestTolPermille)
	}
}

// Every mutation kind, applied to one FVM's trace of a real run, is
// rejected — in that file, at the mutated event or later in the same VM —
// while the other VMs' traces stay as recorded.
func TestRealRunMutationsRejected(t *testing.T) {
	type file struct {
		name string
		raw  []byte
		evs  []trace.Event
		fvm  bool
	}
	runs := map[string][]file{}
	for _, run := range realRuns {
		// A mutation must be what the checker rejects: a run that fails
		// unmutated (TestRealRunsRefine says why) is reported here in one
		// line, not blamed on the first mutation drawn.
		if res, err := CheckFiles([]string{filepath.Join("..", "..", "testdata", "runs", run)}, Options{}); err != nil || !res.OK() {
			t.Fatalf("%s does not refine unmutated (see TestRealRunsRefine): %v %v", run, err, res.Failure)
		}
		var fs []file
		for _, path := range realRunFiles(t, run) {
			raw, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			evs, err := trace.ReadAll(bytes.NewReader(raw), path)
			if err != nil {
				t.Fatal(err)
			}
			fvm := false
			for _, e := range evs {
				fvm = fvm || e.Kind == trace.KindDecide
			}
			fs = append(fs, file{path, raw, evs, fvm})
		}
		runs[run] = fs
	}
	rapid.Check(t, func(t *rapid.T) {
		// Drawn by name, so that a failure prints the run, not its bytes.
		fs := runs[rapid.SampledFrom(realRuns).Draw(t, "run")]
		var fvms []int
		for i, f := range fs {
			if f.fvm {
				fvms = append(fvms, i)
			}
		}
		k := rapid.SampledFrom(fvms).Draw(t, "file")
		f := fs[k]
		var hdr *trace.Header
		vm := 0
		for _, e := range f.evs {
			if e.Kind == trace.KindHeader {
				hdr, vm = e.Header, e.VM
				break
			}
		}
		p, err := Params(hdr)
		if err != nil {
			t.Fatal(err)
		}
		for len(p.FVMs) <= vm { // mutate indexes the FVM by the event's vm
			p.FVMs = append(p.FVMs, p.FVMs[0])
		}
		kind := rapid.SampledFrom(mutations).Draw(t, "mutation")
		b, at, ok := mutate(t, kind, p, f.evs)
		if !ok {
			t.Skip("nothing to mutate")
		}
		var inputs []Input
		for i, g := range fs {
			data := g.raw
			if i == k {
				data = b
			}
			inputs = append(inputs, Input{Name: g.name, R: bytes.NewReader(data)})
		}
		res, err := Check(inputs, Options{})
		if err == nil && res.OK() {
			t.Fatalf("mutation %s of %s accepted", kind, f.name)
		}
		if !at.detected(res, err) || err == nil && res.Failure.File != f.name {
			t.Fatalf("mutation %s of %s at %+v: the checker fails elsewhere: %v %v", kind, f.name, at, err, res.Failure)
		}
	})
}
