package port_test

import (
	"errors"
	"testing"

	"pgregory.net/rapid"

	"github.com/friendly-vm/fvm/friendly/cgroup"
	"github.com/friendly-vm/fvm/friendly/cgroup/cgrouptest"
	"github.com/friendly-vm/fvm/friendly/port"
	"github.com/friendly-vm/fvm/uml-impl/controller"
	"github.com/friendly-vm/fvm/vocab"
)

// setup makes a group in a fake tree with processes pids in it.
func setup(t testing.TB, tr *cgrouptest.Tree, pids ...int) *cgroup.Group {
	t.Helper()
	l, err := cgroup.Detect(tr)
	if err != nil {
		t.Fatal(err)
	}
	g, err := l.Create(tr, "1-1")
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range pids {
		tr.Spawn(p, uint64(p))
		if err := g.AddProc(p); err != nil {
			t.Fatal(err)
		}
	}
	return g
}

// tree is a fake cgroup tree of version v ("v1" or "v2") with the cpu
// controller.
func tree(t testing.TB, v string) *cgrouptest.Tree {
	if v == "v2" {
		return cgrouptest.NewV2(t, "cpu")
	}
	return cgrouptest.NewV1(t, false)
}

// clock is a settable host clock.
type clock struct{ t int64 }

func (c *clock) now() int64 { return c.t }

const ms = 1_000_000

// The windows' fields, worked out by hand from the definitions in doc.go.
func TestSourceWindows(t *testing.T) {
	for _, v := range []string{"v1", "v2"} {
		t.Run(v, func(t *testing.T) {
			tr := tree(t, v)
			g := setup(t, tr, 10, 11)
			if err := g.SetBandwidth(10_000, 20_000); err != nil { // pause 500 permille
				t.Fatal(err)
			}
			c := &clock{t: 1000 * ms}
			src := port.NewSource(tr, g, c.now)
			tr.SetUsage(g, cgroup.Usage{CPUNs: 5 * ms, ThrottledNs: 1 * ms})
			tr.SetSchedstat(10, 4*ms, 9*ms) // before the first reading: not counted
			if ws, err := src.Windows(); err != nil || len(ws) != 0 {
				t.Fatalf("first reading: %v, %v", ws, err)
			}
			// 60 ms later: no window yet.
			c.t += 60 * ms
			if ws, _ := src.Windows(); len(ws) != 0 {
				t.Fatalf("a window after 60 ms: %v", ws)
			}
			// At 102 ms: cpu +20, throttled +50, delays +50 (task 10) and
			// +20 (task 11): pause 50, wait 70-50 = 20, want min(40, 52) =
			// 40, idle 12, steal 20.
			c.t += 42 * ms
			tr.SetUsage(g, cgroup.Usage{CPUNs: 25 * ms, ThrottledNs: 51 * ms, NrThrottled: 3})
			tr.SetSchedstat(10, 14*ms, 59*ms)
			tr.SetSchedstat(11, 10*ms, 20*ms)
			ws, err := src.Windows()
			if err != nil || len(ws) != 1 {
				t.Fatalf("windows %v, %v", ws, err)
			}
			want := controller.Window{Seq: 1, StartNs: 1000 * ms, EndNs: 1102 * ms, WallNs: 102 * ms, CPUNs: 20 * ms,
				IdleNs: 12 * ms, PauseNs: 50 * ms, WantNs: 40 * ms, StealNs: 20 * ms, StealPermille: 196, VCTPermille: 2000,
				PausePermille: 500, PeriodUs: 20_000}
			if ws[0] != want {
				t.Errorf("window\n got %+v\nwant %+v", ws[0], want)
			}
			if why := controller.Garbage(ws[0], vocab.WindowNs); why != "" {
				t.Errorf("the window is garbage: %s", why)
			}
			if r := src.Last(); r.RunNs != 20*ms || r.DelayNs != 70*ms {
				t.Errorf("per-task sums run %d, delay %d; want 20 ms, 70 ms", r.RunNs, r.DelayNs)
			}
			// Task 11 exits, task 12 appears with 3 ms run and 1 ms delay;
			// the group was always runnable and never throttled: a busy
			// pair of tasks alone gets steal 0 (their delays are behind
			// each other, and want is capped at the wall time).
			tr.Exit(11)
			tr.Spawn(12, 12)
			if err := g.AddProc(12); err != nil {
				t.Fatal(err)
			}
			tr.SetSchedstat(12, 3*ms, 1*ms)
			tr.SetSchedstat(10, 111*ms, 159*ms)
			c.t += 100 * ms
			tr.SetUsage(g, cgroup.Usage{CPUNs: 125 * ms, ThrottledNs: 51 * ms, NrThrottled: 3})
			ws, _ = src.Windows()
			if len(ws) != 2 {
				t.Fatalf("%d windows", len(ws))
			}
			w := ws[1]
			if w.Seq != 2 || w.StartNs != 1102*ms || w.WallNs != 100*ms || w.CPUNs != 100*ms || w.PauseNs != 0 ||
				w.WantNs != 100*ms || w.IdleNs != 0 || w.StealNs != 0 || w.VCTPermille != 1000 {
				t.Errorf("window 2: %+v", w)
			}
			if r := src.Last(); r.RunNs != (20+97+3)*ms {
				t.Errorf("per-task run sum %d, want 120 ms (task 11 keeps what was read of it)", r.RunNs)
			}
		})
	}
}

