package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"runtime"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/friendly-vm/fvm/configs"
	"github.com/friendly-vm/fvm/spec"
	"github.com/friendly-vm/fvm/spec/mc"
	"github.com/friendly-vm/fvm/tla"
	"github.com/friendly-vm/fvm/trace"
	"github.com/friendly-vm/fvm/trace/refine"
)

type tlcFlags struct {
	config      string
	all         bool
	noLiveness  bool
	noSymmetry  bool
	workers     string
	verbose     bool
	skipMissing bool
}

func newTLCCmd() *cobra.Command {
	var f tlcFlags
	cmd := &cobra.Command{
		Use:   "tlc",
		Short: "Check a configuration with TLC on tla/FVM.tla",
		Long: `tlc generates the model for a configuration (as "fvm tlc gen" does), runs TLC on it
(tla2tools.jar from $TLA2TOOLS) and prints the distinct states (without and, for safety,
with symmetry), the verdict on every property and the counterexample lengths.

Every property gets a verdict: after a violation TLC runs again without the violated
property. The exit status is 1 when a verdict differs from the configuration's recorded
expectation (check.expect; unlisted properties must hold), 2 on bad input or when TLC
is missing.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runTLC(cmd.Context(), cmd.OutOrStdout(), f)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.config, "config", "default", "configuration name (embedded) or .json file")
	fl.BoolVar(&f.all, "all", false, "check every configuration marked check.tlc")
	fl.BoolVar(&f.noLiveness, "no-liveness", false, "check the invariants only")
	fl.BoolVar(&f.noSymmetry, "no-symmetry", false, "skip the safety run with symmetry reduction")
	fl.StringVar(&f.workers, "workers", "auto", "TLC's -workers")
	fl.BoolVarP(&f.verbose, "verbose", "v", false, "show TLC's output")
	fl.BoolVar(&f.skipMissing, "skip-missing", false, `without the TLA+ tools print one "SKIP tlc:" line and exit 0 (for make)`)
	cmd.AddCommand(newTLCGenCmd(), newTLCTraceCmd(), newTLCBenchCmd(), newTLCDistributedCmd())
	return cmd
}

func tlcRunner(workers string, verbose bool, w io.Writer) (*tla.Runner, error) {
	r, err := tla.FindRunner()
	if err != nil {
		return nil, badInput(err)
	}
	r.Workers = workers
	if verbose {
		r.Log = w
	}
	return r, nil
}

func tlcConfigNames(config string, all bool) ([]string, error) {
	if !all {
		return []string{config}, nil
	}
	var names []string
	for _, n := range configs.Names() {
		c, err := configs.Load(n)
		if err != nil {
			return nil, badInput(err)
		}
		if c.Check.TLC {
			names = append(names, n)
		}
	}
	return names, nil
}

func runTLC(ctx context.Context, w io.Writer, f tlcFlags) error {
	if ctx == nil {
		ctx = context.Background()
	}
	names, err := tlcConfigNames(f.config, f.all)
	if err != nil {
		return err
	}
	r, err := tlcRunner(f.workers, f.verbose, w)
	if err != nil {
		if f.skipMissing && errors.Is(err, tla.ErrNoTLC) {
			fmt.Fprintln(w, "SKIP tlc: "+tla.SkipHint)
			return nil
		}
		return err
	}
	var mismatches []string
	start := time.Now()
	for _, name := range names {
		m, err := loadModel(name)
		if err != nil {
			return err
		}
		rep, err := r.Check(ctx, m, tla.CheckOptions{NoLiveness: f.noLiveness, NoSymmetry: f.noSymmetry})
		if err != nil {
			return fmt.Errorf("tlc: config %s: %w", name, err)
		}
		mismatches = append(mismatches, printTLCReport(w, m, rep)...)
	}
	if len(names) > 1 {
		fmt.Fprintf(w, "tlc: %d configurations in %.1fs\n", len(names), time.Since(start).Seconds())
	}
	if len(mismatches) > 0 {
		return violationError{"tlc: verdicts differ from the configurations' expectations: " + strings.Join(mismatches, "; ")}
	}
	return nil
}

// printTLCReport prints one configuration's report and returns the
// properties whose verdict is not the expected one.
func printTLCReport(w io.Writer, m *tla.Model, rep *tla.Report) []string {
	fmt.Fprintf(w, "tlc: config %s: %d distinct states", rep.Config, rep.Distinct)
	if rep.SymDistinct > 0 {
		fmt.Fprintf(w, ", %d with symmetry (safety)", rep.SymDistinct)
	}
	fmt.Fprintf(w, "; %d TLC runs, %.1fs (CPU %.1fs)\n", len(rep.Runs), rep.Duration.Seconds(), rep.CPU.Seconds())
	props := make([]string, 0, len(rep.Verdicts))
	for p := range rep.Verdicts {
		props = append(props, p)
	}
	var order []string
	for _, pr := range spec.Properties(m.Params) {
		order = append(order, pr.Name)
	}
	slices.SortFunc(props, func(a, b string) int { return slices.Index(order, a) - slices.Index(order, b) })
	var bad []string
	for _, p := range props {
		v := rep.Verdicts[p]
		want := m.Config.Check.Expected(p)
		note := ""
		switch {
		case v != want:
			note = fmt.Sprintf("  UNEXPECTED (expected %s)", want)
			bad = append(bad, fmt.Sprintf("%s %s %s", rep.Config, p, v))
		case v == mc.Violated:
			note = "  (as expected)"
		}
		cex := ""
		if n, ok := rep.Counterexamples[p]; ok {
			cex = fmt.Sprintf(", counterexample of %d states", n)
		}
		fmt.Fprintf(w, "  %-16s %s%s%s\n", p, v, cex, note)
	}
	return bad
}

func newTLCGenCmd() *cobra.Command {
	var config, dir string
	var all bool
	cmd := &cobra.Command{
		Use:   "gen",
		Short: "Write tla/generated/MC_<config>.tla and .cfg from a configuration",
		Long: `gen writes the TLC model files for a configuration: MC_<config>.tla (the constants,
including the efficiency band, the rounding residual and the demand floor computed by
package ref from the proofs),
MC_<config>.cfg (every invariant and temporal property, no symmetry) and, when the
configuration allows symmetry, MC_<config>_sym.cfg (the invariants with SYMMETRY).
'-' in a configuration name becomes '_' in the module name. Run TLC on them with
  java -XX:+UseParallelGC -cp $TLA2TOOLS tlc2.TLC -workers auto -config MC_x.cfg MC_x.tla
in a directory that also holds tla/FVM.tla.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			names := []string{config}
			if all {
				names = configs.Names()
			}
			for _, name := range names {
				m, err := loadModel(name)
				if err != nil {
					return err
				}
				paths, err := m.WriteFiles(dir)
				if err != nil {
					return err
				}
				for _, p := range paths {
					fmt.Fprintln(cmd.OutOrStdout(), "wrote", p)
				}
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&config, "config", "default", "configuration name (embedded) or .json file")
	cmd.Flags().BoolVar(&all, "all", false, "every embedded configuration")
	cmd.Flags().StringVar(&dir, "dir", "tla/generated", "output directory")
	return cmd
}

func newTLCTraceCmd() *cobra.Command {
	var workers string
	var vm int
	var verbose bool
	cmd := &cobra.Command{
		Use:   "trace FILE.jsonl|RUN_DIR",
		Short: "Validate traces against FVM with TLC (tla/FVMTrace.tla)",
		Long: `trace checks with TLC that each VM's trace is a behavior of FVM in open mode, against
the model its header declares: every sample a tick with the sample's congested bit (checked
against its measurement), every decision an Act on the oldest pending window that follows the
rule within the delay bound (or a hold), every gap a loss of windows older than the delay
bound. Hidden variables (the FIFO, the initial demand without init_d) are resolved by TLC.
A run directory's *.jsonl files are checked one by one, every VM of each (--vm for one).
Exit status 1 when a trace is rejected.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			paths, err := refine.Paths(args)
			if err != nil {
				return badInput(err)
			}
			r, err := tlcRunner(workers, verbose, cmd.OutOrStdout())
			if err != nil {
				return err
			}
			ctx := cmd.Context()
			if ctx == nil {
				ctx = context.Background()
			}
			for _, path := range paths {
				vms, err := traceVMs(path)
				if err != nil {
					return badInput(err)
				}
				for _, v := range vms {
					if vm >= 0 && v != vm {
						continue
					}
					tr, err := r.CheckTrace(ctx, path, v)
					if err != nil {
						if errors.Is(err, context.Canceled) {
							return err
						}
						return fmt.Errorf("tlc trace: %w", err)
					}
					if !tr.Accepted {
						return violationError{fmt.Sprintf("trace %s, vm %d is not a behavior of FVM: explained %d of its %d lines",
							path, v, tr.Explained, tr.Events)}
					}
					if tr.Run == nil {
						fmt.Fprintf(cmd.OutOrStdout(), "trace %s, vm %d: no controller lines (a guest without fvmd): nothing to validate\n", path, v)
						continue
					}
					fmt.Fprintf(cmd.OutOrStdout(), "trace %s, vm %d: a behavior of FVM (%d lines); TLC %.1fs\n", path, v, tr.Events, tr.Run.Duration.Seconds())
				}
			}
			return nil
		},
	}
	cmd.Flags().IntVar(&vm, "vm", -1, "check only this VM (-1: every VM with a header)")
	cmd.Flags().StringVar(&workers, "workers", "1", "TLC's -workers")
	cmd.Flags().BoolVarP(&verbose, "verbose", "v", false, "show TLC's output")
	return cmd
}

// traceVMs lists the VMs with a header in a trace file, in order.
func traceVMs(path string) ([]int, error) {
	evs, err := trace.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var vms []int
	for _, e := range evs {
		if e.Kind == trace.KindHeader {
			vms = append(vms, e.VM)
		}
	}
	return vms, nil
}

func newTLCBenchCmd() *cobra.Command {
	var config string
	var skipMissing bool
	cmd := &cobra.Command{
		Use:   "bench",
		Short: "TLC against the Go checker on one configuration: states/s and time to a verdict",
		Long: `bench checks the invariants of a configuration (safety only, the same model, the same
cores) with TLC (-workers auto) and with the Go checker (package spec), first without
symmetry, printing both distinct-state rates and their ratio, then with symmetry
reduction in both, printing the time to a verdict. The Go checker is spec.Check, what
"fvm check --config NAME" runs (without --liveness). The distinct-state counts must be
equal; bench fails otherwise.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			r, err := tlcRunner("auto", false, cmd.OutOrStdout())
			if err != nil {
				if skipMissing && errors.Is(err, tla.ErrNoTLC) {
					fmt.Fprintln(cmd.OutOrStdout(), "SKIP bench-mc: "+tla.SkipHint)
					return nil
				}
				return err
			}
			ctx := cmd.Context()
			if ctx == nil {
				ctx = context.Background()
			}
			return runTLCBench(ctx, cmd.OutOrStdout(), r, config)
		},
	}
	cmd.Flags().StringVar(&config, "config", "medium", "configuration name (embedded) or .json file")
	cmd.Flags().BoolVar(&skipMissing, "skip-missing", false, `without the TLA+ tools print one "SKIP" line and exit 0 (for make)`)
	return cmd
}

