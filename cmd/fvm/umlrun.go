package main

import (
	"github.com/friendly-vm/fvm/vocab"

	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/friendly-vm/fvm/uml-impl/controller"
	"github.com/friendly-vm/fvm/uml-impl/host"
	"github.com/friendly-vm/fvm/uml-impl/runner"
)

// umlKernelFlags locate the kernel: --kernel, else $FVM_KERNEL, else the
// cached (or freshly built) patched kernel.
type umlKernelFlags struct {
	kernel string
	build  umlBuildFlags
}

func (f *umlKernelFlags) register(c *cobra.Command) {
	c.Flags().StringVar(&f.kernel, "kernel", "", "UML kernel binary (default $FVM_KERNEL, else build or reuse the cached patched kernel)")
	f.build.register(c)
}

func (f *umlKernelFlags) resolve(ctx context.Context, prog io.Writer) (string, error) {
	k := f.kernel
	if k == "" {
		k = os.Getenv("FVM_KERNEL")
	}
	if k != "" {
		return k, nil
	}
	cfg, err := f.build.config(false, prog)
	if err != nil {
		return "", err
	}
	return host.Build(ctx, cfg)
}

// prepareRuns resolves the kernel (kf) and builds the guest programs for
// runs; the returned function removes the programs.
func prepareRuns(ctx context.Context, kf *umlKernelFlags, prog io.Writer) (string, runner.Binaries, func(), error) {
	k, err := kf.resolve(ctx, prog)
	if err != nil {
		return "", runner.Binaries{}, nil, err
	}
	bins, clean, err := guestBinaries(ctx)
	if err != nil {
		return "", bins, nil, err
	}
	return k, bins, clean, nil
}

// guestBinaries builds fvmd and fvmwork into a temporary directory; the
// returned function removes it.
func guestBinaries(ctx context.Context) (runner.Binaries, func(), error) {
	dir, err := os.MkdirTemp("", "fvm-bin-")
	if err != nil {
		return runner.Binaries{}, nil, err
	}
	b, err := runner.BuildBinaries(ctx, dir)
	if err != nil {
		os.RemoveAll(dir)
		return b, nil, err
	}
	return b, func() { os.RemoveAll(dir) }, nil
}

type umlRunFlags struct {
	kf                       umlKernelFlags
	spec, out, name          string
	fvms, greedy             int
	duration, join, leave    time.Duration
	workload, greedyWorkload string
	signal, rule, beta       string
	theta, alpha             int
	cpu, nice                int
	pauseMode                string
}

