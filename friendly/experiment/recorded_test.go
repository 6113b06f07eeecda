package experiment

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

func near(a, b, tol float64) bool { return math.Abs(a-b) <= tol }

// recordedRuns are the committed runs of the experiments: README.md's
// tables are rendered from their summaries (report/docs).
func recordedRuns(t *testing.T) []string {
	t.Helper()
	var dirs []string
	for _, e := range Experiments() {
		specs := e.Specs(0, 0, 0, false)
		if slices.Contains(IdleRecorded(), e.Name) {
			specs = append(specs, e.Specs(0, 0, 0, true)...) // with work-conserving pauses too
		}
		for _, s := range specs {
			dirs = append(dirs, filepath.Join("..", "..", "testdata", "runs", s.Name))
		}
	}
	return dirs
}

// TestRecordedRuns holds the summary of every committed run to three
// things: Summarize recomputes the recorded summary.json unchanged from
// the traces and raw files (a regression check: shares, Jain index,
// utilisation, convergence, latency and the refinement verdict); a
// second, brute-force computation written here from the raw lines
// (bruteForceSummary: encoding/json, not packages trace, friendly or
// metrics) gives the same figures, for both the recorded summary (data
// that may be stale) and Summarize's (code that may be wrong); and every
// run refines ref and is complete.
func TestRecordedRuns(t *testing.T) {
	for _, dir := range recordedRuns(t) {
		t.Run(filepath.Base(dir), func(t *testing.T) {
			if _, err := os.Stat(dir); err != nil {
				t.Fatalf("no recorded run: %v", err)
			}
			want, err := ReadSummary(dir)
			if err != nil {
				t.Fatal(err)
			}
			got, err := Summarize(dir)
			if err != nil {
				t.Fatal(err)
			}
			near := func(a, b float64) bool { return math.Abs(a-b) < 1e-9 }
			bruteForceSummary(t, dir, want)
			bruteForceSummary(t, dir, got)
			if !near(got.JainFriendly, want.JainFriendly) || !near(got.Utilisation, want.Utilisation) ||
				!near(got.ConvergenceS, want.ConvergenceS) || len(got.Participants) != len(want.Participants) {
				t.Fatalf("summary differs from the recorded one: jain %v/%v util %v/%v conv %v/%v",
					got.JainFriendly, want.JainFriendly, got.Utilisation, want.Utilisation, got.ConvergenceS, want.ConvergenceS)
			}
			for i, p := range got.Participants {
				w := want.Participants[i]
				if !near(p.Share, w.Share) || !near(p.MeanD, w.MeanD) || (p.Latency == nil) != (w.Latency == nil) ||
					(p.Latency != nil && (!near(p.Latency.Mean, w.Latency.Mean) || !near(p.Latency.P99, w.Latency.P99))) {
					t.Errorf("%s: recomputed %+v, recorded %+v", p.Name, p, w)
				}
			}
			if (got.Refines == nil) != (want.Refines == nil) || (got.Refines != nil && *got.Refines != *want.Refines) {
				t.Errorf("refinement verdict recomputed %v (%s), recorded %v", got.Refines, got.RefineFailure, want.Refines)
			}
			if got.Refines != nil && !*got.Refines {
				t.Errorf("%s does not refine ref: %s", filepath.Base(dir), got.RefineFailure)
			}
			if !want.Complete || !got.Complete {
				t.Errorf("recorded run incomplete: %v", want.Errors)
			}
		})
	}
}

// rawEvent is what the brute-force summary reads of a trace line.
type rawEvent struct {
	Kind   string `json:"kind"`
	VM     int    `json:"vm"`
	TNs    int64  `json:"t_ns"`
	WallNs int64  `json:"wall_ns"`
	CPUNs  int64  `json:"cpu_ns"`
	Pause  int64  `json:"pause_permille"`
	Steal  int64  `json:"steal_permille"`
	DAfter int64  `json:"d_after"`
}

