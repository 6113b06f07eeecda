package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/friendly-vm/fvm/spec"
)

// runFvm runs the CLI in-process and returns its exit code, stdout and stderr.
func runCheckCLI(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	root := newRootCmd()
	var out, errb bytes.Buffer
	root.SetOut(&out)
	root.SetErr(&errb)
	root.SetArgs(args)
	err := root.Execute()
	code := exitOK
	if err != nil {
		code = exitBadInput
		if _, ok := err.(violationError); ok {
			code = exitViolation
		}
		errb.WriteString(err.Error())
	}
	return code, out.String(), errb.String()
}

func TestCheckDefaultHolds(t *testing.T) {
	code, out, errs := runCheckCLI(t, "check", "--config", "default", "--trace-dir", t.TempDir())
	if code != exitOK {
		t.Fatalf("exit %d: %s %s", code, out, errs)
	}
	for _, want := range []string{"distinct states", "states/s", "worst long-run Jain index", "DemandsConverge  liveness  holds", "FairShares       liveness  holds", "symmetry on", "symmetry off"} {
		if !strings.Contains(out, want) {
			t.Fatalf("output lacks %q:\n%s", want, out)
		}
	}
}

func TestCheckViolationsExit1WithLasso(t *testing.T) {
	for _, name := range []string{"hetero-params", "mimd", "aiad"} {
		dir := t.TempDir()
		code, out, errs := runCheckCLI(t, "check", "--config", name, "--trace-dir", dir)
		if code != exitViolation {
			t.Fatalf("%s: exit %d: %s %s", name, code, out, errs)
		}
		if !strings.Contains(out, "counterexample to DemandsConverge: lasso") || !strings.Contains(out, "-- cycle") {
			t.Fatalf("%s: no lasso in output:\n%s", name, out)
		}
		data, err := os.ReadFile(filepath.Join(dir, "cex-"+name+"-FairShares.jsonl"))
		if err != nil || !bytes.Contains(data, []byte(`"kind":"decide"`)) {
			t.Fatalf("%s: trace file: %v", name, err)
		}
	}
}

func TestCheckBadInputExit2(t *testing.T) {
	for _, args := range [][]string{
		{"check", "--alpha", "-1"},
		{"check", "--config", "no-such-config"},
		{"check", "--beta", "x"},
		{"check", "--host", "cloud"},
	} {
		code, _, errs := runCheckCLI(t, args...)
		if code != exitBadInput || strings.Count(strings.TrimSpace(errs), "\n") != 0 {
			t.Fatalf("%v: exit %d, error %q", args, code, errs)
		}
	}
}

func TestCheckJSON(t *testing.T) {
	code, out, _ := runCheckCLI(t, "check", "--config", "hetero-params", "--json", "--trace-dir", "", "--quiet")
	if code != exitViolation {
		t.Fatalf("exit %d", code)
	}
	var got spec.Report
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("json: %v\n%s", err, out)
	}
	if got.OK || got.Liveness == nil || got.WorstJain == nil || len(got.Violations) != 2 || len(got.Violations[0].Cycle) == 0 || got.Violations[1].Property != spec.FairShares {
		t.Fatalf("unexpected result: %+v", got)
	}
}

func TestCheckOverridesAndSafetyOnly(t *testing.T) {
	code, out, errs := runCheckCLI(t, "check", "--config", "default", "--n", "2", "--dmax", "10", "--liveness=false", "--symmetry=false")
	if code != exitOK || !strings.Contains(out, "2 FVMs") || !strings.Contains(out, "liveness not checked") {
		t.Fatalf("exit %d:\n%s%s", code, out, errs)
	}
}
