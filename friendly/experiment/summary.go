package experiment

import (
	"bufio"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/friendly-vm/fvm/friendly"
	"github.com/friendly-vm/fvm/metrics"
	"github.com/friendly-vm/fvm/ref"
	"github.com/friendly-vm/fvm/trace/refine"
	"github.com/friendly-vm/fvm/vocab"
)

// Latency sums up the latency loop's responses (wake-up to work done)
// over the second half, in milliseconds.
type Latency struct {
	N    int     `json:"n"`
	Mean float64 `json:"mean_ms"`
	P50  float64 `json:"p50_ms"`
	P99  float64 `json:"p99_ms"`
	Max  float64 `json:"max_ms"`
}

// PSummary is one participant's line of summary.json.
type PSummary struct {
	Name     string `json:"name"`
	Role     Role   `json:"role"`
	Workload string `json:"workload"`
	// VM is a friendly group's index in the traces (-1 for the others).
	VM int `json:"vm"`
	// Share is the participant's CPU (fraction of the core) over the
	// second half of the common interval; ShareWhole over its own run.
	Share      float64 `json:"share"`
	ShareWhole float64 `json:"share_whole"`
	// A friendly group's means over the second half (its trace): the
	// pause in force, the steal signal, the decided demand (units of 1/U).
	MeanPause  float64 `json:"mean_pause_permille,omitempty"`
	MeanSteal  float64 `json:"mean_steal_permille,omitempty"`
	MeanD      float64 `json:"mean_d,omitempty"`
	Windows    int     `json:"windows,omitempty"`
	Decisions  int     `json:"decisions,omitempty"`
	MaxDelay   int64   `json:"max_delay,omitempty"`
	GapWindows int64   `json:"gap_windows,omitempty"`
	// What the duty and fair host models predict for the measured awake
	// fractions (friendly: 1 - mean pause; unmanaged: 1); -1 when a
	// participant runs under nice or SCHED_IDLE (no model has weights).
	DutyShare float64  `json:"duty_share"`
	FairShare float64  `json:"fair_share"`
	Latency   *Latency `json:"latency,omitempty"`
}

// Summary is a run's summary.json.
type Summary struct {
	Name string `json:"name"`
	// IntervalS is the common interval (every participant measured), in
	// seconds after the first measurement; the figures are over its second
	// half unless said otherwise.
	IntervalS   [2]float64 `json:"interval_s"`
	SecondHalfS [2]float64 `json:"second_half_s"`
	// JainFriendly is Jain's index of the friendly groups' shares (-1:
	// fewer than two groups).
	JainFriendly float64 `json:"jain_friendly"`
	// Utilisation is the participants' summed share.
	Utilisation float64 `json:"utilisation"`
	// ConvergenceS is FairS with two or more friendly groups, else SettleS
	// (metrics.Convergence, metrics.Settle); -1: never.
	ConvergenceS float64    `json:"convergence_s"`
	FairS        float64    `json:"fair_s"`
	SettleS      float64    `json:"settle_s"`
	DutyError    float64    `json:"duty_error"`
	FairError    float64    `json:"fair_error"`
	Participants []PSummary `json:"participants"`
	// Refines: the friendly groups' traces refine ref (fvm trace check);
	// nil without friendly groups.
	Refines       *bool  `json:"refines,omitempty"`
	RefineFailure string `json:"refine_failure,omitempty"`
	Complete      bool   `json:"complete"`
	// Errors of the run (a participant that failed or ended early).
	Errors []string `json:"errors,omitempty"`
}

// ReadSummary reads dir/summary.json.
func ReadSummary(dir string) (*Summary, error) {
	b, err := os.ReadFile(filepath.Join(dir, "summary.json"))
	if err != nil {
		return nil, fmt.Errorf("summary: %w", err)
	}
	var s Summary
	if err := json.Unmarshal(b, &s); err != nil {
		return nil, fmt.Errorf("summary %s: %w", dir, err)
	}
	return &s, nil
}

