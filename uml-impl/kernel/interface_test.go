//go:build umlkernel

package kernel_test

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/friendly-vm/fvm/uml-impl/host"
)

// writeCase is one knob write and what uml-impl/README.md says must happen.
type writeCase struct {
	Name    string `json:"name"`
	File    string `json:"file"`
	Data    string `json:"data"`
	UID     int    `json:"uid"`
	Preopen bool   `json:"preopen"`
	want    string // "ok" or the errno name
	after   string // the knob's value afterwards
}

// writeCases run in order as root, then the non-root ones (UID != 0).
func writeCases() []writeCase {
	p, q, m := "pause_permille", "period_us", "pause_mode"
	return []writeCase{
		{Name: "pause 0", File: p, Data: "0", want: "ok", after: "0"},
		{Name: "pause max", File: p, Data: "950", want: "ok", after: "950"},
		{Name: "pause newline", File: p, Data: "500\n", want: "ok", after: "500"},
		{Name: "pause leading zeros", File: p, Data: "0000000123", want: "ok", after: "123"},
		{Name: "pause above max", File: p, Data: "951", want: "ERANGE", after: "123"},
		{Name: "pause 1000", File: p, Data: "1000\n", want: "ERANGE", after: "123"},
		{Name: "pause negative", File: p, Data: "-1", want: "EINVAL", after: "123"},
		{Name: "pause minus zero", File: p, Data: "-0", want: "EINVAL", after: "123"},
		{Name: "pause plus sign", File: p, Data: "+5", want: "EINVAL", after: "123"},
		{Name: "pause letters", File: p, Data: "abc", want: "EINVAL", after: "123"},
		{Name: "pause empty", File: p, Data: "", want: "EINVAL", after: "123"},
		{Name: "pause only newline", File: p, Data: "\n", want: "EINVAL", after: "123"},
		{Name: "pause leading space", File: p, Data: " 5", want: "EINVAL", after: "123"},
		{Name: "pause trailing space", File: p, Data: "5 ", want: "EINVAL", after: "123"},
		{Name: "pause two newlines", File: p, Data: "5\n\n", want: "EINVAL", after: "123"},
		{Name: "pause hex", File: p, Data: "0x10", want: "EINVAL", after: "123"},
		{Name: "pause fraction", File: p, Data: "1.5", want: "EINVAL", after: "123"},
		{Name: "pause NUL", File: p, Data: "5\x00", want: "EINVAL", after: "123"},
		{Name: "pause huge", File: p, Data: "99999999999999999999", want: "ERANGE", after: "123"},
		{Name: "pause 2^64", File: p, Data: "18446744073709551616", want: "ERANGE", after: "123"},
		{Name: "pause 2^32+5", File: p, Data: "4294967301", want: "ERANGE", after: "123"},
		{Name: "pause 64 digits", File: p, Data: strings.Repeat("1", 64), want: "ERANGE", after: "123"},
		{Name: "pause 4096 digits", File: p, Data: strings.Repeat("9", 4096), want: "ERANGE", after: "123"},
		{Name: "pause 64 letters", File: p, Data: strings.Repeat("a", 64), want: "EINVAL", after: "123"},
		{Name: "period min", File: q, Data: "1000", want: "ok", after: "1000"},
		{Name: "period max", File: q, Data: "1000000\n", want: "ok", after: "1000000"},
		{Name: "period default", File: q, Data: "10000", want: "ok", after: "10000"},
		{Name: "period below min", File: q, Data: "999", want: "ERANGE", after: "10000"},
		{Name: "period zero", File: q, Data: "0", want: "ERANGE", after: "10000"},
		{Name: "period above max", File: q, Data: "1000001", want: "ERANGE", after: "10000"},
		{Name: "period negative", File: q, Data: "-10000", want: "EINVAL", after: "10000"},
		{Name: "period garbage", File: q, Data: "10ms", want: "EINVAL", after: "10000"},
		{Name: "period empty", File: q, Data: "", want: "EINVAL", after: "10000"},
		{Name: "mode idle", File: m, Data: "idle", want: "ok", after: "idle"},
		{Name: "mode sleep newline", File: m, Data: "sleep\n", want: "ok", after: "sleep"},
		{Name: "mode idle newline", File: m, Data: "idle\n", want: "ok", after: "idle"},
		{Name: "mode two newlines", File: m, Data: "sleep\n\n", want: "EINVAL", after: "idle"},
		{Name: "mode only newline", File: m, Data: "\n", want: "EINVAL", after: "idle"},
		{Name: "mode empty", File: m, Data: "", want: "EINVAL", after: "idle"},
		{Name: "mode upper case", File: m, Data: "SLEEP", want: "EINVAL", after: "idle"},
		{Name: "mode prefix", File: m, Data: "sle", want: "EINVAL", after: "idle"},
		{Name: "mode longer", File: m, Data: "sleepy", want: "EINVAL", after: "idle"},
		{Name: "mode number", File: m, Data: "1", want: "EINVAL", after: "idle"},
		{Name: "mode leading space", File: m, Data: " idle", want: "EINVAL", after: "idle"},
		{Name: "mode 400 bytes", File: m, Data: strings.Repeat("idle", 100), want: "EINVAL", after: "idle"},
		{Name: "mode back to sleep", File: m, Data: "sleep", want: "ok", after: "sleep"},
		{Name: "nonroot open pause", File: p, Data: "100", UID: 65534, want: "EACCES", after: "123"},
		{Name: "nonroot open mode", File: m, Data: "idle", UID: 65534, want: "EACCES", after: "sleep"},
		{Name: "nonroot open period", File: q, Data: "20000", UID: 65534, want: "EACCES", after: "10000"},
		{Name: "nonroot write on root fd", File: p, Data: "100", UID: 65534, Preopen: true, want: "EACCES", after: "123"},
	}
}

