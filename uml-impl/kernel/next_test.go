//go:build umlkernel

package kernel_test

import (
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/friendly-vm/fvm/uml-impl/host"
)

// nextRead and nextResult mirror guestprobe's NextRead and NextResult.
type nextRead struct {
	GuestBeforeNS int64    `json:"guest_before_ns"`
	GuestAfterNS  int64    `json:"guest_after_ns"`
	NowNS         uint64   `json:"now_ns"`
	Lines         []string `json:"lines"`
	ActedNS       int64    `json:"acted_ns"`
}

type nextResult struct {
	Reads    []nextRead `json:"reads"`
	NonBlock string     `json:"nonblock"`
	Small    string     `json:"small"`
	Errors   []string   `json:"errors"`
}

// nextScript reads "next" while the guest spins at pause 500‰, then saves
// the ring and the stats for comparison.
const nextScript = `
$P spin -for %[1]s -out "$FVM_OUT/spin.json" -ready "$FVM_OUT/spinning" &
while [ ! -e "$FVM_OUT/spinning" ]; do sleep 0.1; done
echo 500 > /proc/fvm/pause_permille
nice -n -10 $P next -for %[2]s -out "$FVM_OUT/next.json"
wait
cat /proc/fvm/windows > "$FVM_OUT/windows-final.txt"
cat /proc/fvm/stats > "$FVM_OUT/stats-final.txt"
`

// TestNext checks /proc/fvm/next (interface version 2) in a busy guest
// paused 500‰: its reads wait for windows (about one read per window, not
// a spin), bring every window exactly once, in order, as "windows" shows
// it, each stamped with a host time at or after the window's end and
// soon after it; an O_NONBLOCK read with nothing new fails with EAGAIN,
// and a buffer too small for a window with EINVAL.
func TestNext(t *testing.T) {
	r := newRig(t)
	const read = 3 * time.Second
	bs := r.run(t, guestSpec{name: "next", script: fmt.Sprintf(nextScript, read+3*time.Second, read)})
	b := bs[0]
	var res nextResult
	b.json(t, "next.json", &res)
	stats, err := host.ParseStats(string(b.read(t, "stats-final.txt")))
	if err != nil {
		t.Fatal(err)
	}
	if v := stats["version"]; v < 2 {
		t.Errorf("stats: version %d, want at least 2 (next is new in 2)", v)
	}
	ring := map[uint64]string{}
	for _, l := range strings.Split(strings.TrimSpace(string(b.read(t, "windows-final.txt"))), "\n")[1:] {
		seq, _ := strconv.ParseUint(strings.Fields(l)[0], 10, 64)
		ring[seq] = l
	}
	if len(res.Errors) > 0 {
		t.Errorf("reads failed: %v", res.Errors)
	}
	var last uint64
	windows, empty := 0, 0
	var late []float64 // ms from the newest window's end to the read's now_ns
	for i, rd := range res.Reads {
		if len(rd.Lines) == 0 {
			empty++
			continue
		}
		for _, l := range rd.Lines {
			w, err := host.ParseWindow(l)
			if err != nil {
				t.Fatalf("read %d: line %q: %v", i, l, err)
			}
			if last != 0 && w.Seq != last+1 {
				t.Errorf("read %d: window %d after window %d", i, w.Seq, last)
			}
			last = w.Seq
			windows++
			if rd.NowNS < w.End {
				t.Errorf("read %d: now_ns %d before window %d ended at %d", i, rd.NowNS, w.Seq, w.End)
			}
			if want, ok := ring[w.Seq]; ok && want != l {
				t.Errorf("window %d: next says %q, windows says %q", w.Seq, l, want)
			}
		}
		w, err := host.ParseWindow(rd.Lines[len(rd.Lines)-1])
		if err != nil {
			t.Fatalf("read %d: line %q: %v", i, rd.Lines[len(rd.Lines)-1], err)
		}
		late = append(late, float64(rd.NowNS-w.End)/1e6)
	}
	t.Logf("%d reads, %d windows, %d empty; now_ns after the newest window's end (ms): %v", len(res.Reads), windows, empty, late)
	if windows < int(read/(150*time.Millisecond)) {
		t.Errorf("%d windows in %v of reading, want about one per 100 ms", windows, read)
	}
	// A read waits for a window: at most one read per window plus the
	// reads that time out (none while windows come every 100 ms).
	if len(res.Reads) > windows+2 {
		t.Errorf("%d reads for %d windows: reads do not wait", len(res.Reads), windows)
	}
	// The first read is not bounded: the file's cursor is set at open, so
	// a window that ends between the open and the first read (the
	// probe's start-up, in a guest paused half the time) is returned at
	// once, and that read's lateness is the reader's (53.5 ms once in 18
	// logged runs; every later read of those runs within 1 ms).
	for i, l := range late {
		if i > 0 && l > nextLateMs {
			t.Errorf("a read returned %.1f ms after its newest window ended, want <= %d ms", l, nextLateMs)
		}
	}
	if !strings.Contains(res.NonBlock, "temporarily unavailable") {
		t.Errorf("O_NONBLOCK read with nothing new: %q, want EAGAIN", res.NonBlock)
	}
	if !strings.Contains(res.Small, "invalid argument") {
		t.Errorf("read into 100 bytes: %q, want EINVAL", res.Small)
	}
}

// nextLateMs bounds how long after its newest window ended a read of
// "next" returns (now_ns minus end_ns), at pause 500‰. Measured over 5 runs
// of 30 reads (2026-11-30, quiet machine): the largest lateness per run was
// min 1.01, median 5.23, max 7.30 ms (typical reads: 0.05-0.07 ms; the
// outliers are reads that fell into one of the 5 ms pauses of a 10 ms
// period). 20 ms is one period plus a pause: a margin of 2.7 over the
// largest, and still a fifth of a window, far below what the controller's
// delay bound tolerates.
const nextLateMs = 20
