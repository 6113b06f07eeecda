package fuzz

import (
	"bytes"
	"encoding/binary"
	"testing"

	"github.com/friendly-vm/fvm/trace"
	"github.com/friendly-vm/fvm/uml-impl/controller"
	"github.com/friendly-vm/fvm/vocab"
)

// FuzzControllerUnderDelay feeds the controller reads chosen by the fuzzer:
// windows with arbitrary field values (overflowing, inconsistent, zero,
// huge), arbitrary sequence numbers (duplicates, reordering, gaps), delays
// between reads and failed reads. Whatever comes, the controller must keep
// its demand in [Dmin, Dmax], never panic, never apply the rule twice to one
// window, never use a window older than its delay bound, and fall back to
// the safe demand once windows stop coming.
func FuzzControllerUnderDelay(f *testing.F) {
	f.Add([]byte{0, 1, 0, 0, 0, 0, 0, 0, 0, 100, 1, 2})
	f.Add(bytes.Repeat([]byte{1, 5, 200, 0, 17, 3}, 40))
	f.Add([]byte{2, 0, 255, 255, 255, 255, 255, 255, 255, 255, 0, 0, 3, 9})
	f.Fuzz(func(t *testing.T, data []byte) {
		cfg := controller.Default()
		cfg.Delay = 2
		cfg.HoldAfterNs = 5 * windowNs
		if len(data) > 0 && data[0]&1 == 1 {
			cfg.Signal = vocab.VCT
			cfg.ThetaPermille = 1500
		}
		now := int64(1_000_000_000)
		core, err := controller.NewCore(cfg, 0, now)
		if err != nil {
			t.Fatal(err)
		}
		rd := bytes.NewReader(data)
		u64 := func() uint64 {
			var b [8]byte
			n, _ := rd.Read(b[:])
			return binary.LittleEndian.Uint64(b[:]) >> (8 * (8 - uint(n)) % 64)
		}
		byteAt := func() byte {
			b, err := rd.ReadByte()
			if err != nil {
				return 0
			}
			return b
		}
		var seq uint64
		used := map[int64]bool{}
		lastNew := now
		for rd.Len() > 0 {
			op := byteAt()
			now += int64(op>>4) * windowNs / 4 // time passes: up to ~4 windows
			var ws []controller.Window
			switch op & 3 {
			case 0: // plausible windows, possibly several at once (late read)
				for k := 0; k < int(op>>2&3)+1; k++ {
					seq++
					wall := uint64(windowNs)
					cpu := uint64(byteAt()) * wall / 255
					ws = append(ws, kernelWindow(seq, uint64(now)-wall, wall, cpu, 0, 0, 0))
				}
			case 1: // a window with arbitrary fields
				seq += uint64(byteAt() % 3) // 0: a duplicate; 2: a skipped window
				w := controller.Window{Seq: seq, StartNs: u64(), EndNs: u64(), WallNs: u64(), CPUNs: u64(),
					IdleNs: u64(), PauseNs: u64(), WantNs: u64(), StealNs: u64(), StealPermille: u64(),
					VCTPermille: u64(), PausePermille: u64(), PeriodUs: u64()}
				ws = append(ws, w)
			case 2: // a read of arbitrary old sequence numbers
				for k := byteAt() % 4; k > 0; k-- {
					ws = append(ws, kernelWindow(uint64(byteAt()), 1, windowNs, 1, 0, 0, 0))
				}
			}
			var ev []trace.Event
			if op&3 == 3 { // a failed read: no windows, only time passes
				ev = core.Tick(now)
			} else {
				// A window newer than the last one used or given up is
				// news, even one that waits for an older missing window.
				for _, w := range ws {
					if w.Seq > core.Last() {
						lastNew = now
					}
				}
				ev = core.Observe(now, ws)
			}
			check(t, cfg, core, ev, used)
			if now-lastNew >= cfg.HoldAfterNs && core.Demand() != cfg.Safe {
				t.Fatalf("no new window for %d ns (hold after %d): demand %d, want the safe %d", now-lastNew, cfg.HoldAfterNs, core.Demand(), cfg.Safe)
			}
		}
	})
}

