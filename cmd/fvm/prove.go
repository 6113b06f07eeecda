package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/friendly-vm/fvm/configs"
	"github.com/friendly-vm/fvm/proofs"
	"github.com/friendly-vm/fvm/report"
)

func newProveCmd() *cobra.Command {
	var (
		name  string
		out   string
		seed  uint64
		steps int
		plots bool
	)
	cmd := &cobra.Command{
		Use:   "prove",
		Short: "Print the analytic model of a configuration (eigenvalues, fair point, rate, band, stability margin) and plot it",
		Long: `prove analyses a configuration with the proofs package: the Shorten–Wirth–Leith
epoch matrix and its eigenvalues, the fair point, the convergence rate per congestion
epoch, the fair tolerance, the efficiency band, the delayed fluid model's stability
margin and the difference-mode verdict for the configuration's host and signal
(proofs/*.md). It then simulates the reference model and writes two plots into --out:
the Chiu–Jain phase plot and the fairness gap against congestion epochs, predicted
against simulated.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := configs.Load(name)
			if err != nil {
				return badInput(err)
			}
			p, err := c.Params()
			if err != nil {
				return badInput(fmt.Errorf("config %s: %w", name, err))
			}
			a, err := proofs.Analyze(p)
			if err != nil {
				return fmt.Errorf("prove %s: %w", c.Name, err)
			}
			w := cmd.OutOrStdout()
			fmt.Fprintf(w, "configuration %s: %s\n", c.Name, c.Description)
			if err := a.WriteText(w); err != nil {
				return err
			}
			if !plots {
				return nil
			}
			if p.N() < 2 {
				fmt.Fprintln(w, "no plots: the phase plot needs at least two FVMs")
				return nil
			}
			files, err := report.WriteProofPlots(p, out, report.ProofPlotOptions{Seed: seed, Steps: steps, Prefix: c.Name + "-"})
			if err != nil {
				return fmt.Errorf("prove %s: %w", c.Name, err)
			}
			fmt.Fprintf(w, "wrote %s\nwrote %s\n", files.Phase, files.Gap)
			return nil
		},
	}
	cmd.Flags().StringVar(&name, "config", "default", "configuration name (configs) or path to a .json file")
	cmd.Flags().StringVar(&out, "out", "out", "directory for the plots")
	cmd.Flags().Uint64Var(&seed, "seed", 1, "seed of the simulated interleaving")
	cmd.Flags().IntVar(&steps, "steps", 0, "simulated actions (0: 300 per FVM, at least 1200)")
	cmd.Flags().BoolVar(&plots, "plots", true, "write the plots")
	return cmd
}
