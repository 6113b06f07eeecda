package main

import (
	"os"
	"path/filepath"
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

// Every kernel mutant maps to one file of the patched tree, and its search
// text occurs exactly once among the lines the whole series adds to that
// file, so that the kernel builder can change the file in place: a later
// patch that adds the same line makes the mutant ambiguous in the source
// although it is unique in its own patch (the real build runs under make
// mutate only; a clash with an upstream line of the file shows only
// there, the kernel's own lines not being in the repository).
func TestKernelMutantsMapToSource(t *testing.T) {
	ms, err := mutate.Load("../..")
	if err != nil {
		t.Fatal(err)
	}
	series, err := filepath.Glob("../../uml-impl/patch/*.patch")
	if err != nil || len(series) == 0 {
		t.Fatalf("no patch series: %v", err)
	}
	n := 0
	for _, m := range ms {
		if !m.Kernel {
			continue
		}
		n++
		patch, err := os.ReadFile(filepath.Join("../..", m.File))
		if err != nil {
			t.Fatal(err)
		}
		c, err := patchSource(patch, m)
		if err != nil {
			t.Error(err)
			continue
		}
		// The file's content as far as the series adds it.
		var added []string
		for _, p := range series {
			b, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			in := false
			for _, l := range strings.Split(string(b), "\n") {
				if f, ok := strings.CutPrefix(l, "+++ b/"); ok {
					in = f == c.File
					continue
				}
				if in && strings.HasPrefix(l, "+") {
					added = append(added, l[1:])
				}
			}
		}
		if k := strings.Count(strings.Join(added, "\n"), c.Search); k != 1 {
			t.Errorf("mutant %s: its source text occurs %d times in the lines the series adds to %s: make it unique", m.Name, k, c.File)
		}
		if strings.HasPrefix(c.Replace, "+") || c.File == "" {
			t.Errorf("mutant %s: mapped to %+v", m.Name, c)
		}
	}
	if n == 0 {
		t.Error("no kernel mutant")
	}
}