// ReadSpec reads dir/spec.json.
func ReadSpec(dir string) (*Spec, error) {
	b, err := os.ReadFile(filepath.Join(dir, "spec.json"))
	if err != nil {
		return nil, fmt.Errorf("spec: %w", err)
	}
	var s Spec
	if err := json.Unmarshal(b, &s); err != nil {
		return nil, fmt.Errorf("spec %s: %w", dir, err)
	}
	return &s, nil
}

// readCPU reads "t_ns cpu_ns" lines (a torn last line is ignored).
func readCPU(path string) (metrics.Series, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var s metrics.Series
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		fl := strings.Fields(sc.Text())
		if len(fl) != 2 {
			continue
		}
		t, err1 := strconv.ParseInt(fl[0], 10, 64)
		v, err2 := strconv.ParseUint(fl[1], 10, 64)
		if err1 != nil || err2 != nil {
			return nil, fmt.Errorf("%s:%d: want \"t_ns cpu_ns\", got %q", path, n, sc.Text())
		}
		s = append(s, metrics.Point{T: t, V: float64(v)})
	}
	return s, sc.Err()
}

// readLatency reads "t_ns response_ns" lines.
func readLatency(path string) ([][2]int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out [][2]int64
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		fl := strings.Fields(sc.Text())
		if len(fl) != 2 {
			continue
		}
		t, err1 := strconv.ParseInt(fl[0], 10, 64)
		r, err2 := strconv.ParseInt(fl[1], 10, 64)
		if err1 != nil || err2 != nil {
			return nil, fmt.Errorf("%s:%d: want \"t_ns response_ns\", got %q", path, n, sc.Text())
		}
		out = append(out, [2]int64{t, r})
	}
	return out, sc.Err()
}

// latencyOver sums up the responses of the wake-ups in [a, b].
func latencyOver(rs [][2]int64, a, b int64) *Latency {
	var xs []float64
	for _, r := range rs {
		if r[0] >= a && r[0] <= b {
			xs = append(xs, float64(r[1])/1e6)
		}
	}
	if len(xs) == 0 {
		return &Latency{}
	}
	slices.Sort(xs)
	var sum float64
	for _, x := range xs {
		sum += x
	}
	rank := func(q float64) float64 { return xs[max(0, int(math.Ceil(q*float64(len(xs))))-1)] }
	return &Latency{N: len(xs), Mean: sum / float64(len(xs)), P50: rank(0.50), P99: rank(0.99), Max: xs[len(xs)-1]}
}