type writeResult struct {
	Name   string `json:"name"`
	Result string `json:"result"`
	N      int    `json:"n"`
	After  string `json:"after"`
}

type fuzzResult struct {
	Seed       int64          `json:"seed"`
	Writes     int            `json:"writes"`
	Results    map[string]int `json:"results"`
	Mismatches []string       `json:"mismatches"`
}

// TestInterface checks /proc/fvm: stats and windows formats and arithmetic,
// monotone counters, contiguous windows read exactly once, ring wrap, good
// and bad knob writes (table and fuzz), and that the guest lives on.
func TestInterface(t *testing.T) {
	r := newRig(t)
	cases := writeCases()
	cj, err := json.Marshal(cases)
	if err != nil {
		t.Fatal(err)
	}
	const fuzzN = 3000
	script := `
$P watch -for 9s -every 300ms -dir "$FVM_OUT" &
W=$!
mkdir -p late
$P watch -for 7s -every 7500ms -dir "$FVM_OUT/late" &
L=$!
$P spin -for 1500ms -out "$FVM_OUT/spin1.json"
sleep 1
echo 20000 > /proc/fvm/period_us
echo 300 > /proc/fvm/pause_permille
$P spin -for 2s -out "$FVM_OUT/spin2.json"
echo 0 > /proc/fvm/pause_permille
echo 10000 > /proc/fvm/period_us
$P writes -cases "$FVM_OUT/cases.json" -out "$FVM_OUT/writes.json"
$P fuzz -n ` + strconv.Itoa(fuzzN) + ` -seed "$(date +%s)" -out "$FVM_OUT/fuzz.json"
wait $W $L
cat /proc/fvm/windows > "$FVM_OUT/windows-final.txt"
cat /proc/fvm/stats > "$FVM_OUT/stats-final.txt"
`
	bs := r.run(t, guestSpec{name: "iface", script: script, files: map[string][]byte{"cases.json": cj}})
	b := bs[0] // the guest ran its whole script and powered off: it lived on
	w := readWatch(t, b)

	t.Run("stats", func(t *testing.T) {
		if len(w.stats) < 10 {
			t.Fatalf("only %d stats snapshots", len(w.stats))
		}
		final, err := host.ParseStats(string(b.read(t, "stats-final.txt")))
		if err != nil {
			t.Fatal(err)
		}
		for i, s := range append(w.stats, final) {
			for _, k := range host.StatsKeys() {
				if _, ok := s[k]; !ok {
					t.Fatalf("snapshot %d: key %q missing", i, k)
				}
			}
			for k, want := range map[string]uint64{"version": 4, "active": 1, "window_ns": 100_000_000, "ring_size": 64} {
				if s[k] != want {
					t.Errorf("snapshot %d: %s = %d, want %d", i, k, s[k], want)
				}
			}
		}
		// Key order is part of the format.
		var keys []string
		for _, l := range strings.Split(strings.TrimSpace(string(b.read(t, "stats-final.txt"))), "\n") {
			keys = append(keys, strings.Fields(l)[0])
		}
		if strings.Join(keys, " ") != strings.Join(host.StatsKeys(), " ") {
			t.Errorf("stats keys %v, want %v", keys, host.StatsKeys())
		}
		all := append(w.stats, final)
		for i := 1; i < len(all); i++ {
			for _, k := range host.CumulativeKeys() {
				if all[i][k] < all[i-1][k] {
					t.Errorf("snapshot %d: %s went down %d -> %d", i, k, all[i-1][k], all[i][k])
				}
			}
		}
		// Cumulative counters are the sums over windows 1..seq.
		bySeq := map[uint64]host.Window{}
		for _, x := range w.windows {
			bySeq[x.Seq] = x
		}
		checked := 0
	snapshots:
		for i, s := range all {
			if s["seq"] == 0 || w.res.First != 1 || s["seq"] > w.res.Last {
				continue
			}
			var sum [6]uint64
			for q := uint64(1); q <= s["seq"]; q++ {
				x, ok := bySeq[q]
				if !ok {
					continue snapshots // not every window was read (reported by the windows test)
				}
				for j, v := range []uint64{x.Wall, x.CPU, x.Idle, x.Pause, x.Want, x.Steal} {
					sum[j] += v
				}
			}
			for j, k := range []string{"wall_ns", "cpu_ns", "idle_ns", "pause_ns", "want_ns", "steal_ns"} {
				if s[k] != sum[j] {
					t.Errorf("snapshot %d (seq %d): %s = %d, sum over windows = %d", i, s["seq"], k, s[k], sum[j])
				}
			}
			last := bySeq[s["seq"]]
			if s["steal_permille"] != last.StealPermille || s["vct_permille"] != last.VCTPermille {
				t.Errorf("snapshot %d: last-window permille %d/%d, window %d has %d/%d", i,
					s["steal_permille"], s["vct_permille"], last.Seq, last.StealPermille, last.VCTPermille)
			}
			checked++
		}
		if checked < 5 {
			t.Errorf("only %d snapshots could be checked against the windows (first window %d)", checked, w.res.First)
		}
		t.Logf("%d stats snapshots, %d checked against the window sums; final: seq %d wall %.2fs cpu %.2fs idle %.2fs pause %.2fs steal %.3fs stubs %d",
			len(all), checked, final["seq"], sec(final["wall_ns"]), sec(final["cpu_ns"]), sec(final["idle_ns"]),
			sec(final["pause_ns"]), sec(final["steal_ns"]), final["stubs"])
	})

	t.Run("windows", func(t *testing.T) {
		if len(w.res.Gaps) > 0 || len(w.res.Errors) > 0 {
			t.Errorf("watch: gaps %v errors %v", w.res.Gaps, w.res.Errors)
		}
		if len(w.windows) < 80 {
			t.Fatalf("only %d windows consumed", len(w.windows))
		}
		var idleSeen, pauseSeen int
		var lateMax uint64 // longest overshoot of an unpaused window
		for i, x := range w.windows {
			if err := x.Check(); err != nil {
				t.Error(err)
			}
			if i > 0 {
				p := w.windows[i-1]
				if x.Seq != p.Seq+1 || x.Start != p.End {
					t.Errorf("window %d (start %d) does not follow window %d (end %d)", x.Seq, x.Start, p.Seq, p.End)
				}
			}
			// A window ends at the first sampler run at least 100 ms after it
			// began: never shorter. It is longer by the wake-up latency (large
			// only when the host does not run the VM) and, since the sampler
			// runs between pauses, by up to a pause.
			if x.Wall < 100_000_000 || x.Wall > 1_000_000_000+x.Pause {
				t.Errorf("window %d: wall %.1f ms (paused %.1f ms), want >= 100 ms and not far above", x.Seq, float64(x.Wall)/1e6, float64(x.Pause)/1e6)
			}
			if x.Pause == 0 {
				lateMax = max(lateMax, x.Wall-100_000_000)
			}
			if x.Idle > x.Wall/2 {
				idleSeen++
			}
			if x.PausePermille == 300 && x.PeriodUS == 20000 {
				pauseSeen++
				// Pauses overshoot by the host's wake-up latency: much more
				// when other work runs on the core.
				if f := float64(x.Pause) / float64(x.Wall); x.Pause > 0 && (f < 0.25 || f > 0.45) && pauseSeen > 1 {
					t.Errorf("window %d: paused %.0f%% at 300‰", x.Seq, 100*f)
				}
			}
		}
		if idleSeen < 5 {
			t.Errorf("only %d mostly-idle windows during `sleep 1`: idle time not counted?", idleSeen)
		}
		if pauseSeen < 15 {
			t.Errorf("only %d windows with pause 300‰ and period 20000 µs in force", pauseSeen)
		}
		// A reader that polls only every 7.5 s (> 64 windows) must see the
		// ring overflow: exactly one gap, then the 64 newest windows.
		var late struct {
			Windows int      `json:"windows"`
			First   uint64   `json:"first"`
			Last    uint64   `json:"last"`
			Gaps    []string `json:"gaps"`
			Reads   int      `json:"reads"`
		}
		b.json(t, "late/watch.json", &late)
		if late.Reads != 2 || len(late.Gaps) != 1 || late.Windows != int(late.Last-late.First)+1-gapLen(t, late.Gaps[0]) {
			t.Errorf("late reader: %+v, want 2 reads and exactly one gap", late)
		}
		t.Logf("late reader (2 reads 7.5 s apart): %d windows, seq %d..%d, gap %v", late.Windows, late.First, late.Last, late.Gaps)
		ring, err := host.ParseWindows(string(b.read(t, "windows-final.txt")))
		if err != nil {
			t.Fatal(err)
		}
		if len(ring) != 64 || ring[63].Seq < 64 {
			t.Errorf("final ring: %d windows ending at %d, want the last 64", len(ring), ring[len(ring)-1].Seq)
		}
		t.Logf("%d windows consumed exactly once (seq %d..%d, %d reads, no gaps); %d idle, %d paused at 300‰; unpaused windows end up to %.2f ms late; final ring seq %d..%d",
			len(w.windows), w.res.First, w.res.Last, w.res.Reads, idleSeen, pauseSeen, float64(lateMax)/1e6, ring[0].Seq, ring[len(ring)-1].Seq)
	})

	t.Run("writes", func(t *testing.T) {
		var res []writeResult
		b.json(t, "writes.json", &res)
		if len(res) != len(cases) {
			t.Fatalf("%d results for %d cases", len(res), len(cases))
		}
		for i, c := range cases {
			got := res[i]
			t.Run(c.Name, func(t *testing.T) {
				if got.Result != c.want || got.After != c.after {
					t.Errorf("write %q to %s (uid %d): %s, knob %s; want %s, knob %s", c.Data, c.File, c.UID, got.Result, got.After, c.want, c.after)
				}
				if got.Result == "ok" && got.N != len(c.Data) {
					t.Errorf("write returned %d, want %d", got.N, len(c.Data))
				}
			})
		}
		t.Logf("%d table writes checked", len(cases))
	})

	t.Run("fuzz", func(t *testing.T) {
		var f fuzzResult
		b.json(t, "fuzz.json", &f)
		if f.Writes != fuzzN {
			t.Errorf("%d fuzz writes, want %d", f.Writes, fuzzN)
		}
		for _, m := range f.Mismatches {
			t.Errorf("seed %d: %s", f.Seed, m)
		}
		for _, k := range []string{"ok", "EINVAL", "ERANGE"} {
			if f.Results[k] == 0 {
				t.Errorf("fuzz never produced %s: %v", k, f.Results)
			}
		}
		t.Logf("fuzz (seed %d): %d random writes, results %v, %d mismatches", f.Seed, f.Writes, f.Results, len(f.Mismatches))
	})
}

func sec(ns uint64) float64 { return float64(ns) / float64(time.Second) }

// gapLen is the number of windows in a "a..b" gap.
func gapLen(t *testing.T, g string) int {
	t.Helper()
	var a, b int
	if _, err := fmt.Sscanf(g, "%d..%d", &a, &b); err != nil || b < a {
		t.Fatalf("gap %q: want a..b", g)
	}
	return b - a + 1
}
