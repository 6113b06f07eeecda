package main

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/friendly-vm/fvm/report"
)

func newReportCmd() *cobra.Command {
	var out string
	cmd := &cobra.Command{
		Use:   "report RUN_DIR|TRACE",
		Short: "Write report.md and report.html with plots for a run directory or a trace file",
		Long: `report reads a run's JSONL traces (and the runner's summary.json, if present), checks
that they refine the reference model, and writes report.md and report.html with plots of the
demand and host CPU share per VM over time, the Jain index over time, the VCT (stretch) signal
and the histogram of feedback delays. By default they go into the run directory.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			path := args[0]
			if _, err := os.Stat(path); err != nil {
				return badInput(fmt.Errorf("report: %w (want a run directory from `fvm uml run` or a .jsonl trace)", err))
			}
			dir := out
			if dir == "" {
				dir = path
				if st, _ := os.Stat(path); !st.IsDir() {
					dir = filepath.Dir(path)
				}
			}
			doc, err := report.Run(path, dir)
			if err != nil {
				return err
			}
			if err := doc.Write(dir); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "report: wrote %s and %s\n", filepath.Join(dir, "report.md"), filepath.Join(dir, "report.html"))
			return nil
		},
	}
	cmd.Flags().StringVar(&out, "out", "", "directory for report.md, report.html and the plots (default: the run directory)")
	return cmd
}
