package spec

import (
	"math"
	"time"

	"github.com/friendly-vm/fvm/configs"
	"github.com/friendly-vm/fvm/spec/mc"
)

// Report is the result of one check in the form `fvm check --json` prints
// and `--result` writes (and the report and the documents read back).
type Report struct {
	Config         string            `json:"config"`
	OK             bool              `json:"ok"`
	N              int               `json:"n"`
	Host           string            `json:"host"`
	Rule           string            `json:"rule"`
	Safety         ReportStats       `json:"safety"`
	Liveness       *ReportStats      `json:"liveness"`
	Verdicts       []ReportVerdict   `json:"verdicts"`
	Notes          []string          `json:"notes,omitempty"`
	Bounds         *ReportBounds     `json:"bounds,omitempty"`
	LimitSets      []ReportLimitSet  `json:"limit_sets,omitempty"`
	WorstJain      *float64          `json:"worst_jain"`
	WorstJainBound *float64          `json:"worst_jain_bound"`
	UtilMin        *float64          `json:"util_min"`
	UtilCycle      *float64          `json:"util_cycle"`
	Violations     []ReportViolation `json:"violations"`
	Seconds        float64           `json:"seconds"`
	Expect         map[string]string `json:"expect,omitempty"`
	// Model is the model checked: the configuration with every override
	// flag applied, in the configurations' JSON form.
	Model *configs.Config `json:"model"`
}

// ReportStats is part of a Report.
type ReportStats struct {
	Symmetry      bool    `json:"symmetry"`
	Workers       int     `json:"workers"`
	Distinct      int64   `json:"distinct"`
	Initial       int64   `json:"initial"`
	Generated     int64   `json:"generated"`
	Depth         int     `json:"depth"`
	Seconds       float64 `json:"seconds"`
	StatesPerSec  float64 `json:"states_per_sec"`
	BytesPerState float64 `json:"bytes_per_state"`
	Edges         int64   `json:"edges,omitempty"`
	SCCs          int64   `json:"sccs,omitempty"`
	LimitSets     int64   `json:"limit_sets,omitempty"`
}

// ReportVerdict is part of a Report.
type ReportVerdict struct {
	Name     string `json:"name"`
	Kind     string `json:"kind"`
	Status   string `json:"status"`
	Expected string `json:"expected"`
}

// ReportBounds is part of a Report.
type ReportBounds struct {
	EfficientLo *int  `json:"efficient_lo,omitempty"`
	EfficientHi *int  `json:"efficient_hi,omitempty"`
	Eps         int   `json:"eps"`
	Floor       []int `json:"floor,omitempty"`
	Ceiling     []int `json:"ceiling,omitempty"`
}

// ReportLimitSet is part of a Report.
type ReportLimitSet struct {
	States    int       `json:"states"`
	Edges     int       `json:"edges"`
	First     string    `json:"first"`
	Shares    []float64 `json:"shares"`
	Jain      float64   `json:"jain"`
	Delta     float64   `json:"delta"`
	MinMean   float64   `json:"min_mean"`
	JainBound float64   `json:"jain_bound"`
	Util      float64   `json:"util"`
	UtilMin   float64   `json:"util_min"`
	UtilCycle float64   `json:"util_cycle"`
	ShareMin  float64   `json:"share_min"`
	// Greedy, GreedyMin and GreedyCycle: the greedy VMs' shares.
	Greedy      []float64 `json:"greedy,omitempty"`
	GreedyMin   []float64 `json:"greedy_min,omitempty"`
	GreedyCycle []float64 `json:"greedy_cycle,omitempty"`
	Symmetric   bool      `json:"symmetric"`
}

// ReportStep is part of a Report.
type ReportStep struct {
	Action  string `json:"action"`
	Demands []int  `json:"demands"`
	State   string `json:"state"`
}

// ReportViolation is part of a Report.
type ReportViolation struct {
	Property string       `json:"property"`
	Kind     string       `json:"kind"`
	Trace    []ReportStep `json:"trace"`
	Cycle    []ReportStep `json:"cycle,omitempty"`
	Stutter  bool         `json:"stutter,omitempty"`
	File     string       `json:"trace_file,omitempty"`
}