func runTLCBench(ctx context.Context, w io.Writer, r *tla.Runner, config string) error {
	m, err := tla.Load(config)
	if err != nil {
		return badInput(err)
	}
	if err := m.CheckIntRange(); err != nil {
		return badInput(err)
	}
	sm, err := spec.NewModel(m.Params)
	if err != nil {
		return badInput(err)
	}
	symmetric := sm.Symmetric()
	fmt.Fprintf(w, "bench-mc: config %s (%d FVMs, U=%d, D=%d), safety only (%s), %d CPUs\n",
		m.Config.Name, m.Params.N(), m.Params.U, m.Params.FVMs[0].Delay, strings.Join(m.Invariants(), ", "), runtime.NumCPU())
	var mismatch []string
	for _, sym := range []bool{false, true} {
		if sym && !symmetric {
			fmt.Fprintln(w, "  symmetry: the FVMs are not identical; skipped")
			break
		}
		label := "symmetry off"
		if sym {
			label = "symmetry on "
		}
		res, err := r.Run(ctx, m, m.Cfg(tla.CfgOptions{Symmetry: sym, Invariants: m.Invariants()}), "", nil)
		if err != nil {
			return fmt.Errorf("bench-mc: %w", err)
		}
		if res.Violated != "" {
			return fmt.Errorf("bench-mc: TLC: %s violated", res.Violated)
		}
		goStart, goCPU0 := time.Now(), selfCPU()
		gcheck, err := spec.Check(m.Params, spec.Options{Symmetry: sym})
		if err != nil {
			return fmt.Errorf("bench-mc: Go checker: %w", err)
		}
		goWall, goCPU := time.Since(goStart), selfCPU()-goCPU0
		if !gcheck.OK() {
			return fmt.Errorf("bench-mc: Go checker: %s violated", gcheck.Violations()[0].Property)
		}
		gres := gcheck.Safety
		tlcRate := float64(res.Distinct) / res.Duration.Seconds()
		goRate := float64(gres.Stats.Distinct) / goWall.Seconds()
		fmt.Fprintf(w, "  %s  TLC        %10d distinct states in %7.2fs = %10.0f states/s (wall, incl. JVM start and parsing; CPU %.1fs)\n",
			label, res.Distinct, res.Duration.Seconds(), tlcRate, res.CPU.Seconds())
		fmt.Fprintf(w, "  %s  Go checker %10d distinct states in %7.2fs = %10.0f states/s (wall; search alone %.2fs; CPU %.1fs)\n",
			label, gres.Stats.Distinct, goWall.Seconds(), goRate, gres.Stats.SearchTime.Seconds(), goCPU.Seconds())
		fmt.Fprintf(w, "  %s  ratio Go/TLC: %.1fx states/s, %.1fx time to a verdict (%.1fx CPU time)\n",
			label, goRate/tlcRate, res.Duration.Seconds()/goWall.Seconds(), res.CPU.Seconds()/goCPU.Seconds())
		if res.Distinct != gres.Stats.Distinct {
			mismatch = append(mismatch, fmt.Sprintf("%s: TLC %d, Go %d distinct states", label, res.Distinct, gres.Stats.Distinct))
		}
	}
	if len(mismatch) > 0 {
		return violationError{"bench-mc: distinct-state counts differ: " + strings.Join(mismatch, "; ")}
	}
	return nil
}

// selfCPU is the CPU time (user and system) this process has used.
func selfCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// loadModel loads configuration name as a TLA+ model whose integers fit
// TLC's range; an error is bad input.
func loadModel(name string) (*tla.Model, error) {
	m, err := tla.Load(name)
	if err != nil {
		return nil, badInput(err)
	}
	if err := m.CheckIntRange(); err != nil {
		return nil, badInput(err)
	}
	return m, nil
}
