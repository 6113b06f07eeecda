package runner

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/friendly-vm/fvm/uml-impl/controller"
	"github.com/friendly-vm/fvm/vocab"
)

// The baselines: host priorities a user could give a guest instead of a
// controller. UML calls setsid(), so under autogroup scheduling each guest
// is a session of its own, weighed against the others by its autogroup's
// nice; a process's own nice or policy only matters inside its session.
const (
	// BaselineCFS is no controller at all: CFS shares the core.
	BaselineCFS = "cfs"
	// BaselineNice19 puts the guest's processes and its session's
	// autogroup 19 nice levels below the other guests (renice plus
	// /proc/PID/autogroup).
	BaselineNice19 = "nice19"
	// BaselineSchedIdle puts every thread of the guest at SCHED_IDLE, as
	// chrt --idle does, and leaves its autogroup as it is.
	BaselineSchedIdle = "sched-idle"
)

// Baselines returns the baselines' names.
func Baselines() []string { return []string{BaselineCFS, BaselineNice19, BaselineSchedIdle} }

func isBaseline(b string) bool { return slices.Contains(Baselines(), b) }

// Mechanism is one way of sharing a core that the comparison runs: a
// baseline, or the controller with a signal and a pause mode.
type Mechanism struct {
	Name        string
	Description string
	// Baseline is the baseline's name; "" for the controller.
	Baseline string
	// Signal and IdlePause configure the controller (Baseline "").
	Signal    vocab.Signal
	IdlePause bool
}

// Mechanisms returns the compared mechanisms, baselines first.
func Mechanisms() []Mechanism {
	return []Mechanism{
		{Name: BaselineCFS, Baseline: BaselineCFS, Description: "no controller: CFS shares the core"},
		{Name: BaselineNice19, Baseline: BaselineNice19, Description: "no controller, the guest and its session's autogroup at nice 19"},
		{Name: BaselineSchedIdle, Baseline: BaselineSchedIdle, Description: "no controller, every thread at SCHED_IDLE (chrt --idle), the autogroup untouched"},
		{Name: "vct", Signal: vocab.VCT, Description: "the paper's AIMD on virtual clock time, sleeping pause"},
		{Name: "steal", Signal: vocab.Steal, Description: "AIMD on steal, sleeping pause (--pause-mode sleep)"},
		{Name: "steal-idle", Signal: vocab.Steal, IdlePause: true, Description: "AIMD on steal, work-conserving pause (pause_mode idle, the default)"},
	}
}

// Compare scenarios: the experiments whose FVMs a mechanism's guests
// replace.
const (
	ComparePair   = "pair"
	CompareFour   = "four"
	CompareGreedy = "greedy"
)

// ComparePrefix begins the name of every run of the comparison, so that
// its runs can sit beside the experiments' (testdata/runs).
const ComparePrefix = "compare-"

// CompareRun is one run of the comparison.
type CompareRun struct {
	// Run is the run's directory name under the comparison's directory.
	Run       string `json:"run"`
	Mechanism string `json:"mechanism"`
	// ThetaPermille is the controller's threshold (0 for a baseline).
	ThetaPermille int `json:"theta_permille"`
	// Sweep marks a threshold other than the signal's default.
	Sweep    bool   `json:"sweep"`
	Scenario string `json:"scenario"`
	Spec     Spec   `json:"-"`
}

// Manifest is the comparison's list of runs, written as compare.json
// before the first run, so that a partial comparison says what it lacks.
const Manifest = "compare.json"

// CompareSpecs returns the comparison's runs on kernel: every mechanism in
// pair, four and greedy at its signal's default threshold, and each
// controller mechanism on the steal signal at every threshold of sweep
// (permille) in pair and greedy, which is what the utilisation-against-
// friendliness plot needs. only, if not empty, keeps just those
// mechanisms.
func CompareSpecs(kernel string, sweep []int, only []string) ([]CompareRun, error) {
	var names []string
	for _, m := range Mechanisms() {
		names = append(names, m.Name)
	}
	for _, o := range only {
		if !slices.Contains(names, o) {
			return nil, fmt.Errorf("mechanism %q: want one of %v", o, names)
		}
	}
	for _, t := range sweep {
		if t <= 0 || t >= 1000 {
			return nil, fmt.Errorf("sweep threshold %d: want 1..999 permille", t)
		}
	}
	var out []CompareRun
	for _, m := range Mechanisms() {
		if len(only) > 0 && !slices.Contains(only, m.Name) {
			continue
		}
		// A baseline's guests run no controller; its greedy guest runs the
		// default one, pinned at pause 0.
		base := Base(controller.Default().Signal, false)
		if m.Baseline == "" {
			base = Base(m.Signal, m.IdlePause)
		}
		thetas := []int{base.ThetaPermille}
		if m.Baseline == "" && m.Signal == vocab.Steal {
			for _, t := range sweep {
				if !slices.Contains(thetas, t) {
					thetas = append(thetas, t)
				}
			}
		}
		for k, theta := range thetas {
			b := base
			b.ThetaPermille = theta
			scen := []string{ComparePair, CompareFour, CompareGreedy}
			if k > 0 {
				scen = []string{ComparePair, CompareGreedy}
			}
			for _, sc := range scen {
				e, err := Lookup(sc)
				if err != nil {
					return nil, err
				}
				spec := e.Specs(b, 0, kernel)[0]
				r := CompareRun{Mechanism: m.Name, Scenario: sc, Sweep: k > 0}
				if m.Baseline == "" {
					r.ThetaPermille = theta
				}
				r.Run = ComparePrefix + CompareRow{Mechanism: m.Name, ThetaPermille: r.ThetaPermille, Sweep: r.Sweep}.Label() + "-" + sc
				spec.Name = r.Run
				for i := range spec.VMs {
					if v := &spec.VMs[i]; m.Baseline != "" && v.Role() == "fvm" {
						v.Baseline = m.Baseline
					}
				}
				r.Spec = spec
				out = append(out, r)
			}
		}
	}
	return out, nil
}