// NewReport describes res, the check of cfg that took elapsed, with files
// the counterexample traces written for res.Violations() ("" where none).
func NewReport(cfg *configs.Config, res *Result, files []string, elapsed time.Duration) *Report {
	p, m := res.Params, res.Model
	out := Report{Config: cfg.Name, OK: res.OK(), N: p.N(), Host: p.Host.String(), Rule: p.Rule.String(),
		Safety: reportStats(res.Safety.Stats), WorstJain: finite(res.WorstJain), WorstJainBound: finite(res.WorstJainBound),
		UtilMin: finite(res.UtilMin), UtilCycle: finite(res.UtilCycle),
		Seconds: elapsed.Seconds(), Violations: []ReportViolation{}}
	out.Notes = append(append(out.Notes, res.Safety.Notes...), res.LivenessNotes()...)
	if res.Liveness != nil {
		st := reportStats(res.Liveness.Stats)
		out.Liveness = &st
		b := &ReportBounds{Eps: res.Bounds.Eps, Floor: res.Bounds.Floor, Ceiling: res.Bounds.Ceiling}
		if res.Bounds.HasBand {
			b.EfficientLo, b.EfficientHi = &res.Bounds.Band.Lo, &res.Bounds.Band.Hi
		}
		out.Bounds = b
	}
	for _, v := range res.Verdicts() {
		out.Verdicts = append(out.Verdicts, ReportVerdict{Name: v.Name, Kind: v.Kind.String(), Status: v.Status.String(), Expected: cfg.Check.Expected(v.Name).String()})
	}
	for _, f := range res.LimitSets {
		out.LimitSets = append(out.LimitSets, ReportLimitSet{States: f.States, Edges: f.Edges, First: m.Format(f.First),
			Shares: f.Shares, Jain: f.Jain, Delta: f.Delta, MinMean: f.MinMean, JainBound: f.JainBound,
			Util: f.Util, UtilMin: f.UtilMin, UtilCycle: f.UtilCycle, ShareMin: f.ShareMin,
			Greedy: f.Greedy, GreedyMin: f.GreedyMin, GreedyCycle: f.GreedyCycle, Symmetric: f.Symmetric})
	}
	actions := m.Actions()
	steps := func(ss []mc.Step) []ReportStep {
		var o []ReportStep
		for _, st := range ss {
			name := "Init"
			if st.Action >= 0 {
				name = actions[st.Action]
			}
			s := m.Unpack(st.State)
			o = append(o, ReportStep{Action: name, Demands: s.Demands(p.N()), State: s.Format(p.N())})
		}
		return o
	}
	for k, v := range res.Violations() {
		out.Violations = append(out.Violations, ReportViolation{Property: v.Property, Kind: v.Kind.String(),
			Trace: steps(v.Trace), Cycle: steps(v.Cycle), Stutter: v.Stutter, File: files[k]})
	}
	if len(cfg.Check.Expect) > 0 {
		out.Expect = map[string]string{}
		for k, v := range cfg.Check.Expect {
			out.Expect[k] = v.String()
		}
	}
	out.Model = configs.FromParams(cfg.Name, cfg.Description, p)
	return &out
}

func reportStats(st mc.Stats) ReportStats {
	return ReportStats{Symmetry: st.Symmetry, Workers: st.Workers, Distinct: st.Distinct, Initial: st.Initial,
		Generated: st.Generated, Depth: st.Depth, Seconds: st.SearchTime.Seconds(), StatesPerSec: st.StatesPerSec,
		BytesPerState: st.BytesPerState, Edges: st.Edges, SCCs: st.SCCs, LimitSets: st.LimitSets}
}

func finite(x float64) *float64 {
	if math.IsNaN(x) || math.IsInf(x, 0) {
		return nil
	}
	return &x
}

// LivenessNotes are the liveness run's notes when it is a run of its own.
func (res *Result) LivenessNotes() []string {
	if res.Liveness == nil || res.Liveness == res.Safety {
		return nil
	}
	return res.Liveness.Notes
}
