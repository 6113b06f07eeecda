package friendly

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/friendly-vm/fvm/metrics"
	"github.com/friendly-vm/fvm/trace"
	"github.com/friendly-vm/fvm/vocab"
)

// Summary is a friendly group's summary.json: what its trace says, and
// the command's exit status.
type Summary struct {
	Name     string `json:"name"`
	Workload string `json:"workload"`
	Kernel   string `json:"kernel"`
	PeriodUs int64  `json:"period_us"`
	U        int    `json:"u"`
	// Complete: the trace ends with a clean end event (the controller ran
	// until the command ended).
	Complete  bool     `json:"complete"`
	EndReason string   `json:"end_reason,omitempty"`
	Errors    []string `json:"errors,omitempty"`
	// ExitStatus is the command's (128+N when killed by signal N; -1 when
	// the controller did not see it end).
	ExitStatus int `json:"exit_status"`
	// WallS is the time from the first to the last host reading.
	WallS float64 `json:"wall_s"`
	// Share is the group's CPU (the host events: its tasks' time on a CPU)
	// over the run, in cores; SecondHalfShare over the second half of it.
	Share           float64 `json:"share"`
	SecondHalfShare float64 `json:"second_half_share"`
	// CgroupShare is the same from the cgroup's own accounting (the
	// windows' cpu_ns and idle_cpu_ns over their wall_ns), ThrottledFraction
	// the windows' pause_ns over their wall_ns (with work-conserving
	// pauses: the time at idle priority).
	CgroupShare       float64 `json:"cgroup_share"`
	ThrottledFraction float64 `json:"throttled_fraction"`
	// Means over the windows (samples) and decisions of the second half:
	// the pause in force, the steal signal, the decided demand (units of
	// 1/U of a core).
	MeanPause float64 `json:"mean_pause_permille"`
	MeanSteal float64 `json:"mean_steal_permille"`
	MeanD     float64 `json:"mean_d"`
	InitD     int     `json:"init_d"`
	FinalD    int     `json:"final_d"`

	Windows    int   `json:"windows"`
	Decisions  int   `json:"decisions"`
	Holds      int   `json:"holds"`
	GapWindows int64 `json:"gap_windows"`
	// Feedback delay (metrics.Delays).
	MaxDelay        int64   `json:"max_delay"`
	P99Delay        int64   `json:"p99_delay"`
	LongestSilenceS float64 `json:"longest_silence_s"`
}

// Series is one VM's data from a trace: its header, its cumulative CPU
// from the host events, its samples and decisions, and its end.
type Series struct {
	Header  *trace.Header
	CPU     metrics.Series
	Samples []trace.Event
	Decides []trace.Event
	Gaps    int64
	End     *trace.End
}

// ReadSeries reads VM vm's events from a trace file. A trace cut short
// (a torn last line) yields what was read and the error.
func ReadSeries(path string, vm int) (*Series, error) {
	evs, err := trace.ReadFile(path)
	s := &Series{}
	var cum float64
	for _, e := range evs {
		if e.VM != vm {
			continue
		}
		switch e.Kind {
		case trace.KindHeader:
			s.Header = e.Header
		case trace.KindHost:
			if len(s.CPU) == 0 {
				s.CPU = append(s.CPU, metrics.Point{T: e.TNs - e.Host.WallNs})
			}
			cum += float64(e.Host.CPUNs)
			s.CPU = append(s.CPU, metrics.Point{T: e.TNs, V: cum})
		case trace.KindSample:
			s.Samples = append(s.Samples, e)
		case trace.KindDecide:
			s.Decides = append(s.Decides, e)
		case trace.KindGap:
			s.Gaps += e.Gap.ToSeq - e.Gap.FromSeq + 1
		case trace.KindEnd:
			end := e.End
			s.End = &end
		}
	}
	if s.Header == nil && err == nil {
		err = fmt.Errorf("%s: no header for vm %d", path, vm)
	}
	return s, err
}

