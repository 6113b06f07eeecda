package main

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/friendly-vm/fvm/configs"
	"github.com/friendly-vm/fvm/spec/mc"
)

// fvmBinary is built once for the tests, so that exit codes and stderr are
// exactly what a user sees.
var fvmBinary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "fvm-cli-test")
	if err != nil {
		panic(err)
	}
	fvmBinary = filepath.Join(dir, "fvm")
	if out, err := exec.Command("go", "build", "-o", fvmBinary, ".").CombinedOutput(); err != nil {
		os.RemoveAll(dir)
		panic("go build: " + err.Error() + "\n" + string(out))
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

func fvm(t *testing.T, dir string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	cmd := exec.Command(fvmBinary, args...)
	cmd.Dir = dir
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	err := cmd.Run()
	var ee *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &ee):
		code = ee.ExitCode()
	default:
		t.Fatalf("fvm %v: %v", args, err)
	}
	return o.String(), e.String(), code
}

func TestCLIExitCodes(t *testing.T) {
	tests := []struct {
		name      string
		args      []string
		code      int
		stdout    []string // substrings
		stderrOne bool     // stderr is exactly one line
		stderr    string   // substring
	}{
		{name: "default holds", args: []string{"check", "--config", "default", "--quiet"}, code: 0,
			stdout: []string{"distinct states", "states/s", "worst long-run Jain index", "DemandsConverge  liveness  holds", "FairShares       liveness  holds"}},
		{name: "hetero-params lasso", args: []string{"check", "--config", "hetero-params", "--quiet"}, code: 1,
			stdout: []string{"DemandsConverge  liveness  violated", "FairShares       liveness  violated", "lasso", "-- cycle"}},
		{name: "mimd lasso", args: []string{"check", "--config", "mimd", "--quiet"}, code: 1, stdout: []string{"lasso"}},
		{name: "aiad lasso", args: []string{"check", "--config", "aiad", "--quiet"}, code: 1, stdout: []string{"lasso"}},
		{name: "negative alpha", args: []string{"check", "--alpha", "-1"}, code: 2, stderrOne: true,
			stderr: "alpha = -1: must be in [1, u=20]"},
		{name: "unknown config", args: []string{"check", "--config", "nosuch"}, code: 2, stderrOne: true, stderr: "no such configuration"},
		{name: "unknown flag", args: []string{"check", "--nosuch"}, code: 2, stderr: "unknown flag"},
		{name: "unknown command", args: []string{"nosuch"}, code: 2, stderr: "unknown command"},
		{name: "version", args: []string{"version"}, code: 0, stdout: []string{"fvm "}},
		{name: "report of nothing", args: []string{"report", "/nonexistent/run"}, code: 2, stderrOne: true, stderr: "no such file"},
		{name: "trace check of nothing", args: []string{"trace", "check", "/nonexistent/run"}, code: 2, stderr: "no such file"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			out, errOut, code := fvm(t, t.TempDir(), tc.args...)
			if code != tc.code {
				t.Fatalf("fvm %v: exit %d, want %d\nstdout:\n%s\nstderr:\n%s", tc.args, code, tc.code, out, errOut)
			}
			for _, want := range tc.stdout {
				if !strings.Contains(out, want) {
					t.Errorf("stdout lacks %q:\n%s", want, out)
				}
			}
			if !strings.Contains(errOut, tc.stderr) {
				t.Errorf("stderr lacks %q:\n%s", tc.stderr, errOut)
			}
			if tc.stderrOne && strings.Count(strings.TrimSpace(errOut), "\n") != 0 {
				t.Errorf("stderr is not one line:\n%s", errOut)
			}
		})
	}
}

// A counterexample is written as a trace that the trace reader accepts.
func TestCheckWritesCounterexampleTrace(t *testing.T) {
	dir := t.TempDir()
	_, _, code := fvm(t, dir, "check", "--config", "mimd", "--quiet", "--trace-dir", dir)
	if code != 1 {
		t.Fatalf("exit %d, want 1", code)
	}
	matches, _ := filepath.Glob(filepath.Join(dir, "cex-mimd-*.jsonl"))
	if len(matches) == 0 {
		entries, _ := os.ReadDir(dir)
		t.Fatalf("no counterexample trace in %s: %v", dir, entries)
	}
}

// verify without the real guests produces a report whose every step passed.
func TestVerifyWithoutUML(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "out")
	// What an earlier verify left in a step's directory is replaced.
	stale := filepath.Join(out, "simulate", "stale.jsonl")
	if err := os.MkdirAll(filepath.Dir(stale), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(stale, []byte("{}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, errOut, code := fvm(t, dir, "verify", "--no-uml", "--out", out)
	if code != 0 {
		t.Fatalf("verify --no-uml: exit %d\n%s", code, errOut)
	}
	if _, err := os.Stat(stale); !os.IsNotExist(err) {
		t.Errorf("%s survived a verify (err %v): a step's directory must start empty", stale, err)
	}
	md, err := os.ReadFile(filepath.Join(out, "report.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"## Findings", "## Steps", "| ok |", "prove/default-phase.png", "Model checker: the paper's signal (VCT) on the duty host"} {
		if !strings.Contains(string(md), want) {
			t.Errorf("report.md lacks %q", want)
		}
	}
	// Findings come first, and every claim of the steps without real
	// guests holds, with its evidence: the four checker runs, the
	// simulation's refinement and the proofs' prediction.
	report := string(md)
	if f, s := strings.Index(report, "## Findings"), strings.Index(report, "## Steps"); f < 0 || s < f {
		t.Errorf("the findings do not come before the steps")
	}
	findings := report[strings.Index(report, "## Findings"):strings.Index(report, "## Key plots")]
	if n := strings.Count(findings, "| holds |"); n != 6 {
		t.Errorf("findings: %d claims hold, want 6:\n%s", n, findings)
	}
	// duty-vct is expected to violate a fairness property (its
	// configuration says which): the finding must name it.
	vct, err := configs.Load("duty-vct")
	if err != nil {
		t.Fatal(err)
	}
	for name, want := range vct.Check.Expect {
		if want == mc.Violated && !strings.Contains(findings, "violated: "+name) {
			t.Errorf("findings do not show VCT's expected violation of %s:\n%s", name, findings)
		}
	}
	if strings.Contains(string(md), "FAILED") {
		t.Errorf("report.md has a failed step:\n%s", md)
	}
}

// A run with a gap refines ref (its loss drops the window); --no-loss fails
// it all the same, naming the VM and the lost windows.
func TestTraceCheckNoLoss(t *testing.T) {
	b, err := os.ReadFile("../../trace/refine/testdata/check/gap-late.txt")
	if err != nil {
		t.Fatal(err)
	}
	var lines []string
	for _, l := range strings.Split(strings.Split(string(b), "---- want")[0], "\n") {
		if strings.HasPrefix(l, "{") {
			lines = append(lines, l)
		}
	}
	dir := t.TempDir()
	f := filepath.Join(dir, "gap.jsonl")
	if err := os.WriteFile(f, []byte(strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		args   []string
		code   int
		stderr string
	}{
		{[]string{"trace", "check", f}, 0, ""},
		{[]string{"trace", "check", "--no-loss", f}, 1, "lost windows (--no-loss): vm 0: 1 gap(s), 4 windows"},
	} {
		out, errOut, code := fvm(t, dir, tc.args...)
		if code != tc.code || !strings.Contains(errOut, tc.stderr) {
			t.Errorf("fvm %v: exit %d, stderr %q; want exit %d, stderr with %q\n%s", tc.args, code, errOut, tc.code, tc.stderr, out)
		}
	}
}
