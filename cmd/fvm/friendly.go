package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/friendly-vm/fvm/friendly"
	"github.com/friendly-vm/fvm/friendly/port"
	"github.com/friendly-vm/fvm/uml-impl/controller"
	"github.com/friendly-vm/fvm/vocab"
)

// exitCodeError makes main exit with a given status (a command's, passed
// through).
type exitCodeError struct{ code int }

func (e exitCodeError) Error() string { return fmt.Sprintf("exit status %d", e.code) }

func newFriendlyCmd() *cobra.Command {
	var (
		out, name, summary string
		vm, n, initD, cpu  int
		nice               int
		periodUs           int64
		pauseMode          string
	)
	c := &cobra.Command{
		Use:   "friendly [flags] -- COMMAND [ARGS...]",
		Short: "Run a command as a friendly process group: its own cgroup, the verified controller adapting its CPU quota",
		Long: `friendly runs COMMAND in its own cgroup (cgroup v2 when the cpu controller is
available there, else cgroup v1's cpu and cpuacct) and adapts the group's CPU demand
with AIMD, with the same controller core as the guests' fvmd: the group backs off when
it loses time to other work, and grows when it does not. Its pause is work-conserving
by default, as the guests' (--pause-mode idle; configs/deployed.json: steal > 3/40 of
the normal-priority part, demands 2/20..20/20): the group runs at idle priority
(cpu.idle, Linux 5.15 or later) for the pause's part of each 100 ms period, so it
still uses what nobody else wants. --pause-mode sleep throttles it with a CFS quota
instead (configs/deployed-sleep.json: steal > 1/5, demands 1/20..20/20). Needs root.

The trace (DIR/NAME.jsonl, the format of fvm trace check) and the summary
(DIR/summary.json) go to --out (default: a new directory in $TMPDIR, printed at the
end). Signals are passed on to the command; the exit status is the command's (128+N
if it was killed by signal N). When the command ends the group is removed; if fvm
itself is killed, a watchdog lifts the quota and removes the group, and the command
runs on unthrottled.

  fvm friendly -- make -j4
  fvm friendly --out run --cpu 0 -- sh -c 'while :; do :; done'
  fvm trace check run`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			idle, err := controller.ParsePauseMode(pauseMode)
			if err != nil {
				return badInput(fmt.Errorf("--pause-mode %w", err))
			}
			cfg := controller.DefaultFor(idle)
			cfg.VM, cfg.N = vm, n
			if initD > 0 {
				cfg.Init = initD
			}
			if err := cfg.Validate(); err != nil {
				return badInput(fmt.Errorf("--vm, --n, --init: %w", err))
			}
			if _, err := exec.LookPath(args[0]); err != nil {
				return badInput(fmt.Errorf("command %q: %w", args[0], err))
			}
			if nice < -20 || nice > 19 {
				return badInput(fmt.Errorf("--nice %d: want -20..19", nice))
			}
			if periodUs != 0 && idle && (periodUs < 10_000 || periodUs > 1_000_000) {
				return badInput(fmt.Errorf("--period-us %d: want 10000..1000000 for work-conserving pauses", periodUs))
			}
			if periodUs != 0 && !idle && (periodUs < port.MinPeriodUs || periodUs > 1_000_000) {
				return badInput(fmt.Errorf("--period-us %d: want %d..1000000 (a pause of 950 permille must leave the kernel's 1 ms minimum quota)", periodUs, port.MinPeriodUs))
			}
			exe, err := os.Executable()
			if err != nil {
				return fmt.Errorf("find the fvm executable for the helpers: %w", err)
			}
			if out == "" {
				if out, err = os.MkdirTemp("", "fvm-friendly-"); err != nil {
					return err
				}
			}
			sigs := make(chan os.Signal, 4)
			signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP, syscall.SIGQUIT)
			defer signal.Stop(sigs)
			o := friendly.Options{
				Command: args, Dir: out, Name: name, SummaryFile: summary, Config: cfg, PeriodUs: periodUs, CPU: cpu, Nice: nice,
				Exe: exe, Stdin: os.Stdin, Stdout: cmd.OutOrStdout(), Stderr: cmd.ErrOrStderr(), Log: cmd.ErrOrStderr(),
				Signals: sigs,
			}
			res, err := friendly.Run(context.Background(), o)
			if errors.Is(err, friendly.ErrSetup) {
				return badInput(err)
			}
			if err != nil {
				fmt.Fprintf(cmd.ErrOrStderr(), "fvm friendly: %v\n", err)
			}
			if res == nil {
				return err
			}
			fmt.Fprintf(cmd.ErrOrStderr(), "fvm friendly: trace %s; summary in %s\n", res.Trace, out)
			if res.ExitStatus != 0 {
				return exitCodeError{res.ExitStatus}
			}
			return nil
		},
	}
	f := c.Flags()
	f.SetInterspersed(false)
	f.StringVar(&out, "out", "", "run directory for the trace and summary (default: a new directory in $TMPDIR)")
	f.StringVar(&name, "name", "friendly", "the trace's file name (NAME.jsonl)")
	f.StringVar(&summary, "summary", "", "summary file (default OUT/summary.json)")
	f.IntVar(&vm, "vm", 0, "this group's index among the friendly groups of a run (trace field vm)")
	f.IntVar(&n, "n", 1, "number of friendly groups in the run (trace header n)")
	f.IntVar(&initD, "init", 0, "initial demand in units of 1/u of a core (default: the controller's, u)")
	f.IntVar(&cpu, "cpu", -1, "pin the command to this CPU and keep fvm's own threads off it (-1: no pinning)")
	f.IntVar(&nice, "nice", 0, "give the group the CPU weight of a session at this nice (default: the kernel's default weight)")
	f.Int64Var(&periodUs, "period-us", 0, fmt.Sprintf("actuation period in us (default %d; %d with --pause-mode sleep)", vocab.IdlePeriodUs, port.DefaultPeriodUs))
	f.StringVar(&pauseMode, "pause-mode", controller.PauseModeIdle, "how the group pauses: idle (work-conserving: at idle priority, cpu.idle, for the pause's part of each period: host model duty-idle) or sleep (throttled by a CFS quota: host model duty)")
	c.AddCommand(newFriendlyHelperCmd(), newFriendlyExperimentCmd(), newFriendlySummarizeCmd(), newFriendlyProbeCmd())
	return c
}

func newFriendlyHelperCmd() *cobra.Command {
	return &cobra.Command{
		Use:    "helper exec|watchdog SPEC",
		Short:  "Internal: the helper processes of fvm friendly",
		Hidden: true,
		Args:   cobra.ArbitraryArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if code := friendly.Helper(args, os.Stderr); code != 0 {
				return exitCodeError{code}
			}
			return nil
		},
	}
}