// Span returns the first and last host reading's times.
func (s *Series) Span() (t0, t1 int64, ok bool) {
	if len(s.CPU) < 2 {
		return 0, 0, false
	}
	return s.CPU[0].T, s.CPU[len(s.CPU)-1].T, true
}

// Means returns the mean pause and steal (permille) of the samples and
// the mean decided demand of the decisions stamped within [a, b].
func (s *Series) Means(a, b int64) (pause, steal, d float64) {
	var n, nd int
	for _, e := range s.Samples {
		if e.TNs >= a && e.TNs <= b {
			pause += float64(e.Sample.PausePermille)
			steal += float64(e.Sample.StealPermille)
			n++
		}
	}
	for _, e := range s.Decides {
		if e.TNs >= a && e.TNs <= b {
			d += float64(e.Decide.DAfter)
			nd++
		}
	}
	if n > 0 {
		pause, steal = pause/float64(n), steal/float64(n)
	}
	if nd > 0 {
		d /= float64(nd)
	}
	return pause, steal, d
}

// Summarize computes the summary of the friendly group whose trace is
// path (VM index from its first header). ExitStatus is -1: only Run knows
// it.
func Summarize(path string) (*Summary, error) {
	evs, rerr := trace.ReadFile(path)
	vm := 0
	for _, e := range evs {
		if e.Kind == trace.KindHeader {
			vm = e.VM
			break
		}
	}
	s, err := ReadSeries(path, vm)
	if s.Header == nil {
		return nil, errors.Join(rerr, err)
	}
	h := s.Header
	name := filepath.Base(path)
	sum := &Summary{Name: name[:len(name)-len(filepath.Ext(name))], Workload: h.Workload, Kernel: h.Kernel,
		PeriodUs: h.PeriodUs, U: h.U, ExitStatus: -1, InitD: h.InitD, FinalD: h.InitD}
	if err != nil {
		sum.Errors = append(sum.Errors, err.Error())
	}
	if s.End != nil {
		sum.Complete, sum.EndReason = s.End.Clean, s.End.Reason
	}
	if t0, t1, ok := s.Span(); ok {
		sum.WallS = float64(t1-t0) / 1e9
		h0 := t0 + (t1-t0)/2
		sum.Share = s.CPU.Rate(t0, t1)
		sum.SecondHalfShare = s.CPU.Rate(h0, t1)
		sum.MeanPause, sum.MeanSteal, sum.MeanD = s.Means(h0, t1)
	}
	var wall, cpu, pause int64
	for _, e := range s.Samples {
		wall += e.Sample.WallNs
		cpu += e.Sample.CPUNs + e.Sample.IdleCPUNs // idle_cpu_ns: what a work-conserving pause got
		pause += e.Sample.PauseNs
	}
	if wall > 0 {
		sum.CgroupShare = float64(cpu) / float64(wall)
		sum.ThrottledFraction = float64(pause) / float64(wall)
	}
	for _, e := range s.Decides {
		if e.Decide.Branch == vocab.Hold && e.Decide.DAfter != e.Decide.DBefore {
			sum.Holds++
		}
		sum.FinalD = e.Decide.DAfter
	}
	if len(s.Decides) > 0 && sum.InitD == 0 {
		sum.InitD = s.Decides[0].Decide.DBefore
	}
	sum.Windows, sum.Decisions, sum.GapWindows = len(s.Samples), len(s.Decides), s.Gaps
	sum.MaxDelay, sum.P99Delay, sum.LongestSilenceS = metrics.Delays(s.Decides)
	return sum, nil
}

// WriteJSON writes v as indented JSON to path, fsynced.
func WriteJSON(path string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return fmt.Errorf("encode %s: %w", filepath.Base(path), err)
	}
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	_, werr := f.Write(append(b, '\n'))
	serr := f.Sync()
	if err := errors.Join(werr, serr, f.Close()); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}
