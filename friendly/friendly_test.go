package friendly

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/friendly-vm/fvm/friendly/cgroup"
	"github.com/friendly-vm/fvm/friendly/cgroup/cgrouptest"
	"github.com/friendly-vm/fvm/friendly/port"
	"github.com/friendly-vm/fvm/trace"
	"github.com/friendly-vm/fvm/trace/refine"
	"github.com/friendly-vm/fvm/uml-impl/controller"
	"github.com/friendly-vm/fvm/vocab"
)

// fakeCFS plays the scheduler for a fake group with one always-runnable
// task beside one always-runnable task outside it, at equal weights, as a
// fluid CFS with bandwidth control: in every period the two share the CPU
// equally until the group has used its quota q (after 2q of wall time),
// then the group is throttled for the rest of the period. Per unit of
// wall time the group gets f = min(q, P/2)/P of the CPU, is throttled
// 1 - 2f (when q < P/2), and its task waits 1 - f.
type fakeCFS struct {
	tr  *cgrouptest.Tree
	g   *cgroup.Group
	tid int
	u   cgroup.Usage
	run float64
	del float64
	cpu float64
	thr float64
}

func (f *fakeCFS) advance(t *testing.T, wall int64) {
	t.Helper()
	q, p, err := f.g.Bandwidth()
	if err != nil {
		t.Fatal(err)
	}
	if q < 0 || q > p {
		q = p
	}
	frac := min(float64(q), float64(p)/2) / float64(p)
	e := float64(wall)
	f.cpu += e * frac
	f.thr += e * max(0, 1-2*frac)
	f.run += e * frac
	f.del += e * (1 - frac)
	f.tr.SetUsage(f.g, cgroup.Usage{CPUNs: uint64(f.cpu), ThrottledNs: uint64(f.thr)})
	f.tr.SetSchedstat(f.tid, uint64(f.run), uint64(f.del))
}

// The control loop over the real ports on a fake cgroup tree, beside a
// busy task: the trace refines ref (with the host-vs-guest check on the
// host events), and the demand behaves as the fluid model predicts. By
// hand: the steal of a window is the group's CPU share f·1000 permille
// (it waits as long as it runs while unthrottled) = 1000·d/20 for d <= 10
// and 500 above; so from d = 20 it halves to 10, 5, then 2 (250 > 200),
// and climbs 2, 3, 4 (steal 200, not above theta), 5 (250), halves to 2:
// every later decision is in 2..5.
//
// With a clock that moves on every reading (tick: time passes while the
// counters are read, as on a real host), every sample is still stamped at
// or after its window's end (the read's end, not its start) and every
// window reports the pause of the last actuation before its end: the
// trace checker's stale-timestamp and pause-in-force rules, asserted here
// directly as well.
func TestControlRefinesBesideABusyTask(t *testing.T) {
	for _, tc := range []struct {
		v    string
		tick int64 // ns the clock moves at every reading
	}{{"v1", 0}, {"v2", 0}, {"v1", 37_000}, {"v2", 37_000}} {
		t.Run(fmt.Sprintf("%s-tick%dus", tc.v, tc.tick/1000), func(t *testing.T) {
			tr := cgrouptest.NewV1(t, false)
			if tc.v == "v2" {
				tr = cgrouptest.NewV2(t, "cpu")
			}
			l, err := cgroup.Detect(tr)
			if err != nil {
				t.Fatal(err)
			}
			g, err := l.Create(tr, "1-1")
			if err != nil {
				t.Fatal(err)
			}
			tr.Spawn(77, 1)
			if err := g.AddProc(77); err != nil {
				t.Fatal(err)
			}
			clock := int64(10 * time.Second)
			now := func() int64 { clock += tc.tick; return clock }
			act, err := port.NewActuator(g, port.DefaultPeriodUs)
			if err != nil {
				t.Fatal(err)
			}
			cfg := controller.DefaultSleep()
			core, err := controller.NewCore(cfg, 0, now())
			if err != nil {
				t.Fatal(err)
			}
			path := filepath.Join(t.TempDir(), "g.jsonl")
			tf, err := controller.CreateTrace(path)
			if err != nil {
				t.Fatal(err)
			}
			src := port.NewSource(tr, g, now)
			loop := &controller.Loop{Core: core, Source: src, Act: act, Sink: tf, Now: now}
			h := core.Header()
			h.PeriodUs = port.DefaultPeriodUs
			h.Kernel, h.Controller, h.Workload = "fake", Version, "busy"
			if err := loop.Start(h); err != nil {
				t.Fatal(err)
			}
			ctl := &control{loop: loop, src: src, sink: tf, interval: 100 * time.Millisecond}
			sched := &fakeCFS{tr: tr, g: g, tid: 77}
			for i := 0; i < 80; i++ {
				wait, err := ctl.poll()
				if err != nil {
					t.Fatal(err)
				}
				sched.advance(t, int64(wait))
				clock += int64(wait)
			}
			if err := loop.Stop(true, "test"); err != nil {
				t.Fatal(err)
			}
			if err := tf.Close(); err != nil {
				t.Fatal(err)
			}
			res, err := refine.CheckFiles([]string{path}, refine.Options{})
			if err != nil {
				t.Fatal(err)
			}
			if !res.OK() {
				t.Fatalf("the trace does not refine ref: %v", res.Failure)
			}
			evs, err := trace.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			var ds []int
			hosts := 0
			lastPause := int64(-1) // the pause of the latest actuation
			for _, e := range evs {
				switch e.Kind {
				case trace.KindDecide:
					ds = append(ds, e.Decide.DAfter)
				case trace.KindHost:
					hosts++
				case trace.KindActuate:
					lastPause = e.Actuate.PausePermille
				case trace.KindSample:
					if end := e.Sample.StartNs + e.Sample.WallNs; e.TNs < end {
						t.Errorf("window %d stamped %d ns, before its end %d ns", e.Sample.Seq, e.TNs, end)
					}
					// One window closes per poll, and the poll actuates
					// after its read: the pause in force at a window's end
					// is that of the latest actuation traced before it.
					if e.Sample.PausePermille != lastPause {
						t.Errorf("window %d reports pause %d, the latest actuation %d", e.Sample.Seq, e.Sample.PausePermille, lastPause)
					}
				}
			}
			if len(ds) < 30 || hosts < len(ds)-1 {
				t.Fatalf("%d decisions, %d host events", len(ds), hosts)
			}
			if ds[0] != 10 || ds[1] != 5 || ds[2] != 2 {
				t.Errorf("first decisions %v, want 10 5 2", ds[:3])
			}
			for i, d := range ds[3:] {
				if d < 2 || d > 5 {
					t.Errorf("decision %d: d = %d, want 2..5 (all %v)", i+4, d, ds)
					break
				}
			}
			sum, err := Summarize(path)
			if err != nil {
				t.Fatal(err)
			}
			// The cycle 2, 3, 4, 5 spends a window at each: share ~3.5/20.
			if sum.SecondHalfShare < 0.14 || sum.SecondHalfShare > 0.21 || !sum.Complete || sum.Windows != len(ds) {
				t.Errorf("summary %+v", sum)
			}
		})
	}
}

