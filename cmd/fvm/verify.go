package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/friendly-vm/fvm/report"
)

// verifyStep is one stage of `fvm verify`: an fvm command line run
// in-process, its output kept under the report directory.
type verifyStep struct {
	name    string   // file stem for its output
	title   string   // report heading
	args    []string // fvm arguments; {out} is replaced by the step's directory
	images  []string // PNGs the step writes into its directory, shown in the report
	needUML bool     // needs the real UML kernel and a quiet machine
	// expectViolation: the step demonstrates a property failing (exit 1
	// with a counterexample is the expected outcome).
	expectViolation bool
}

func verifySteps(short bool) []verifyStep {
	steps := []verifyStep{
		{name: "check", title: "Model checker: default configuration",
			args: []string{"check", "--config", "default"}},
		{name: "check-duty-vct", title: "Model checker: the paper's signal (VCT) on the duty host",
			args: []string{"check", "--config", "duty-vct"}, expectViolation: true},
		{name: "check-duty-steal", title: "Model checker: the steal signal on the duty host",
			args: []string{"check", "--config", "duty-steal"}, expectViolation: true},
		{name: "simulate", title: "Simulation of the default configuration",
			args: []string{"simulate", "--config", "default", "--steps", "400", "--out", "{out}/trace.jsonl"}},
		{name: "prove", title: "Analytic model (proofs)",
			args: []string{"prove", "--config", "default", "--out", "{out}"}},
	}
	_ = short
	return steps
}

func newVerifyCmd() *cobra.Command {
	var out string
	var noUML, short bool
	cmd := &cobra.Command{
		Use:   "verify",
		Short: "Run the whole pipeline on the embedded default configuration and write out/report.md",
		Long: `verify runs, in order, the model checker on the default configuration and on the duty
host with both signals, a seeded simulation, the analytic proofs, and (unless --no-uml) short
real UML runs with their trace checks, and writes report.md and report.html under --out.
Every step's full output is kept beside the report. A failing step does not stop the others;
verify exits 1 if any step failed.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runVerify(cmd.ErrOrStderr(), out, short, noUML)
		},
	}
	cmd.Flags().StringVar(&out, "out", "out", "directory for the report and every step's output")
	cmd.Flags().BoolVar(&noUML, "no-uml", false, "skip the real UML runs")
	cmd.Flags().BoolVar(&short, "short", true, "short real runs")
	return cmd
}

func runVerify(log io.Writer, out string, short, noUML bool) error {
	if err := os.MkdirAll(out, 0o755); err != nil {
		return fmt.Errorf("verify: %w", err)
	}
	doc := report.Doc{Title: "friendly-vm verify"}
	doc.Para("Generated %s by `fvm verify` (%s). Every step's full output is in the files named below.",
		time.Now().UTC().Format(time.RFC3339), version())
	var failed []string
	for _, st := range verifySteps(short) {
		if st.needUML && noUML {
			continue
		}
		dir := filepath.Join(out, st.name)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return fmt.Errorf("verify: %w", err)
		}
		args := make([]string, len(st.args))
		for i, a := range st.args {
			args[i] = strings.ReplaceAll(a, "{out}", dir)
		}
		fmt.Fprintf(log, "verify: fvm %s\n", strings.Join(args, " "))
		start := time.Now()
		var buf bytes.Buffer
		err := runInProcess(args, &buf, log)
		elapsed := time.Since(start).Round(time.Millisecond)
		outFile := filepath.Join(dir, "output.txt")
		if werr := os.WriteFile(outFile, buf.Bytes(), 0o644); werr != nil {
			return fmt.Errorf("verify: %w", werr)
		}
		if st.title != "" {
			doc.Heading(2, st.title)
		}
		status := "ok"
		var v violationError
		switch {
		case err != nil && st.expectViolation && errors.As(err, &v):
			status = "a property is violated, as this configuration is expected to show"
		case err != nil:
			status = "FAILED: " + err.Error()
			failed = append(failed, st.name)
		case st.expectViolation:
			status = "FAILED: this configuration is expected to violate a property and did not"
			failed = append(failed, st.name)
		}
		doc.Para("`fvm %s` — %s in %v (output: `%s`)", strings.Join(args, " "), status, elapsed, relTo(out, outFile))
		doc.Pre(buf.String())
		for _, img := range st.images {
			doc.Image(relTo(out, filepath.Join(dir, img)), img)
		}
		if entries, err := os.ReadDir(dir); err == nil && len(st.images) == 0 {
			for _, e := range entries {
				if strings.HasSuffix(e.Name(), ".png") {
					doc.Image(relTo(out, filepath.Join(dir, e.Name())), e.Name())
				}
			}
		}
	}
	if err := doc.Write(out); err != nil {
		return err
	}
	fmt.Fprintf(log, "verify: wrote %s\n", filepath.Join(out, "report.md"))
	if len(failed) > 0 {
		return violationError{msg: fmt.Sprintf("verify: %d step(s) failed: %s (see %s)", len(failed), strings.Join(failed, ", "), filepath.Join(out, "report.md"))}
	}
	return nil
}

// runInProcess runs one fvm command line with a fresh command tree, its
// standard output going to stdout.
func runInProcess(args []string, stdout, stderr io.Writer) error {
	root := newRootCmd()
	root.SetArgs(args)
	root.SetOut(stdout)
	root.SetErr(stderr)
	return root.Execute()
}

func relTo(base, path string) string {
	if r, err := filepath.Rel(base, path); err == nil {
		return r
	}
	return path
}
