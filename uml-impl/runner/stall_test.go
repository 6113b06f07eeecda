//go:build umlkernel

package runner

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/friendly-vm/fvm/trace"
	"github.com/friendly-vm/fvm/uml-impl/controller"
)

// TestStallDminBesideGreedy runs the real controller, fvmd, pinned at the
// smallest demand dmin (pause 950‰, the kernel's maximum) beside a greedy
// guest on one core, and checks from its trace that the controller keeps
// up with the kernel's windows even when its VM runs 5% of the time and
// gets about 1.5% of the core: every decision uses a window at most the
// header's delay bound d windows old (newest_seq - sample_seq <= d), and
// no window is lost (no gap event). Before the kernel stopped charging
// pauses to kfvmd as real-time runtime, kfvmd was RT-throttled at 950‰,
// windows stopped for a while and such runs had gaps.
func TestStallDminBesideGreedy(t *testing.T) {
	k := kernelPath(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	bins, err := BuildBinaries(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	b := Base(controller.Default().Signal, false)
	// At 950‰ the VM's workload takes 40-70 s just to start (its binary
	// loads at a few % of a core) and powering off is slow too: P's
	// workload runs 30 s, the greedy one 120 s so that it outlasts P, and
	// only P's decisions while the greedy workload runs are checked.
	p := pinned("P", b, b.Dmin)
	p.Stop = 30 * time.Second
	spec := Spec{Name: "dmin-greedy", Kernel: k, Duration: 120 * time.Second, Nice: realNice(), CPU: guestCPU(t),
		Slack: 3 * time.Minute, VMs: []VM{p, greedy("G", "spin", b)}}
	dir := filepath.Join(t.TempDir(), spec.Name)
	if d := os.Getenv("FVM_RUN_DIR"); d != "" {
		dir = filepath.Join(d, spec.Name)
	}
	res, err := Run(ctx, spec, bins, dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !res.Complete {
		t.Errorf("run incomplete: %v", res.Errors)
	}
	checkTraces(t, dir, len(spec.VMs))
	g0, g1 := workSpan(t, filepath.Join(dir, "raw", "G.progress"))
	for _, name := range []string{"P", "G"} {
		evs, err := trace.ReadFile(filepath.Join(dir, name+".jsonl"))
		if err != nil {
			t.Fatal(err)
		}
		d := -1
		var delays []int64
		var lastT int64
		var maxGap time.Duration
		decides, holds, pause := 0, 0, int64(-1)
		for _, e := range evs {
			switch e.Kind {
			case trace.KindHeader:
				d = e.Header.Delay
			case trace.KindGap:
				if e.TNs < g0 || e.TNs > g1 {
					t.Logf("%s: gap event outside the greedy workload: windows %d..%d lost", name, e.Gap.FromSeq, e.Gap.ToSeq)
					continue
				}
				t.Errorf("%s: gap event: windows %d..%d lost", name, e.Gap.FromSeq, e.Gap.ToSeq)
			case trace.KindSample:
				pause = e.Sample.PausePermille
			case trace.KindDecide:
				if e.TNs < g0 || e.TNs > g1 {
					continue
				}
				decides++
				if lastT != 0 {
					maxGap = max(maxGap, time.Duration(e.TNs-lastT))
				}
				lastT = e.TNs
				if e.Decide.SampleSeq == 0 {
					holds++
					continue
				}
				delay := e.Decide.NewestSeq - e.Decide.SampleSeq
				delays = append(delays, delay)
				if d >= 0 && delay > int64(d) {
					t.Errorf("%s: decision %d used window %d while window %d was the newest: %d windows old, want <= d = %d",
						name, e.Decide.Seq, e.Decide.SampleSeq, e.Decide.NewestSeq, delay, d)
				}
			}
		}
		if d < 0 {
			t.Fatalf("%s: no header with a delay bound", name)
		}
		if want := int(time.Duration(g1-g0) / (200 * time.Millisecond)); decides < want {
			t.Errorf("%s: only %d decisions in %.1f s, want >= %d", name, decides, float64(g1-g0)/1e9, want)
		}
		slices.Sort(delays)
		p99 := int64(-1)
		if len(delays) > 0 {
			p99 = delays[len(delays)*99/100]
		}
		t.Logf("%s, while the greedy workload ran (%.1f s): %d decisions (%d holds), delay newest-sample: median %d, p99 %d, max %d windows (d = %d); longest time between decisions %v; last pause %d‰",
			name, float64(g1-g0)/1e9, decides, holds, at(delays, 50), p99, at(delays, 100), d, maxGap.Round(time.Millisecond), pause)
	}
	if res.Summary != nil {
		for _, v := range res.Summary.VMs {
			t.Logf("%s: share %.3f, mean pause %.0f‰", v.Name, v.Share, v.MeanPause)
		}
	}
}

// workSpan is the host time of the first and last line of a progress file.
func workSpan(t *testing.T, path string) (int64, int64) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var first, last int64
	for i, l := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		f := strings.Fields(l)
		if len(f) != 2 {
			t.Fatalf("%s line %d: %q", path, i+1, l)
		}
		v, err := strconv.ParseInt(f[0], 10, 64)
		if err != nil {
			t.Fatalf("%s line %d: %v", path, i+1, err)
		}
		if i == 0 {
			first = v
		}
		last = v
	}
	if last <= first {
		t.Fatalf("%s: no work interval", path)
	}
	return first, last
}

// at is the p-th percentile (0..100) of sorted v, -1 if empty.
func at(v []int64, p int) int64 {
	if len(v) == 0 {
		return -1
	}
	return v[min(len(v)-1, len(v)*p/100)]
}
