package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/friendly-vm/fvm/report"
	"github.com/friendly-vm/fvm/spec"
	"github.com/friendly-vm/fvm/spec/mc"
	"github.com/friendly-vm/fvm/uml-impl/controller"
	"github.com/friendly-vm/fvm/uml-impl/runner"
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
	// claim is what the step establishes, for the report's findings (""
	// for a step that only supports the one before it); evidence reads the
	// step's files for the numbers behind it.
	claim    string
	evidence func(dir string) (string, error)
	// needs names the earlier steps the claim also rests on.
	needs []string
}

func verifySteps(short bool) []verifyStep {
	check := func(config, title, claim string, expectViolation bool) verifyStep {
		return verifyStep{name: "check-" + config, title: title, claim: claim, expectViolation: expectViolation,
			args:     []string{"check", "--config", config, "--quiet", "--trace-dir", "{out}", "--result", "{out}/result.json"},
			evidence: checkEvidence}
	}
	steps := []verifyStep{
		check("default", "Model checker: default configuration",
			"The model (three identical FVMs, shared host, delayed feedback) is safe and converges to fair, efficient shares", false),
		check("deployed", "Model checker: the deployed controller's configuration",
			"What fvmd runs by default (the work-conserving pause: duty-idle host, steal, AIMD, delay bound and lost samples) is a verified configuration", false),
		check("duty-vct", "Model checker: the paper's signal (VCT) on the duty host",
			"The paper's VCT signal is not fair under pause actuation (a counterexample is the expected outcome)", true),
		check("duty-steal", "Model checker: the steal signal on the duty host",
			"The steal signal, our default, is fair under pause actuation", false),
		{name: "simulate", title: "Simulation of the default configuration",
			args: []string{"simulate", "--config", "default", "--steps", "400", "--out", "{out}/trace.jsonl"}},
		{name: "simulate-check", title: "", needs: []string{"simulate"}, claim: "A seeded simulation of the model refines the reference state machine",
			args:     []string{"trace", "check", "{top}/simulate/trace.jsonl"},
			evidence: func(string) (string, error) { return "400 simulated steps, trace checked by `fvm trace check`", nil }},
		{name: "prove", title: "Analytic model (proofs)", claim: "The analytic model predicts convergence under the delay bound",
			args:     []string{"prove", "--config", "default", "--out", "{out}"},
			evidence: proveEvidence},
	}
	// Short real runs of the two experiments the report needs, with the
	// controller's defaults (signal and pause mode), then their refinement
	// checks and reports.
	def := controller.Default()
	duration := "40s"
	if short {
		duration = "20s"
	}
	claims := map[string]string{
		"pair":   "Two real FVMs on one core share it fairly, and their traces refine ref",
		"greedy": "A real FVM yields to a greedy guest, and its trace refines ref",
	}
	for _, exp := range []string{"pair", "greedy"} {
		name := runName(exp, def)
		run := "{top}/uml-" + exp + "/" + name
		steps = append(steps,
			verifyStep{name: "uml-" + exp, title: "Real UML run: " + exp + " (signal " + def.Signal.String() + ", pause mode " + def.PauseMode() + ")", needUML: true,
				args: []string{"uml", "experiment", exp, "--signal", def.Signal.String(), "--pause-mode", def.PauseMode(), "--duration", duration, "--out", "{out}"}},
			verifyStep{name: "trace-" + exp, title: "", needUML: true, claim: claims[exp], needs: []string{"uml-" + exp},
				args: []string{"trace", "check", "--no-loss", run},
				evidence: func(dir string) (string, error) {
					return runEvidence(filepath.Join(filepath.Dir(dir), "uml-"+exp, name))
				}},
			verifyStep{name: "report-" + exp, title: "", needUML: true,
				args: []string{"report", run}, images: []string{"../uml-" + exp + "/" + name + "/share.png", "../uml-" + exp + "/" + name + "/demand.png"}},
		)
	}
	return steps
}

