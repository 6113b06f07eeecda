package runner

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/friendly-vm/fvm/metrics"
	"github.com/friendly-vm/fvm/ref"
	"github.com/friendly-vm/fvm/trace"
	"github.com/friendly-vm/fvm/vocab"
)

// VMSummary is one VM's line of summary.json.
type VMSummary struct {
	Name     string `json:"name"`
	Index    int    `json:"vm"`
	Role     string `json:"role"` // fvm, greedy, pinned or off
	Workload string `json:"workload"`
	Signal   string `json:"signal"`
	// Share is the VM's host CPU share (fraction of the one core) over the
	// second half of the common interval; SharePresent over its own work
	// interval.
	Share        float64 `json:"share"`
	SharePresent float64 `json:"share_present"`
	// Progress is the work done over the VM's whole run (fvmwork count);
	// ProgressRate the work per second over the second half.
	Progress     uint64  `json:"progress"`
	ProgressRate float64 `json:"progress_rate"`
	// MeanPause is the mean pause (permille) in force over the windows of
	// the second half; MeanD the mean demand decided there (units of 1/U).
	MeanPause float64 `json:"mean_pause_permille"`
	MeanD     float64 `json:"mean_d"`
	U         int     `json:"u"`
	// MeanSteal and MeanVCT are the guest's own signals over the second half.
	MeanSteal float64 `json:"mean_steal_permille"`
	MeanVCT   float64 `json:"mean_vct_permille"`
	// Model predictions of Share from the measured awake fractions
	// r = 1 - MeanPause/1000 of every VM present (duty and fair hosts).
	DutyShare float64 `json:"duty_share"`
	FairShare float64 `json:"fair_share"`

	Windows    int   `json:"windows"`
	GapWindows int64 `json:"gap_windows"`
	// Feedback delay of the decisions on a window: the largest and the
	// 99th percentile of newest_seq - sample_seq (windows), and the longest
	// time between two consecutive decisions (seconds).
	MaxDelay        int64   `json:"max_delay"`
	P99Delay        int64   `json:"p99_delay"`
	LongestSilenceS float64 `json:"longest_silence_s"`
	Decisions       int     `json:"decisions"`
	Holds           int     `json:"holds"`
	CleanEnd        bool    `json:"clean_end"`
	EndReason       string  `json:"end_reason,omitempty"`
	// FvmdCPU is the controller daemon's own CPU time over its wall time
	// (permille), from its getrusage at exit.
	FvmdCPUNs       int64   `json:"fvmd_cpu_ns"`
	FvmdCPUPermille float64 `json:"fvmd_cpu_permille"`
}

// Summary is summary.json.
type Summary struct {
	Name string `json:"name"`
	// Interval is the common interval (every VM's workload running), in
	// seconds after the first host measurement; the metrics below are over
	// its second half unless said otherwise.
	IntervalS   [2]float64 `json:"interval_s"`
	SecondHalfS [2]float64 `json:"second_half_s"`
	// JainFVM is Jain's index of the FVMs' shares, JainAll of every VM's
	// (-1: undefined, e.g. no adaptive VM).
	JainFVM float64 `json:"jain_fvm"`
	JainAll float64 `json:"jain_all"`
	// Utilisation is the summed share of every VM: the fraction of the
	// core the guests used.
	Utilisation float64 `json:"utilisation"`
	// ConvergenceS is FairS with two or more FVMs, else SettleS; -1: never.
	ConvergenceS float64 `json:"convergence_s"`
	FairS        float64 `json:"fair_s"`
	SettleS      float64 `json:"settle_s"`
	// ConvergenceEpochs is the congestion epochs before ConvergenceS: the
	// decreases of the FVM that starts highest (-1: never converged), as
	// the proofs count them (proofs.Figures.Epochs); EpochWindows the mean
	// number of windows between two decreases of an FVM in the second half
	// (0: none).
	ConvergenceEpochs int     `json:"convergence_epochs"`
	EpochWindows      float64 `json:"epoch_windows"`
	// DutyError and FairError are the largest |share - predicted share|.
	DutyError float64     `json:"duty_error"`
	FairError float64     `json:"fair_error"`
	VMs       []VMSummary `json:"vms"`
	Complete  bool        `json:"complete"`
	Errors    []string    `json:"errors,omitempty"`
}

// vmData is what Summarize reads for one VM.
type vmData struct {
	header   *trace.Header
	cpu      metrics.Series // cumulative host CPU ns
	progress metrics.Series // cumulative work
	samples  []trace.Event
	decides  []trace.Event
	gaps     int64
	end      *trace.End
	fvmd     struct {
		CPU  int64 `json:"cpu_ns"`
		Wall int64 `json:"wall_ns"`
	}
}

