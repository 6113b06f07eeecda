package tla

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/friendly-vm/fvm/configs"
	"github.com/friendly-vm/fvm/ref"
	"github.com/friendly-vm/fvm/sim"
	"github.com/friendly-vm/fvm/trace"
	"github.com/friendly-vm/fvm/vocab"
)

// simTrace simulates p and converts the run to trace events exactly as
// `fvm simulate` does (sim.Trace).
func simTrace(t *testing.T, p *ref.Params, seed uint64, steps int) (sim.Run, []trace.Event) {
	t.Helper()
	run, err := sim.Simulate(p, sim.Options{Seed: seed, Steps: steps})
	if err != nil {
		t.Fatal(err)
	}
	evs, err := sim.Trace(p, run, sim.TraceOptions{Seed: seed, Workload: "tla test"})
	if err != nil {
		t.Fatal(err)
	}
	return run, evs
}

// writeTrace writes events as a JSONL trace file and returns its path.
func writeTrace(t *testing.T, evs []trace.Event) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "trace.jsonl")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	w := trace.NewWriter(f)
	for i := range evs {
		if err := w.Write(&evs[i]); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Sync(); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	return path
}

// logIndex is the number of lines of VM vm that FVMTrace explains
// (samples, decisions, gaps) before event k: how many TLC explains before
// it rejects a mutation at k.
func logIndex(evs []trace.Event, vm, k int) int {
	n := 0
	for _, e := range evs[:k] {
		if e.VM == vm && (e.Kind == trace.KindSample || e.Kind == trace.KindDecide || e.Kind == trace.KindGap) {
			n++
		}
	}
	return n
}

func checkTrace(t *testing.T, r *Runner, evs []trace.Event, vm int) *TraceResult {
	t.Helper()
	tr, err := r.CheckTrace(context.Background(), writeTrace(t, evs), vm)
	if err != nil {
		t.Fatal(err)
	}
	return tr
}

func loadParams(t *testing.T, name string, loss bool) *ref.Params {
	t.Helper()
	p, err := configs.LoadParams(name)
	if err != nil {
		t.Fatal(err)
	}
	p.Loss = loss
	return p
}

// Traces of simulated runs are behaviors of FVM, VM by VM, on every host
// model, with and without loss (a loss run's drops are gap lines); the
// initial demand is a hidden variable TLC resolves when the header does
// not give it.
func TestTraceAccepts(t *testing.T) {
	r := tlcRunner(t)
	r.Workers = "1"
	for _, tc := range []struct {
		config string
		loss   bool
		seed   uint64
	}{{"default", false, 1}, {"hetero-delay", true, 2}, {"fair-host", false, 3}, {"duty-steal", true, 4}, {"greedy", false, 5}} {
		p := loadParams(t, tc.config, tc.loss)
		_, evs := simTrace(t, p, tc.seed, 300)
		gaps := 0
		for _, e := range evs {
			if e.Kind == trace.KindGap {
				gaps++
			}
		}
		if tc.loss && gaps == 0 {
			t.Fatalf("%s: a loss run without a gap does not test loss", tc.config)
		}
		for vm := range p.N() {
			t.Run(fmt.Sprintf("%s/loss=%v/vm%d", tc.config, tc.loss, vm), func(t *testing.T) {
				t.Parallel()
				if tr := checkTrace(t, r, evs, vm); !tr.Accepted {
					t.Fatalf("a simulated trace is rejected: explained %d of %d lines\n%s", tr.Explained, tr.Events, tail(tr.Run.Output, 20))
				}
			})
		}
	}
	t.Run("hidden initial demand", func(t *testing.T) {
		t.Parallel()
		_, evs := simTrace(t, loadParams(t, "default", false), 11, 200)
		for i := range evs {
			if evs[i].Kind == trace.KindHeader {
				h := *evs[i].Header
				h.InitD = 0 // omitted from the line
				evs[i].Header = &h
			}
		}
		if tr := checkTrace(t, r, evs, 0); !tr.Accepted {
			t.Fatalf("a trace without init_d is rejected: explained %d of %d lines", tr.Explained, tr.Events)
		}
	})
}