// The ring keeps the last vocab.RingSize windows, numbered contiguously,
// each starting where the previous one ended.
func TestSourceRing(t *testing.T) {
	tr := cgrouptest.NewV1(t, true)
	g := setup(t, tr, 5)
	if err := g.SetBandwidth(cgroup.Unlimited, 20_000); err != nil {
		t.Fatal(err)
	}
	c := &clock{t: ms}
	src := port.NewSource(tr, g, c.now)
	var ws []controller.Window
	for i := 0; i < vocab.RingSize+10; i++ {
		var err error
		if ws, err = src.Windows(); err != nil {
			t.Fatal(err)
		}
		c.t += vocab.WindowNs + int64(i)*1000
	}
	if len(ws) != vocab.RingSize {
		t.Fatalf("ring of %d windows", len(ws))
	}
	for i, w := range ws {
		if w.Seq != uint64(10+i) {
			t.Errorf("window %d has seq %d", i, w.Seq)
		}
		if i > 0 && w.StartNs != ws[i-1].EndNs {
			t.Errorf("window %d starts at %d, the previous ended at %d", w.Seq, w.StartNs, ws[i-1].EndNs)
		}
	}
}

// Whatever the counters do (any increments, a counter going backwards, a
// throttled time above the wall time, more CPU than wall on two CPUs),
// every window satisfies the kernel interface's equations.
func TestSourceWindowsAreNeverGarbage(t *testing.T) {
	tr := cgrouptest.NewV1(t, false)
	g := setup(t, tr, 7, 8)
	rapid.Check(t, func(rt *rapid.T) {
		if err := g.SetBandwidth(port.QuotaOf(rapid.IntRange(0, vocab.MaxPausePermille).Draw(rt, "pause"), 20_000), 20_000); err != nil {
			rt.Fatal(err)
		}
		c := &clock{t: 5 * ms}
		src := port.NewSource(tr, g, c.now)
		var u cgroup.Usage
		run, delay := map[int]uint64{}, map[int]uint64{}
		tr.SetUsage(g, u)
		tr.SetSchedstat(7, 0, 0)
		tr.SetSchedstat(8, 0, 0)
		for i := 0; i < 6; i++ {
			if _, err := src.Windows(); err != nil {
				rt.Fatal(err)
			}
			wall := rapid.Int64Range(vocab.WindowNs, 3*vocab.WindowNs).Draw(rt, "wall")
			c.t += wall
			u.CPUNs += rapid.Uint64Range(0, 2*uint64(wall)).Draw(rt, "cpu")
			u.ThrottledNs += rapid.Uint64Range(0, 2*uint64(wall)).Draw(rt, "throttled")
			for _, tid := range []int{7, 8} {
				run[tid] += rapid.Uint64Range(0, uint64(wall)).Draw(rt, "run")
				if rapid.Bool().Draw(rt, "reset") {
					delay[tid] = 0 // a reused tid
				}
				delay[tid] += rapid.Uint64Range(0, 3*uint64(wall)).Draw(rt, "delay")
				tr.SetSchedstat(tid, run[tid], delay[tid])
			}
			tr.SetUsage(g, u)
		}
		ws, err := src.Windows()
		if err != nil {
			rt.Fatal(err)
		}
		for _, w := range ws {
			if why := controller.Garbage(w, vocab.WindowNs); why != "" {
				rt.Fatalf("window %+v is garbage: %s", w, why)
			}
		}
	})
}