// jainOr is Jain, or -1 when it is undefined (no FVMs, all shares 0).
func jainOr(x []float64) float64 {
	if j := metrics.Jain(x); !math.IsNaN(j) {
		return j
	}
	return -1
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

// WriteSummary writes dir/summary.json.
func WriteSummary(dir string, s *Summary) error {
	return writeJSON(filepath.Join(dir, "summary.json"), s)
}

// Summarize computes the summary of the run in dir from its spec.json,
// merged traces and the guests' progress and daemon files.
func Summarize(dir string) (*Summary, error) {
	var spec Spec
	b, err := os.ReadFile(filepath.Join(dir, "spec.json"))
	if err != nil {
		return nil, fmt.Errorf("summarize: %w", err)
	}
	if err := json.Unmarshal(b, &spec); err != nil {
		return nil, fmt.Errorf("summarize: spec.json: %w", err)
	}
	data := make([]*vmData, len(spec.VMs))
	for i, v := range spec.VMs {
		d, err := readVM(dir, v.Name)
		if err != nil {
			return nil, fmt.Errorf("summarize: %w", err)
		}
		data[i] = d
	}
	return summarize(&spec, data), nil
}

func readVM(dir, name string) (*vmData, error) {
	d := &vmData{}
	evs, err := trace.ReadFile(filepath.Join(dir, name+".jsonl"))
	if err != nil {
		return nil, err
	}
	var cum float64
	for _, e := range evs {
		switch e.Kind {
		case trace.KindHeader:
			d.header = e.Header
		case trace.KindHost:
			if len(d.cpu) == 0 {
				d.cpu = append(d.cpu, metrics.Point{T: e.TNs - e.Host.WallNs})
			}
			cum += float64(e.Host.CPUNs)
			d.cpu = append(d.cpu, metrics.Point{T: e.TNs, V: cum})
		case trace.KindSample:
			d.samples = append(d.samples, e)
		case trace.KindDecide:
			d.decides = append(d.decides, e)
		case trace.KindGap:
			d.gaps += e.Gap.ToSeq - e.Gap.FromSeq + 1
		case trace.KindEnd:
			end := e.End
			d.end = &end
		}
	}
	d.progress, err = readProgress(filepath.Join(dir, "raw", name+".progress"))
	if err != nil {
		return nil, err
	}
	if b, err := os.ReadFile(filepath.Join(dir, "raw", name+".fvmd.json")); err == nil {
		if err := json.Unmarshal(b, &d.fvmd); err != nil {
			return nil, fmt.Errorf("%s.fvmd.json: %w", name, err)
		}
	}
	return d, nil
}

// readProgress reads "host_ns count" lines; a missing file is an empty
// series, a torn last line (guest killed mid-write) is ignored.
func readProgress(path string) (metrics.Series, error) {
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
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
			return nil, fmt.Errorf("%s:%d: want \"host_ns count\", got %q", path, n, sc.Text())
		}
		s = append(s, metrics.Point{T: t, V: float64(v)})
	}
	return s, sc.Err()
}

// span returns a VM's work interval: its progress series, else its host
// measurements.
func (d *vmData) span() (int64, int64, bool) {
	for _, s := range []metrics.Series{d.progress, d.cpu} {
		if len(s) >= 2 {
			return s[0].T, s[len(s)-1].T, true
		}
	}
	return 0, 0, false
}