func check(t *testing.T, cfg controller.Config, core *controller.Core, ev []trace.Event, used map[int64]bool) {
	t.Helper()
	for _, e := range ev {
		if e.Kind != trace.KindDecide {
			continue
		}
		d := e.Decide
		if d.DAfter < cfg.Dmin || d.DAfter > cfg.Dmax {
			t.Fatalf("decide %d: demand %d outside [%d, %d]", d.Seq, d.DAfter, cfg.Dmin, cfg.Dmax)
		}
		if d.Branch == vocab.Hold {
			continue
		}
		if used[d.SampleSeq] {
			t.Fatalf("decide %d applies the rule to window %d twice", d.Seq, d.SampleSeq)
		}
		used[d.SampleSeq] = true
		if d.NewestSeq-d.SampleSeq > int64(cfg.Delay) {
			t.Fatalf("decide %d uses window %d, %d behind the newest (D=%d)", d.Seq, d.SampleSeq, d.NewestSeq-d.SampleSeq, cfg.Delay)
		}
	}
	if core.Demand() < cfg.Dmin || core.Demand() > cfg.Dmax {
		t.Fatalf("demand %d outside [%d, %d]", core.Demand(), cfg.Dmin, cfg.Dmax)
	}
}

// FuzzTraceReader: the reader rejects malformed input with an error (never
// a panic), and whatever it accepts survives a write/read round trip.
func FuzzTraceReader(f *testing.F) {
	f.Add([]byte(`{"v":1,"kind":"header","vm":0,"t_ns":0,"n":1,"u":20,"capacity":20,"host":"shared","kappa":"1","rule":"aimd","alpha":1,"beta":"1/2","dmin":1,"dmax":20,"d":2,"window_ns":100000000,"period_us":10000,"fidelity_tol":"1/20","kernel":"k","controller":"c","workload":"w"}` + "\n"))
	f.Add([]byte(`{"v":2,"kind":"end"}` + "\n"))
	f.Add([]byte("{\"v\":1,\"kind\":\"sample\",\"vm\":0,\"t_ns\":5,\"seq\":1}\n{"))
	f.Fuzz(func(t *testing.T, data []byte) {
		evs, err := trace.ReadAll(bytes.NewReader(data), "fuzz.jsonl")
		if err != nil {
			return
		}
		var buf bytes.Buffer
		w := trace.NewWriter(&buf)
		for i := range evs {
			if err := w.Write(&evs[i]); err != nil {
				t.Fatalf("accepted event %d cannot be written: %v", i, err)
			}
		}
		again, err := trace.ReadAll(bytes.NewReader(buf.Bytes()), "again.jsonl")
		if err != nil {
			t.Fatalf("re-reading what the writer wrote: %v\n%s", err, buf.Bytes())
		}
		if len(again) != len(evs) {
			t.Fatalf("round trip: %d events, then %d", len(evs), len(again))
		}
		var buf2 bytes.Buffer
		w2 := trace.NewWriter(&buf2)
		for i := range again {
			if err := w2.Write(&again[i]); err != nil {
				t.Fatal(err)
			}
		}
		if !bytes.Equal(buf.Bytes(), buf2.Bytes()) {
			t.Fatalf("round trip changed the trace:\n%s\n---\n%s", buf.Bytes(), buf2.Bytes())
		}
	})
}

// FuzzParseWindows: the kernel's windows format is parsed or rejected with
// an error, never a panic, and what parses formats back to the same fields.
func FuzzParseWindows(f *testing.F) {
	f.Add([]byte("# seq start_ns end_ns wall_ns cpu_ns idle_ns pause_ns want_ns steal_ns steal_permille vct_permille pause_permille period_us\n1 0 100000000 100000000 50000000 0 0 100000000 50000000 500 2000 0 10000\n"))
	f.Add([]byte("1 2 3\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		ws, err := controller.ParseWindows(data)
		if err != nil {
			return
		}
		var b bytes.Buffer
		for _, w := range ws {
			b.WriteString(w.Format())
			b.WriteByte('\n')
		}
		again, err := controller.ParseWindows(b.Bytes())
		if err != nil || len(again) != len(ws) {
			t.Fatalf("formatted windows do not parse back: %v", err)
		}
		for i := range ws {
			if ws[i] != again[i] {
				t.Fatalf("window %d: %+v formats and parses to %+v", i, ws[i], again[i])
			}
		}
	})
}
