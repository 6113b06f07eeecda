//go:build umlkernel

package kernel_test

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/friendly-vm/fvm/uml-impl/host"
)

// lagSample is one reading of `guestprobe lag`.
type lagSample struct {
	GuestBeforeNS int64  `json:"guest_before_ns"`
	GuestAfterNS  int64  `json:"guest_after_ns"`
	HostNowNS     uint64 `json:"host_now_ns"`
	Seq           uint64 `json:"seq"`
}

// Thresholds of TestPauseMaxBesideBusy. Measured over 6 runs of the fixed
// kernel (patch 0001 with the paused-time sched_clock; 2 vCPUs, host kernel
// 6.18, CPU 1 busy with other work), min / median / max:
//
//	largest window spacing   109.1 / 109.7 / 110.1 ms  (old kernel: 138-150 ms, RT-throttled)
//	largest newest-window age 94.8 / 97.7 / 99.9 ms
//	guest clock spread         0.000 / 0.000 / 0.000 ms
//	paused fraction            92.8 / 93.05 / 93.3 %
//	lag samples in interval    47 / 64.5 / 79
//
// A window ends at the first sampler run at least 100 ms after it began;
// at 950‰ that run can come up to one pause (9.5 ms) late, plus the host's
// wake-up latency.
const (
	// stallWindowSpacing bounds end_ns(k) - end_ns(k-1): 100 ms plus one
	// pause plus a 15 ms margin over the largest measured (110.1 ms).
	stallWindowSpacing = 100*time.Millisecond + 25*time.Millisecond
	// stallNewestAge bounds how old the newest window is in a stats
	// snapshot (now_ns - its end_ns): a window plus 30 ms over the
	// largest measured (99.9 ms).
	stallNewestAge = 100*time.Millisecond + 30*time.Millisecond
	// stallClockSpread bounds how far the guest's CLOCK_MONOTONIC moves
	// against the host's beyond what the reads' own brackets explain
	// (measured 0 in every run: it is the host's clock).
	stallClockSpread = time.Millisecond
	// stallMinPaused is the least fraction of wall time paused at 950‰
	// (measured at least 92.8%; below 95% because the awake rest of each
	// period starts when the pause really ended).
	stallMinPaused = 0.90
	// stallMinLagSamples is the least number of lag samples in the
	// interval (at least 47 measured: a process at 950‰ beside a busy
	// VM gets a few polls per second).
	stallMinLagSamples = 20
	// stallMaxKfvmdShare bounds kfvmd's run time as the guest's scheduler
	// counts it, as a fraction of wall. Five runs (2026-12-01, quiet
	// machine): min 0.82, median 0.84, max 0.87%; with the pauses counted
	// (the kern-sched-clock-counts-pauses mutant) 94.2%, where RT
	// throttling shows on the console only in some runs. 10%: a margin of
	// 9.1 points over the largest, 84 below the mutant.
	stallMaxKfvmdShare = 0.10
)

// stallScript starts the probes and the busy loop first and pauses 950‰
// only once they run: loading a binary from hostfs at 1-5%% speed would
// take many seconds. The probes run at guest nice -10, like fvmd, so that the
// busy loop does not starve them of the little CPU the VM gets.
//
// It also snapshots kfvmd's run time as the guest's scheduler counts it
// (se.sum_exec_runtime of /proc/PID/sched) with the guest's uptime, in one
// process each (a fork at 950‰ takes seconds): just before the pause is
// set and when the spin ends; kfvmd is looked up before the pause.
const stallScript = `
nice -n -10 $P watch -for %[1]s -every 500ms -dir "$FVM_OUT" &
nice -n -10 $P lag -for %[1]s -every 50ms -out "$FVM_OUT/lag.json" &
$P spin -for %[2]s -out "$FVM_OUT/spin.json" -ready "$FVM_OUT/spinning" &
spin=$!
k=
for d in /proc/[0-9]*; do
	read -r c 2>/dev/null < "$d/comm" && [ "$c" = kfvmd ] && k=${d#/proc/}
done
while [ ! -e "$FVM_OUT/spinning" ]; do sleep 0.1; done
sleep 0.5
grep -h -E '^[0-9]|sum_exec_runtime' /proc/uptime /proc/$k/sched > "$FVM_OUT/kfvmd-0.txt"
echo 950 > /proc/fvm/pause_permille
wait $spin
grep -h -E '^[0-9]|sum_exec_runtime' /proc/uptime /proc/$k/sched > "$FVM_OUT/kfvmd-1.txt"
wait
cat /proc/fvm/windows > "$FVM_OUT/windows-final.txt"
`