// Summarize computes the summary of the run in dir from its spec, traces
// and raw files, and checks that the friendly groups' traces refine ref.
// Complete says every friendly group's trace ended cleanly.
func Summarize(dir string) (*Summary, error) {
	spec, err := ReadSpec(dir)
	if err != nil {
		return nil, err
	}
	sum := &Summary{Name: spec.Name, JainFriendly: -1, ConvergenceS: -1, FairS: -1, SettleS: -1, Complete: true}
	n := len(spec.Participants)
	cpu := make([]metrics.Series, n)
	series := make([]*friendly.Series, n)
	lat := make([][2]int64, 0)
	var latIdx = -1
	fr := spec.Friendly()
	for i, p := range spec.Participants {
		if p.Role == Friendly {
			vm := slices.Index(fr, i)
			s, err := friendly.ReadSeries(filepath.Join(dir, p.Name+".jsonl"), vm)
			if err != nil {
				sum.Errors = append(sum.Errors, err.Error())
			}
			if s.End == nil || !s.End.Clean {
				sum.Complete = false
			}
			series[i], cpu[i] = s, s.CPU
		} else if cpu[i], err = readCPU(filepath.Join(dir, "raw", p.Name+".cpu")); err != nil {
			return nil, fmt.Errorf("summarize %s: %w", dir, err)
		}
		if p.Workload == Loop {
			if lat, err = readLatency(filepath.Join(dir, "raw", p.Name+".latency")); err != nil {
				return nil, fmt.Errorf("summarize %s: %w", dir, err)
			}
			latIdx = i
		}
	}
	origin, t0, t1 := int64(math.MaxInt64), int64(math.MinInt64), int64(math.MaxInt64)
	for _, c := range cpu {
		if len(c) < 2 {
			t0, t1 = 0, 0
			continue
		}
		origin = min(origin, c[0].T)
		t0, t1 = max(t0, c[0].T), min(t1, c[len(c)-1].T)
	}
	if origin == math.MaxInt64 {
		origin = 0
	}
	sec := func(t int64) float64 { return float64(t-origin) / 1e9 }
	h0 := t0 + (t1-t0)/2
	if t1 > t0 {
		sum.IntervalS = [2]float64{sec(t0), sec(t1)}
		sum.SecondHalfS = [2]float64{sec(h0), sec(t1)}
	}
	var frShares, all, r []float64
	modelled := true
	for i, p := range spec.Participants {
		ps := PSummary{Name: p.Name, Role: p.Role, Workload: p.Workload, VM: slices.Index(fr, i)}
		c := cpu[i]
		if t1 > t0 {
			ps.Share = c.Rate(h0, t1)
		}
		if len(c) >= 2 {
			ps.ShareWhole = c.Rate(c[0].T, c[len(c)-1].T)
		}
		awake := 1.0
		if s := series[i]; s != nil {
			ps.MeanPause, ps.MeanSteal, ps.MeanD = s.Means(h0, t1)
			ps.Windows, ps.Decisions, ps.GapWindows = len(s.Samples), len(s.Decides), s.Gaps
			ps.MaxDelay, _, _ = metrics.Delays(s.Decides)
			awake = 1 - ps.MeanPause/1000
			frShares = append(frShares, ps.Share)
		}
		if p.Role == Nice19 || p.Role == Idle {
			modelled = false
		}
		if i == latIdx {
			ps.Latency = latencyOver(lat, h0, t1)
		}
		all = append(all, ps.Share)
		r = append(r, awake)
		sum.Participants = append(sum.Participants, ps)
	}
	if t1 <= t0 {
		sum.Complete = false
		sum.Errors = append(sum.Errors, "no common interval: a participant has fewer than two measurements")
		return sum, nil
	}
	if len(frShares) >= 2 {
		if j := metrics.Jain(frShares); !math.IsNaN(j) {
			sum.JainFriendly = j
		}
	}
	sum.Utilisation = metrics.Utilisation(all, 1)
	if modelled {
		// The duty-cycle prediction is that of the groups' pause: duty
		// for the sleeping (CFS quota), duty-idle for the work-conserving.
		host := vocab.Duty
		if spec.IdlePause {
			host = vocab.DutyIdle
		}
		duty, fair := ref.PredictShares(host, r), ref.PredictShares(vocab.Fair, r)
		for i := range sum.Participants {
			ps := &sum.Participants[i]
			ps.DutyShare, ps.FairShare = duty[i], fair[i]
			sum.DutyError = math.Max(sum.DutyError, math.Abs(ps.Share-duty[i]))
			sum.FairError = math.Max(sum.FairError, math.Abs(ps.Share-fair[i]))
		}
	} else {
		for i := range sum.Participants {
			sum.Participants[i].DutyShare, sum.Participants[i].FairShare = -1, -1
		}
		sum.DutyError, sum.FairError = -1, -1
	}
	seconds := func(ns int64) float64 {
		if ns < 0 {
			return -1
		}
		return float64(ns) / 1e9
	}
	final := make([]float64, n)
	for i := range final {
		final[i] = sum.Participants[i].Share
	}
	sum.SettleS = seconds(metrics.Settle(final, func(i int, a, b int64) float64 { return cpu[i].Rate(a, b) }, t0, t1))
	sum.ConvergenceS = sum.SettleS
	if len(fr) >= 2 {
		sum.FairS = seconds(metrics.Convergence(len(fr), func(i int, a, b int64) float64 { return cpu[fr[i]].Rate(a, b) }, t0, t1))
		sum.ConvergenceS = sum.FairS
	}
	if len(fr) > 0 {
		res, err := refine.CheckFiles([]string{dir}, refine.Options{})
		ok := err == nil && res.OK()
		sum.Refines = &ok
		switch {
		case err != nil:
			sum.RefineFailure = err.Error()
		case !ok:
			sum.RefineFailure = res.Failure.Error()
		}
	}
	return sum, nil
}