// AddToManifest adds runs to dir/compare.json (created if missing),
// keeping the runs it already lists: a comparison run in parts (--only)
// still lists all of them.
func AddToManifest(dir string, runs []CompareRun) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("comparison dir: %w", err)
	}
	var all []CompareRun
	b, err := os.ReadFile(filepath.Join(dir, Manifest))
	switch {
	case err == nil:
		if err := json.Unmarshal(b, &all); err != nil {
			return fmt.Errorf("comparison %s: %s: %w (move it away to start afresh)", dir, Manifest, err)
		}
	case !errors.Is(err, os.ErrNotExist):
		return fmt.Errorf("comparison %s: %w", dir, err)
	}
	for _, r := range runs {
		if k := slices.IndexFunc(all, func(x CompareRun) bool { return x.Run == r.Run }); k >= 0 {
			all[k] = r // the current configuration names the run
		} else {
			all = append(all, r)
		}
	}
	return writeJSON(filepath.Join(dir, Manifest), all)
}

// SameRun reports whether the run recorded in dir (its spec.json) is the
// run spec describes: the same guests, configured alike, for as long, at
// the same periods. A comparison resumes only over runs of its own
// configuration.
func SameRun(dir string, spec Spec) (bool, error) {
	b, err := os.ReadFile(filepath.Join(dir, "spec.json"))
	if err != nil {
		return false, fmt.Errorf("run %s: %w", dir, err)
	}
	var old Spec
	if err := json.Unmarshal(b, &old); err != nil {
		return false, fmt.Errorf("run %s: spec.json: %w", dir, err)
	}
	if err := spec.Prepare(); err != nil {
		return false, err
	}
	key := func(s Spec) ([]byte, error) {
		return json.Marshal([]any{s.Duration, s.PeriodUs, s.PeriodStepUs, s.VMs})
	}
	a, err := key(old)
	if err != nil {
		return false, err
	}
	c, err := key(spec)
	if err != nil {
		return false, err
	}
	return string(a) == string(c), nil
}

// CompareRow is one mechanism at one threshold: its runs' summaries (nil
// where a run is missing).
type CompareRow struct {
	Mechanism     string
	ThetaPermille int
	Sweep         bool
	Pair, Four    *Summary
	Greedy        *Summary
	// Runs are the row's run directories that hold a summary.
	Runs []string
}

// ReadComparison reads the comparison in dir: its manifest and each run's
// summary, one row per mechanism and threshold, in the manifest's order.
// A run without a summary leaves its field nil; an incomplete run is kept
// (its summary says so).
func ReadComparison(dir string) ([]CompareRow, error) {
	b, err := os.ReadFile(filepath.Join(dir, Manifest))
	if err != nil {
		return nil, fmt.Errorf("comparison %s: %w (run fvm uml compare --out %s first)", dir, err, dir)
	}
	var runs []CompareRun
	if err := json.Unmarshal(b, &runs); err != nil {
		return nil, fmt.Errorf("comparison %s: %s: %w", dir, Manifest, err)
	}
	var rows []CompareRow
	for _, r := range runs {
		k := slices.IndexFunc(rows, func(x CompareRow) bool {
			return x.Mechanism == r.Mechanism && x.ThetaPermille == r.ThetaPermille
		})
		if k < 0 {
			rows = append(rows, CompareRow{Mechanism: r.Mechanism, ThetaPermille: r.ThetaPermille, Sweep: r.Sweep})
			k = len(rows) - 1
		}
		s, err := ReadSummary(filepath.Join(dir, r.Run))
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, err
		}
		rows[k].Runs = append(rows[k].Runs, filepath.Join(dir, r.Run))
		switch r.Scenario {
		case ComparePair:
			rows[k].Pair = s
		case CompareFour:
			rows[k].Four = s
		case CompareGreedy:
			rows[k].Greedy = s
		default:
			return nil, fmt.Errorf("comparison %s: run %s: unknown scenario %q", dir, r.Run, r.Scenario)
		}
	}
	return rows, nil
}

// Dir returns the directory of the row's run of a scenario ("" if it has
// none).
func (r CompareRow) Dir(scenario string) string {
	for _, d := range r.Runs {
		if strings.HasSuffix(d, "-"+scenario) {
			return d
		}
	}
	return ""
}

// Label names the row: the mechanism, and -tTHETA for a threshold of the
// sweep (as in its runs' names).
func (r CompareRow) Label() string {
	if r.Sweep {
		return r.Mechanism + "-t" + strconv.Itoa(r.ThetaPermille)
	}
	return r.Mechanism
}

// GreedyShares returns, from the greedy scenario, the greedy guest's share
// and the share of the guest beside it (ok false without that run).
func (r CompareRow) GreedyShares() (greedy, other float64, ok bool) {
	if r.Greedy == nil {
		return 0, 0, false
	}
	for _, v := range r.Greedy.VMs {
		if v.Role == "greedy" {
			greedy += v.Share
		} else {
			other += v.Share
		}
	}
	return greedy, other, true
}

// Work returns the work per second of the measured guests in s (the sum
// of their progress rates).
func Work(s *Summary) float64 {
	w := 0.0
	for _, v := range s.VMs {
		if measured(v.Role) {
			w += v.ProgressRate
		}
	}
	return w
}