// TestPauseMaxBesideBusy holds one guest at the largest pause, 950‰, for
// at least 10 s beside a busy neighbour on the same core, with a busy workload of
// its own, and checks that the sampler keeps running on time: kfvmd, the
// SCHED_FIFO thread that pauses the VM by sleeping on the host with guest
// interrupts off, must never be RT-throttled. (Before the pause was taken
// out of the guest's scheduler clock, the guest scheduler charged every
// pause to kfvmd as real-time runtime; at 950‰ that crosses the default
// limit of 950 ms per second, "sched: RT throttling activated", and kfvmd
// then stood still for up to ~2 s: no pause, no window.)
//
// Over the common busy interval (at least 10 s) it asserts that
//   - the paused guest's windows are consecutive (read exactly once, no gap)
//     and their ends are at most stallWindowSpacing apart;
//   - the newest window a guest process finds in the ring is never more
//     than stallNewestAge old (host now_ns minus its end_ns);
//   - the guest's own CLOCK_MONOTONIC keeps pace with the host's: its
//     offset to now_ns moves by at most stallClockSpread;
//   - the guest was paused at least stallMinPaused of the time;
//   - neither console says "RT throttling".
func TestPauseMaxBesideBusy(t *testing.T) {
	r := newRig(t)
	const spin = 15 * time.Second
	bs := r.run(t,
		guestSpec{name: "paused950", script: fmt.Sprintf(stallScript, spin+8*time.Second, spin)},
		spinGuest("busy", spin+5*time.Second, "")) // outlasts the paused guest's spin
	a, b := bs[0], bs[1]
	var sa, sb spun
	a.json(t, "spin.json", &sa)
	b.json(t, "spin.json", &sb)
	t0, t1 := interval(t, settle, sa, sb)
	w := readWatch(t, a)
	// Measure from a settle time after the first window paused at 950‰.
	for _, x := range w.windows {
		if x.PausePermille == 950 {
			t0 = max(t0, int64(x.End)+settle.Nanoseconds())
			break
		}
	}
	if t1-t0 < (10 * time.Second).Nanoseconds() {
		t.Fatalf("the guests were busy together at 950‰ for only %s, want >= 10 s", time.Duration(t1-t0))
	}

	for _, g := range bs {
		for _, l := range strings.Split(g.g.Console(), "\n") {
			if strings.Contains(l, "RT throttling") {
				t.Errorf("console of %s: %q", g.out, l)
			}
		}
	}

	if len(w.res.Gaps) > 0 || len(w.res.Errors) > 0 {
		t.Errorf("watch: gaps %v errors %v", w.res.Gaps, w.res.Errors)
	}
	var spacing []float64 // ms
	var wall, paused uint64
	in := 0
	for i, x := range w.windows {
		if err := x.Check(); err != nil {
			t.Error(err)
		}
		if i > 0 && (x.Seq != w.windows[i-1].Seq+1 || x.Start != w.windows[i-1].End) {
			t.Errorf("window %d does not follow window %d", x.Seq, w.windows[i-1].Seq)
		}
		if int64(x.Start) < t0 || int64(x.End) > t1 {
			continue
		}
		in++
		wall += x.Wall
		paused += x.Pause
		if x.PausePermille != 950 {
			t.Errorf("window %d: pause %d‰ in force, want 950", x.Seq, x.PausePermille)
		}
		if i > 0 {
			d := x.End - w.windows[i-1].End
			spacing = append(spacing, float64(d)/1e6)
			if d > uint64(stallWindowSpacing) {
				t.Errorf("window %d ended %.1f ms after window %d, want <= %v", x.Seq, float64(d)/1e6, x.Seq-1, stallWindowSpacing)
			}
		}
	}
	if want := int((t1 - t0) / int64(stallWindowSpacing)); in < want {
		t.Errorf("%d windows in %.1f s, want >= %d", in, float64(t1-t0)/1e9, want)
	}
	frac := float64(paused) / float64(max(wall, 1))
	if frac < stallMinPaused {
		t.Errorf("paused %.1f%% of wall at 950‰, want >= %.0f%%", 100*frac, 100*stallMinPaused)
	}

	var lag []lagSample
	a.json(t, "lag.json", &lag)
	// The end of every window: as the reader saw them, and the last 64 in
	// the ring at the end (the reader polls only every 0.5-2 s at 950‰).
	final, err := host.ParseWindows(string(a.read(t, "windows-final.txt")))
	if err != nil {
		t.Fatal(err)
	}
	end := map[uint64]uint64{}
	for _, x := range append(w.windows, final...) {
		end[x.Seq] = x.End
	}
	var ages []float64 // ms
	lo, hi := int64(-1<<63), int64(1<<63-1)
	n := 0
	for _, s := range lag {
		if int64(s.HostNowNS) < t0 || int64(s.HostNowNS) > t1 {
			continue
		}
		n++
		// One stats snapshot: the newest window then was seq.
		e, ok := end[s.Seq]
		if !ok {
			t.Errorf("stats at host %d names window %d, which the reader never saw", s.HostNowNS, s.Seq)
			continue
		}
		age := int64(s.HostNowNS) - int64(e)
		ages = append(ages, float64(age)/1e6)
		if age > int64(stallNewestAge) {
			t.Errorf("at host %d the newest window (%d) was %.1f ms old, want <= %v", s.HostNowNS, s.Seq, float64(age)/1e6, stallNewestAge)
		}
		// now_ns was read between the two guest readings: the offset
		// host - guest lies in [now - after, now - before].
		lo = max(lo, int64(s.HostNowNS)-s.GuestAfterNS)
		hi = min(hi, int64(s.HostNowNS)-s.GuestBeforeNS)
	}
	if n < stallMinLagSamples {
		t.Fatalf("only %d lag samples inside the interval, want >= %d", n, stallMinLagSamples)
	}
	spread := max(0, lo-hi) // 0: one constant offset explains every reading
	if spread > int64(stallClockSpread) {
		t.Errorf("the guest's clock moved %.3f ms against the host's, want <= %v", float64(spread)/1e6, stallClockSpread)
	}
	share := hostShare(t, b, t0, t1)
	kf := kfvmdShare(t, a)
	t.Logf("950‰ beside busy for %.1f s: %d windows, paused %.1f%%, window spacing ms %s; newest-window age ms %s (%d samples); guest clock spread %.3f ms; neighbour's share %.1f%%; kfvmd's run time in the guest %.2f%% of wall",
		float64(t1-t0)/1e9, in, 100*frac, stat(spacing), stat(ages), n, float64(spread)/1e6, 100*share, 100*kf)
	if kf > stallMaxKfvmdShare {
		t.Errorf("the guest's scheduler charged kfvmd %.1f%% of wall at 950‰, want <= %.0f%%: the pauses count as its run time (real-time runtime, throttled)", 100*kf, 100*stallMaxKfvmdShare)
	}
}

