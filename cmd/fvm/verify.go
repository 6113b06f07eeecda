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
	"github.com/friendly-vm/fvm/uml-impl/controller"
)

// verifyStep is one stage of `fvm verify`: an fvm command line run
// in-process, its output kept under the report directory.
type verifyStep struct {
	name  string // file stem for its output
	title string // report heading
	// args are the fvm arguments; {out} is replaced by the step's directory
	// and {top} by the report directory.
	args    []string
	images  []string // PNGs the step writes into its directory, shown in the report
	needUML bool     // needs the real UML kernel and a quiet machine
	// expectViolation: the step demonstrates a property failing (exit 1
	// with a counterexample is the expected outcome).
	expectViolation bool
}

func verifySteps(short bool) []verifyStep {
	steps := []verifyStep{
		{name: "check", title: "Model checker: default configuration",
			args: []string{"check", "--config", "default", "--quiet", "--trace-dir", "{out}"}},
		{name: "check-duty-vct", title: "Model checker: the paper's signal (VCT) on the duty host",
			args: []string{"check", "--config", "duty-vct", "--quiet", "--trace-dir", "{out}"}, expectViolation: true},
		{name: "check-duty-steal", title: "Model checker: the steal signal on the duty host",
			args: []string{"check", "--config", "duty-steal", "--quiet", "--trace-dir", "{out}"}},
		{name: "simulate", title: "Simulation of the default configuration",
			args: []string{"simulate", "--config", "default", "--steps", "400", "--out", "{out}/trace.jsonl"}},
		{name: "simulate-check", title: "",
			args: []string{"trace", "check", "{top}/simulate/trace.jsonl"}},
		{name: "prove", title: "Analytic model (proofs)",
			args: []string{"prove", "--config", "default", "--out", "{out}"}},
	}
	// Short real runs of the two experiments the report needs, with the
	// controller's default signal, then their refinement checks and reports.
	signal := controller.Default().Signal.String()
	duration := "40s"
	if short {
		duration = "20s"
	}
	for _, exp := range []string{"pair", "greedy"} {
		run := "{top}/uml-" + exp + "/" + exp + "-" + signal
		steps = append(steps,
			verifyStep{name: "uml-" + exp, title: "Real UML run: " + exp + " (signal " + signal + ")", needUML: true,
				args: []string{"uml", "experiment", exp, "--signal", signal, "--duration", duration, "--out", "{out}"}},
			verifyStep{name: "trace-" + exp, title: "", needUML: true,
				args: []string{"trace", "check", run}},
			verifyStep{name: "report-" + exp, title: "", needUML: true,
				args: []string{"report", run}, images: []string{"../uml-" + exp + "/" + exp + "-" + signal + "/share.png", "../uml-" + exp + "/" + exp + "-" + signal + "/demand.png"}},
		)
	}
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

// stepResult is what one verify step produced.
type stepResult struct {
	step    verifyStep
	args    []string
	dir     string
	status  string
	ok      bool
	elapsed time.Duration
	output  string
}

func runVerify(log io.Writer, out string, short, noUML bool) error {
	if err := os.MkdirAll(out, 0o755); err != nil {
		return fmt.Errorf("verify: %w", err)
	}
	var results []stepResult
	for _, st := range verifySteps(short) {
		if st.needUML && noUML {
			continue
		}
		r, err := runStep(log, out, st)
		if err != nil {
			return err
		}
		results = append(results, r)
	}

	doc := report.Doc{Title: "friendly-vm verify"}
	doc.Para("Generated %s by `fvm verify` (%s). Every step's full output is in the file named in its section.",
		time.Now().UTC().Format(time.RFC3339), version())
	var rows [][]string
	var failed []string
	for _, r := range results {
		verdict := "ok"
		if !r.ok {
			verdict = "FAILED"
			failed = append(failed, r.step.name)
		}
		rows = append(rows, []string{"fvm " + strings.Join(r.args, " "), verdict, r.elapsed.String()})
	}
	doc.Heading(2, "Summary")
	doc.Table([]string{"step", "result", "time"}, rows)
	for _, r := range results {
		if r.step.title != "" {
			doc.Heading(2, r.step.title)
		}
		doc.Para("`fvm %s` — %s in %v (output: `%s`)", strings.Join(r.args, " "), r.status, r.elapsed, relTo(out, filepath.Join(r.dir, "output.txt")))
		doc.Pre(r.output)
		images := r.step.images
		if len(images) == 0 {
			if entries, err := os.ReadDir(r.dir); err == nil {
				for _, e := range entries {
					if strings.HasSuffix(e.Name(), ".png") {
						images = append(images, e.Name())
					}
				}
			}
		}
		for _, img := range images {
			if _, err := os.Stat(filepath.Join(r.dir, img)); err == nil {
				doc.Image(relTo(out, filepath.Join(r.dir, img)), filepath.Base(img))
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

// runStep runs one step in-process and keeps its output in its directory.
func runStep(log io.Writer, out string, st verifyStep) (stepResult, error) {
	r := stepResult{step: st, dir: filepath.Join(out, st.name)}
	if err := os.MkdirAll(r.dir, 0o755); err != nil {
		return r, fmt.Errorf("verify: %w", err)
	}
	repl := strings.NewReplacer("{out}", r.dir, "{top}", out)
	for _, a := range st.args {
		r.args = append(r.args, repl.Replace(a))
	}
	fmt.Fprintf(log, "verify: fvm %s\n", strings.Join(r.args, " "))
	start := time.Now()
	var buf bytes.Buffer
	err := runInProcess(r.args, &buf, log)
	r.elapsed = time.Since(start).Round(time.Millisecond)
	r.output = buf.String()
	if werr := os.WriteFile(filepath.Join(r.dir, "output.txt"), buf.Bytes(), 0o644); werr != nil {
		return r, fmt.Errorf("verify: %w", werr)
	}
	var v violationError
	switch {
	case err != nil && st.expectViolation && errors.As(err, &v):
		r.ok, r.status = true, "a property is violated, as this configuration is expected to show"
	case err != nil:
		r.status = "FAILED: " + err.Error()
	case st.expectViolation:
		r.status = "FAILED: this configuration is expected to violate a property and did not"
	default:
		r.ok, r.status = true, "ok"
	}
	return r, nil
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
