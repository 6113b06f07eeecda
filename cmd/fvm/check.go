package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/friendly-vm/fvm/ref"
	"github.com/friendly-vm/fvm/spec"
	"github.com/friendly-vm/fvm/spec/configs"
	"github.com/friendly-vm/fvm/spec/mc"
	"github.com/friendly-vm/fvm/trace/refine"
)

type checkFlags struct {
	config         string
	json           bool
	traceDir       string
	quiet          bool
	workers        int
	maxMemoryMiB   int64
	expectedStates int64
	symmetry       bool
	liveness       bool

	// Overrides of configuration fields (applied when the flag is set).
	n, u, capacity, alpha, delta, dmin, dmax, d int
	kappa, theta, beta, mu                      string
	greedy, host, signal, rule                  string
}

func newCheckCmd() *cobra.Command {
	var f checkFlags
	cmd := &cobra.Command{
		Use:   "check",
		Short: "Model-check the reference model on a configuration",
		Long: `check explores every reachable state of the reference model for a configuration (the
embedded default unless --config names another or a .json file; the other flags override its
fields) and checks the properties of spec/MODEL.md: the invariants TypeOK, Bounds, DelayBound,
NoStarvation and deadlock freedom (with symmetry reduction over identical FVMs when
--symmetry), and, with --liveness, Efficient and Fair (<>[] under weak fairness of every
action, always without symmetry), with the long-run Jain index of every limit set.

It prints the statistics, every verdict and every counterexample (a shortest path for an
invariant, a lasso -- prefix and fair cycle -- for a liveness property), and writes each
counterexample as a JSONL trace into --trace-dir. Exit status: 0 every property holds, 1 a
property is violated, 2 bad input.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runCheck(cmd, f)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.config, "config", "default", "configuration name (embedded) or .json file")
	fl.BoolVar(&f.json, "json", false, "print the result as JSON")
	fl.StringVar(&f.traceDir, "trace-dir", ".", `directory for counterexample traces ("" for none)`)
	fl.BoolVar(&f.quiet, "quiet", false, "no progress lines on stderr")
	fl.IntVar(&f.workers, "workers", 0, "search goroutines (0: GOMAXPROCS)")
	fl.Int64Var(&f.maxMemoryMiB, "max-memory", 0, "memory budget of the checker's tables in MiB (0: 80% of RAM)")
	fl.Int64Var(&f.expectedStates, "expected-states", 0, "pre-size the visited set for this many states")
	fl.BoolVar(&f.symmetry, "symmetry", false, "check the invariants with symmetry reduction (default: the configuration's check.symmetry)")
	fl.BoolVar(&f.liveness, "liveness", false, "check Efficient and Fair (default: the configuration's check.liveness)")
	fl.IntVar(&f.n, "n", 0, "override: number of FVMs")
	fl.IntVar(&f.u, "u", 0, "override: demand units per core")
	fl.IntVar(&f.capacity, "capacity", 0, "override: host capacity in units")
	fl.StringVar(&f.kappa, "kappa", "", "override: shared-host congestion fraction (e.g. 1 or 7/8)")
	fl.StringVar(&f.greedy, "greedy", "", "override: greedy VMs' demands, comma-separated")
	fl.StringVar(&f.host, "host", "", "override: host model (shared, fair, duty)")
	fl.StringVar(&f.signal, "signal", "", "override: per-FVM signal (vct, steal)")
	fl.StringVar(&f.theta, "theta", "", "override: signal threshold")
	fl.StringVar(&f.rule, "rule", "", "override: rule (aimd, mimd, aiad)")
	fl.IntVar(&f.alpha, "alpha", 0, "override: additive increase")
	fl.StringVar(&f.beta, "beta", "", "override: multiplicative decrease")
	fl.StringVar(&f.mu, "mu", "", "override: multiplicative increase (MIMD)")
	fl.IntVar(&f.delta, "delta", 0, "override: additive decrease (AIAD)")
	fl.IntVar(&f.dmin, "dmin", 0, "override: smallest demand")
	fl.IntVar(&f.dmax, "dmax", 0, "override: largest demand")
	fl.IntVar(&f.d, "d", 0, "override: feedback delay bound D (samples)")
	return cmd
}

// applyOverrides copies the flags the user set into the configuration.
func applyOverrides(cmd *cobra.Command, f checkFlags, c *configs.Config) error {
	set := cmd.Flags().Changed
	ints := []struct {
		flag string
		val  int
		dst  *int
	}{
		{"n", f.n, &c.N}, {"u", f.u, &c.U}, {"capacity", f.capacity, &c.Capacity},
		{"alpha", f.alpha, &c.Alpha}, {"delta", f.delta, &c.Delta},
		{"dmin", f.dmin, &c.Dmin}, {"dmax", f.dmax, &c.Dmax}, {"d", f.d, &c.D},
	}
	for _, o := range ints {
		if set(o.flag) {
			*o.dst = o.val
		}
	}
	rats := []struct {
		flag string
		val  string
		dst  *configs.Rat
	}{
		{"kappa", f.kappa, &c.Kappa}, {"theta", f.theta, &c.Theta}, {"beta", f.beta, &c.Beta}, {"mu", f.mu, &c.Mu},
	}
	for _, o := range rats {
		if set(o.flag) {
			r, err := ref.ParseRat(o.val)
			if err != nil {
				return fmt.Errorf("--%s %q: %w", o.flag, o.val, err)
			}
			*o.dst = configs.Rat(r)
		}
	}
	strs := []struct {
		flag string
		val  string
		dst  *string
	}{{"host", f.host, &c.Host}, {"signal", f.signal, &c.Signal}, {"rule", f.rule, &c.Rule}}
	for _, o := range strs {
		if set(o.flag) {
			*o.dst = o.val
		}
	}
	if set("greedy") {
		c.Greedy = nil
		for _, part := range strings.Split(f.greedy, ",") {
			if strings.TrimSpace(part) == "" {
				continue
			}
			g, err := strconv.Atoi(strings.TrimSpace(part))
			if err != nil {
				return fmt.Errorf("--greedy %q: %q is not an integer", f.greedy, part)
			}
			c.Greedy = append(c.Greedy, g)
		}
	}
	if set("symmetry") {
		c.Check.Symmetry = f.symmetry
	}
	if set("liveness") {
		c.Check.Liveness = f.liveness
	}
	return nil
}

func runCheck(cmd *cobra.Command, f checkFlags) error {
	w := cmd.OutOrStdout()
	cfg, err := configs.Load(f.config)
	if err != nil {
		return badInput(err)
	}
	if err := applyOverrides(cmd, f, cfg); err != nil {
		return badInput(err)
	}
	p, err := cfg.Params()
	if err != nil {
		return badInput(fmt.Errorf("config %s: %s", cfg.Name, oneLine(err)))
	}
	if f.workers < 0 || f.maxMemoryMiB < 0 || f.expectedStates < 0 {
		return badInput(errors.New("--workers, --max-memory and --expected-states must be >= 0"))
	}
	opt := spec.Options{
		Symmetry: cfg.Check.Symmetry, Liveness: cfg.Check.Liveness,
		Workers: f.workers, ExpectedStates: f.expectedStates, MaxMemory: f.maxMemoryMiB << 20,
	}
	if opt.ExpectedStates == 0 && !overridden(f.config, p) {
		// The configuration's measured size pre-sizes the visited set; it
		// no longer applies once a flag changed the model.
		opt.ExpectedStates = cfg.Check.ExpectedStates
	}
	if !f.quiet {
		opt.Progress = cmd.ErrOrStderr()
	}
	if _, err := spec.NewModel(p); err != nil {
		return badInput(fmt.Errorf("config %s: %w", cfg.Name, err))
	}
	start := time.Now()
	res, err := spec.Check(p, opt)
	if err != nil {
		return fmt.Errorf("check %s: %w", cfg.Name, err)
	}
	elapsed := time.Since(start)
	files, err := writeCounterexamples(f.traceDir, cfg.Name, res)
	if err != nil {
		return err
	}
	if f.json {
		if err := writeModelCheckJSON(w, cfg, res, files, elapsed); err != nil {
			return fmt.Errorf("check: %w", err)
		}
	} else {
		writeModelCheckText(w, cfg, res, files, elapsed)
	}
	if !res.OK() {
		var names []string
		for _, v := range res.Violations() {
			names = append(names, v.Property)
		}
		return violationError{fmt.Sprintf("check %s: violated: %s", cfg.Name, strings.Join(names, ", "))}
	}
	return nil
}

// oneLine joins a multi-line (errors.Join) message with "; ".
func oneLine(err error) string { return strings.ReplaceAll(err.Error(), "\n", "; ") }

// writeCounterexamples writes each violation as a JSONL trace (a lasso's
// prefix followed by one pass of its cycle) and returns the file names.
func writeCounterexamples(dir, config string, res *spec.Result) ([]string, error) {
	vs := res.Violations()
	files := make([]string, len(vs))
	if dir == "" {
		return files, nil
	}
	for k, v := range vs {
		steps := append(append([]mc.Step{}, v.Trace...), v.Cycle...)
		run, err := res.Model.Run(steps)
		if err != nil {
			return nil, fmt.Errorf("counterexample to %s: %w", v.Property, err)
		}
		evs, err := refine.FromRun(res.Params, run, refine.ConvertOptions{Workload: fmt.Sprintf("fvm check --config %s: counterexample to %s", config, v.Property)})
		if err != nil {
			return nil, fmt.Errorf("counterexample to %s: %w", v.Property, err)
		}
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return nil, badInput(fmt.Errorf("trace dir: %w", err))
		}
		name := filepath.Join(dir, fmt.Sprintf("cex-%s-%s.jsonl", sanitize(config), v.Property))
		if err := writeTrace(name, evs); err != nil {
			return nil, err
		}
		files[k] = name
	}
	return files, nil
}

func sanitize(s string) string {
	return strings.Map(func(r rune) rune {
		if r == '/' || r == '\\' || r == ' ' {
			return '_'
		}
		return r
	}, s)
}

func expected(cfg *configs.Config, name string) string {
	if v, ok := cfg.Check.Expect[name]; ok {
		if v == configs.Fails {
			return "violated"
		}
		return "holds"
	}
	return "holds"
}

func writeStatsText(w io.Writer, label string, st mc.Stats) {
	sym := "off"
	if st.Symmetry {
		sym = "on"
	}
	fmt.Fprintf(w, "%s (symmetry %s, %d workers): %d distinct states, %d generated, depth %d, %.2fs, %.0f states/s, %.1f bytes/state\n",
		label, sym, st.Workers, st.Distinct, st.Initial+st.Generated, st.Depth, st.SearchTime.Seconds(), st.StatesPerSec, st.BytesPerState)
	if st.SCCs > 0 {
		fmt.Fprintf(w, "  graph: %d edges, %d SCCs, %d limit sets (fair SCCs)\n", st.Edges, st.SCCs, st.LimitSets)
	}
}

func writeModelCheckText(w io.Writer, cfg *configs.Config, res *spec.Result, files []string, elapsed time.Duration) {
	p, m := res.Params, res.Model
	fmt.Fprintf(w, "check: config %s (%d FVMs, host %s, rule %s, U=%d, D=%v)\n", cfg.Name, p.N(), p.Host, p.Rule, p.U, delaysOf(p))
	writeStatsText(w, "safety", res.Safety.Stats)
	if res.Liveness != nil && res.Liveness != res.Safety {
		writeStatsText(w, "liveness", res.Liveness.Stats)
	}
	if res.Liveness != nil {
		if res.Bounds.HasBand {
			fmt.Fprintf(w, "bounds (proofs): Efficient band [%d, %d], Fair eps %d\n", res.Bounds.Band.Lo, res.Bounds.Band.Hi, res.Bounds.Eps)
		} else {
			fmt.Fprintf(w, "bounds (proofs): no efficiency band for host %s (Efficient not checked), Fair eps %d\n", p.Host, res.Bounds.Eps)
		}
	}
	fmt.Fprintln(w, "properties:")
	for _, v := range res.Verdicts() {
		note := ""
		if exp := expected(cfg, v.Name); v.Status != mc.NotChecked && exp != v.Status.String() {
			note = "  (UNEXPECTED: the configuration records " + exp + ")"
		} else if v.Status == mc.Violated {
			note = "  (expected by the configuration)"
		}
		fmt.Fprintln(w, strings.TrimRight(fmt.Sprintf("  %-13s %-9s %-11s%s", v.Name, v.Kind, v.Status, note), " "))
	}
	if res.Liveness == nil {
		fmt.Fprintln(w, "  liveness not checked (--liveness to check Efficient and Fair)")
	}
	for _, n := range append(append([]string{}, res.Safety.Notes...), livenessNotes(res)...) {
		fmt.Fprintf(w, "  note: %s\n", n)
	}
	if len(res.LimitSets) > 0 {
		fmt.Fprintln(w, "limit sets (long-run average CPU shares, uniform over the set's states):")
		for k, f := range res.LimitSets {
			if k == 12 {
				fmt.Fprintf(w, "  ... %d more\n", len(res.LimitSets)-k)
				break
			}
			fmt.Fprintf(w, "  %7d states  shares %s  Jain %.4f  (every cycle: Jain >= %.4f)  from %s\n",
				f.States, fmtShares(f.Shares), f.Jain, f.JainBound, m.Format(f.First))
		}
		fmt.Fprintf(w, "worst long-run Jain index: %.4f over %d limit sets (lower bound over every cycle: %.4f)\n",
			res.WorstJain, len(res.LimitSets), res.WorstJainBound)
	}
	actions := m.Actions()
	for k, v := range res.Violations() {
		switch v.Kind {
		case mc.KindLiveness:
			if v.Stutter {
				fmt.Fprintf(w, "counterexample to %s (%d steps, then stutters forever in a deadlock):\n", v.Property, len(v.Trace)-1)
			} else {
				fmt.Fprintf(w, "counterexample to %s: lasso, prefix of %d steps then a weakly fair cycle of %d steps:\n", v.Property, len(v.Trace)-1, len(v.Cycle))
			}
		default:
			fmt.Fprintf(w, "counterexample to %s (shortest, %d steps):\n", v.Property, len(v.Trace)-1)
		}
		writeSteps(w, actions, m, v.Trace, 0)
		if len(v.Cycle) > 0 {
			fmt.Fprintln(w, "  -- cycle (back to the last state above) --")
			writeSteps(w, actions, m, v.Cycle, len(v.Trace))
		}
		if files[k] != "" {
			fmt.Fprintf(w, "  trace: %s\n", files[k])
		}
	}
	fmt.Fprintf(w, "total time %.2fs\n", elapsed.Seconds())
}

func livenessNotes(res *spec.Result) []string {
	if res.Liveness == nil || res.Liveness == res.Safety {
		return nil
	}
	return res.Liveness.Notes
}

func writeSteps(w io.Writer, actions []string, m *spec.Model, steps []mc.Step, first int) {
	for k, st := range steps {
		name := "Init"
		if st.Action >= 0 {
			name = actions[st.Action]
		}
		fmt.Fprintf(w, "  %4d %-9s %s\n", first+k, name, m.Format(st.State))
	}
}

func fmtShares(a []float64) string {
	parts := make([]string, len(a))
	for i, x := range a {
		parts[i] = fmt.Sprintf("%.3f", x)
	}
	return "[" + strings.Join(parts, " ") + "]"
}

func delaysOf(p *ref.Params) []int {
	d := make([]int, p.N())
	for i, f := range p.FVMs {
		d[i] = f.D
	}
	return d
}

// JSON output of `fvm check --json`.
type checkJSON struct {
	Config         string            `json:"config"`
	OK             bool              `json:"ok"`
	N              int               `json:"n"`
	Host           string            `json:"host"`
	Rule           string            `json:"rule"`
	Safety         statsJSON         `json:"safety"`
	Liveness       *statsJSON        `json:"liveness"`
	Verdicts       []verdictJSON     `json:"verdicts"`
	Notes          []string          `json:"notes,omitempty"`
	Bounds         *boundsJSON       `json:"bounds,omitempty"`
	LimitSets      []limitSetJSON    `json:"limit_sets,omitempty"`
	WorstJain      *float64          `json:"worst_jain"`
	WorstJainBound *float64          `json:"worst_jain_bound"`
	Violations     []violationJSON   `json:"violations"`
	Seconds        float64           `json:"seconds"`
	Expect         map[string]string `json:"expect,omitempty"`
}

type statsJSON struct {
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

type verdictJSON struct {
	Name     string `json:"name"`
	Kind     string `json:"kind"`
	Status   string `json:"status"`
	Expected string `json:"expected"`
}

type boundsJSON struct {
	EfficientLo *int `json:"efficient_lo,omitempty"`
	EfficientHi *int `json:"efficient_hi,omitempty"`
	FairEps     int  `json:"fair_eps"`
}

type limitSetJSON struct {
	States    int       `json:"states"`
	Edges     int       `json:"edges"`
	First     string    `json:"first"`
	Shares    []float64 `json:"shares"`
	Jain      float64   `json:"jain"`
	Delta     float64   `json:"delta"`
	MinMean   float64   `json:"min_mean"`
	JainBound float64   `json:"jain_bound"`
}

type stepJSON struct {
	Action  string `json:"action"`
	Demands []int  `json:"demands"`
	State   string `json:"state"`
}

type violationJSON struct {
	Property string     `json:"property"`
	Kind     string     `json:"kind"`
	Trace    []stepJSON `json:"trace"`
	Cycle    []stepJSON `json:"cycle,omitempty"`
	Stutter  bool       `json:"stutter,omitempty"`
	File     string     `json:"trace_file,omitempty"`
}

func statsOf(st mc.Stats) statsJSON {
	return statsJSON{Symmetry: st.Symmetry, Workers: st.Workers, Distinct: st.Distinct, Initial: st.Initial,
		Generated: st.Generated, Depth: st.Depth, Seconds: st.SearchTime.Seconds(), StatesPerSec: st.StatesPerSec,
		BytesPerState: st.BytesPerState, Edges: st.Edges, SCCs: st.SCCs, LimitSets: st.LimitSets}
}

func finite(x float64) *float64 {
	if math.IsNaN(x) || math.IsInf(x, 0) {
		return nil
	}
	return &x
}

func writeModelCheckJSON(w io.Writer, cfg *configs.Config, res *spec.Result, files []string, elapsed time.Duration) error {
	p, m := res.Params, res.Model
	out := checkJSON{Config: cfg.Name, OK: res.OK(), N: p.N(), Host: p.Host.String(), Rule: p.Rule.String(),
		Safety: statsOf(res.Safety.Stats), WorstJain: finite(res.WorstJain), WorstJainBound: finite(res.WorstJainBound),
		Seconds: elapsed.Seconds(), Violations: []violationJSON{}}
	out.Notes = append(append(out.Notes, res.Safety.Notes...), livenessNotes(res)...)
	if res.Liveness != nil {
		st := statsOf(res.Liveness.Stats)
		out.Liveness = &st
		b := &boundsJSON{FairEps: res.Bounds.Eps}
		if res.Bounds.HasBand {
			b.EfficientLo, b.EfficientHi = &res.Bounds.Band.Lo, &res.Bounds.Band.Hi
		}
		out.Bounds = b
	}
	for _, v := range res.Verdicts() {
		out.Verdicts = append(out.Verdicts, verdictJSON{Name: v.Name, Kind: v.Kind.String(), Status: v.Status.String(), Expected: expected(cfg, v.Name)})
	}
	for _, f := range res.LimitSets {
		out.LimitSets = append(out.LimitSets, limitSetJSON{States: f.States, Edges: f.Edges, First: m.Format(f.First),
			Shares: f.Shares, Jain: f.Jain, Delta: f.Delta, MinMean: f.MinMean, JainBound: f.JainBound})
	}
	actions := m.Actions()
	steps := func(ss []mc.Step) []stepJSON {
		var o []stepJSON
		for _, st := range ss {
			name := "Init"
			if st.Action >= 0 {
				name = actions[st.Action]
			}
			s := m.Unpack(st.State)
			o = append(o, stepJSON{Action: name, Demands: s.Demands(p.N()), State: s.Format(p.N())})
		}
		return o
	}
	for k, v := range res.Violations() {
		out.Violations = append(out.Violations, violationJSON{Property: v.Property, Kind: v.Kind.String(),
			Trace: steps(v.Trace), Cycle: steps(v.Cycle), Stutter: v.Stutter, File: files[k]})
	}
	if len(cfg.Check.Expect) > 0 {
		out.Expect = map[string]string{}
		for k, v := range cfg.Check.Expect {
			out.Expect[k] = string(v)
		}
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(out)
}

// overridden reports whether p differs from the parameters of the named
// configuration as it is stored (that is, whether a flag changed the model).
func overridden(name string, p *ref.Params) bool {
	c, err := configs.Load(name)
	if err != nil {
		return true
	}
	orig, err := c.Params()
	return err != nil || !reflect.DeepEqual(orig, p)
}
