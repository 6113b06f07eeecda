package controller

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/friendly-vm/fvm/trace"
	"github.com/friendly-vm/fvm/vocab"
)

// fakeClock advances 50 ms per reading.
type fakeClock struct{ t int64 }

func (c *fakeClock) now() int64 { c.t += 50 * ms; return c.t }

func newLoop(t *testing.T, cfg Config) (*Loop, *MemSource, *MemActuator, *MemSink) {
	t.Helper()
	core, err := NewCore(cfg, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	src, act, sink := &MemSource{}, &MemActuator{}, &MemSink{}
	clk := &fakeClock{}
	l := &Loop{Core: core, Source: src, Act: act, Sink: sink, Now: clk.now}
	if err := l.Start(core.Header()); err != nil {
		t.Fatal(err)
	}
	return l, src, act, sink
}

func kinds(ev []trace.Event) string {
	var k []string
	for _, e := range ev {
		k = append(k, e.Kind.String())
	}
	return strings.Join(k, " ")
}

func TestLoopActuatesChanges(t *testing.T) {
	l, src, act, sink := newLoop(t, testConfig())
	src.Push(win(1, 0))
	if err := l.Poll(); err != nil { // d 10 -> 11
		t.Fatal(err)
	}
	if err := l.Poll(); err != nil { // nothing new: no actuation
		t.Fatal(err)
	}
	src.Push(win(2, 900))
	if err := l.Poll(); err != nil { // d 11 -> 5
		t.Fatal(err)
	}
	if err := l.Stop(true, "done"); err != nil {
		t.Fatal(err)
	}
	if got, want := kinds(sink.Events), "header actuate sample decide actuate sample decide actuate end"; got != want {
		t.Errorf("events %q, want %q", got, want)
	}
	// u=20: d=10 -> 500, 11 -> 450, 5 -> 750.
	if got := act.Writes; len(got) != 3 || got[0] != 500 || got[1] != 450 || got[2] != 750 {
		t.Errorf("writes %v, want [500 450 750]", got)
	}
	last := sink.Events[len(sink.Events)-2].Actuate
	if last.PausePermille != 750 || last.D != 5 || last.Seq != 2 {
		t.Errorf("last actuate %+v", last)
	}
	end := sink.Events[len(sink.Events)-1].End
	if !end.Clean || !strings.HasPrefix(end.Reason, "done; windows 2,") || !strings.Contains(end.Reason, "actuations 3 (0 failed)") {
		t.Errorf("end %+v", end)
	}
}

func TestLoopActuationFailures(t *testing.T) {
	l, src, act, sink := newLoop(t, testConfig())
	lastAct := func() trace.Actuate {
		t.Helper()
		e := sink.Events[len(sink.Events)-1]
		if e.Kind != trace.KindActuate {
			t.Fatalf("last event is %v, want actuate", e.Kind)
		}
		return e.Actuate
	}
	// A successful write is traced as written: a kernel that puts
	// another pause in force is caught by the trace checker, which holds
	// each window's reported pause_permille to the traced pause.
	act.Lie = 10
	src.Push(win(1, 0))
	if err := l.Poll(); err != nil {
		t.Fatal(err)
	}
	if a := lastAct(); a.PausePermille != 450 || a.D != 11 || a.Seq != 1 {
		t.Errorf("accepted write: actuate %+v", a)
	}
	// A failed write is traced with the pause read back (still 450 + the
	// lie: what the kernel says is in force), so the trace shows the
	// decision was not carried out.
	act.FailWrites = errors.New("EACCES")
	src.Push(win(2, 0))
	if err := l.Poll(); err != nil {
		t.Fatal(err)
	}
	if a := lastAct(); a.PausePermille != 460 || a.D != 12 {
		t.Errorf("failed write: actuate %+v", a)
	}
	// Not in force, so the next decision writes again.
	act.FailWrites = nil
	src.Push(win(3, 0))
	if err := l.Poll(); err != nil {
		t.Fatal(err)
	}
	if a := lastAct(); a.PausePermille != 350 || a.D != 13 {
		t.Errorf("retry: actuate %+v", a)
	}
	if err := l.Stop(false, "test"); err != nil {
		t.Fatal(err)
	}
	end := sink.Events[len(sink.Events)-1].End
	if !strings.Contains(end.Reason, "actuations 4 (1 failed)") || !strings.Contains(end.Reason, "last error: EACCES") {
		t.Errorf("end reason %q", end.Reason)
	}
	if len(act.Writes) != 3 {
		t.Errorf("writes %v: want 3 (initial, 450, 350)", act.Writes)
	}
}

func TestLoopReadErrorsLeadToHold(t *testing.T) {
	l, src, act, sink := newLoop(t, testConfig())
	src.Fail(errors.New("EIO"))
	for i := 0; i < 25; i++ { // 25 polls of 50 ms: past HoldAfterNs = 1 s
		if err := l.Poll(); err != nil {
			t.Fatal(err)
		}
	}
	if err := l.Stop(false, "test"); err != nil {
		t.Fatal(err)
	}
	if got, want := kinds(sink.Events), "header actuate decide actuate end"; got != want {
		t.Fatalf("events %q, want %q", got, want)
	}
	d := sink.Events[2].Decide
	if d.Branch != vocab.Hold || d.SampleSeq != 0 || d.DAfter != 1 {
		t.Errorf("decide %+v: want a hold to safe 1 consuming no window", d)
	}
	if act.Writes[len(act.Writes)-1] != 950 {
		t.Errorf("writes %v: want the safe pause 950 last", act.Writes)
	}
	end := sink.Events[4].End
	if end.Clean || !strings.Contains(end.Reason, "failed reads 25; last error: EIO") {
		t.Errorf("end %+v", end)
	}
}

func TestMemSourceRingOverflow(t *testing.T) {
	var m MemSource
	for s := uint64(1); s <= 100; s++ {
		m.Push(win(s, 0))
	}
	ws, err := m.Windows()
	if err != nil {
		t.Fatal(err)
	}
	if len(ws) != vocab.RingSize || ws[0].Seq != 37 || ws[len(ws)-1].Seq != 100 {
		t.Fatalf("ring holds %d windows %d..%d", len(ws), ws[0].Seq, ws[len(ws)-1].Seq)
	}
	m.Script([]Window{win(7, 0)})
	if ws, _ := m.Windows(); len(ws) != 1 || ws[0].Seq != 7 {
		t.Errorf("scripted read %v", ws)
	}
	if ws, _ := m.Windows(); len(ws) != vocab.RingSize {
		t.Errorf("after the script the ring is read again, got %d windows", len(ws))
	}
}

// TestTraceFile writes a trace through the loop and reads it back with the
// trace package's strict reader.
func TestTraceFile(t *testing.T) {
	p := filepath.Join(t.TempDir(), "a.jsonl")
	tf, err := CreateTrace(p)
	if err != nil {
		t.Fatal(err)
	}
	cfg := testConfig()
	cfg.Delay = 3
	core, err := NewCore(cfg, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	clk := &fakeClock{}
	src := &MemSource{}
	l := &Loop{Core: core, Source: src, Act: &MemActuator{}, Sink: tf, Now: clk.now}
	h := core.Header()
	h.PeriodUs, h.Kernel, h.Controller, h.Workload = 10000, "test", "test", "none"
	if err := l.Start(h); err != nil {
		t.Fatal(err)
	}
	// Window 2 never comes: with D=3 the first poll (newest 4) waits for
	// it, the second (newest 6) gives it up.
	src.Push(win(1, 600))
	src.Push(win(3, 0))
	g := win(4, 0)
	g.WantNs++
	src.Push(g)
	if err := l.Poll(); err != nil {
		t.Fatal(err)
	}
	src.Push(win(5, 0))
	src.Push(win(6, 0))
	if err := l.Poll(); err != nil {
		t.Fatal(err)
	}
	if err := l.Stop(true, "done"); err != nil {
		t.Fatal(err)
	}
	if err := tf.Close(); err != nil {
		t.Fatal(err)
	}
	evs, err := trace.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	// One actuate per poll, after its last decision: the first poll decides
	// on window 1, the second on windows 3 to 6.
	if got, want := kinds(evs), "header actuate sample decide actuate gap sample decide sample decide sample decide sample decide actuate end"; got != want {
		t.Fatalf("kinds %q, want %q", got, want)
	}
	hh := evs[0].Header
	if hh.Beta.String() != "1/2" || hh.Theta.String() != "1/5" || hh.Signal != vocab.Steal || hh.Rule != vocab.AIMD || !hh.Loss || hh.N != 2 || evs[0].VM != 1 || hh.InitD != 10 {
		t.Errorf("header %+v", hh)
	}
	if s := evs[2].Sample; s.Seq != 1 || !s.Congested || s.StealPermille != 600 || s.SignalPermille != 600 {
		t.Errorf("sample %+v", s)
	}
	if d := evs[3].Decide; d.Branch != vocab.Decrease || d.DAfter != 5 || d.NewestSeq != 4 {
		t.Errorf("decide %+v", d)
	}
	if g := evs[5].Gap; g.FromSeq != 2 || g.ToSeq != 2 || g.NewestSeq != 6 {
		t.Errorf("gap %+v", g)
	}
	if d := evs[9].Decide; d.Branch != vocab.Hold || d.SampleSeq != 4 || d.DAfter != d.DBefore {
		t.Errorf("garbage decide %+v", d)
	}
}

func TestParseWindows(t *testing.T) {
	ws := wins(56, 58, 510)
	text := "# seq start_ns end_ns wall_ns cpu_ns idle_ns pause_ns want_ns steal_ns steal_permille vct_permille pause_permille period_us idle_cpu_ns pause_mode\n"
	for _, w := range ws {
		text += w.Format() + "\n"
	}
	got, err := ParseWindows([]byte(text))
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 3 || got[0] != ws[0] || got[2] != ws[2] {
		t.Errorf("round trip: got %+v", got)
	}
	// The README's example line, and the same line from a kernel of
	// interface versions 2 and 3 (13 fields: sleep mode, no idle CPU).
	ex := "56 1234500000000 1234600001234 100001234 99000000 0 0 100001234 1001234 10 1010 0 10000 0 0\n"
	got, err = ParseWindows([]byte(ex))
	if err != nil || len(got) != 1 || got[0].VCTPermille != 1010 || got[0].PeriodUs != 10000 {
		t.Fatalf("README example: %+v %v", got, err)
	}
	if v2, err := ParseWindows([]byte(ex[:len(ex)-5] + "\n")); err != nil || len(v2) != 1 || v2[0] != got[0] {
		t.Errorf("version-2 line: %+v %v, want %+v", v2, err, got[0])
	}
	if why := Garbage(got[0], vocab.WindowNs); why != "" {
		t.Errorf("README example window is garbage: %s", why)
	}
	for _, in := range []string{"1 2 3\n", "1 2 3 4 5 6 7 8 9 10 11 12 x\n", "-1 2 3 4 5 6 7 8 9 10 11 12 13\n"} {
		if _, err := ParseWindows([]byte(in)); err == nil || !strings.Contains(err.Error(), "line 1") {
			t.Errorf("ParseWindows(%q) = %v, want a line 1 error", in, err)
		}
	}
}

func TestGarbage(t *testing.T) {
	mut := func(f func(*Window)) Window { w := win(5, 300); f(&w); return w }
	tests := []struct {
		name string
		w    Window
		want string
	}{
		{"valid", win(5, 300), ""},
		{"valid idle and paused", mut(func(w *Window) {
			w.IdleNs, w.PauseNs = 20*uint64(ms), 30*uint64(ms)
			w.WantNs = w.WallNs - w.IdleNs - w.PauseNs
			w.CPUNs = w.WantNs - 10*uint64(ms)
			w.StealNs = 10 * uint64(ms)
			w.StealPermille = 100
			w.VCTPermille = 1000 * w.WantNs / w.CPUNs
		}), ""},
		{"valid work-conserving", mut(func(w *Window) {
			w.PauseMode, w.IdleCPUNs = 1, 60*uint64(ms)
		}), ""},
		{"pause mode 2", mut(func(w *Window) { w.PauseMode = 2 }), "pause_mode"},
		{"idle cpu impossible", mut(func(w *Window) { w.PauseMode, w.IdleCPUNs = 1, 3*w.WallNs }), "idle_cpu_ns"},
		{"seq 0", mut(func(w *Window) { w.Seq = 0 }), "seq 0"},
		{"reversed", mut(func(w *Window) { w.StartNs, w.EndNs = w.EndNs, w.StartNs }), "end_ns <= start_ns"},
		{"wall mismatch", mut(func(w *Window) { w.WallNs++ }), "wall_ns != end_ns"},
		{"too short", mut(func(w *Window) { w.EndNs = w.StartNs + 1000; w.WallNs = 1000 }), "shorter"},
		{"too long", mut(func(w *Window) { w.EndNs = w.StartNs + 1<<40; w.WallNs = 1 << 40 }), "longer"},
		{"cpu impossible", mut(func(w *Window) { w.CPUNs = 3 * w.WallNs }), "cpu_ns > 2*wall_ns"},
		{"want mismatch", mut(func(w *Window) { w.WantNs-- }), "want_ns"},
		{"steal mismatch", mut(func(w *Window) { w.StealNs++ }), "steal_ns"},
		{"steal permille off", mut(func(w *Window) { w.StealPermille += 2 }), "steal_permille"},
		{"vct permille off", mut(func(w *Window) { w.VCTPermille += 5 }), "vct_permille"},
		{"pause too long", mut(func(w *Window) { w.PausePermille = 951 }), "pause_permille"},
		{"period bad", mut(func(w *Window) { w.PeriodUs = 0 }), "period_us"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := Garbage(tc.w, vocab.WindowNs)
			if tc.want == "" && got != "" || tc.want != "" && !strings.Contains(got, tc.want) {
				t.Errorf("Garbage = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestParseStats(t *testing.T) {
	m, err := ParseStats([]byte("version 1\nactive 1\nseq 57\nnow_ns 1234700012345\n"))
	if err != nil || m["seq"] != 57 || m["now_ns"] != 1234700012345 || m["version"] != 1 {
		t.Errorf("ParseStats = %v, %v", m, err)
	}
	if _, err := ParseStats([]byte("version one\n")); err == nil {
		t.Error("ParseStats accepted a non-number")
	}
}

// TestProcFiles runs the /proc/fvm source and actuator against plain files
// laid out like the kernel's interface.
func TestProcFiles(t *testing.T) {
	dir := t.TempDir()
	text := "# seq start_ns end_ns wall_ns cpu_ns idle_ns pause_ns want_ns steal_ns steal_permille vct_permille pause_permille period_us idle_cpu_ns pause_mode\n" +
		win(1, 0).Format() + "\n" + win(2, 0).Format() + "\n"
	for name, content := range map[string]string{"windows": text, "pause_permille": "0\n", "period_us": "10000\n", "stats": "version 1\nseq 2\n"} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	src := &ProcSource{Dir: dir}
	defer src.Close()
	ws, err := src.Windows()
	if err != nil || len(ws) != 2 || ws[1] != win(2, 0) {
		t.Fatalf("Windows() = %v, %v", ws, err)
	}
	// The kept file is read again from the start: new content shows.
	var big strings.Builder
	for s := uint64(1); s <= 64; s++ {
		big.WriteString(win(s, 0).Format() + "\n")
	}
	if err := os.WriteFile(filepath.Join(dir, "windows"), []byte(big.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	if ws, err := src.Windows(); err != nil || len(ws) != 64 || ws[63] != win(64, 0) {
		t.Fatalf("second Windows() = %d windows, %v", len(ws), err)
	}
	if st, err := src.Stats(); err != nil || st["seq"] != 2 {
		t.Errorf("Stats() = %v, %v", st, err)
	}
	act := &ProcActuator{Dir: dir}
	defer act.Close()
	if err := act.SetPause(450); err != nil {
		t.Fatal(err)
	}
	if p, err := act.Pause(); err != nil || p != 450 {
		t.Errorf("Pause() = %d, %v", p, err)
	}
	if p, err := act.Period(); err != nil || p != 10000 {
		t.Errorf("Period() = %d, %v", p, err)
	}
	if _, err := (&ProcSource{Dir: filepath.Join(dir, "none")}).Windows(); err == nil {
		t.Error("Windows() on a missing directory succeeded")
	}
}

// TestLoopSkipsUnchangedActuation checks that a decision keeping a pause
// already confirmed in force is neither written nor read back, and that a
// changed one always is.
func TestLoopSkipsUnchangedActuation(t *testing.T) {
	cfg := testConfig()
	cfg.Init = cfg.Dmin // at dmin: congested windows clamp and keep d
	l, src, act, sink := newLoop(t, cfg)
	for s := uint64(1); s <= 3; s++ {
		src.Push(win(s, 900))
		if err := l.Poll(); err != nil {
			t.Fatal(err)
		}
	}
	src.Push(win(4, 0)) // increase: actuated
	if err := l.Poll(); err != nil {
		t.Fatal(err)
	}
	if got, want := kinds(sink.Events), "header actuate sample decide sample decide sample decide sample decide actuate"; got != want {
		t.Errorf("events %q, want %q", got, want)
	}
	if len(act.Writes) != 2 {
		t.Errorf("writes %v, want the initial one and the increase", act.Writes)
	}
}

// timedMem is a MemSource whose reads carry the kernel's time, like
// NextSource.
type timedMem struct {
	*MemSource
	at int64
}

func (m *timedMem) ReadNs() int64 { return m.at }
func (m *timedMem) Waits() bool   { return true }

// With a source that gives the read's host time, every event of the poll
// is stamped with it and the clock is not read.
func TestLoopStampsWithTheSourcesTime(t *testing.T) {
	l, src, _, sink := newLoop(t, testConfig())
	clockReads := 0
	l.Now = func() int64 { clockReads++; return 1 }
	w := win(1, 0)
	ts := &timedMem{MemSource: src, at: int64(w.EndNs) + 7}
	l.Source = ts
	src.Push(w)
	if err := l.Poll(); err != nil {
		t.Fatal(err)
	}
	if clockReads != 0 {
		t.Errorf("the clock was read %d times", clockReads)
	}
	got := 0
	for _, e := range sink.Events[2:] { // after the header and the initial actuate
		if e.TNs != ts.at {
			t.Errorf("%v stamped %d, want the read's %d", e.Kind, e.TNs, ts.at)
		}
		got++
	}
	if got != 3 { // sample, decide, actuate
		t.Errorf("%d events after the start, want 3", got)
	}
}

// NextSource parses the kernel's "next" format: the read's host time, then
// the windows; a first line that is not the time is an error. Its first
// call adds the ring's windows ("windows": they may precede the open of
// "next") that had ended by the read's time.
func TestNextSource(t *testing.T) {
	w := win(5, 300)
	ring := "# seq start_ns end_ns wall_ns cpu_ns idle_ns pause_ns want_ns steal_ns steal_permille vct_permille pause_permille period_us idle_cpu_ns pause_mode\n" +
		win(3, 0).Format() + "\n" + win(4, 200).Format() + "\n"
	end4 := int64(win(4, 0).EndNs)
	for _, tc := range []struct {
		name, content string
		wantNs        int64
		wantSeqs      string
		wantErr       string
	}{
		{"windows", fmt.Sprintf("# now_ns %d\n%s\n", end4, w.Format()), end4, "[5 3 4]", ""},
		{"a ring window that ended after the read is left out", fmt.Sprintf("# now_ns %d\n%s\n", end4-1, w.Format()), end4 - 1, "[5 3]", ""},
		{"none", fmt.Sprintf("# now_ns %d\n", end4), end4, "[3 4]", ""},
		{"no time", w.Format() + "\n", 0, "", "want \"# now_ns N\""},
		{"bad time", "# now_ns x\n", 0, "", "now_ns"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			for name, content := range map[string]string{"next": tc.content, "windows": ring} {
				if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			if !NextAvailable(dir) {
				t.Fatal("NextAvailable: false")
			}
			s := &NextSource{Dir: dir}
			defer s.Close()
			ws, err := s.Windows()
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if s.ReadNs() != tc.wantNs {
				t.Errorf("ReadNs %d, want %d", s.ReadNs(), tc.wantNs)
			}
			var seqs []uint64
			for _, x := range ws {
				seqs = append(seqs, x.Seq)
			}
			if fmt.Sprint(seqs) != tc.wantSeqs || (seqs[0] == 5 && ws[0] != w) {
				t.Errorf("windows %v, want %s", seqs, tc.wantSeqs)
			}
		})
	}
	if NextAvailable(t.TempDir()) {
		t.Error("NextAvailable in an empty directory")
	}
}
