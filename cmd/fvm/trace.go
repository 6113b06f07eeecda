package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/friendly-vm/fvm/trace"
	"github.com/friendly-vm/fvm/trace/refine"
)

func newTraceCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "trace",
		Short: "Work with JSONL traces (package trace; trace/REFINEMENT.md)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return badInput(errors.New("trace: want a subcommand (check)"))
		},
	}
	cmd.AddCommand(newTraceCheckCmd())
	return cmd
}

func newTraceCheckCmd() *cobra.Command {
	var asJSON, noLoss bool
	var context int
	cmd := &cobra.Command{
		Use:   "check RUN_DIR|FILE...",
		Short: "Check that traces refine the reference model",
		Long: `check reads the traces of one run (the *.jsonl files of RUN_DIR, or the files given) and
checks that they refine the reference model (trace/REFINEMENT.md): every decision is the
rule's step from the previous demand on the window it used, every window is consumed once,
in order, within the delay bound D, every actuation reads back the decided pause, congested
bits match the signal and theta, and the guest's CPU share agrees with the host's.
A window lost because it was older than D (a gap) refines ref, whose loss drops it; with
--no-loss a run that lost any window fails all the same (for runs that must meet D).

Exit status: 0 the run refines ref (a summary is printed: events, windows, shares, Jain
index, efficiency, convergence time, model fidelity); 1 it does not (the first
non-refining event is printed with the lines around it and what ref allowed instead);
2 the input is unreadable or not a well-formed trace (file and line are named).`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if context < 0 {
				return badInput(fmt.Errorf("--context = %d: must be >= 0", context))
			}
			res, err := refine.CheckFiles(args, refine.Options{Context: context})
			if err != nil {
				var te *trace.Error
				if errors.As(err, &te) {
					return badInput(fmt.Errorf("malformed trace: %w", err))
				}
				return badInput(err)
			}
			w := cmd.OutOrStdout()
			if asJSON {
				if err := writeCheckJSON(w, res); err != nil {
					return err
				}
			} else {
				printCheck(w, res)
			}
			if !res.OK() {
				return violationError{msg: "trace does not refine ref: " + res.Failure.Error()}
			}
			if noLoss {
				if lost := lostWindows(res); lost != "" {
					return violationError{msg: "the run refines ref but lost windows (--no-loss): " + lost}
				}
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the result as JSON")
	cmd.Flags().BoolVar(&noLoss, "no-loss", false, "also fail when any window was lost (a gap), which ref allows")
	cmd.Flags().IntVar(&context, "context", 3, "lines shown before and after a non-refining event")
	return cmd
}

// lostWindows describes the VMs of a checked run that lost windows ("" if
// none did).
func lostWindows(res *refine.Result) string {
	var parts []string
	for _, v := range res.Summary.VMs {
		if v.Gaps > 0 {
			parts = append(parts, fmt.Sprintf("vm %d: %d gap(s), %d windows", v.VM, v.Gaps, v.LostWindows))
		}
	}
	return strings.Join(parts, "; ")
}

func writeCheckJSON(w io.Writer, res *refine.Result) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(res); err != nil {
		return fmt.Errorf("trace check: %w", err)
	}
	return nil
}

func fmtShare(x float64) string {
	if x < 0 {
		return "-"
	}
	return fmt.Sprintf("%.4f", x)
}

func printCheck(w io.Writer, res *refine.Result) {
	s := &res.Summary
	if f := res.Failure; f != nil {
		fmt.Fprintln(w, "trace check: DOES NOT REFINE ref")
		at := f.File
		if f.Line > 0 {
			at = fmt.Sprintf("%s:%d", f.File, f.Line)
		}
		fmt.Fprintf(w, "  at:          %s (vm %d, %s)\n", at, f.VM, f.Kind)
		fmt.Fprintf(w, "  wrong:       %s\n", f.Msg)
		fmt.Fprintf(w, "  ref allows:  %s\n", f.Allowed)
		if len(f.Context) > 0 {
			fmt.Fprintln(w, "  context:")
			for _, c := range f.Context {
				mark := " "
				if c.Line == f.Line {
					mark = ">"
				}
				fmt.Fprintf(w, "  %s %6d  %s\n", mark, c.Line, c.Text)
			}
		}
		fmt.Fprintf(w, "  (event %d of the run)\n", s.Events)
		return
	}
	fmt.Fprintf(w, "trace check: refines ref — %d file(s), %d events, %d windows, n=%d\n", len(s.Files), s.Events, s.Windows, s.N)
	fmt.Fprintf(w, "%4s %8s %9s %5s %9s %6s %7s %7s %8s %8s %8s %8s %s\n",
		"vm", "windows", "decisions", "holds", "max-delay", "init-d", "final-d", "mean-d", "share", "guest", "duty", "fair", "end")
	for _, v := range s.VMs {
		fmt.Fprintf(w, "%4d %8d %9d %5d %9d %6d %7d %7.2f %8s %8s %8s %8s %s\n",
			v.VM, v.Samples, v.Decisions, v.Holds, v.MaxDelay, v.InitDemand, v.FinalDemand, v.MeanDemand,
			fmtShare(v.Share), fmtShare(v.GuestShare), fmtShare(v.PredDuty), fmtShare(v.PredFair), v.End)
	}
	conv := "not converged"
	switch {
	case s.ConvergenceNs == 0 && s.N < 2:
		conv = "- (one VM)"
	case s.ConvergenceNs >= 0:
		conv = fmt.Sprintf("%.3f s", float64(s.ConvergenceNs)/1e9)
	}
	fmt.Fprintf(w, "Jain index %s, utilisation %s, convergence %s\n", fmtShare(s.Jain), fmtShare(s.Utilisation), conv)
	fmt.Fprintf(w, "model fidelity (max |share - prediction|, tolerance %.4f): duty %s, fair %s\n",
		s.FidelityTol, fmtShare(s.FidelityDuty), fmtShare(s.FidelityFair))
	if len(s.Flags) > 0 {
		fmt.Fprintln(w, "flags:\n  "+strings.Join(s.Flags, "\n  "))
	}
}
