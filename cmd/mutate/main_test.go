package main

import (
	"strings"
	"testing"
	"time"

	"github.com/friendly-vm/fvm/mutate"
)

// The table says how the lockstep suite caught a mutant, from the tag its
// failure message starts with.
func TestFailedTestsTag(t *testing.T) {
	tr := &testRun{failed: []string{"TestControllerRefinesRefLockstep", "TestOther"}, output: map[string][]string{
		"TestControllerRefinesRefLockstep": {"    lockstep_test.go:1: [rapid] failed after 3 tests: lockstep: vm 0: decision 2 ...\n"},
		"TestOther":                        {"    x_test.go:9: wrong\n"},
	}}
	got := strings.Join(tr.failedTests(), ", ")
	if got != "TestControllerRefinesRefLockstep [lockstep], TestOther" {
		t.Errorf("failedTests = %q", got)
	}
	tr = &testRun{failed: []string{"TestControllerRefinesRefLockstep"}, output: map[string][]string{
		"TestControllerRefinesRefLockstep": {"refinement: the lockstep run does not refine ref\n"}}}
	if got := tr.failedTests(); len(got) != 1 || got[0] != "TestControllerRefinesRefLockstep [refinement]" {
		t.Errorf("failedTests = %q", got)
	}
}

// A survivor or a mutant that does not build fails make mutate; caught,
// equivalent and not-run ones do not.
func TestPrintTableExitCode(t *testing.T) {
	m := mutate.Mutant{Name: "m", File: "ref/step.go", Kind: "rounding"}
	tests := []struct {
		status string
		code   int
	}{{"caught", 0}, {"equivalent", 0}, {"not run", 0}, {"SURVIVED", 1}, {"BUILD FAILED", 1}}
	for _, tc := range tests {
		var b strings.Builder
		if got := printTable(&b, []result{{m: m, status: tc.status, took: time.Second}}, time.Second); got != tc.code {
			t.Errorf("status %s: exit %d, want %d\n%s", tc.status, got, tc.code, b.String())
		}
	}
}