// Mutated traces are rejected, at the mutated line.
func TestTraceRejectsMutations(t *testing.T) {
	r := tlcRunner(t)
	r.Workers = "1"
	duty := loadParams(t, "duty-steal", true)
	for _, tc := range []struct {
		name string
		p    *ref.Params
		seed uint64
		// mutate changes one event of VM 0 and returns its index.
		mutate func(t *testing.T, evs []trace.Event) int
	}{
		{"wrong decrease", loadParams(t, "default", false), 21, func(t *testing.T, evs []trace.Event) int {
			k := findEvent(t, evs, func(e trace.Event) bool {
				return e.VM == 0 && e.Kind == trace.KindDecide && e.Decide.Branch == vocab.Decrease && e.Decide.DAfter+1 < e.Decide.DBefore
			})
			evs[k].Decide.DAfter++ // ceil instead of floor, say
			return k
		}},
		{"bit against the measurement", duty, 22, func(t *testing.T, evs []trace.Event) int {
			k := findEvent(t, evs, func(e trace.Event) bool { return e.VM == 0 && e.Kind == trace.KindSample })
			evs[k].Sample.Congested = !evs[k].Sample.Congested
			// Rejected at its decision (the bit is checked when the rule uses it).
			return findEventAfter(t, evs, k, func(e trace.Event) bool { return e.VM == 0 && e.Kind == trace.KindDecide })
		}},
		{"decision out of order", loadParams(t, "default", false), 23, func(t *testing.T, evs []trace.Event) int {
			k := findEvent(t, evs, func(e trace.Event) bool {
				return e.VM == 0 && e.Kind == trace.KindDecide && e.Decide.NewestSeq > e.Decide.SampleSeq
			})
			evs[k].Decide.SampleSeq++
			return k
		}},
		{"delay beyond D", loadParams(t, "default", false), 24, func(t *testing.T, evs []trace.Event) int {
			k := findEvent(t, evs, func(e trace.Event) bool { return e.VM == 0 && e.Kind == trace.KindDecide })
			evs[k].Decide.NewestSeq = evs[k].Decide.SampleSeq + int64(evs[0].Header.Delay) + 1
			return k
		}},
		{"gap where the model has no loss", loadParams(t, "duty-steal", true), 25, func(t *testing.T, evs []trace.Event) int {
			for i := range evs {
				if evs[i].Kind == trace.KindHeader {
					h := *evs[i].Header
					h.Loss = false
					evs[i].Header = &h
				}
			}
			return findEvent(t, evs, func(e trace.Event) bool { return e.VM == 0 && e.Kind == trace.KindGap })
		}},
		{"gap within the delay bound", duty, 26, func(t *testing.T, evs []trace.Event) int {
			k := findEvent(t, evs, func(e trace.Event) bool { return e.VM == 0 && e.Kind == trace.KindGap })
			evs[k].Gap.NewestSeq = evs[k].Gap.ToSeq + int64(evs[0].Header.Delay)
			return k
		}},
		{"decision on a dropped window", duty, 27, func(t *testing.T, evs []trace.Event) int {
			g := findEvent(t, evs, func(e trace.Event) bool { return e.VM == 0 && e.Kind == trace.KindGap })
			k := findEventAfter(t, evs, g, func(e trace.Event) bool { return e.VM == 0 && e.Kind == trace.KindDecide })
			evs[k].Decide.SampleSeq = evs[g].Gap.ToSeq
			return k
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, evs := simTrace(t, tc.p, tc.seed, 300)
			k := tc.mutate(t, evs)
			expectReject(t, checkTrace(t, r, evs, 0), logIndex(evs, 0, k))
		})
	}
}

func findEventAfter(t *testing.T, evs []trace.Event, after int, pred func(trace.Event) bool) int {
	t.Helper()
	for k := after + 1; k < len(evs); k++ {
		if pred(evs[k]) {
			return k
		}
	}
	t.Fatal("no such event in the trace")
	return -1
}

func findEvent(t *testing.T, evs []trace.Event, pred func(trace.Event) bool) int {
	t.Helper()
	for k, e := range evs {
		if pred(e) {
			return k
		}
	}
	t.Fatal("no such event in the trace")
	return -1
}

func expectReject(t *testing.T, tr *TraceResult, at int) {
	t.Helper()
	if tr.Accepted {
		t.Fatal("mutated trace accepted")
	}
	if tr.Explained != at {
		t.Errorf("rejected after %d of %d lines, want the mutated line %d", tr.Explained, tr.Events, at)
	}
}

// The trace that `fvm simulate` itself writes is a behavior of FVM (the
// command, not only the converter it uses).
func TestTraceFromFvmSimulate(t *testing.T) {
	r := tlcRunner(t)
	r.Workers = "1"
	if testing.Short() {
		t.Skip("builds cmd/fvm")
	}
	path := filepath.Join(t.TempDir(), "sim.jsonl")
	cmd := exec.Command("go", "run", "../cmd/fvm", "simulate", "--config", "hetero-delay", "--seed", "7", "--steps", "150", "--out", path)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("fvm simulate: %v\n%s", err, out)
	}
	tr, err := r.CheckTrace(context.Background(), path, 2)
	if err != nil {
		t.Fatal(err)
	}
	if !tr.Accepted {
		t.Fatalf("fvm simulate's trace is rejected: explained %d of %d lines", tr.Explained, tr.Events)
	}
}

// Real runs validate too: the committed run of each signal's greedy
// experiment with each pause (the FVM's trace, read as the guest and host
// wrote it; greedy-SIGNAL sleeps, greedy-SIGNAL-idle takes the default,
// work-conserving pause) is a behavior of FVM, and a copy with one
// decision off by one unit is rejected at that decision.
func TestTraceRealRuns(t *testing.T) {
	r := tlcRunner(t)
	r.Workers = "1"
	var runs []string
	for _, sig := range vocab.Signals() {
		runs = append(runs, "greedy-"+sig.String(), "greedy-"+sig.String()+"-idle")
	}
	for _, run := range runs {
		path := filepath.Join("..", "testdata", "runs", run, "F.jsonl")
		t.Run(run, func(t *testing.T) {
			t.Parallel()
			tr, err := r.CheckTrace(context.Background(), path, 0)
			if err != nil {
				t.Fatal(err)
			}
			if !tr.Accepted || tr.Events == 0 {
				t.Fatalf("%s: rejected after %d of its %d lines", path, tr.Explained, tr.Events)
			}
		})
	}
	t.Run("mutated", func(t *testing.T) {
		t.Parallel()
		path := filepath.Join("..", "testdata", "runs", "greedy-steal-idle", "F.jsonl")
		evs, err := trace.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		// The first decision that moved the demand, made to move it one
		// unit further (the kind of slip a rounding bug makes).
		k := findEvent(t, evs, func(e trace.Event) bool {
			return e.VM == 0 && e.Kind == trace.KindDecide && e.Decide.DAfter != e.Decide.DBefore && e.Decide.DAfter > 1
		})
		if evs[k].Decide.DAfter > evs[k].Decide.DBefore {
			evs[k].Decide.DAfter++
		} else {
			evs[k].Decide.DAfter--
		}
		expectReject(t, checkTrace(t, r, evs, 0), logIndex(evs, 0, k))
	})
}
