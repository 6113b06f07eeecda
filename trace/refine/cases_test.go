package refine

import (
	"bytes"
	"strings"
	"testing"

	"github.com/friendly-vm/fvm/trace"
	"github.com/friendly-vm/fvm/vocab"
)

const win = 100_000_000

func hdr1(mod func(h *trace.Header)) trace.Event {
	h := trace.NewHeader(trace.Model{N: 1, U: 20, Capacity: 20, Host: vocab.Duty, Signal: vocab.Steal, Theta: vocab.R(1, 4),
		Rule: vocab.AIMD, Alpha: 1, Beta: vocab.R(1, 2), Dmin: 1, Dmax: 20, Delay: 2,
		WindowNs: win, PeriodUs: 10_000, FidelityTol: vocab.R(1, 20)})
	h.InitD, h.Kernel, h.Controller, h.Workload = 10, "k", "c", "w"
	if mod != nil {
		mod(&h)
	}
	return trace.Event{Kind: trace.KindHeader, Header: &h}
}

// smp is window seq with the given steal (congested iff steal > 250).
func smp(seq, steal int64) trace.Event {
	return trace.Event{Kind: trace.KindSample, TNs: seq * win, Sample: trace.Sample{Seq: seq, WallNs: win, WantNs: win,
		CPUNs: win * (1000 - steal) / 1000, StealPermille: steal, VCTPermille: 1000, Congested: steal > 250}}
}

func dec(seq, sampleSeq, newest int64, before, after int, b vocab.Branch) trace.Event {
	return trace.Event{Kind: trace.KindDecide, TNs: newest*win + seq, Decide: trace.Decide{Seq: seq, SampleSeq: sampleSeq,
		NewestSeq: newest, DBefore: before, DAfter: after, Branch: b}}
}

func act(seq int64, d int, t int64) trace.Event {
	return trace.Event{Kind: trace.KindActuate, TNs: t, Actuate: trace.Actuate{Seq: seq, D: d, PausePermille: vocab.PausePermille(20, d)}}
}

func withLoss(h *trace.Header) { h.Loss = true }

func endEv() trace.Event {
	return trace.Event{Kind: trace.KindEnd, TNs: 1e12, End: trace.End{Clean: true}}
}

// decAct is a decision with its actuation right after it.
func decAct(seq, sampleSeq, newest int64, before, after int, b vocab.Branch) []trace.Event {
	d := dec(seq, sampleSeq, newest, before, after, b)
	return []trace.Event{d, act(seq, after, d.TNs+1000)}
}

func cat(parts ...any) []trace.Event {
	var out []trace.Event
	for _, p := range parts {
		switch x := p.(type) {
		case trace.Event:
			out = append(out, x)
		case []trace.Event:
			out = append(out, x...)
		}
	}
	return out
}

