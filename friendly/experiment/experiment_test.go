package experiment

import (
	"bytes"
	"context"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/friendly-vm/fvm/friendly"
	"github.com/friendly-vm/fvm/trace"
	"github.com/friendly-vm/fvm/uml-impl/controller"
	"github.com/friendly-vm/fvm/vocab"
)

func TestPrepare(t *testing.T) {
	ok := func() Spec {
		return Spec{Name: "x", Duration: 10 * time.Second, Participants: []Participant{{Name: "A", Role: Friendly, Workload: Spin, Init: 4}}}
	}
	for _, tc := range []struct {
		name   string
		mutate func(*Spec)
		errHas string
	}{
		{"valid", func(*Spec) {}, ""},
		{"short", func(s *Spec) { s.Duration = time.Second }, "duration"},
		{"bad name", func(s *Spec) { s.Name = "a b" }, "run name"},
		{"duplicate", func(s *Spec) { s.Participants = append(s.Participants, s.Participants[0]) }, "unique name"},
		{"role", func(s *Spec) { s.Participants[0].Role = "nice" }, "role"},
		{"workload", func(s *Spec) { s.Participants[0].Workload = "make" }, "workload"},
		{"init of a non-friendly", func(s *Spec) { s.Participants[0].Role = Unmanaged }, "init"},
		{"init above dmax", func(s *Spec) { s.Participants[0].Init = 21 }, "init"},
		{"period too short", func(s *Spec) { s.PeriodUs = 10_000 }, "period"},
		{"step below -1", func(s *Spec) { s.PeriodStepUs = -2 }, "step"},
		{"equal periods", func(s *Spec) { s.PeriodStepUs = -1 }, ""},
		{"nice", func(s *Spec) { s.Nice = 20 }, "nice"},
		{"probe work", func(s *Spec) { s.Probe = ProbeSpec{Period: time.Millisecond, Work: 2 * time.Millisecond} }, "probe"},
		{"none", func(s *Spec) { s.Participants = nil }, "no participants"},
	} {
		s := ok()
		tc.mutate(&s)
		err := s.Prepare()
		if (tc.errHas == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), tc.errHas)) {
			t.Errorf("%s: err %v, want one containing %q", tc.name, err, tc.errHas)
		}
	}
}

// GroupPeriodUs: group k's period is PeriodUs + k*step, the default step
// 1000 us, -1 equal periods; Prepare keeps the step it was given, so that a
// prepared spec (spec.json) prepares to the same periods again.
func TestGroupPeriods(t *testing.T) {
	for _, tc := range []struct {
		step int64
		want []int64
	}{
		{0, []int64{20_000, 21_000, 22_000}},
		{-1, []int64{20_000, 20_000, 20_000}},
		{250, []int64{20_000, 20_250, 20_500}},
	} {
		s := Spec{Name: "x", Duration: 10 * time.Second, PeriodStepUs: tc.step, Participants: []Participant{{Name: "A", Role: Friendly, Workload: Spin}}}
		for round := 0; round < 2; round++ {
			if err := s.Prepare(); err != nil {
				t.Fatal(err)
			}
			for k, w := range tc.want {
				if got := s.GroupPeriodUs(k); got != w {
					t.Errorf("step %d, prepared %d times: group %d's period %d us, want %d", tc.step, round+1, k, got, w)
				}
			}
		}
	}
}

// Every experiment's runs are valid, named friendly-NAME[-VARIANT], on
// the CPU given.
func TestExperimentsSpecs(t *testing.T) {
	for _, e := range Experiments() {
		for _, s := range e.Specs(0, 1, -15, false) {
			if err := s.Prepare(); err != nil {
				t.Errorf("%s: %v", s.Name, err)
			}
			if !strings.HasPrefix(s.Name, "friendly-"+e.Name) || s.CPU != 1 || s.Nice != -15 || s.Duration != e.Duration {
				t.Errorf("%s: cpu %d duration %v", s.Name, s.CPU, s.Duration)
			}
		}
	}
	if _, err := Lookup("nope"); err == nil {
		t.Error("an unknown experiment was found")
	}
}

const ms = 1_000_000

