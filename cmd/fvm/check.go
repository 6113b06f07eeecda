package main

import (
	"encoding"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/friendly-vm/fvm/configs"
	"github.com/friendly-vm/fvm/ref"
	"github.com/friendly-vm/fvm/report"
	"github.com/friendly-vm/fvm/sim"
	"github.com/friendly-vm/fvm/spec"
	"github.com/friendly-vm/fvm/spec/mc"
	"github.com/friendly-vm/fvm/vocab"
)

type checkFlags struct {
	config         string
	json           bool
	result         string
	traceDir       string
	quiet          bool
	workers        int
	maxMemoryMiB   int64
	expectedStates int64
	symmetry       bool
	liveness       bool
	lossForever    bool

	// overrides holds the text of each configuration override flag.
	overrides map[string]*string
}

// override is a flag that replaces one field of the configuration.
type override struct {
	name, usage string
	set         func(c *configs.Config, v string) error
}

// overrides lists the configuration fields the check command's flags can
// replace; each parses its text with the configuration's own types.
func overrides() []override {
	intField := func(dst func(*configs.Config) *int) func(*configs.Config, string) error {
		return func(c *configs.Config, v string) error {
			x, err := strconv.Atoi(strings.TrimSpace(v))
			if err != nil {
				return fmt.Errorf("%q is not an integer", v)
			}
			*dst(c) = x
			return nil
		}
	}
	text := func(dst func(*configs.Config) encoding.TextUnmarshaler) func(*configs.Config, string) error {
		return func(c *configs.Config, v string) error { return dst(c).UnmarshalText([]byte(v)) }
	}
	return []override{
		{"n", "number of FVMs", intField(func(c *configs.Config) *int { return &c.N })},
		{"u", "demand units per core: a demand d is d/u of the core", intField(func(c *configs.Config) *int { return &c.U })},
		{"capacity", "host capacity, in units of 1/u of a core", intField(func(c *configs.Config) *int { return &c.Capacity })},
		{"kappa", "shared-host congestion fraction of the capacity (e.g. 1 or 7/8)", text(func(c *configs.Config) encoding.TextUnmarshaler { return &c.Kappa })},
		{"greedy", "greedy VMs' demands, comma-separated, in units of 1/u of a core", func(c *configs.Config, v string) error {
			c.Greedy = nil
			for _, part := range strings.Split(v, ",") {
				if strings.TrimSpace(part) == "" {
					continue
				}
				g, err := strconv.Atoi(strings.TrimSpace(part))
				if err != nil {
					return fmt.Errorf("%q is not an integer", part)
				}
				c.Greedy = append(c.Greedy, g)
			}
			return nil
		}},
		{"host", "host model: shared, fair, duty or duty-idle", text(func(c *configs.Config) encoding.TextUnmarshaler { return &c.Host })},
		{"signal", "per-FVM signal: vct or steal", text(func(c *configs.Config) encoding.TextUnmarshaler { return &c.Signal })},
		{"theta", "signal threshold (a fraction, e.g. 1/5 for steal, 3/2 for vct)", text(func(c *configs.Config) encoding.TextUnmarshaler { return &c.Theta })},
		{"rule", "rule: aimd, mimd, aiad, aimd-prop or aimd-phase", text(func(c *configs.Config) encoding.TextUnmarshaler { return &c.Rule })},
		{"alpha", "additive increase, in units of 1/u of a core", intField(func(c *configs.Config) *int { return &c.Alpha })},
		{"beta", "multiplicative decrease factor", text(func(c *configs.Config) encoding.TextUnmarshaler { return &c.Beta })},
		{"mu", "multiplicative increase factor (mimd)", text(func(c *configs.Config) encoding.TextUnmarshaler { return &c.Mu })},
		{"delta", "additive decrease (aiad), in units of 1/u of a core", intField(func(c *configs.Config) *int { return &c.Delta })},
		{"dmin", "smallest demand, in units of 1/u of a core", intField(func(c *configs.Config) *int { return &c.Dmin })},
		{"dmax", "largest demand, in units of 1/u of a core", intField(func(c *configs.Config) *int { return &c.Dmax })},
		{"delay", "delay bound: windows a sample may wait (every FVM)", intField(func(c *configs.Config) *int { return &c.Delay })},
		{"phases", "phase cycle of rule aimd-phase (a divisor of n)", intField(func(c *configs.Config) *int { return &c.Phases })},
		{"loss", "true: a sample older than the delay bound is dropped", func(c *configs.Config, v string) error {
			b, err := strconv.ParseBool(strings.TrimSpace(v))
			if err != nil {
				return fmt.Errorf("%q is not true or false", v)
			}
			c.Loss = b
			return nil
		}},
	}
}