// The watchdog's restore: the group is released (quota lifted, process
// back home, directories gone), the trace gets an unclean end that the
// reader accepts, and the summary is marked incomplete; a second restore,
// or one after the controller cleaned up, does nothing.
func TestRestore(t *testing.T) {
	tr := cgrouptest.NewV1(t, false)
	l, err := cgroup.Detect(tr)
	if err != nil {
		t.Fatal(err)
	}
	g, err := l.Create(tr, "5-5")
	if err != nil {
		t.Fatal(err)
	}
	tr.Spawn(50, 1)
	if err := g.AddProc(50); err != nil || g.SetBandwidth(1000, 20000) != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	tp := filepath.Join(dir, "g.jsonl")
	core, _ := controller.NewCore(controller.DefaultSleep(), 0, 0)
	h := core.Header()
	h.Kernel, h.Controller, h.Workload = "fake", Version, "busy"
	w := trace.NewWriter(nil)
	_ = w
	var b []byte
	b = trace.AppendEvent(b, &trace.Event{Kind: trace.KindHeader, Header: &h})
	b = trace.AppendEvent(b, &trace.Event{Kind: trace.KindActuate, TNs: 5, Actuate: trace.Actuate{D: 20, PausePermille: 0}})
	b = append(b, `{"v":2,"kind":"sam`...) // a torn line
	if err := os.WriteFile(tp, b, 0o644); err != nil {
		t.Fatal(err)
	}
	spec := WatchdogSpec{Layout: *l, Group: "5-5", Trace: tp, VM: 0, Summary: filepath.Join(dir, "summary.json")}
	did, err := Restore(tr, spec, 99)
	if err != nil || !did {
		t.Fatalf("restore: %v, %v", did, err)
	}
	for _, d := range g.Dirs() {
		if tr.Exists(d) {
			t.Errorf("%s left", d)
		}
	}
	if p := tr.Procs(cgrouptest.V1CPU); len(p) != 1 || p[0] != 50 {
		t.Errorf("the process is not back home: %v", p)
	}
	evs, err := trace.ReadFile(tp)
	if err != nil {
		t.Fatal(err)
	}
	last := evs[len(evs)-1]
	if len(evs) != 3 || last.Kind != trace.KindEnd || last.End.Clean || last.End.Reason != DiedReason || last.TNs != 99 {
		t.Errorf("events after restore: %+v", evs)
	}
	sb, err := os.ReadFile(spec.Summary)
	if err != nil || !strings.Contains(string(sb), `"complete": false`) || !strings.Contains(string(sb), "controller died") {
		t.Errorf("summary %s, %v", sb, err)
	}
	before, _ := os.ReadFile(tp)
	if did, err := Restore(tr, spec, 100); did || err != nil {
		t.Errorf("second restore: %v, %v", did, err)
	}
	if err := AppendEnd(tp, 0, 101, "again"); err != nil {
		t.Fatal(err)
	}
	if after, _ := os.ReadFile(tp); string(after) != string(before) {
		t.Error("a trace that has an end got a second one")
	}
	// No header for vm 1: nothing to end.
	if err := AppendEnd(tp, 1, 101, "x"); err != nil {
		t.Fatal(err)
	}
	if after, _ := os.ReadFile(tp); string(after) != string(before) {
		t.Error("an end was written for a vm without a header")
	}
}