func TestCheckCases(t *testing.T) {
	dec1 := decAct(1, 1, 1, 10, 5, vocab.Decrease)
	tests := []struct {
		name  string
		evs   []trace.Event
		want  string // "" = refines
		check func(t *testing.T, s Summary)
	}{
		{name: "refines", evs: cat(hdr1(nil), smp(1, 500), dec1, smp(2, 100), decAct(2, 2, 2, 5, 6, vocab.Increase), endEv()),
			check: func(t *testing.T, s Summary) {
				if v := s.VMs[0]; v.Samples != 2 || v.Decisions != 2 || v.FinalDemand != 6 || v.InitDemand != 10 {
					t.Errorf("summary %+v", v)
				}
			}},
		{name: "clamp at dmax", evs: cat(hdr1(func(h *trace.Header) { h.InitD = 20 }), smp(1, 0), decAct(1, 1, 1, 20, 20, vocab.Clamp), endEv())},
		{name: "init from first decision", evs: cat(hdr1(func(h *trace.Header) { h.InitD = 0 }), smp(1, 500), dec1, endEv())},
		{name: "initial actuation", evs: cat(hdr1(func(h *trace.Header) { h.InitD = 0 }), act(0, 10, 0), smp(1, 500), dec1, endEv())},
		{name: "initial actuation disagrees", evs: cat(hdr1(nil), act(0, 11, 0)), want: "initial actuation of d=11"},
		{name: "congested bit wrong", evs: cat(hdr1(nil), func() trace.Event { e := smp(1, 100); e.Sample.Congested = true; return e }(), dec1),
			want: "window 1: congested=true but its steal signal 100‰ is not above theta 1/4"},
		{name: "skipped window", evs: cat(hdr1(nil), smp(1, 500), smp(3, 500)), want: "window 2 was skipped"},
		{name: "fifo overflow", evs: cat(hdr1(nil), smp(1, 500), smp(2, 500), smp(3, 500), smp(4, 500)), want: "still pending"},
		{name: "delay over D", evs: cat(hdr1(nil), smp(1, 500), dec(1, 1, 4, 10, 5, vocab.Decrease)), want: "3 windows late"},
		{name: "newest older than sampled", evs: cat(hdr1(nil), smp(1, 500), smp(2, 500), dec(1, 1, 1, 10, 5, vocab.Decrease)), want: "newest_seq 1 is older"},
		{name: "consumed twice", evs: cat(hdr1(nil), smp(1, 500), dec1, smp(2, 500), dec(2, 1, 2, 5, 2, vocab.Decrease)), want: "consumes again window 1"},
		{name: "window skipped by decision", evs: cat(hdr1(nil), smp(1, 500), smp(2, 500), dec(1, 2, 2, 10, 5, vocab.Decrease)), want: "skips window 2"},
		{name: "decide before sample", evs: cat(hdr1(nil), dec(1, 1, 1, 10, 5, vocab.Decrease)), want: "no window is pending"},
		{name: "wrong d_before", evs: cat(hdr1(nil), smp(1, 500), dec(1, 1, 1, 9, 4, vocab.Decrease)), want: "d_before=9 but the demand is 10"},
		{name: "wrong rounding", evs: cat(hdr1(func(h *trace.Header) { h.InitD = 9 }), smp(1, 500), dec(1, 1, 1, 9, 5, vocab.Decrease)), want: "Act(0): d_after=4 (decrease)"},
		{name: "wrong branch", evs: cat(hdr1(nil), smp(1, 100), dec(1, 1, 1, 10, 11, vocab.Clamp)), want: "d_after=11 (increase)"},
		{name: "increase on congestion", evs: cat(hdr1(nil), smp(1, 500), dec(1, 1, 1, 10, 11, vocab.Increase)), want: "congested window 1"},
		{name: "not actuated", evs: cat(hdr1(nil), smp(1, 500), dec(1, 1, 1, 10, 5, vocab.Decrease), smp(2, 500), dec(2, 2, 2, 5, 2, vocab.Decrease)), want: "before decision 1 (d=5) was actuated"},
		{name: "never actuated", evs: cat(hdr1(nil), smp(1, 500), dec(1, 1, 1, 10, 5, vocab.Decrease), endEv()), want: "never actuated"},
		{name: "actuation pause mismatch", evs: cat(hdr1(nil), smp(1, 500), dec(1, 1, 1, 10, 5, vocab.Decrease),
			func() trace.Event { e := act(1, 5, 1*win+2); e.Actuate.PausePermille = 700; return e }()), want: "pause_permille read back 700 for d=5"},
		{name: "actuation of another demand", evs: cat(hdr1(nil), smp(1, 500), dec(1, 1, 1, 10, 5, vocab.Decrease), act(1, 6, win+2)), want: "actuation of d=6"},
		{name: "actuation too late", evs: cat(hdr1(nil), smp(1, 500), dec(1, 1, 1, 10, 5, vocab.Decrease), act(1, 5, win+1+20_000_000)), want: "later than one actuation period"},
		{name: "actuation period mismatch", evs: cat(hdr1(nil), smp(1, 500), dec(1, 1, 1, 10, 5, vocab.Decrease),
			func() trace.Event { e := act(1, 5, win+2); e.Actuate.PeriodUs = 5000; return e }()), want: "period_us read back 5000"},
		{name: "gap without loss", evs: cat(hdr1(nil), smp(1, 500), trace.Event{Kind: trace.KindGap, Gap: trace.Gap{FromSeq: 2, ToSeq: 5}}), want: "model has no loss"},
		// Windows 2..5 are lost; window 8 is the newest, so 5 was 3 > D = 2
		// windows old: ref's loss drops it, and window 6 has delay 2.
		{name: "late gap", evs: cat(hdr1(withLoss), smp(1, 500), dec1,
			trace.Event{Kind: trace.KindGap, Gap: trace.Gap{FromSeq: 2, ToSeq: 5, NewestSeq: 8}}, smp(6, 100), decAct(2, 6, 8, 5, 6, vocab.Increase), endEv()),
			check: func(t *testing.T, s Summary) {
				if s.VMs[0].LostWindows != 4 || s.VMs[0].Gaps != 1 || len(s.Flags) == 0 {
					t.Errorf("summary %+v", s)
				}
			}},
		{name: "late gap checked at the next decision", evs: cat(hdr1(withLoss), smp(1, 500), dec1,
			trace.Event{Kind: trace.KindGap, Gap: trace.Gap{FromSeq: 2, ToSeq: 5}}, smp(6, 100), decAct(2, 6, 8, 5, 6, vocab.Increase), endEv())},
		{name: "gap within the delay bound", evs: cat(hdr1(withLoss), smp(1, 500), dec1,
			trace.Event{Kind: trace.KindGap, Gap: trace.Gap{FromSeq: 2, ToSeq: 5, NewestSeq: 7}}), want: "only 2 windows old: within the delay bound 2"},
		{name: "gap within the delay bound by the next decision", evs: cat(hdr1(withLoss), smp(1, 500), dec1,
			trace.Event{Kind: trace.KindGap, Gap: trace.Gap{FromSeq: 2, ToSeq: 5}}, smp(6, 100), dec(2, 6, 6, 5, 6, vocab.Increase)), want: "the next decision's newest_seq 6 makes it only 1 windows old"},
		{name: "decision on a dropped window", evs: cat(hdr1(withLoss), smp(1, 500), dec1,
			trace.Event{Kind: trace.KindGap, Gap: trace.Gap{FromSeq: 2, ToSeq: 5, NewestSeq: 8}}, dec(2, 4, 8, 5, 6, vocab.Increase)), want: "window 4 is consumed 4 windows late"},
		{name: "gap behind a pending window", evs: cat(hdr1(withLoss), smp(1, 500),
			trace.Event{Kind: trace.KindGap, Gap: trace.Gap{FromSeq: 2, ToSeq: 3, NewestSeq: 8}}), want: "window 1, older, is still pending"},

		{name: "stale sample timestamp", evs: cat(hdr1(nil), func() trace.Event { e := smp(2, 500); e.Sample.StartNs = 2 * win; return e }()),
			want: "before the window ended"},
		{name: "sample stamped as its window ends", evs: cat(hdr1(nil), func() trace.Event { e := smp(1, 500); e.Sample.StartNs, e.TNs = 1, 1+win; return e }(),
			dec(1, 1, 1, 10, 5, vocab.Decrease), act(1, 5, 1+win), endEv())},
		{name: "hold consuming a window", evs: cat(hdr1(nil), smp(1, 500), dec(1, 1, 1, 10, 10, vocab.Hold), smp(2, 100), decAct(2, 2, 2, 10, 11, vocab.Increase), endEv()),
			check: func(t *testing.T, s Summary) {
				if s.VMs[0].Holds != 1 {
					t.Errorf("holds %d", s.VMs[0].Holds)
				}
			}},
		{name: "hold on an unlogged window", evs: cat(hdr1(nil), smp(1, 500), dec1, decAct(2, 2, 2, 5, 1, vocab.Hold), smp(3, 100), decAct(3, 3, 3, 1, 2, vocab.Increase), endEv())},
		{name: "hold on a window out of order", evs: cat(hdr1(nil), smp(1, 500), dec1, dec(2, 3, 3, 5, 5, vocab.Hold)), want: "window 3 is consumed but no window is pending"},
		{name: "hold does not advance the EWMA", evs: cat(hdr1(func(h *trace.Header) { h.EWMA = vocab.Rat{Num: 1, Den: 2} }),
			func() trace.Event { e := smp(1, 500); e.Sample.SignalPermille = 500; return e }(), dec1,
			func() trace.Event {
				e := smp(2, 1000)
				e.Sample.SignalPermille = 500
				e.Sample.Congested = false
				return e
			}(), dec(2, 2, 2, 5, 5, vocab.Hold),
			func() trace.Event { e := smp(3, 0); e.Sample.SignalPermille = 250; return e }(), decAct(3, 3, 3, 5, 6, vocab.Increase), endEv())},
		{name: "vct without cpu", evs: cat(hdr1(func(h *trace.Header) { h.Signal = vocab.VCT; h.Theta = vocab.R(3, 2) }),
			func() trace.Event { e := smp(1, 1000); e.Sample.CPUNs, e.Sample.VCTPermille = 0, 0; return e }(), dec1, endEv())},
		{name: "hold without window (fallback)", evs: cat(hdr1(nil), decAct(1, 0, 0, 10, 1, vocab.Hold), smp(1, 500), decAct(2, 1, 1, 1, 1, vocab.Clamp), endEv())},
		{name: "hold outside bounds", evs: cat(hdr1(func(h *trace.Header) { h.Dmax = 15 }), dec(1, 0, 0, 10, 16, vocab.Hold)), want: "demand outside"},
		{name: "unclean end", evs: cat(hdr1(nil), smp(1, 500), trace.Event{Kind: trace.KindEnd, End: trace.End{Reason: "controller crashed"}}), want: "ended incompletely: controller crashed"},
		{name: "missing end", evs: cat(hdr1(nil), smp(1, 500)), want: "without an end event"},
		{name: "host disagrees with guest", evs: cat(hdr1(nil), smp(1, 500), dec1,
			trace.Event{Kind: trace.KindHost, TNs: win, Host: trace.Host{Seq: 1, WallNs: win, CPUNs: win}}, endEv()), want: "host measured 1.0000"},
		// The tolerance is five points of a core, whatever the header's fidelity_tol (1/20 here).
		{name: "host agrees with guest", evs: cat(hdr1(nil), smp(1, 500), dec1,
			trace.Event{Kind: trace.KindHost, TNs: win, Host: trace.Host{Seq: 1, WallNs: win, CPUNs: win/2 + 49*win/1000}}, endEv())},
		{name: "host 5.1 points from guest", evs: cat(hdr1(nil), smp(1, 500), dec1,
			trace.Event{Kind: trace.KindHost, TNs: win, Host: trace.Host{Seq: 1, WallNs: win, CPUNs: win/2 - 51*win/1000}}, endEv()), want: "host measured 0.4490"},
		{name: "ewma", evs: cat(hdr1(func(h *trace.Header) { h.EWMA = vocab.Rat{Num: 1, Den: 2} }),
			func() trace.Event { e := smp(1, 500); e.Sample.SignalPermille = 500; return e }(), dec1,
			func() trace.Event { e := smp(2, 0); e.Sample.SignalPermille = 250; return e }(), decAct(2, 2, 2, 5, 6, vocab.Increase), endEv())},
		{name: "ewma wrong", evs: cat(hdr1(func(h *trace.Header) { h.EWMA = vocab.Rat{Num: 1, Den: 2} }),
			func() trace.Event { e := smp(1, 500); e.Sample.SignalPermille = 500; return e }(), dec1,
			func() trace.Event { e := smp(2, 0); e.Sample.SignalPermille = 100; return e }(), dec(2, 2, 2, 5, 6, vocab.Increase)), want: "is not the EWMA"},
		// The controller's EWMA is exact integer arithmetic; the checker
		// allows one permille for rounding, not two.
		{name: "ewma off by one", evs: cat(hdr1(func(h *trace.Header) { h.EWMA = vocab.Rat{Num: 1, Den: 2} }),
			func() trace.Event { e := smp(1, 500); e.Sample.SignalPermille = 500; return e }(), dec1,
			func() trace.Event { e := smp(2, 0); e.Sample.SignalPermille = 249; return e }(), decAct(2, 2, 2, 5, 6, vocab.Increase), endEv())},
		{name: "ewma off by two", evs: cat(hdr1(func(h *trace.Header) { h.EWMA = vocab.Rat{Num: 1, Den: 2} }),
			func() trace.Event { e := smp(1, 500); e.Sample.SignalPermille = 500; return e }(), dec1,
			func() trace.Event { e := smp(2, 0); e.Sample.SignalPermille = 248; return e }(), decAct(2, 2, 2, 5, 6, vocab.Increase), endEv()), want: "is not the EWMA"},
		{name: "invalid model", evs: cat(hdr1(func(h *trace.Header) { h.Theta = vocab.Rat{Num: 2, Den: 1} })), want: "not a valid reference model"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := Check([]Input{{Name: "vm0.jsonl", R: bytes.NewReader(encode(t, tt.evs))}}, Options{})
			if err != nil {
				t.Fatalf("Check: %v", err)
			}
			switch {
			case tt.want == "" && !res.OK():
				t.Fatalf("rejected: %v", res.Failure)
			case tt.want != "" && res.OK():
				t.Fatalf("accepted, want a failure mentioning %q", tt.want)
			case tt.want != "" && !strings.Contains(res.Failure.Error(), tt.want):
				t.Fatalf("failure %q does not mention %q", res.Failure, tt.want)
			}
			if tt.check != nil {
				tt.check(t, res.Summary)
			}
		})
	}
}