// runName is the directory `fvm uml experiment` gives the experiment's
// run with controller configuration c.
func runName(exp string, c controller.Config) string {
	name, err := runner.RunName(exp, c)
	if err != nil {
		panic(err) // the experiments verify runs are built in, one run each
	}
	return name
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
Every step's full output is kept beside the report, in a directory of its own under --out that
each verify replaces (so a second verify with the same --out starts afresh). A failing step
does not stop the others; verify exits 1 if any step failed.`,
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
	doc.Heading(2, "Findings")
	doc.Para("Each claim, the evidence this run produced for it, and whether the steps behind it succeeded (details in the sections below).")
	doc.Table([]string{"claim", "evidence", "verdict"}, findings(out, results))
	doc.Heading(2, "Key plots")
	for _, r := range results {
		for _, img := range r.step.images {
			if _, err := os.Stat(filepath.Join(r.dir, img)); err == nil {
				doc.Image(relTo(out, filepath.Join(r.dir, img)), filepath.Base(filepath.Dir(img))+": "+filepath.Base(img))
			}
		}
	}
	doc.Heading(2, "Steps")
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
	// The step's directory is this verify's: what an earlier verify left
	// there (a real run's traces, which the runner refuses to overwrite,
	// or old counterexamples) must neither fail the step nor be reported.
	if err := os.RemoveAll(r.dir); err != nil {
		return r, fmt.Errorf("verify: %w", err)
	}
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

// findings lists, for every step with a claim, the claim, its evidence
// and "holds" when the step and the steps it needs succeeded.
func findings(top string, results []stepResult) [][]string {
	ok := map[string]bool{}
	for _, r := range results {
		ok[r.step.name] = r.ok
	}
	var rows [][]string
	for _, r := range results {
		if r.step.claim == "" {
			continue
		}
		verdict := "holds"
		for _, n := range append([]string{r.step.name}, r.step.needs...) {
			if !ok[n] {
				verdict = "FAILED (step " + n + ")"
				break
			}
		}
		ev := "fvm " + strings.Join(r.args, " ")
		if r.step.evidence != nil {
			e, err := r.step.evidence(r.dir)
			if err != nil {
				e = "evidence unreadable: " + oneLine(err)
				if verdict == "holds" {
					verdict = "FAILED (evidence)"
				}
			}
			ev = e
		}
		rows = append(rows, []string{r.step.claim, ev, verdict})
	}
	return rows
}

// checkEvidence summarises a check step's result.json: the verdicts
// against the configuration's expectations, the state counts and the
// long-run fairness and utilisation.
func checkEvidence(dir string) (string, error) {
	b, err := os.ReadFile(filepath.Join(dir, "result.json"))
	if err != nil {
		return "", err
	}
	var c spec.Report
	if err := json.Unmarshal(b, &c); err != nil {
		return "", fmt.Errorf("%s: %w", filepath.Join(dir, "result.json"), err)
	}
	var held, violated, unexpected []string
	for _, v := range c.Verdicts {
		if v.Status == mc.Holds.String() {
			held = append(held, v.Name)
		} else {
			violated = append(violated, v.Name)
		}
		if v.Status != v.Expected {
			unexpected = append(unexpected, fmt.Sprintf("%s %s, expected %s", v.Name, v.Status, v.Expected))
		}
	}
	parts := []string{fmt.Sprintf("%d of %d properties hold", len(held), len(c.Verdicts))}
	if len(violated) > 0 {
		parts = append(parts, "violated: "+strings.Join(violated, ", "))
	}
	if len(unexpected) > 0 {
		parts = append(parts, "UNEXPECTED: "+strings.Join(unexpected, "; "))
	}
	states := fmt.Sprintf("%d states", c.Safety.Distinct)
	if c.Safety.Symmetry {
		states += " (symmetry)"
	}
	if c.Liveness != nil {
		states += fmt.Sprintf(", %d for liveness", c.Liveness.Distinct)
	}
	parts = append(parts, states)
	if c.WorstJain != nil {
		parts = append(parts, fmt.Sprintf("worst long-run Jain %.3f", *c.WorstJain))
	}
	if c.UtilCycle != nil {
		parts = append(parts, fmt.Sprintf("every fair cycle uses >= %.3f of the core", *c.UtilCycle))
	}
	if len(unexpected) > 0 {
		return strings.Join(parts, "; "), fmt.Errorf("verdicts differ from the configuration's expectations")
	}
	return strings.Join(parts, "; "), nil
}

// proveEvidence picks the prediction lines out of the prove step's output.
func proveEvidence(dir string) (string, error) {
	b, err := os.ReadFile(filepath.Join(dir, "output.txt"))
	if err != nil {
		return "", err
	}
	var picked []string
	for _, line := range strings.Split(string(b), "\n") {
		t := strings.TrimSpace(line)
		if strings.HasPrefix(t, "convergence rate per congestion epoch") || strings.HasPrefix(t, "delay ") {
			picked = append(picked, t)
		}
	}
	if len(picked) == 0 {
		return "", errors.New("no convergence-rate or delay-margin line in the output")
	}
	return strings.Join(picked, "; "), nil
}

// runEvidence summarises a real run's summary.json.
func runEvidence(runDir string) (string, error) {
	s, err := runner.ReadSummary(runDir)
	if err != nil {
		return "", err
	}
	parts := []string{}
	if s.JainFVM >= 0 {
		parts = append(parts, fmt.Sprintf("Jain %.3f", s.JainFVM))
	}
	parts = append(parts, fmt.Sprintf("utilisation %.3f", s.Utilisation))
	if s.ConvergenceS >= 0 {
		parts = append(parts, fmt.Sprintf("converged after %.0f s", s.ConvergenceS))
	} else {
		parts = append(parts, "did not converge")
	}
	var shares, delays []string
	var lost, windows int64
	for _, v := range s.VMs {
		shares = append(shares, fmt.Sprintf("%s (%s) %.1f%%", v.Name, v.Role, 100*v.Share))
		if v.Role == "fvm" {
			delays = append(delays, fmt.Sprintf("%s %d", v.Name, v.MaxDelay))
			lost += v.GapWindows
			windows += int64(v.Windows) + v.GapWindows
		}
	}
	parts = append(parts, "shares: "+strings.Join(shares, ", "))
	if len(delays) > 0 {
		parts = append(parts, "max feedback delay (windows): "+strings.Join(delays, ", "),
			fmt.Sprintf("windows lost (older than the delay bound; ref's loss): %d of %d", lost, windows))
	}
	if !s.Complete {
		return strings.Join(parts, "; "), fmt.Errorf("run incomplete: %s", strings.Join(s.Errors, "; "))
	}
	return strings.Join(parts, "; "), nil
}