// Summarize, worked by hand on a small trace: two windows of 100 ms
// (cpu 30 and 10 ms, pause 40 and 60 ms) and two host events (25 and
// 15 ms of task CPU).
func TestSummarize(t *testing.T) {
	core, _ := controller.NewCore(controller.DefaultSleep(), 0, 0)
	h := core.Header()
	h.Kernel, h.Controller, h.Workload, h.PeriodUs = "fake", Version, "busy", 20000
	const ms = 1_000_000
	evs := []trace.Event{
		{Kind: trace.KindHeader, Header: &h},
		{Kind: trace.KindSample, TNs: 200 * ms, Sample: trace.Sample{Seq: 1, StartNs: 100 * ms, WallNs: 100 * ms, WantNs: 60 * ms, CPUNs: 30 * ms, PauseNs: 40 * ms, StealPermille: 300, VCTPermille: 2000, PausePermille: 500, Congested: true}},
		{Kind: trace.KindDecide, TNs: 200 * ms, Decide: trace.Decide{Seq: 1, SampleSeq: 1, NewestSeq: 1, DBefore: 20, DAfter: 10, Branch: vocab.Decrease}},
		{Kind: trace.KindHost, TNs: 200 * ms, Host: trace.Host{Seq: 1, WallNs: 100 * ms, CPUNs: 25 * ms}},
		{Kind: trace.KindSample, TNs: 300 * ms, Sample: trace.Sample{Seq: 2, StartNs: 200 * ms, WallNs: 100 * ms, WantNs: 40 * ms, CPUNs: 10 * ms, PauseNs: 60 * ms, StealPermille: 100, VCTPermille: 4000, PausePermille: 700}},
		{Kind: trace.KindDecide, TNs: 300 * ms, Decide: trace.Decide{Seq: 2, SampleSeq: 2, NewestSeq: 2, DBefore: 10, DAfter: 11, Branch: vocab.Increase}},
		{Kind: trace.KindHost, TNs: 300 * ms, Host: trace.Host{Seq: 2, WallNs: 100 * ms, CPUNs: 15 * ms}},
		{Kind: trace.KindEnd, TNs: 300 * ms, End: trace.End{Clean: true}},
	}
	var b []byte
	for i := range evs {
		b = trace.AppendEvent(b, &evs[i])
	}
	p := filepath.Join(t.TempDir(), "x.jsonl")
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	s, err := Summarize(p)
	if err != nil {
		t.Fatal(err)
	}
	near := func(a, b float64) bool { return a-b < 1e-9 && b-a < 1e-9 }
	// Host span 100..300 ms: 40 ms of CPU in 200 ms; the second half
	// (200..300) holds 15 ms. The samples in the second half: the one at
	// 200 ms and the one at 300 ms.
	if !near(s.Share, 0.2) || !near(s.SecondHalfShare, 0.15) || !near(s.CgroupShare, 0.2) || !near(s.ThrottledFraction, 0.5) ||
		!near(s.MeanPause, 600) || !near(s.MeanSteal, 200) || !near(s.MeanD, 10.5) || s.InitD != 20 || s.FinalD != 11 ||
		s.Windows != 2 || s.Decisions != 2 || !s.Complete || s.Name != "x" || s.ExitStatus != -1 || !near(s.WallS, 0.2) {
		t.Errorf("summary %+v", s)
	}
}
