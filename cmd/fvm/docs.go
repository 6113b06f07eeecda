package main

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/friendly-vm/fvm/report/docs"
)

func newDocsCmd() *cobra.Command {
	var root string
	var check bool
	var only []string
	cmd := &cobra.Command{
		Use:   "docs",
		Short: "Regenerate the tables of measured numbers in the documents",
		Long: `docs rewrites every generated block of spec/MODEL.md, proofs/mechanisms.md, README.md
and uml-impl/README.md (between <!-- fvm:docs NAME --> and <!-- fvm:end -->) from the model
checker, the proofs' predictions, seeded simulations and the committed run data under
testdata/runs. Run it from the repository root (or give --root). With --check it writes
nothing and exits 1 when a document is out of date. With --only it renders just the blocks
named and leaves every other block as it is.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if _, err := os.Stat(filepath.Join(root, "spec", "MODEL.md")); err != nil {
				return badInput(fmt.Errorf("--root %s: not the friendly-vm repository (no spec/MODEL.md): run from its root or pass --root", root))
			}
			blocks := docs.All()
			if len(only) > 0 {
				var err error
				if blocks, err = docs.Only(blocks, only); err != nil {
					return badInput(fmt.Errorf("--only: %w", err))
				}
			}
			changed, err := docs.Update(root, blocks, check)
			if err != nil {
				if check && len(changed) > 0 {
					return violationError{err.Error()}
				}
				return err
			}
			for _, f := range changed {
				fmt.Fprintf(cmd.OutOrStdout(), "docs: rewrote %s\n", f)
			}
			if len(changed) == 0 {
				fmt.Fprintln(cmd.OutOrStdout(), "docs: up to date")
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&root, "root", ".", "the repository root")
	cmd.Flags().BoolVar(&check, "check", false, "only check; exit 1 when a document is out of date")
	cmd.Flags().StringSliceVar(&only, "only", nil, "render only these blocks (comma-separated names, e.g. friendly-runs,friendly-job)")
	return cmd
}
