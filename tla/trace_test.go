package tla

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/friendly-vm/fvm/ref"
	"github.com/friendly-vm/fvm/trace"
	"github.com/friendly-vm/fvm/trace/refine"
)

// simTrace simulates p and converts the run to trace events exactly as
// `fvm simulate` does (refine.FromRun).
func simTrace(t *testing.T, p *ref.Params, seed uint64, steps int) (ref.Run, []trace.Event) {
	t.Helper()
	run, err := ref.Simulate(p, ref.SimOptions{Seed: seed, Steps: steps})
	if err != nil {
		t.Fatal(err)
	}
	evs, err := refine.FromRun(p, run, refine.ConvertOptions{Seed: seed, Workload: "tla test"})
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

// eventIndex is the number of model events (ticks and decisions) before
// event k: the number TLC explains before it rejects a mutation at k.
func eventIndex(evs []trace.Event, k int) int {
	n, lastTick := 0, int64(0)
	for _, e := range evs[:k] {
		switch e.Kind {
		case trace.KindDecide:
			n++
		case trace.KindSample:
			if e.Sample.Seq != lastTick {
				n++
				lastTick = e.Sample.Seq
			}
		}
	}
	return n
}

func checkTrace(t *testing.T, r *Runner, m *Model, evs []trace.Event) *TraceResult {
	t.Helper()
	tr, err := r.CheckTrace(context.Background(), m, writeTrace(t, evs))
	if err != nil {
		t.Fatal(err)
	}
	return tr
}

// Traces of simulated runs are behaviors of FVM, on every host model; the
// initial demands are hidden variables that TLC resolves when the headers
// do not give them.
func TestTraceAccepts(t *testing.T) {
	r := tlcRunner(t)
	r.Workers = "1"
	for _, tc := range []struct {
		config string
		seed   uint64
	}{{"default", 1}, {"hetero-delay", 2}, {"fair-host", 3}, {"duty-steal", 4}, {"greedy", 5}} {
		t.Run(tc.config, func(t *testing.T) {
			t.Parallel()
			m, err := Load(tc.config)
			if err != nil {
				t.Fatal(err)
			}
			_, evs := simTrace(t, m.Params, tc.seed, 200)
			if tr := checkTrace(t, r, m, evs); !tr.Accepted {
				t.Fatalf("a simulated trace is rejected: explained %d of %d events\n%s", tr.Explained, tr.Events, tail(tr.Run.Output, 20))
			}
		})
	}
	t.Run("hidden initial demands", func(t *testing.T) {
		t.Parallel()
		m, err := Load("default")
		if err != nil {
			t.Fatal(err)
		}
		_, evs := simTrace(t, m.Params, 11, 200)
		for i := range evs {
			if evs[i].Kind == trace.KindHeader {
				h := *evs[i].Header
				h.InitD = 0 // omitted from the line
				evs[i].Header = &h
			}
		}
		if tr := checkTrace(t, r, m, evs); !tr.Accepted {
			t.Fatalf("a trace without init_d is rejected: explained %d of %d events", tr.Explained, tr.Events)
		}
	})
}

// Mutated traces are rejected, at the mutated event.
func TestTraceRejectsMutations(t *testing.T) {
	r := tlcRunner(t)
	r.Workers = "1"
	m, err := Load("default")
	if err != nil {
		t.Fatal(err)
	}

	t.Run("wrong decrease", func(t *testing.T) {
		t.Parallel()
		_, evs := simTrace(t, m.Params, 21, 200)
		k := findEvent(t, evs, func(e trace.Event) bool {
			return e.Kind == trace.KindDecide && e.Decide.Branch == trace.BranchDecrease && e.Decide.DAfter+1 < e.Decide.DBefore
		})
		evs[k].Decide.DAfter++ // ceil instead of floor, say
		expectReject(t, checkTrace(t, r, m, evs), eventIndex(evs, k))
	})

	t.Run("reordered sample", func(t *testing.T) {
		t.Parallel()
		// Two of FVM 0's samples with different bits trade places: each
		// keeps its window number, so the order looks valid, but the bits
		// no longer follow the host model.
		_, evs := simTrace(t, m.Params, 22, 200)
		a := findEvent(t, evs, func(e trace.Event) bool { return e.Kind == trace.KindSample && e.VM == 0 })
		b := -1
		for k := a + 1; k < len(evs); k++ {
			if evs[k].Kind == trace.KindSample && evs[k].VM == 0 && evs[k].Sample.Congested != evs[a].Sample.Congested {
				b = k
				break
			}
		}
		if b < 0 {
			t.Fatal("no second sample with a different bit")
		}
		evs[a].Sample, evs[b].Sample = evs[b].Sample, evs[a].Sample
		evs[a].Sample.Seq, evs[b].Sample.Seq = evs[b].Sample.Seq, evs[a].Sample.Seq
		expectReject(t, checkTrace(t, r, m, evs), eventIndex(evs, a))
	})

	t.Run("decision out of order", func(t *testing.T) {
		t.Parallel()
		// A decision claims to consume a later window than the oldest.
		_, evs := simTrace(t, m.Params, 23, 200)
		k := findEvent(t, evs, func(e trace.Event) bool {
			return e.Kind == trace.KindDecide && e.Decide.NewestSeq > e.Decide.SampleSeq
		})
		evs[k].Decide.SampleSeq++
		expectReject(t, checkTrace(t, r, m, evs), eventIndex(evs, k))
	})

	t.Run("delay beyond D", func(t *testing.T) {
		t.Parallel()
		// A genuine run of the same system with FVM 1's delay bound one
		// larger, in which FVM 1 does act on a sample D+1 ticks old.
		wide := *m.Params
		wide.FVMs = append([]ref.FVM(nil), m.Params.FVMs...)
		wide.FVMs[1].D++
		for seed := uint64(1); seed < 200; seed++ {
			run, evs := simTrace(t, &wide, seed, 200)
			late := -1
			for k, st := range run.Steps {
				if st.Action.Kind == ref.Act && st.Action.VM == 1 && st.Newest-st.Seq > m.Params.FVMs[1].D {
					late = k
					break
				}
			}
			if late < 0 {
				continue
			}
			// The trace is rejected no later than at that decision (the
			// tick that overfilled FIFO 1 cannot be explained).
			tr := checkTrace(t, r, m, evs)
			if tr.Accepted {
				t.Fatalf("seed %d: a sample consumed after %d ticks (D=%d) is accepted", seed, run.Steps[late].Newest-run.Steps[late].Seq, m.Params.FVMs[1].D)
			}
			if tr.Explained > late {
				t.Fatalf("seed %d: rejected after %d events, want at most %d", seed, tr.Explained, late)
			}
			// And the same trace is a behavior of the wider model.
			mw := *m
			mw.Params = &wide
			if tr := checkTrace(t, r, &mw, evs); !tr.Accepted {
				t.Fatalf("seed %d: the run is rejected by its own model", seed)
			}
			return
		}
		t.Fatal("no run with a delay beyond D")
	})
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
		t.Errorf("rejected after %d of %d events, want the mutated event %d", tr.Explained, tr.Events, at)
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
	m, err := Load("hetero-delay")
	if err != nil {
		t.Fatal(err)
	}
	tr, err := r.CheckTrace(context.Background(), m, path)
	if err != nil {
		t.Fatal(err)
	}
	if !tr.Accepted {
		t.Fatalf("fvm simulate's trace is rejected: explained %d of %d events", tr.Explained, tr.Events)
	}
}
