package main

import (
	"errors"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/friendly-vm/fvm/report"
	"github.com/friendly-vm/fvm/uml-impl/runner"
)

func newUMLCompareCmd() *cobra.Command {
	var (
		kf         umlKernelFlags
		out        string
		sweep      []int
		only       []string
		nice       int
		reportOnly bool
	)
	var mechs []string
	for _, m := range runner.Mechanisms() {
		mechs = append(mechs, fmt.Sprintf("  %-11s %s", m.Name, m.Description))
	}
	c := &cobra.Command{
		Use:   "compare",
		Short: "Run every mechanism (baselines and controllers) in pair, four and greedy; write a table and a plot",
		Long: `compare runs each mechanism in the pair, four and greedy experiments, the
guests of a baseline standing where the FVMs stand, and the steal controllers
also at every --sweep threshold (pair and greedy). Each run goes to
OUT/compare-MECHANISM[-tTHETA]-SCENARIO/ (a RUN_DIR); OUT/compare.json lists them,
OUT/compare.md holds the tables (Jain, utilisation and convergence of pair and
four, the shares beside a greedy guest, the pair's work against cfs's, and
whether every run refines ref; then each controller's pair and four beside
the proofs' prediction for the model its traces declare) and OUT/compare.png
plots the pair's utilisation against the greedy guest's share. A directory
that already holds a complete run of the same configuration is kept, so an
interrupted comparison resumes; one of another configuration, or an
incomplete one, is refused (move it away). --report only rewrites the tables
and the plot. Mechanisms:
` + strings.Join(mechs, "\n"),
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if !reportOnly {
				if err := runComparison(cmd, &kf, out, sweep, only, nice); err != nil {
					return err
				}
			}
			c, err := report.ReadComparison(out)
			if err != nil {
				return badInput(err)
			}
			if err := writeComparison(out, c); err != nil {
				return err
			}
			tw := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 0, 2, ' ', 0)
			fmt.Fprintln(tw, strings.Join(c.Header, "\t"))
			for _, r := range c.Cells {
				fmt.Fprintln(tw, strings.Join(r, "\t"))
			}
			tw.Flush()
			fmt.Fprintf(cmd.OutOrStdout(), "wrote %s and %s\n", filepath.Join(out, "compare.md"), filepath.Join(out, "compare.png"))
			missing := 0
			for _, r := range c.Cells {
				switch v := r[len(r)-1]; {
				case v == "—":
					missing++
				case v != "yes":
					return violationError{fmt.Sprintf("%s: traces do not refine ref: %s", r[0], v)}
				}
			}
			if missing > 0 {
				fmt.Fprintf(cmd.OutOrStdout(), "%d of %d rows have no runs yet: run without --report to make them\n", missing, len(c.Cells))
			}
			return nil
		},
	}
	kf.register(c)
	c.Flags().StringVar(&out, "out", "out/compare", "directory for the runs, the table and the plot")
	c.Flags().IntSliceVar(&sweep, "sweep", []int{100, 200, 300}, "further thresholds (permille) for the steal controllers, in pair and greedy")
	c.Flags().StringSliceVar(&only, "only", nil, "run only these mechanisms (comma-separated)")
	c.Flags().IntVar(&nice, "nice", 0, "host nice value of every guest (e.g. -15 to measure on a busy shared machine; baselines keep their distance)")
	c.Flags().BoolVar(&reportOnly, "report", false, "run nothing: rewrite OUT/compare.md and OUT/compare.png from the runs in OUT")
	return c
}

// runComparison runs every run of the comparison that OUT does not yet
// hold complete.
func runComparison(cmd *cobra.Command, kf *umlKernelFlags, out string, sweep []int, only []string, nice int) error {
	runs, err := runner.CompareSpecs("", sweep, only)
	if err != nil {
		return badInput(fmt.Errorf("--sweep/--only: %w", err))
	}
	ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	var todo []runner.CompareRun
	for _, r := range runs {
		dir := filepath.Join(out, r.Run)
		s, err := runner.ReadSummary(dir)
		switch {
		case err == nil && s.Complete:
			same, err := runner.SameRun(dir, r.Spec)
			if err != nil {
				return badInput(err)
			}
			if !same {
				return badInput(fmt.Errorf("%s holds a run of another configuration (its spec.json): move it away to run %s as it is now", dir, r.Run))
			}
			fmt.Fprintf(cmd.ErrOrStderr(), "compare: %s is complete, kept\n", dir)
			continue
		case err == nil:
			return badInput(fmt.Errorf("%s holds an incomplete run: move it away to run it again", dir))
		case !errors.Is(err, os.ErrNotExist):
			return badInput(err)
		}
		if _, err := os.Stat(dir); err == nil {
			return badInput(fmt.Errorf("%s exists without a summary (an interrupted run): move it away to run it again", dir))
		}
		todo = append(todo, r)
	}
	if err := runner.AddToManifest(out, runs); err != nil {
		return err
	}
	if len(todo) == 0 {
		return nil
	}
	for _, r := range todo {
		if err := r.Spec.CheckPrivileges(); err != nil {
			return badInput(err)
		}
	}
	k, bins, clean, err := prepareRuns(ctx, kf, cmd.ErrOrStderr())
	if err != nil {
		return err
	}
	defer clean()
	var incomplete []string
	for i, r := range todo {
		fmt.Fprintf(cmd.ErrOrStderr(), "compare: run %d of %d: %s\n", i+1, len(todo), r.Run)
		spec := r.Spec
		spec.Kernel, spec.Nice = k, nice
		res, err := runner.Run(ctx, spec, bins, filepath.Join(out, r.Run), cmd.ErrOrStderr())
		if err != nil {
			return err
		}
		if !res.Complete {
			incomplete = append(incomplete, r.Run)
		}
		if ctx.Err() != nil {
			return fmt.Errorf("compare: stopped after %s (kept, marked incomplete): %w", r.Run, ctx.Err())
		}
	}
	if len(incomplete) > 0 {
		return violationError{fmt.Sprintf("incomplete runs (kept, marked incomplete): %s", strings.Join(incomplete, ", "))}
	}
	return nil
}

// writeComparison writes OUT/compare.md and OUT/compare.png.
func writeComparison(out string, c *report.Comparison) error {
	if err := os.WriteFile(filepath.Join(out, "compare.md"), []byte(c.Markdown()), 0o644); err != nil {
		return fmt.Errorf("write the table: %w", err)
	}
	return c.Plot(filepath.Join(out, "compare.png"))
}