func TestCheckSeveralFiles(t *testing.T) {
	guest := encode(t, cat(hdr1(nil), smp(1, 500), decAct(1, 1, 1, 10, 5, vocab.Decrease), endEv()))
	host := encode(t, cat(hdr1(nil), trace.Event{Kind: trace.KindHost, TNs: win, Host: trace.Host{Seq: 1, WallNs: win, CPUNs: win / 2}}, endEv()))
	res, err := Check([]Input{{"vm0.jsonl", bytes.NewReader(guest)}, {"host.jsonl", bytes.NewReader(host)}}, Options{})
	if err != nil || !res.OK() {
		t.Fatalf("%v %v", err, res.Failure)
	}
	if v := res.Summary.VMs[0]; v.HostWindows != 1 || v.HostShare != 0.5 || v.Share != 0.5 {
		t.Errorf("summary %+v", v)
	}
	other := encode(t, cat(hdr1(func(h *trace.Header) { h.Delay = 3 }), endEv()))
	res, err = Check([]Input{{"vm0.jsonl", bytes.NewReader(guest)}, {"host.jsonl", bytes.NewReader(other)}}, Options{})
	if err != nil || res.OK() || !strings.Contains(res.Failure.Msg, "delay 2 vs 3") {
		t.Fatalf("disagreeing headers: %v %v", err, res.Failure)
	}
	res, err = Check([]Input{{"empty.jsonl", bytes.NewReader(nil)}}, Options{})
	if err != nil || res.OK() {
		t.Fatalf("empty trace: %v %v", err, res)
	}
}
