//go:build umlkernel

package kernel_test

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/friendly-vm/fvm/uml-impl/host"
)

// graceScript runs a controller's poll loop (read "next", work a while as
// a controller's decisions and tracing would, write the pause) at guest
// nice -10, like fvmd, in a busy guest; the loop's
// first actuation sets the pause. The probe starts before the pause: a
// binary loaded from hostfs at a tenth of the core takes seconds.
const graceScript = `
$P spin -for %[1]s -out "$FVM_OUT/spin.json" -ready "$FVM_OUT/spinning" &
while [ ! -e "$FVM_OUT/spinning" ]; do sleep 0.1; done
nice -n -10 $P next -for %[2]s -write %[3]d -work %[4]s -out "$FVM_OUT/next.json"
wait
cat /proc/fvm/windows > "$FVM_OUT/windows-final.txt"
cat /proc/fvm/stats > "$FVM_OUT/stats-final.txt"
`

// TestGrace checks the controller's grace (patch 0004): a guest paused
// 900‰ beside a busy neighbour on the same core runs a controller's poll
// loop, and
//   - polls are done (their pause written) soon after the window they
//     read ended: the median at most graceActMedianMs after the window's
//     end;
//   - reads after the first bring one window each: at most graceMaxBehind
//     of them bring more (a poll that meets the pause, see below), so
//     the loop does not fall behind;
//   - the VM is still paused the fraction set: the graces' awake time is
//     paid back (paused fraction of the windows at 900‰ within
//     graceMinPaused..graceMaxPaused), and stats counts the graces.
func TestGrace(t *testing.T) {
	r := newRig(t)
	const pm = 900
	const read = 6 * time.Second
	bs := r.run(t,
		guestSpec{name: "grace", script: fmt.Sprintf(graceScript, read+4*time.Second, read, pm, graceWork)},
		spinGuest("busy", read+6*time.Second, ""))
	b := bs[0]
	var res nextResult
	b.json(t, "next.json", &res)
	if len(res.Errors) > 0 {
		t.Errorf("poll loop: %v", res.Errors)
	}
	stats, err := host.ParseStats(string(b.read(t, "stats-final.txt")))
	if err != nil {
		t.Fatal(err)
	}
	if v := stats["version"]; v < 3 {
		t.Errorf("stats: version %d, want 3 or later (the grace is new in 3)", v)
	}
	if stats["grace_ns"] == 0 {
		t.Errorf("stats: grace_ns 0 after %d polls: no pause waited for the controller", len(res.Reads))
	}
	// The first read returns the windows since the file was opened and
	// its actuation sets the pause: skip it and the next.
	if len(res.Reads) < 3 {
		t.Fatalf("%d reads in %v", len(res.Reads), read)
	}
	// A poll's time from its window's end to its pause written: the
	// read's lateness on the host's clock (now_ns minus the window's
	// end_ns) plus the write's time after the read on the guest's
	// (whose CLOCK_MONOTONIC has another origin, but the same rate).
	var acted []float64 // ms
	var wall, paused uint64
	behind := 0
	for i, rd := range res.Reads[2:] {
		if len(rd.Lines) != 1 {
			behind++
			t.Logf("read %d brought %d windows", i+2, len(rd.Lines))
		}
		if len(rd.Lines) == 0 {
			continue
		}
		w, err := host.ParseWindow(rd.Lines[len(rd.Lines)-1])
		if err != nil {
			t.Fatalf("read %d: %q: %v", i+2, rd.Lines, err)
		}
		late := int64(rd.NowNS) - int64(w.End)
		acted = append(acted, float64(late+rd.ActedNS-rd.GuestAfterNS)/1e6)
		if w.PausePermille == pm {
			wall += w.Wall
			paused += w.Pause
		}
	}
	sorted := slices.Sorted(slices.Values(acted))
	if wall == 0 {
		t.Fatalf("no window at %d‰ among the polls' windows", pm)
	}
	frac := float64(paused) / float64(wall)
	t.Logf("%d polls at %d‰ beside busy: pause written after the window's end (ms) median %.2f p90 %.2f max %.2f; %d reads behind; paused %.2f%% of %.1f s; grace_ns %d owed_ns %d",
		len(acted), pm, sorted[len(sorted)/2], sorted[len(sorted)*9/10], sorted[len(sorted)-1], behind,
		100*frac, float64(wall)/1e9, stats["grace_ns"], stats["owed_ns"])
	if m := sorted[len(sorted)/2]; m > graceActMedianMs {
		t.Errorf("polls wrote their pause a median %.1f ms after their window ended, want <= %d ms", m, graceActMedianMs)
	}
	if behind > graceMaxBehind {
		t.Errorf("%d of %d reads brought more than one window, want at most %d: the poll loop fell behind", behind, len(acted), graceMaxBehind)
	}
	if frac < graceMinPaused || frac > graceMaxPaused {
		t.Errorf("paused %.2f%% of the windows at %d‰, want %.0f%%..%.0f%%: the graces are not paid back", 100*frac, pm, 100*graceMinPaused, 100*graceMaxPaused)
	}
}

// graceWork is how long the poll loop works between its read and its
// write, standing in for a controller's decisions and tracing.
const graceWork = time.Millisecond

// Thresholds of TestGrace, from five runs on the grace kernel (2026-11-30,
// quiet machine), min / median / max:
//
//	median time to the pause written  3.42 / 3.71 / 6.00 ms (max per run 6.8-95 ms)
//	paused fraction at 900‰          89.18 / 89.28 / 89.82 %
//
// and, for contrast, one run each of the same test on the interface-2
// kernel (no grace: median 31.5 ms, max 104 ms, paused 88.53%) and on the
// kernel-grace-unpaid mutant (the graces never paid back: paused 85.23%).
// A poll that outlasts the 20 ms grace meets the pause (the one 95 ms
// outlier), so the test bounds the median, not the maximum. When such a
// poll ends more than a window after its window, its next read brings two
// windows: over the 24 runs of this test on the grace kernel in our logs
// (the five rounds above, 19 runs of make test-uml and CI, 2026-11-30 and
// 2026-12-01), reads behind min 0, median 0, max 1 (the one run whose
// slowest poll took 119.5 ms; four runs had a poll of 95-120 ms). The
// interface-2 kernel's run had none either (its slowest poll 104 ms), so
// this count does not tell the grace from its absence; it catches a loop
// that falls behind for good.
const (
	// graceMaxBehind: one read more than the most measured (margin 1).
	graceMaxBehind = 2
	// graceActMedianMs: twice the largest median, and a fifth of the
	// interface-2 kernel's.
	graceActMedianMs = 12
	// graceMinPaused: 2.2 points below the smallest fraction paused and
	// 1.8 above the unpaid mutant's; graceMaxPaused: 2.2 points above the
	// largest (the nominal fraction is 90%).
	graceMinPaused = 0.87
	graceMaxPaused = 0.92
)