func newCheckCmd() *cobra.Command {
	f := checkFlags{overrides: map[string]*string{}}
	cmd := &cobra.Command{
		Use:   "check",
		Short: "Model-check the reference model on a configuration",
		Long: `check explores every reachable state of the reference model for a configuration (the
embedded default unless --config names another or a .json file; the other flags override its
fields) and checks the properties of spec/MODEL.md: the invariants TypeOK, Bounds, DelayBound,
NoStarvation and deadlock freedom (with symmetry reduction over identical FVMs when
--symmetry), and, with --liveness, the <>[] properties under weak fairness of every action
(always without symmetry), with the long-run shares of every limit set.

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
	fl.StringVar(&f.result, "result", "", "also write the result as JSON (the --json form) to this file")
	fl.StringVar(&f.traceDir, "trace-dir", ".", `directory for counterexample traces ("" for none)`)
	fl.BoolVar(&f.quiet, "quiet", false, "no progress lines on stderr")
	fl.IntVar(&f.workers, "workers", 0, "search goroutines (0: GOMAXPROCS)")
	fl.Int64Var(&f.maxMemoryMiB, "max-memory", 0, "memory budget of the checker's tables in MiB (0: 80% of RAM)")
	fl.Int64Var(&f.expectedStates, "expected-states", 0, "pre-size the visited set for this many states")
	fl.BoolVar(&f.symmetry, "symmetry", false, "check the invariants with symmetry reduction (default: the configuration's check.symmetry)")
	fl.BoolVar(&f.liveness, "liveness", false, "check the <>[] properties (default: the configuration's check.liveness)")
	fl.BoolVar(&f.lossForever, "loss-forever", false, "assume weak fairness alone: losses may go on forever (the liveness claims assume they end)")
	for _, o := range overrides() {
		f.overrides[o.name] = fl.String(o.name, "", "override: "+o.usage)
	}
	return cmd
}

// applyOverrides copies the flags the user set into the configuration.
func applyOverrides(cmd *cobra.Command, f checkFlags, c *configs.Config) error {
	for _, o := range overrides() {
		if !cmd.Flags().Changed(o.name) {
			continue
		}
		v := *f.overrides[o.name]
		if err := o.set(c, v); err != nil {
			return fmt.Errorf("--%s %q: %w", o.name, v, err)
		}
	}
	if cmd.Flags().Changed("symmetry") {
		c.Check.Symmetry = f.symmetry
	}
	if cmd.Flags().Changed("liveness") {
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
		Symmetry: cfg.Check.Symmetry, Liveness: cfg.Check.Liveness, LossForever: f.lossForever,
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
	rep := spec.NewReport(cfg, res, files, elapsed)
	if f.result != "" {
		b, err := json.MarshalIndent(rep, "", "  ")
		if err != nil {
			return fmt.Errorf("check: %w", err)
		}
		if err := report.WriteFileSync(f.result, append(b, '\n')); err != nil {
			return fmt.Errorf("check: --result: %w", err)
		}
	}
	if f.json {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		if err := enc.Encode(rep); err != nil {
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
		if res.Params.Rule.SampleBits() > 1 {
			continue // replayed in ref above; a trace records one bit per window, not these samples
		}
		evs, err := sim.Trace(res.Params, run, sim.TraceOptions{Workload: fmt.Sprintf("fvm check --config %s: counterexample to %s", config, v.Property)})
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
		b := res.Bounds
		fmt.Fprintf(w, "bounds (proofs): eps %d", b.Eps)
		if b.HasBand {
			fmt.Fprintf(w, ", Efficient band [%d, %d]", b.Band.Lo, b.Band.Hi)
		}
		if b.Floor != nil {
			fmt.Fprintf(w, ", Utilised floor %v (units of 1/%d)", b.Floor, p.U)
		}
		if b.Ceiling != nil {
			fmt.Fprintf(w, ", Friendly ceiling %v (greedy shares at it %s)", b.Ceiling, fmtRats(p.GreedyShares(b.Ceiling)))
		}
		fmt.Fprintln(w)
	}
	fmt.Fprintln(w, "properties:")
	for _, v := range res.Verdicts() {
		note := ""
		if exp := cfg.Check.Expected(v.Name); v.Status != mc.NotChecked && exp != v.Status {
			note = "  (UNEXPECTED: the configuration records " + exp.String() + ")"
		} else if v.Status == mc.Violated {
			note = "  (expected by the configuration)"
		}
		fmt.Fprintln(w, strings.TrimRight(fmt.Sprintf("  %-16s %-9s %-11s%s", v.Name, v.Kind, v.Status, note), " "))
	}
	if res.Liveness == nil {
		fmt.Fprintln(w, "  liveness not checked (--liveness to check the <>[] and limit-set properties)")
	}
	for _, n := range append(append([]string{}, res.Safety.Notes...), res.LivenessNotes()...) {
		fmt.Fprintf(w, "  note: %s\n", n)
	}
	if len(res.LimitSets) > 0 {
		fmt.Fprintln(w, "limit sets (long-run average CPU shares and utilisation, uniform over the set's states):")
		for k, f := range res.LimitSets {
			if k == 12 {
				fmt.Fprintf(w, "  ... %d more\n", len(res.LimitSets)-k)
				break
			}
			sym := ""
			if f.Symmetric {
				sym = "  symmetric"
			}
			greedy := ""
			if len(f.Greedy) > 0 {
				greedy = fmt.Sprintf("  greedy %s (min %s, every cycle >= %s), FVM min %.3f",
					fmtShares(f.Greedy), fmtShares(f.GreedyMin), fmtShares(f.GreedyCycle), f.ShareMin)
			}
			fmt.Fprintf(w, "  %7d states  shares %s  Jain %.4f  (every cycle: Jain >= %.4f)  utilisation %.3f (min %.3f, every cycle >= %.3f)%s%s  from %s\n",
				f.States, fmtShares(f.Shares), f.Jain, f.JainBound, f.Util, f.UtilMin, f.UtilCycle, greedy, sym, m.Format(f.First))
		}
		fmt.Fprintf(w, "worst long-run Jain index: %.4f over %d limit sets (lower bound over every cycle: %.4f)\n",
			res.WorstJain, len(res.LimitSets), res.WorstJainBound)
		fmt.Fprintf(w, "long-run utilisation: at least %.4f in every state of a limit set, at least %.4f on average over every cycle\n",
			res.UtilMin, res.UtilCycle)
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

// fmtRats prints exact shares as decimals, like fmtShares.
func fmtRats(a []vocab.Rat) string {
	f := make([]float64, len(a))
	for i, r := range a {
		f[i] = r.Float()
	}
	return fmtShares(f)
}

func delaysOf(p *ref.Params) []int {
	d := make([]int, p.N())
	for i, f := range p.FVMs {
		d[i] = f.Delay
	}
	return d
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
