package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/friendly-vm/fvm/spec"
	"github.com/friendly-vm/fvm/spec/mc"
	"github.com/friendly-vm/fvm/tla"
)

type tlcDistFlags struct {
	config      string
	workers     int
	threads     int
	timeout     time.Duration
	report      time.Duration
	jvmOpts     []string
	noCompare   bool
	verbose     bool
	skipMissing bool
}

func newTLCDistributedCmd() *cobra.Command {
	var f tlcDistFlags
	cmd := &cobra.Command{
		Use:   "distributed",
		Short: "Check a configuration's invariants with TLC's distributed mode (a TLCServer and TLCWorkers on 127.0.0.1)",
		Long: `distributed checks the invariants and deadlock freedom of a configuration (no symmetry,
no liveness: distributed TLC checks no temporal properties) with TLC's own distributed
engine: one TLCServer JVM (state queue, fingerprint set) and --workers TLCWorker JVMs,
connected by Java RMI on 127.0.0.1 (a free port; every socket bound to the loopback
address). It prints the server's progress, the distinct states and the verdicts, then
runs the Go checker (spec.Check, symmetry and liveness off) on the same configuration
and compares the distinct-state counts and verdicts.

Needs tla2tools.jar ($TLA2TOOLS), java, and javac: tla2tools.jar v1.8.0 no longer exports
TLCServer's fingerprint set over RMI, so fvm runs TLCServer through a small launcher
(tla/FVMDistributedTLC.java) that does; see tla/README.md. Every JVM is killed when the
command ends, on a timeout or on SIGINT/SIGTERM.

Exit status 1 when a property is violated or the result differs from the Go checker's,
2 on bad input or when TLC, java or javac is missing.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			if ctx == nil {
				ctx = context.Background()
			}
			ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
			defer stop()
			return runTLCDistributed(ctx, cmd.OutOrStdout(), f)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.config, "config", "default", "configuration name (embedded) or .json file")
	fl.IntVar(&f.workers, "workers", 2, "TLCWorker JVMs")
	fl.IntVar(&f.threads, "threads", 1, "threads per TLCWorker JVM")
	fl.DurationVar(&f.timeout, "timeout", 0, "stop (and kill every JVM) after this long; 0: no limit")
	fl.DurationVar(&f.report, "report", 10*time.Second, "interval of the server's progress lines")
	fl.StringArrayVar(&f.jvmOpts, "jvm-opt", nil, "option for every JVM, e.g. --jvm-opt=-Xmx8g (repeatable)")
	fl.BoolVar(&f.noCompare, "no-compare", false, "do not run the Go checker")
	fl.BoolVarP(&f.verbose, "verbose", "v", false, "show every JVM's output")
	fl.BoolVar(&f.skipMissing, "skip-missing", false, `without TLC, java or javac print one "SKIP" line and exit 0 (for make)`)
	return cmd
}

func runTLCDistributed(ctx context.Context, w io.Writer, f tlcDistFlags) error {
	if f.workers < 1 || f.threads < 1 {
		return badInput(fmt.Errorf("tlc distributed: --workers and --threads must be at least 1"))
	}
	m, err := tla.Load(f.config)
	if err != nil {
		return badInput(err)
	}
	if err := m.CheckIntRange(); err != nil {
		return badInput(err)
	}
	r, err := tlcRunner("1", f.verbose, w)
	if err != nil {
		if f.skipMissing && errors.Is(err, tla.ErrNoTLC) {
			fmt.Fprintln(w, "SKIP tlc distributed: "+tla.SkipHint)
			return nil
		}
		return err
	}
	fmt.Fprintf(w, "tlc distributed: config %s: a TLCServer and %d TLCWorker JVMs (%d threads each) on 127.0.0.1; invariants %s and deadlock, no symmetry\n",
		m.Config.Name, f.workers, f.threads, strings.Join(m.Invariants(), ", "))
	res, err := r.CheckDistributed(ctx, m, tla.DistributedOptions{
		Workers: f.workers, Threads: f.threads, Report: f.report, Timeout: f.timeout, JavaOptions: f.jvmOpts, Progress: w})
	if err != nil {
		if errors.Is(err, tla.ErrNoJavac) {
			if f.skipMissing {
				fmt.Fprintln(w, "SKIP tlc distributed: "+err.Error())
				return nil
			}
			return badInput(err)
		}
		return err
	}
	fmt.Fprintf(w, "tlc distributed: config %s: %d distinct states", m.Config.Name, res.Distinct)
	if res.Complete {
		fmt.Fprintf(w, ", depth %d", res.Depth)
	}
	fmt.Fprintf(w, "; %d worker JVMs registered (%d threads); %.1fs (CPU %.1fs, all JVMs)\n",
		res.WorkerJVMs, len(res.Registered), res.Duration.Seconds(), res.CPU.Seconds())
	for _, p := range append(m.Invariants(), spec.Deadlock) {
		if v, ok := res.Verdicts[p]; ok {
			note := ""
			if p == res.Violated {
				note = fmt.Sprintf(", counterexample of %d states", res.TraceStates)
				if res.NamedBy != "" {
					note += " (named by " + res.NamedBy + ")"
				}
			}
			fmt.Fprintf(w, "  %-13s %s%s\n", p, v, note)
		}
	}
	var bad []string
	if res.Violated != "" {
		bad = append(bad, res.Violated+" fails")
	}
	if !f.noCompare {
		start := time.Now()
		g, err := spec.Check(m.Params, spec.Options{})
		if err != nil {
			return fmt.Errorf("tlc distributed: Go checker: %w", err)
		}
		goVerdicts := map[string]mc.Status{}
		for _, v := range g.Verdicts() {
			switch v.Status {
			case mc.Holds:
				goVerdicts[v.Name] = mc.Holds
			case mc.Violated:
				goVerdicts[v.Name] = mc.Violated
			}
		}
		diff := res.CompareGo(g.Safety.Stats.Distinct, goVerdicts)
		verdict := "equal"
		if len(diff) > 0 {
			verdict = "DIFFERENT: " + strings.Join(diff, "; ")
			bad = append(bad, diff...)
		}
		fmt.Fprintf(w, "Go checker (safety, no symmetry): %d distinct states, %.1fs; %s\n",
			g.Safety.Stats.Distinct, time.Since(start).Seconds(), verdict)
	}
	if len(bad) > 0 {
		return violationError{"tlc distributed: config " + m.Config.Name + ": " + strings.Join(bad, "; ")}
	}
	return nil
}