// writeRun writes a small run by hand: friendly group F (two windows)
// beside unmanaged G.
func writeRun(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "raw"), 0o755); err != nil {
		t.Fatal(err)
	}
	spec := Spec{Name: "friendly-greedy", Duration: 10 * time.Second, CPU: 0, Participants: []Participant{
		{Name: "F", Role: Friendly, Workload: Spin}, {Name: "G", Role: Unmanaged, Workload: Spin}}}
	if err := spec.Prepare(); err != nil {
		t.Fatal(err)
	}
	if err := friendly.WriteJSON(filepath.Join(dir, "spec.json"), spec); err != nil {
		t.Fatal(err)
	}
	core, _ := controller.NewCore(controller.DefaultSleep(), 0, 0)
	h := core.Header()
	h.PeriodUs, h.Kernel, h.Controller, h.Workload = 20000, "test", friendly.Version, "spin"
	evs := []trace.Event{
		{Kind: trace.KindHeader, Header: &h},
		{Kind: trace.KindActuate, Actuate: trace.Actuate{D: 20}},
		{Kind: trace.KindSample, TNs: 100 * ms, Sample: trace.Sample{Seq: 1, StartNs: 0, WallNs: 100 * ms, WantNs: 100 * ms, CPUNs: 50 * ms, StealPermille: 500, VCTPermille: 2000, PausePermille: 0, SignalPermille: 500, Congested: true}},
		{Kind: trace.KindDecide, TNs: 100 * ms, Decide: trace.Decide{Seq: 1, SampleSeq: 1, NewestSeq: 1, DBefore: 20, DAfter: 10, Branch: vocab.Decrease}},
		{Kind: trace.KindActuate, TNs: 100 * ms, Actuate: trace.Actuate{Seq: 1, D: 10, PausePermille: 500}},
		{Kind: trace.KindHost, TNs: 100 * ms, Host: trace.Host{Seq: 1, WallNs: 100 * ms, CPUNs: 50 * ms}},
		{Kind: trace.KindSample, TNs: 200 * ms, Sample: trace.Sample{Seq: 2, StartNs: 100 * ms, WallNs: 100 * ms, WantNs: 40 * ms, CPUNs: 30 * ms, IdleNs: 10 * ms, PauseNs: 50 * ms, StealPermille: 100, VCTPermille: 1333, PausePermille: 500, SignalPermille: 100}},
		{Kind: trace.KindDecide, TNs: 200 * ms, Decide: trace.Decide{Seq: 2, SampleSeq: 2, NewestSeq: 2, DBefore: 10, DAfter: 11, Branch: vocab.Increase}},
		{Kind: trace.KindActuate, TNs: 200 * ms, Actuate: trace.Actuate{Seq: 2, D: 11, PausePermille: 450}},
		{Kind: trace.KindHost, TNs: 200 * ms, Host: trace.Host{Seq: 2, WallNs: 100 * ms, CPUNs: 30 * ms}},
		{Kind: trace.KindEnd, TNs: 200 * ms, End: trace.End{Clean: true, Reason: "test"}},
	}
	var b []byte
	for i := range evs {
		b = trace.AppendEvent(b, &evs[i])
	}
	if err := os.WriteFile(filepath.Join(dir, "F.jsonl"), b, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "raw", "G.cpu"), []byte("0 0\n100000000 50000000\n200000000 120000000\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

// Summarize, worked by hand: over the second half (100..200 ms) F used
// 30 ms and G 70 ms; F's samples there have pauses 0 and 500 (mean 250,
// awake r = 3/4), G is always awake. The duty model gives F 3/4 · 1/2 =
// 0.375 and G 3/4 · 1/2 + 1/4 · 1 = 0.625; the fair (max-min) model 0.5
// each. Too short for a 5 s convergence window: never.
func TestSummarize(t *testing.T) {
	dir := writeRun(t)
	s, err := Summarize(dir)
	if err != nil {
		t.Fatal(err)
	}
	near := func(a, b float64) bool { return math.Abs(a-b) < 1e-9 }
	f, g := s.Participants[0], s.Participants[1]
	if !near(f.Share, 0.3) || !near(g.Share, 0.7) || !near(s.Utilisation, 1) || s.JainFriendly != -1 ||
		!near(f.MeanPause, 250) || !near(f.MeanD, 10.5) || f.VM != 0 || g.VM != -1 ||
		!near(f.DutyShare, 0.375) || !near(g.DutyShare, 0.625) || !near(f.FairShare, 0.5) ||
		!near(s.DutyError, 0.075) || !near(s.FairError, 0.2) || s.ConvergenceS != -1 || !near(f.ShareWhole, 0.4) {
		t.Errorf("summary %+v", s)
	}
	if s.Refines == nil || !*s.Refines || !s.Complete {
		t.Errorf("refines %v (%s), complete %v", s.Refines, s.RefineFailure, s.Complete)
	}
	if tab := RunTable(s); !strings.Contains(tab, "| F | friendly | spin | 30.0% | 10.5 | 250‰ | 300‰ | 37.5% | 50.0% |") || !strings.Contains(tab, "refines ref: yes") {
		t.Errorf("table:\n%s", tab)
	}
	// A trace cut off without its end: incomplete.
	p := filepath.Join(dir, "F.jsonl")
	b, _ := os.ReadFile(p)
	b = b[:bytes.LastIndexByte(b[:len(b)-1], '\n')+1]
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	if s, err := Summarize(dir); err != nil || s.Complete || s.Refines == nil || *s.Refines {
		t.Errorf("a trace without its end: complete %v refines %v, %v", s.Complete, s.Refines, err)
	}
}

func TestLatencyAndJobTable(t *testing.T) {
	var rs [][2]int64
	for i := int64(1); i <= 100; i++ {
		rs = append(rs, [2]int64{i, i * ms})
	}
	l := latencyOver(rs, 1, 100)
	if l.N != 100 || l.Mean != 50.5 || l.P50 != 50 || l.P99 != 99 || l.Max != 100 {
		t.Errorf("latency %+v", l)
	}
	if l := latencyOver(rs, 51, 60); l.N != 10 || l.Mean != 55.5 || l.P99 != 60 {
		t.Errorf("latency over 51..60: %+v", l)
	}
	mk := func(name string, mean, p99, job float64) *Summary {
		return &Summary{Name: name, Utilisation: 0.9, Participants: []PSummary{
			{Name: "L", Workload: Loop, Share: 0.2, Latency: &Latency{Mean: mean, P99: p99}},
			{Name: "J", Workload: Gzip, Share: job}}}
	}
	tab, err := JobTable([]*Summary{mk("friendly-job-alone", 2, 3, 0), mk("friendly-job-nice19", 3, 9, 0.7)})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(tab, "| loop alone | 2.00 | 3.00 | 1.00× | 1.00× |") || !strings.Contains(tab, "| job nice19 | 3.00 | 9.00 | 1.50× | 3.00× | 70.0% | 20.0% | 90.0% |") {
		t.Errorf("job table:\n%s", tab)
	}
	if _, err := JobTable([]*Summary{mk("friendly-job-idle", 1, 1, 0)}); err == nil {
		t.Error("a job table without the loop alone")
	}
}

// The probe wakes on its period's grid and reports a response of at least
// its work (a light real run: 1 ms of CPU every 5 ms for 300 ms). At most
// one response per period; on a loaded machine it may miss periods (it
// skips them by design), so only two responses are required.
func TestProbe(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	var b bytes.Buffer
	if err := Probe(ctx, 5*time.Millisecond, time.Millisecond, &b); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "l")
	if err := os.WriteFile(p, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	rs, err := readLatency(p)
	if err != nil || len(rs) < 2 || len(rs) > 61 {
		t.Fatalf("%d responses in 300 ms at a 5 ms period, want 2..61: %v", len(rs), err)
	}
	for i, r := range rs {
		if r[1] < ms {
			t.Errorf("response %d: %d ns, less than the 1 ms of work", i, r[1])
		}
		if i > 0 && (r[0]-rs[i-1][0])%(5*ms) != 0 {
			t.Errorf("wake-up %d not on the 5 ms grid: %d after the previous", i, r[0]-rs[i-1][0])
		}
	}
	if err := Probe(ctx, time.Millisecond, time.Millisecond, &b); err == nil {
		t.Error("work >= period accepted")
	}
}

func TestStatOf(t *testing.T) {
	p := filepath.Join(t.TempDir(), "stat")
	line := "42 (a (b) c) S 1 4242 4242 0 -1 4194560 0 0 0 0 0 0 0 0 20 0 1 0 987654 0 0\n"
	if err := os.WriteFile(p, []byte(line), 0o644); err != nil {
		t.Fatal(err)
	}
	if st, ok := statOf(p); !ok || st.Pgrp != 4242 || st.Start != 987654 {
		t.Errorf("statOf: pgid %d start %d ok %v", st.Pgrp, st.Start, ok)
	}
	if _, ok := statOf(filepath.Join(t.TempDir(), "gone")); ok {
		t.Error("statOf of a missing file: ok")
	}
}

// TestParseAutogroup holds the parser to the kernel's format
// (proc_sched_autogroup_show_task: "/autogroup-%ld nice %d\n", nothing at
// all for a task of the root task group, which has no autogroup).
func TestParseAutogroup(t *testing.T) {
	for _, c := range []struct {
		in   string
		nice int
		ok   bool
	}{
		{"/autogroup-2120 nice 0\n", 0, true},
		{"/autogroup-7 nice -15\n", -15, true},
		{"/autogroup-7 nice 19", 19, true},
		{"", 0, false},
		{"\n", 0, false},
		{"/autogroup-7 nice x\n", 0, false},
		{"/autogroup-7 weight 0\n", 0, false},
	} {
		nice, ok := parseAutogroup(c.in)
		if nice != c.nice || ok != c.ok {
			t.Errorf("parseAutogroup(%q) = %d, %v; want %d, %v", c.in, nice, ok, c.nice, c.ok)
		}
	}
}