func newUMLRunCmd() *cobra.Command {
	var f umlRunFlags
	c := &cobra.Command{
		Use:   "run",
		Short: "Run N FVM and G greedy guests on one host core and write RUN_DIR (traces, summary.json)",
		Long: `run boots --fvms adaptive guests (the controller fvmd on) and --greedy
non-adaptive ones (demand pinned at one core, pause 0), all pinned to host
CPU --cpu, each running a workload (spin, mem or io) for --duration. With
--join, FVM i boots i*join after the start; with --leave, FVM i stops
i*leave before the end (FVM 0 always runs throughout). A guest still running
at its deadline (its duration plus a minute) is killed and the run marked
incomplete; what it wrote is kept. RUN_DIR (--out) receives one trace per VM
(<name>.jsonl: the guest's events merged with host CPU events), raw/ (guest
output) and summary.json. A line shows each guest's share while it runs.
The FVMs' pauses are work-conserving (--pause-mode idle, the default: the
pause runs at host SCHED_IDLE, which needs root on the host); --pause-mode
sleep takes sleeping pauses, without privilege. --spec runs a JSON
runner.Spec instead of the flags.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			spec, err := f.toSpec()
			if err != nil {
				return badInput(err)
			}
			if f.out == "" {
				return badInput(errors.New("--out RUN_DIR is required"))
			}
			if err := spec.CheckPrivileges(); err != nil {
				return badInput(err)
			}
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			k, bins, clean, err := prepareRuns(ctx, &f.kf, cmd.ErrOrStderr())
			if err != nil {
				return err
			}
			defer clean()
			spec.Kernel = k
			res, err := runner.Run(ctx, spec, bins, f.out, cmd.ErrOrStderr())
			if err != nil {
				return err
			}
			printResults(cmd.OutOrStdout(), []*runner.Result{res})
			if !res.Complete {
				return violationError{fmt.Sprintf("run %s incomplete: %s", spec.Name, strings.Join(res.Errors, "; "))}
			}
			return nil
		},
	}
	fl := c.Flags()
	f.kf.register(c)
	fl.StringVar(&f.spec, "spec", "", "JSON runner.Spec to run (overrides the scenario flags)")
	fl.StringVar(&f.out, "out", "", "RUN_DIR to write (a new directory)")
	fl.StringVar(&f.name, "name", "run", "run name")
	fl.IntVar(&f.fvms, "fvms", 2, "adaptive guests")
	fl.IntVar(&f.greedy, "greedy", 0, "greedy guests (pause 0)")
	fl.DurationVar(&f.duration, "duration", 30*time.Second, "run length")
	fl.DurationVar(&f.join, "join", 0, "FVM i boots i*join after the start")
	fl.DurationVar(&f.leave, "leave", 0, "FVM i stops i*leave before the end")
	fl.StringVar(&f.workload, "workload", "spin", "FVM workload: spin, mem or io")
	fl.StringVar(&f.greedyWorkload, "greedy-workload", "spin", "greedy workload: spin, mem or io")
	fl.StringVar(&f.signal, "signal", controller.Default().Signal.String(), "congestion signal: steal or vct")
	fl.IntVar(&f.theta, "theta", -1, "threshold, permille (default: the signal's)")
	fl.StringVar(&f.rule, "rule", "aimd", "rule: aimd, mimd or aiad")
	fl.IntVar(&f.alpha, "alpha", controller.Default().Alpha, fmt.Sprintf("additive increase, in units of 1/u of a core (u = %d)", controller.Default().U))
	fl.StringVar(&f.beta, "beta", controller.Default().Beta.String(), "multiplicative decrease")
	fl.IntVar(&f.cpu, "cpu", 0, "host CPU all guests are pinned to")
	fl.IntVar(&f.nice, "nice", 0, "host nice value of the guests' processes (e.g. -10 to measure on a busy shared machine)")
	fl.StringVar(&f.pauseMode, "pause-mode", controller.PauseModeIdle, "how the guests' kernels take a pause: idle (work-conserving, host model duty-idle; needs root), or sleep (host model duty)")
	return c
}

func (f *umlRunFlags) toSpec() (runner.Spec, error) {
	var s runner.Spec
	if f.spec != "" {
		b, err := os.ReadFile(f.spec)
		if err != nil {
			return s, err
		}
		if err := json.Unmarshal(b, &s); err != nil {
			return s, fmt.Errorf("%s: %w", f.spec, err)
		}
		return s, s.Prepare()
	}
	sig, err := vocab.ParseSignal(f.signal)
	if err != nil {
		return s, err
	}
	idle, err := parsePauseMode(f.pauseMode)
	if err != nil {
		return s, err
	}
	base := runner.Base(sig, idle)
	if f.theta >= 0 {
		base.ThetaPermille = f.theta
	}
	if base.Rule, err = vocab.ParseRule(f.rule); err != nil {
		return s, err
	}
	if base.Beta, err = vocab.ParseRat(f.beta); err != nil {
		return s, err
	}
	base.Alpha = f.alpha
	s = runner.Spec{Name: f.name, Duration: f.duration, CPU: f.cpu, Nice: f.nice}
	for i := 0; i < f.fvms; i++ {
		v := runner.VM{Name: fmt.Sprintf("fvm%d", i), Workload: f.workload, Controller: base}
		v.Start = time.Duration(i) * f.join
		if f.leave > 0 && i > 0 {
			v.Stop = f.duration - time.Duration(i)*f.leave
		}
		s.VMs = append(s.VMs, v)
	}
	for i := 0; i < f.greedy; i++ {
		s.VMs = append(s.VMs, runner.VM{Name: fmt.Sprintf("greedy%d", i), Greedy: true, Workload: f.greedyWorkload, Controller: base})
	}
	return s, s.Prepare()
}

// parsePauseMode parses a --pause-mode value: whether the pause is
// work-conserving (controller.Config.IdlePause).
func parsePauseMode(m string) (bool, error) {
	idle, err := controller.ParsePauseMode(m)
	if err != nil {
		return false, fmt.Errorf("--pause-mode %w", err)
	}
	return idle, nil
}

func newUMLSummarizeCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "summarize RUN_DIR...",
		Short: "Recompute summary.json of finished runs from their traces and print the table",
		Args:  cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			var results []*runner.Result
			for _, dir := range args {
				prev, err := runner.ReadSummary(dir)
				if err != nil {
					return badInput(err)
				}
				s, err := runner.Summarize(dir)
				if err != nil {
					return badInput(err)
				}
				s.Complete, s.Errors = prev.Complete, prev.Errors
				if err := runner.WriteSummary(dir, s); err != nil {
					return err
				}
				results = append(results, &runner.Result{Dir: dir, Summary: s, Complete: s.Complete, Errors: s.Errors})
			}
			printResults(cmd.OutOrStdout(), results)
			return nil
		},
	}
}

func newUMLExperimentCmd() *cobra.Command {
	var (
		kf       umlKernelFlags
		out, sig string
		duration time.Duration
		nice     int
		pollLog  bool
		theta    int
		ewma     string
		mode     string
	)
	var names []string
	for _, e := range runner.Experiments() {
		names = append(names, fmt.Sprintf("  %-11s %s (%v)", e.Name, e.Description, e.Duration))
	}
	c := &cobra.Command{
		Use:   "experiment NAME",
		Short: "Run a named experiment of the paper with both signals (vct, steal)",
		Long: `experiment runs the named scenario once per signal (--signal both, the
default; or vct or steal), each into OUT/NAME[-VARIANT]-SIGNAL[-idle]/ (a
RUN_DIR, as "fvm uml run" writes it; -idle: the default, work-conserving pause,
which needs root on the host; --pause-mode sleep for sleeping pauses), and
prints a table: Jain index of the FVMs' shares,
utilisation of the core, convergence time, and each VM's share, mean pause and
the duty model's prediction. Experiments:
` + strings.Join(names, "\n"),
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			e, err := runner.Lookup(args[0])
			if err != nil {
				return badInput(err)
			}
			var sigs []vocab.Signal
			switch sig {
			case "both":
				sigs = []vocab.Signal{vocab.VCT, vocab.Steal}
			default:
				s, err := vocab.ParseSignal(sig)
				if err != nil {
					return badInput(err)
				}
				sigs = []vocab.Signal{s}
			}
			idle, err := parsePauseMode(mode)
			if err != nil {
				return badInput(err)
			}
			var bases []controller.Config
			for _, s := range sigs {
				base := runner.Base(s, idle)
				if theta >= 0 {
					base.ThetaPermille = theta
				}
				if ewma != "" {
					if base.EWMA, err = vocab.ParseRat(ewma); err != nil {
						return badInput(fmt.Errorf("--ewma: %w", err))
					}
				}
				for _, spec := range e.Specs(base, duration, "") {
					if err := spec.CheckPrivileges(); err != nil {
						return badInput(err)
					}
				}
				bases = append(bases, base)
			}
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			k, bins, clean, err := prepareRuns(ctx, &kf, cmd.ErrOrStderr())
			if err != nil {
				return err
			}
			defer clean()
			var results []*runner.Result
			var incomplete []string
			for _, base := range bases {
				for _, spec := range e.Specs(base, duration, k) {
					spec.Nice = nice
					spec.PollLog = pollLog
					res, err := runner.Run(ctx, spec, bins, filepath.Join(out, spec.Name), cmd.ErrOrStderr())
					if err != nil {
						return err
					}
					results = append(results, res)
					if !res.Complete {
						incomplete = append(incomplete, spec.Name)
					}
					if ctx.Err() != nil {
						printResults(cmd.OutOrStdout(), results)
						return fmt.Errorf("experiment: stopped after %s (kept, marked incomplete): %w", spec.Name, ctx.Err())
					}
				}
			}
			printResults(cmd.OutOrStdout(), results)
			if len(incomplete) > 0 {
				return violationError{fmt.Sprintf("incomplete runs: %s", strings.Join(incomplete, ", "))}
			}
			return nil
		},
	}
	kf.register(c)
	c.Flags().StringVar(&out, "out", "out/uml", "directory for the runs")
	c.Flags().StringVar(&sig, "signal", "both", "vct, steal or both")
	c.Flags().DurationVar(&duration, "duration", 0, "length of each run (default: the experiment's)")
	c.Flags().IntVar(&theta, "theta", -1, "threshold in permille for every run (default: each signal's)")
	c.Flags().StringVar(&mode, "pause-mode", controller.PauseModeIdle, "how the guests' kernels take a pause: idle (work-conserving, host model duty-idle; needs root; runs are named ...-idle), or sleep (host model duty)")
	c.Flags().StringVar(&ewma, "ewma", "", "EWMA weight of the newest window for every run (default: the controller's)")
	c.Flags().IntVar(&nice, "nice", 0, "host nice value of the guests' processes (e.g. -10 to measure on a busy shared machine)")
	c.Flags().BoolVar(&pollLog, "poll-log", false, "every fvmd writes its polls' timings to raw/NAME.polls (costs two clock reads a poll)")
	return c
}

// printResults prints one block per run.
func printResults(w io.Writer, results []*runner.Result) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "run\tjain(fvm)\tutil\tconv s\tVM: share [duty model] (mean pause ‰, progress/s)\tcomplete")
	for _, r := range results {
		s := r.Summary
		if s == nil {
			fmt.Fprintf(tw, "%s\t-\t-\t-\tno summary\t%v\n", filepath.Base(r.Dir), r.Complete)
			continue
		}
		var vms []string
		for _, v := range s.VMs {
			vms = append(vms, fmt.Sprintf("%s(%s): %.1f%% [%.1f%%] (%.0f‰, %.3g/s)", v.Name, v.Role, 100*v.Share, 100*v.DutyShare, v.MeanPause, v.ProgressRate))
		}
		fmt.Fprintf(tw, "%s\t%.3f\t%.1f%%\t%.1f\t%s\t%v\n", s.Name, s.JainFVM, 100*s.Utilisation, s.ConvergenceS, strings.Join(vms, "  "), s.Complete)
	}
	tw.Flush()
}