// bruteForceSummary recomputes a friendly run's figures the long way, from
// the raw lines (encoding/json and strconv, not packages trace, friendly
// or metrics), and holds the summary s to them: the common interval and
// its second half, every participant's shares, the friendly groups' means
// and counts, Jain's index, the utilisation, the latency loop's mean, p99
// and max, and the duty host model's shares by enumerating who is awake.
func bruteForceSummary(t *testing.T, dir string, s *Summary) {
	t.Helper()
	var spec struct {
		Participants []struct{ Name, Role, Workload string } `json:"participants"`
		IdlePause    bool                                    `json:"idle_pause"`
	}
	b, err := os.ReadFile(filepath.Join(dir, "spec.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &spec); err != nil {
		t.Fatal(err)
	}
	n := len(spec.Participants)
	if len(s.Participants) != n {
		t.Fatalf("%d participants in the summary, %d in spec.json", len(s.Participants), n)
	}
	// Cumulative CPU (ns) against time, per participant: a friendly
	// group's from its host events (starting at 0 one window before the
	// first), another's from raw/NAME.cpu.
	ts, cs := make([][]int64, n), make([][]float64, n)
	evs := make([][]rawEvent, n)
	vm := 0
	for i, p := range spec.Participants {
		if p.Role == "friendly" {
			b, err := os.ReadFile(filepath.Join(dir, p.Name+".jsonl"))
			if err != nil {
				t.Fatal(err)
			}
			cum := 0.0
			for _, l := range strings.Split(strings.TrimSpace(string(b)), "\n") {
				var e rawEvent
				if err := json.Unmarshal([]byte(l), &e); err != nil {
					t.Fatalf("%s: %v", p.Name, err)
				}
				if e.VM != vm {
					continue
				}
				evs[i] = append(evs[i], e)
				if e.Kind == "host" {
					if len(ts[i]) == 0 {
						ts[i], cs[i] = append(ts[i], e.TNs-e.WallNs), append(cs[i], 0)
					}
					cum += float64(e.CPUNs)
					ts[i], cs[i] = append(ts[i], e.TNs), append(cs[i], cum)
				}
			}
			vm++
			continue
		}
		b, err := os.ReadFile(filepath.Join(dir, "raw", p.Name+".cpu"))
		if err != nil {
			t.Fatal(err)
		}
		for _, l := range strings.Split(strings.TrimSpace(string(b)), "\n") {
			if f := strings.Fields(l); len(f) == 2 {
				x, _ := strconv.ParseInt(f[0], 10, 64)
				c, _ := strconv.ParseFloat(f[1], 64)
				ts[i], cs[i] = append(ts[i], x), append(cs[i], c)
			}
		}
	}
	origin, t0, t1 := int64(math.MaxInt64), int64(math.MinInt64), int64(math.MaxInt64)
	for i := range n {
		if len(ts[i]) < 2 {
			t.Fatalf("%s: %d CPU readings", spec.Participants[i].Name, len(ts[i]))
		}
		origin = min(origin, ts[i][0])
		t0, t1 = max(t0, ts[i][0]), min(t1, ts[i][len(ts[i])-1])
	}
	h0 := t0 + (t1-t0)/2
	sec := func(x int64) float64 { return float64(x-origin) / 1e9 }
	if !near(s.IntervalS[0], sec(t0), 1e-9) || !near(s.IntervalS[1], sec(t1), 1e-9) || !near(s.SecondHalfS[0], sec(h0), 1e-9) {
		t.Errorf("interval %v, second half %v s; brute force [%.9f %.9f], from %.9f", s.IntervalS, s.SecondHalfS, sec(t0), sec(t1), sec(h0))
	}
	// cpuAt interpolates linearly between readings, holding the end values
	// outside them.
	cpuAt := func(i int, x int64) float64 {
		tt, cc := ts[i], cs[i]
		if x <= tt[0] {
			return cc[0]
		}
		for k := 1; k < len(tt); k++ {
			if x <= tt[k] {
				return cc[k-1] + (cc[k]-cc[k-1])*float64(x-tt[k-1])/float64(tt[k]-tt[k-1])
			}
		}
		return cc[len(cc)-1]
	}
	var sum, sumSq, util float64
	nFr := 0
	awake := make([]float64, n)
	modelled := true
	for i, p := range spec.Participants {
		ps := s.Participants[i]
		share := (cpuAt(i, t1) - cpuAt(i, h0)) / float64(t1-h0)
		last := len(ts[i]) - 1
		whole := (cs[i][last] - cs[i][0]) / float64(ts[i][last]-ts[i][0])
		if ps.Name != p.Name || !near(ps.Share, share, 1e-9) || !near(ps.ShareWhole, whole, 1e-9) {
			t.Errorf("%s (summary's %s): share %.9f, whole %.9f; brute force %.9f, %.9f", p.Name, ps.Name, ps.Share, ps.ShareWhole, share, whole)
		}
		util += share
		awake[i] = 1
		modelled = modelled && p.Role != "nice19" && p.Role != "idle"
		if p.Role == "friendly" {
			sum, sumSq, nFr = sum+share, sumSq+share*share, nFr+1
			var samples, decides, ns, nd int
			var pause, steal, d float64
			for _, e := range evs[i] {
				in := e.TNs >= h0 && e.TNs <= t1
				switch e.Kind {
				case "sample":
					samples++
					if in {
						pause, steal, ns = pause+float64(e.Pause), steal+float64(e.Steal), ns+1
					}
				case "decide":
					decides++
					if in {
						d, nd = d+float64(e.DAfter), nd+1
					}
				}
			}
			if ns > 0 {
				pause, steal = pause/float64(ns), steal/float64(ns)
			}
			if nd > 0 {
				d /= float64(nd)
			}
			if ps.Windows != samples || ps.Decisions != decides || !near(ps.MeanPause, pause, 1e-9) || !near(ps.MeanSteal, steal, 1e-9) || !near(ps.MeanD, d, 1e-9) {
				t.Errorf("%s: windows %d, decisions %d, means pause %.6f steal %.6f d %.6f; brute force %d, %d, %.6f, %.6f, %.6f",
					p.Name, ps.Windows, ps.Decisions, ps.MeanPause, ps.MeanSteal, ps.MeanD, samples, decides, pause, steal, d)
			}
			awake[i] = 1 - pause/1000
		}
		if p.Workload == "probe" {
			bruteForceLatency(t, filepath.Join(dir, "raw", p.Name+".latency"), h0, t1, ps.Latency)
		}
	}
	jain := -1.0
	if nFr >= 2 {
		jain = sum * sum / (float64(nFr) * sumSq)
	}
	if !near(s.JainFriendly, jain, 1e-9) || !near(s.Utilisation, util, 1e-9) {
		t.Errorf("Jain %.9f, utilisation %.9f; brute force %.9f, %.9f", s.JainFriendly, s.Utilisation, jain, util)
	}
	// Convergence, by its definition (README.md): with two or more
	// friendly groups, the start of the first 5 s window (windows every
	// 1 s over the common interval) from which every window's Jain index
	// of their shares is at least 0.90; with one, the first from which
	// every participant's share in every window is within 0.10 of its
	// share over the second half. -1: never.
	var fr []int
	for i, p := range spec.Participants {
		if p.Role == "friendly" {
			fr = append(fr, i)
		}
	}
	rate := func(i int, a, b int64) float64 { return (cpuAt(i, b) - cpuAt(i, a)) / float64(b-a) }
	good := func(a, b int64) bool {
		if len(fr) >= 2 {
			var sum, sq float64
			for _, i := range fr {
				x := rate(i, a, b)
				sum, sq = sum+x, sq+x*x
			}
			return sq > 0 && sum*sum/(float64(len(fr))*sq) >= 0.90
		}
		for i := range n {
			if math.Abs(rate(i, a, b)-s.Participants[i].Share) > 0.10 {
				return false
			}
		}
		return true
	}
	conv := -1.0
	for a := t0; a+5e9 <= t1; a += 1e9 {
		switch {
		case !good(a, a+5e9):
			conv = -1
		case conv < 0:
			conv = float64(a-t0) / 1e9
		}
	}
	if !near(s.ConvergenceS, conv, 1e-9) {
		t.Errorf("convergence %.3f s; brute force %.3f s", s.ConvergenceS, conv)
	}
	if !modelled {
		return
	}
	// The duty host: each participant is awake with probability awake[j]
	// (rounded to a thousandth, as ref.PredictShares documents: a demand in
	// units of 1/1000 of a core), independently, and the core is split
	// among the awake ones. With work-conserving pauses (duty-idle), when
	// none is awake the core is split among those that pause (all at idle
	// priority then).
	paused := 0
	for j := range awake {
		awake[j] = math.Round(awake[j]*1000) / 1000
		if awake[j] < 1 {
			paused++
		}
	}
	for i := range n {
		want := 0.0
		for mask := 0; mask < 1<<n; mask++ {
			idleShare := mask == 0 && spec.IdlePause && awake[i] < 1
			if mask>>i&1 == 0 && !idleShare {
				continue
			}
			pr, k := 1.0, 0
			for j, r := range awake {
				if mask>>j&1 == 1 {
					pr, k = pr*r, k+1
				} else {
					pr *= 1 - r
				}
			}
			if idleShare {
				want += pr / float64(paused)
			} else {
				want += pr / float64(k)
			}
		}
		if !near(s.Participants[i].DutyShare, want, 1e-9) {
			t.Errorf("%s: duty model share %.9f, enumeration %.9f", s.Participants[i].Name, s.Participants[i].DutyShare, want)
		}
	}
}

// bruteForceLatency holds a latency summary to the raw "t_ns response_ns"
// lines of the wake-ups in [a, b]: the p99 is the smallest response that
// at least 99% of them do not exceed, found by trying every response.
func bruteForceLatency(t *testing.T, path string, a, b int64, l *Latency) {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var xs []float64
	for _, line := range strings.Split(strings.TrimSpace(string(raw)), "\n") {
		if f := strings.Fields(line); len(f) == 2 {
			x, _ := strconv.ParseInt(f[0], 10, 64)
			r, _ := strconv.ParseInt(f[1], 10, 64)
			if x >= a && x <= b {
				xs = append(xs, float64(r)/1e6)
			}
		}
	}
	if l == nil || l.N != len(xs) || len(xs) == 0 {
		t.Fatalf("%s: latency %+v, %d responses in the second half", path, l, len(xs))
	}
	var sum, hi float64
	p99 := math.Inf(1)
	for _, x := range xs {
		sum, hi = sum+x, max(hi, x)
		within := 0
		for _, y := range xs {
			if y <= x {
				within++
			}
		}
		if 100*within >= 99*len(xs) {
			p99 = min(p99, x)
		}
	}
	if !near(l.Mean, sum/float64(len(xs)), 1e-9) || l.P99 != p99 || l.Max != hi {
		t.Errorf("%s: latency mean %.6f p99 %.6f max %.6f ms; brute force %.6f, %.6f, %.6f", path, l.Mean, l.P99, l.Max, sum/float64(len(xs)), p99, hi)
	}
}