func summarize(spec *Spec, data []*vmData) *Summary {
	sum := &Summary{Name: spec.Name, ConvergenceS: -1, FairS: -1, SettleS: -1}
	var origin int64 = math.MaxInt64
	var t0, t1 int64 = math.MinInt64, math.MaxInt64
	for _, d := range data {
		if len(d.cpu) > 0 {
			origin = min(origin, d.cpu[0].T)
		}
		a, b, ok := d.span()
		if !ok {
			t0, t1 = 0, 0
			continue
		}
		t0, t1 = max(t0, a), min(t1, b)
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
	var fvmShares, allShares, r []float64
	for i, d := range data {
		v := spec.VMs[i]
		vs := VMSummary{Name: v.Name, Index: i, Role: v.Role(), Workload: v.Workload, Signal: v.Controller.Signal.String(), U: v.Controller.U}
		if t1 > t0 {
			vs.Share = d.cpu.Rate(h0, t1)
		}
		if a, b, ok := d.span(); ok {
			vs.SharePresent = d.cpu.Rate(a, b)
		}
		if len(d.progress) >= 2 {
			vs.Progress = uint64(d.progress[len(d.progress)-1].V - d.progress[0].V)
			if t1 > t0 {
				vs.ProgressRate = d.progress.Rate(h0, t1) * 1e9
			}
		}
		var np, nd int
		for _, e := range d.samples {
			if e.TNs >= h0 && e.TNs <= t1 {
				vs.MeanPause += float64(e.Sample.PausePermille)
				vs.MeanSteal += float64(e.Sample.StealPermille)
				vs.MeanVCT += float64(e.Sample.VCTPermille)
				np++
			}
		}
		if np > 0 {
			vs.MeanPause /= float64(np)
			vs.MeanSteal /= float64(np)
			vs.MeanVCT /= float64(np)
		}
		for _, e := range d.decides {
			if e.Decide.Branch == vocab.Hold && e.Decide.DAfter != e.Decide.DBefore {
				vs.Holds++
			}
			if e.TNs >= h0 && e.TNs <= t1 {
				vs.MeanD += float64(e.Decide.DAfter)
				nd++
			}
		}
		if nd > 0 {
			vs.MeanD /= float64(nd)
		}
		vs.Windows, vs.Decisions, vs.GapWindows = len(d.samples), len(d.decides), d.gaps
		vs.MaxDelay, vs.P99Delay, vs.LongestSilenceS = metrics.Delays(d.decides)
		if d.end != nil {
			vs.CleanEnd, vs.EndReason = d.end.Clean, d.end.Reason
		}
		vs.FvmdCPUNs = d.fvmd.CPU
		if d.fvmd.Wall > 0 {
			vs.FvmdCPUPermille = 1000 * float64(d.fvmd.CPU) / float64(d.fvmd.Wall)
		}
		allShares = append(allShares, vs.Share)
		if measured(vs.Role) {
			fvmShares = append(fvmShares, vs.Share)
		}
		r = append(r, 1-vs.MeanPause/1000)
		sum.VMs = append(sum.VMs, vs)
	}
	if t1 <= t0 {
		return sum
	}
	sum.JainFVM, sum.JainAll = jainOr(fvmShares), jainOr(allShares)
	sum.Utilisation = metrics.Utilisation(allShares, 1)
	// The duty-cycle prediction is that of the run's host model: duty, or
	// duty-idle for a work-conserving pause.
	host := vocab.Duty
	if len(spec.VMs) > 0 {
		host = spec.VMs[0].Controller.Host()
	}
	duty, fair := ref.PredictShares(host, r), ref.PredictShares(vocab.Fair, r)
	for i := range sum.VMs {
		vs := &sum.VMs[i]
		vs.DutyShare, vs.FairShare = duty[i], fair[i]
		sum.DutyError = math.Max(sum.DutyError, math.Abs(vs.Share-duty[i]))
		sum.FairError = math.Max(sum.FairError, math.Abs(vs.Share-fair[i]))
	}
	fvms := spec.FVMs()
	seconds := func(ns int64) float64 {
		if ns < 0 {
			return -1
		}
		return float64(ns) / 1e9
	}
	final := make([]float64, len(data))
	for i := range data {
		final[i] = sum.VMs[i].Share
	}
	sum.SettleS = seconds(metrics.Settle(final, func(i int, a, b int64) float64 { return data[i].cpu.Rate(a, b) }, t0, t1))
	sum.ConvergenceS = sum.SettleS
	if len(fvms) >= 2 {
		sum.FairS = seconds(metrics.Convergence(len(fvms), func(i int, a, b int64) float64 { return data[fvms[i]].cpu.Rate(a, b) }, t0, t1))
		sum.ConvergenceS = sum.FairS
	}
	sum.ConvergenceEpochs, sum.EpochWindows = epochs(spec, data, t0, h0, t1, sum.ConvergenceS)
	return sum
}

// epochs counts the congestion epochs of the adaptive VMs: the decreases
// of the one that starts highest before the convergence time convS (-1:
// never), and the mean number of windows between two decreases of a VM
// in the second half [h0, t1].
func epochs(spec *Spec, data []*vmData, t0, h0, t1 int64, convS float64) (int, float64) {
	lead, gaps, sum := -1, 0, 0.0
	for i, v := range spec.VMs {
		if v.Role() != "fvm" {
			continue
		}
		if lead < 0 || v.Controller.Init > spec.VMs[lead].Controller.Init {
			lead = i
		}
		prev := int64(-1)
		for _, e := range data[i].decides {
			if e.Decide.Branch != vocab.Decrease || e.TNs > t1 {
				continue
			}
			if prev >= h0 {
				gaps++
				sum += float64(e.TNs-prev) / vocab.WindowNs
			}
			prev = e.TNs
		}
	}
	n := -1
	if lead >= 0 && convS >= 0 {
		n = 0
		end := t0 + int64(convS*1e9)
		for _, e := range data[lead].decides {
			if e.Decide.Branch == vocab.Decrease && e.TNs >= t0 && e.TNs < end {
				n++
			}
		}
	}
	if gaps == 0 {
		return n, 0
	}
	return n, sum / float64(gaps)
}
