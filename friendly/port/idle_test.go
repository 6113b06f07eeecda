package port_test

import (
	"errors"
	"os"
	"path"
	"testing"
	"time"

	"github.com/friendly-vm/fvm/friendly/cgroup"
	"github.com/friendly-vm/fvm/friendly/cgroup/cgrouptest"
	"github.com/friendly-vm/fvm/friendly/port"
	"github.com/friendly-vm/fvm/uml-impl/controller"
	"github.com/friendly-vm/fvm/vocab"
)

// A work-conserving pause's window, worked out by hand from doc.go: the
// switches split the group's time into its normal-priority part, over
// which the signal is measured, and its pause, whose CPU is idle_cpu_ns.
func TestIdleSourceWindow(t *testing.T) {
	// phase is what the group's one task did in a phase of the window:
	// its CPU and its run delay, in ms.
	type phase struct{ cpu, delay uint64 }
	tests := []struct {
		name                   string
		before, low, after     phase // 30 ms normal, 60 ms idle priority, 12 ms normal
		want, idle, steal, vct uint64
	}{
		// Busy throughout: wall 102, pause 60, normal cpu 18, wait 24,
		// want min(42, 42) = 42, idle 0, steal 24 (235 permille).
		{"busy", phase{10, 20}, phase{2, 58}, phase{8, 4}, 42, 0, 24, 2333},
		// Partly idle at normal priority: wait 5 + 4 = 9 (the 58 ms
		// waited at idle priority are the pause's, not steal), want
		// min(18 + 9, 42) = 27, idle 15, steal 9 (88 permille).
		{"partly idle", phase{10, 5}, phase{2, 58}, phase{8, 4}, 27, 15, 9, 1500},
	}
	for _, tc := range tests {
		for _, v := range []string{"v1", "v2"} {
			t.Run(tc.name+"/"+v, func(t *testing.T) {
				tr := tree(t, v)
				g := setup(t, tr, 10)
				c := &clock{t: 1000 * ms}
				src := port.NewSource(tr, g, c.now)
				a, err := port.NewIdleActuator(g, src, 100_000, 0)
				if err != nil {
					t.Fatal(err)
				}
				if err := a.SetPause(600); err != nil {
					t.Fatal(err)
				}
				if ws, err := src.Windows(); err != nil || len(ws) != 0 {
					t.Fatalf("first reading: %v, %v", ws, err)
				}
				var cpu, delay uint64
				advance := func(d uint64, p phase) {
					c.t += int64(d * ms)
					cpu, delay = cpu+p.cpu, delay+p.delay
					tr.SetUsage(g, cgroup.Usage{CPUNs: cpu * ms})
					tr.SetSchedstat(10, cpu*ms, delay*ms)
				}
				advance(30, tc.before)
				if err := src.Switch(true); err != nil {
					t.Fatal(err)
				}
				advance(60, tc.low)
				if err := src.Switch(false); err != nil {
					t.Fatal(err)
				}
				advance(12, tc.after)
				ws, err := src.Windows()
				if err != nil || len(ws) != 1 {
					t.Fatalf("windows %v, %v", ws, err)
				}
				want := controller.Window{Seq: 1, StartNs: 1000 * ms, EndNs: 1102 * ms, WallNs: 102 * ms,
					CPUNs: (tc.before.cpu + tc.after.cpu) * ms, IdleNs: tc.idle * ms, PauseNs: 60 * ms,
					WantNs: tc.want * ms, StealNs: tc.steal * ms, StealPermille: tc.steal * 1000 / 102,
					VCTPermille: tc.vct, PausePermille: 600, PeriodUs: 100_000, IdleCPUNs: tc.low.cpu * ms, PauseMode: 1}
				if ws[0] != want {
					t.Errorf("window\n got %+v\nwant %+v", ws[0], want)
				}
				if why := controller.Garbage(ws[0], vocab.WindowNs); why != "" {
					t.Errorf("the window is garbage: %s", why)
				}
			})
		}
	}
}

// The actuator switches the group's cpu.idle for the pause's part of each
// period, leaves it at 0 when stopped, refuses pauses out of range, and a
// failed switch is an error of Pause (the group left at normal priority).
func TestIdleActuator(t *testing.T) {
	tr := cgrouptest.NewV1(t, false)
	g := setup(t, tr, 10)
	t0 := time.Now()
	now := func() int64 { return int64(time.Since(t0)) + 1000*ms }
	src := port.NewSource(tr, g, now)
	if _, err := src.Windows(); err != nil {
		t.Fatal(err)
	}
	a, err := port.NewIdleActuator(g, src, 20_000, -5)
	if err != nil {
		t.Fatal(err)
	}
	if err := a.SetPause(vocab.MaxPausePermille + 1); !errors.Is(err, controller.ErrRange) {
		t.Errorf("SetPause(951): %v, want ErrRange", err)
	}
	if err := a.SetPause(500); err != nil {
		t.Fatal(err)
	}
	a.Start(now)
	time.Sleep(100 * time.Millisecond)
	if err := a.Stop(); err != nil {
		t.Fatal(err)
	}
	if b, err := tr.ReadFile(path.Join(g.Dir(), "cpu.idle")); err != nil || string(b) != "0\n" {
		t.Errorf("cpu.idle after Stop: %q, %v; want 0", b, err)
	}
	// Leaving idle priority resets a group's weight; the actuator gives it
	// back the weight of its nice, -5: 3121.
	if b, err := tr.ReadFile(path.Join(g.Dir(), "cpu.shares")); err != nil || string(b) != "3121\n" {
		t.Errorf("cpu.shares after the switches: %q, %v; want 3121 (nice -5)", b, err)
	}
	if r := src.Last(); r.LowNs == 0 {
		t.Error("no time at idle priority recorded after 100 ms at 500 permille of a 20 ms period")
	}

	// A group whose cpu.idle goes away: the next switch fails.
	b, err := port.NewIdleActuator(g, src, 20_000, -5)
	if err != nil {
		t.Fatal(err)
	}
	if err := b.SetPause(500); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(tr.Path(path.Join(g.Dir(), "cpu.idle"))); err != nil {
		t.Fatal(err)
	}
	b.Start(now)
	time.Sleep(50 * time.Millisecond)
	if _, err := b.Pause(); err == nil {
		t.Error("a failed switch is not reported")
	}
	if err := b.SetPause(100); err == nil {
		t.Error("SetPause after a failed switch succeeded")
	}
	_ = b.Stop()
	if _, err := port.NewIdleActuator(g, src, 20_000, -5); err == nil {
		t.Error("an actuator for a group without cpu.idle")
	}
}
