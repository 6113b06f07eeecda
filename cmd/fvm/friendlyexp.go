package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/friendly-vm/fvm/friendly"
	"github.com/friendly-vm/fvm/friendly/experiment"
	"github.com/friendly-vm/fvm/uml-impl/controller"
)

func newFriendlyExperimentCmd() *cobra.Command {
	var (
		out       string
		dur       time.Duration
		cpu       int
		nice      int
		periodUs  int64
		stepUs    int64
		pauseMode string
	)
	var names []string
	for _, e := range experiment.Experiments() {
		names = append(names, fmt.Sprintf("  %-7s %s (%v)", e.Name, e.Description, e.Duration))
	}
	c := &cobra.Command{
		Use:   "experiment NAME",
		Short: "Run friendly groups against each other and against the alternatives, on one pinned core",
		Long: `experiment runs the named experiment on one core (--cpu, all participants pinned there;
fvm keeps its own threads off it) into OUT/friendly-NAME[-VARIANT]/, checks that the
friendly groups' traces refine ref, and prints a table per run (and for job the
comparison of the latency loop's slowdown). Needs root. Experiments:
` + strings.Join(names, "\n"),
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			e, err := experiment.Lookup(args[0])
			if err != nil {
				return badInput(err)
			}
			if dur != 0 && dur < 2*time.Second {
				return badInput(fmt.Errorf("--duration %v: want at least 2s", dur))
			}
			if cpu < 0 {
				return badInput(fmt.Errorf("--cpu %d: want a CPU number", cpu))
			}
			if nice < -20 || nice > 19 {
				return badInput(fmt.Errorf("--nice %d: want -20..19", nice))
			}
			idle, err := controller.ParsePauseMode(pauseMode)
			if err != nil {
				return badInput(fmt.Errorf("--pause-mode %w", err))
			}
			specs := e.Specs(dur, cpu, nice, idle)
			for i := range specs {
				specs[i].PeriodUs, specs[i].PeriodStepUs = periodUs, stepUs
				// Run prepares its own copy; this one only validates the flags.
				c := specs[i]
				if err := c.Prepare(); err != nil {
					return badInput(fmt.Errorf("--period-us %d --period-step-us %d: %w", periodUs, stepUs, err))
				}
			}
			exe, err := os.Executable()
			if err != nil {
				return fmt.Errorf("find the fvm executable: %w", err)
			}
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			w := cmd.OutOrStdout()
			var sums []*experiment.Summary
			var bad []string
			for _, s := range specs {
				dir := filepath.Join(out, s.Name)
				res, err := experiment.Run(ctx, s, experiment.Env{Exe: exe, Progress: cmd.ErrOrStderr()}, dir)
				if err != nil {
					return err
				}
				fmt.Fprintf(w, "\n%s (%s)\n\n%s", s.Name, dir, experiment.RunTable(res.Summary))
				sums = append(sums, res.Summary)
				if r := res.Summary.Refines; r != nil && !*r {
					bad = append(bad, fmt.Sprintf("%s does not refine ref: %s", s.Name, res.Summary.RefineFailure))
				}
				if !res.Summary.Complete {
					bad = append(bad, fmt.Sprintf("%s is incomplete: %s", s.Name, strings.Join(res.Summary.Errors, "; ")))
				}
			}
			if e.Name == "job" {
				t, err := experiment.JobTable(sums)
				if err != nil {
					return err
				}
				fmt.Fprintf(w, "\n%s", t)
			}
			if len(bad) > 0 {
				return violationError{strings.Join(bad, "; ")}
			}
			return nil
		},
	}
	c.Flags().StringVar(&out, "out", "out/friendly", "directory for the runs")
	c.Flags().DurationVar(&dur, "duration", 0, "length of each run (default: the experiment's)")
	c.Flags().IntVar(&nice, "nice", 0, "raise every participant together: the session's autogroup and each friendly group's weight at this nice (e.g. -15 on a shared machine; root)")
	c.Flags().Int64Var(&periodUs, "period-us", 0, "actuation period of friendly group 0 (default 100000; 20000 with --pause-mode sleep)")
	c.Flags().Int64Var(&stepUs, "period-step-us", 0, "group i's period is period-us + i*period-step-us (default 13000; 1000 with --pause-mode sleep; -1: equal periods)")
	c.Flags().StringVar(&pauseMode, "pause-mode", controller.PauseModeIdle, "how the friendly groups pause: idle (work-conserving, cpu.idle; runs are named ...-idle) or sleep (CFS quota)")
	c.Flags().IntVar(&cpu, "cpu", defaultCPU(), "the core every participant is pinned to (default $FVM_GUEST_CPU or 0)")
	return c
}

// defaultCPU is $FVM_GUEST_CPU (the project's convention for where real
// runs go), else 0.
func defaultCPU() int {
	var n int
	if _, err := fmt.Sscan(os.Getenv("FVM_GUEST_CPU"), &n); err == nil && n >= 0 {
		return n
	}
	return 0
}

func newFriendlySummarizeCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "summarize RUN_DIR...",
		Short: "Recompute the summary.json of friendly experiment runs from their traces and raw files",
		Args:  cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			for _, dir := range args {
				old, err := experiment.ReadSummary(dir)
				if err != nil {
					return badInput(err)
				}
				s, err := experiment.Summarize(dir)
				if err != nil {
					return badInput(err)
				}
				s.Errors, s.Complete = old.Errors, s.Complete && old.Complete
				if err := friendly.WriteJSON(filepath.Join(dir, "summary.json"), s); err != nil {
					return err
				}
				fmt.Fprintf(cmd.OutOrStdout(), "\n%s\n\n%s", dir, experiment.RunTable(s))
			}
			return nil
		},
	}
}

func newFriendlyProbeCmd() *cobra.Command {
	var (
		period, work time.Duration
		out          string
	)
	c := &cobra.Command{
		Use:    "probe --out FILE",
		Short:  "Internal: the latency-sensitive loop of the job experiment",
		Hidden: true,
		Args:   cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if out == "" {
				return badInput(errors.New("--out is required"))
			}
			f, err := os.Create(out)
			if err != nil {
				return badInput(err)
			}
			ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
			defer stop()
			if err := experiment.Probe(ctx, period, work, f); err != nil {
				f.Close()
				return badInput(err)
			}
			return f.Close()
		},
	}
	c.Flags().DurationVar(&period, "period", 10*time.Millisecond, "wake-up period")
	c.Flags().DurationVar(&work, "work", 2*time.Millisecond, "CPU time of work per wake-up")
	c.Flags().StringVar(&out, "out", "", "file for the \"t_ns response_ns\" lines")
	return c
}