func TestSourceReadError(t *testing.T) {
	tr := cgrouptest.NewV1(t, false)
	g := setup(t, tr, 3)
	if err := g.Release(); err != nil {
		t.Fatal(err)
	}
	src := port.NewSource(tr, g, (&clock{}).now)
	if _, err := src.Windows(); err == nil {
		t.Error("reading a removed group succeeded")
	}
}

// QuotaOf and PauseOf round-trip every pause the kernel accepts, for
// every period from the shortest allowed to a little beyond, and some
// long ones: the trace's read-back equals what was written.
func TestQuotaRoundTrip(t *testing.T) {
	periods := []int64{100_000, 999_983, 1_000_000}
	for p := int64(port.MinPeriodUs); p <= port.MinPeriodUs+2000; p++ {
		periods = append(periods, p)
	}
	for _, p := range periods {
		for pause := 0; pause <= vocab.MaxPausePermille; pause++ {
			q := port.QuotaOf(pause, p)
			if q < cgroup.MinQuotaUs {
				t.Fatalf("period %d, pause %d: quota %d below the kernel's minimum", p, pause, q)
			}
			if got := port.PauseOf(q, p); got != int64(pause) {
				t.Fatalf("period %d: pause %d -> quota %d -> pause %d", p, pause, q, got)
			}
		}
	}
	if port.MinPeriodUs != 20_000 || port.DefaultPeriodUs != 20_000 {
		t.Errorf("MinPeriodUs %d, DefaultPeriodUs %d; want 20000 (1 ms of quota at a 950 permille pause)", port.MinPeriodUs, port.DefaultPeriodUs)
	}
	if port.PauseOf(cgroup.Unlimited, 20_000) != 0 {
		t.Error("an unlimited quota is not pause 0")
	}
}

func TestActuator(t *testing.T) {
	for _, v := range []string{"v1", "v2"} {
		t.Run(v, func(t *testing.T) {
			tr := tree(t, v)
			g := setup(t, tr, 9)
			if _, err := port.NewActuator(g, port.MinPeriodUs-1); err == nil {
				t.Error("a period too short for the largest pause was accepted")
			}
			a, err := port.NewActuator(g, 20_100)
			if err != nil {
				t.Fatal(err)
			}
			if q, p, _ := g.Bandwidth(); q != cgroup.Unlimited || p != 20_100 {
				t.Errorf("after NewActuator: quota %d period %d", q, p)
			}
			// The quotas by hand: floor(20100 (1000 - pause) / 1000) µs; at
			// pause 333 the product 20100 · 667 / 1000 = 13406.7 is rounded
			// down, so that the group never gets more than its share.
			for _, tc := range []struct {
				pause int
				quota int64
			}{{0, 20_100}, {50, 19_095}, {333, 13_406}, {500, 10_050}, {900, 2_010}, {950, 1_005}} {
				if err := a.SetPause(tc.pause); err != nil {
					t.Fatal(err)
				}
				got, err := a.Pause()
				if err != nil || got != tc.pause {
					t.Errorf("pause %d read back %d, %v", tc.pause, got, err)
				}
				if q, _, _ := g.Bandwidth(); q != tc.quota {
					t.Errorf("pause %d: quota %d µs, want %d", tc.pause, q, tc.quota)
				}
			}
			for _, bad := range []int{-1, 951, 1000} {
				if err := a.SetPause(bad); !errors.Is(err, controller.ErrRange) {
					t.Errorf("pause %d: %v, want ErrRange", bad, err)
				}
			}
			if err := g.SetBandwidth(5000, 40_000); err != nil {
				t.Fatal(err)
			}
			if _, err := a.Pause(); err == nil {
				t.Error("a changed period read back without an error")
			}
		})
	}
}