// kfvmdShare reads the script's two snapshots of kfvmd's run time in the
// guest and returns it as a fraction of the guest's uptime between them.
func kfvmdShare(t *testing.T, g booted) float64 {
	t.Helper()
	var up, run [2]float64
	for i := range 2 {
		name := fmt.Sprintf("kfvmd-%d.txt", i)
		lines := strings.Split(strings.TrimSpace(string(g.read(t, name))), "\n")
		f, _, _ := strings.Cut(lines[0], " ")
		u, err := strconv.ParseFloat(f, 64)
		if err != nil || len(lines) != 2 {
			t.Fatalf("%s: %q: want /proc/uptime and kfvmd's se.sum_exec_runtime (%v)", name, lines, err)
		}
		_, v, _ := strings.Cut(lines[1], ":")
		r, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
		if err != nil {
			t.Fatalf("%s: %q: %v", name, lines[1], err)
		}
		up[i], run[i] = u, r/1000 // uptime s, sum_exec_runtime ms
	}
	if up[1]-up[0] < 5 {
		t.Fatalf("kfvmd snapshots %.1f s apart, want the spin's >= 5 s", up[1]-up[0])
	}
	return (run[1] - run[0]) / (up[1] - up[0])
}

// stat formats min/median/max.
func stat(v []float64) string {
	if len(v) == 0 {
		return "none"
	}
	s := slices.Clone(v)
	slices.Sort(s)
	return fmt.Sprintf("min %.1f median %.1f max %.1f", s[0], s[len(s)/2], s[len(s)-1])
}
