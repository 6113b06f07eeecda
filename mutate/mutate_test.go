package mutate

import (
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// root is the repository root, seen from this package's directory.
const root = ".."

// TestEveryMutantApplies keeps the list honest as the code changes: every
// mutant's search text occurs exactly once in its file, a mutated Go file
// still parses (a mutant must be a bug, not a syntax error), and the list
// has at least 25 mutants to run, spread over every area.
func TestEveryMutantApplies(t *testing.T) {
	ms, err := Load(root)
	if err != nil {
		t.Fatal(err)
	}
	perArea := map[string]int{}
	run := 0
	for _, m := range ms {
		src, err := os.ReadFile(filepath.Join(root, m.File))
		if err != nil {
			t.Errorf("mutant %s: %v", m.Name, err)
			continue
		}
		out, err := m.Apply(src)
		if err != nil {
			t.Error(err)
			continue
		}
		if strings.HasSuffix(m.File, ".go") {
			if _, err := parser.ParseFile(token.NewFileSet(), m.File, out, parser.SkipObjectResolution); err != nil {
				t.Errorf("mutant %s: the mutated %s does not parse: %v", m.Name, m.File, err)
			}
		}
		for _, args := range m.Tests {
			for _, a := range args {
				if strings.HasPrefix(a, "./") {
					if st, err := os.Stat(filepath.Join(root, a)); err != nil || !st.IsDir() {
						t.Errorf("mutant %s: test package %s is not a directory of the repository", m.Name, a)
					}
				}
			}
		}
		if m.Equivalent == "" {
			run++
			perArea[m.Area()]++
		}
	}
	if run < 25 {
		t.Errorf("%d mutants to run, want at least 25", run)
	}
	for _, a := range Areas {
		if perArea[a.Name] < 1 {
			t.Errorf("no mutant of area %s (%s)", a.Name, a.Prefix)
		}
	}
	t.Logf("%d mutants (%d to run): %v", len(ms), run, perArea)
}

func TestParse(t *testing.T) {
	tests := []struct {
		name, in string
		want     string // error substring; "" parses
	}{
		{"ok", "# c\n=== a\nfile: ref/x.go\nkind: rounding\nwhy: w\ntest: -run 'A|B' ./ref\n--- search\nx\n+++ replace\ny\n\n", ""},
		{"no test", "=== a\nfile: ref/x.go\nkind: rounding\nwhy: w\n--- search\nx\n+++ replace\ny\n", "no test line"},
		{"bad kind", "=== a\nfile: ref/x.go\nkind: typo\nwhy: w\ntest: ./ref\n--- search\nx\n+++ replace\ny\n", "kind \"typo\""},
		{"no area", "=== a\nfile: docs/x.go\nkind: rounding\nwhy: w\ntest: ./ref\n--- search\nx\n+++ replace\ny\n", "none of the areas"},
		{"same text", "=== a\nfile: ref/x.go\nkind: rounding\nwhy: w\ntest: ./ref\n--- search\nx\n+++ replace\nx\n", "is the search text"},
		{"kernel flag", "=== a\nfile: uml-impl/patch/p.patch\nkind: unit\nwhy: w\ntest: ./ref\n--- search\nx\n+++ replace\ny\n", "kernel: yes"},
		{"quote", "=== a\nfile: ref/x.go\nkind: rounding\nwhy: w\ntest: -run 'A\n--- search\nx\n+++ replace\ny\n", "unbalanced quote"},
		{"twice", "=== a\nfile: ref/x.go\nkind: rounding\nwhy: w\ntest: ./ref\n--- search\nx\n+++ replace\ny\n=== a\nfile: ref/x.go\nkind: rounding\nwhy: w\ntest: ./ref\n--- search\nx\n+++ replace\ny\n", "listed twice"},
		{"stray", "hello\n", "outside a mutant"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ms, err := Parse(strings.NewReader(tc.in), "list")
			if tc.want == "" {
				if err != nil || len(ms) != 1 {
					t.Fatalf("Parse: %v, %d mutants", err, len(ms))
				}
				m := ms[0]
				if m.Search != "x" || m.Replace != "y" || len(m.Tests) != 1 || strings.Join(m.Tests[0], ",") != "-run,A|B,./ref" || m.Area() != "ref" {
					t.Fatalf("parsed %+v", m)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Parse: %v, want an error containing %q", err, tc.want)
			}
		})
	}
}

func TestApply(t *testing.T) {
	m := Mutant{Name: "m", File: "f.go", Search: "a < b", Replace: "a <= b"}
	if out, err := m.Apply([]byte("if a < b {}")); err != nil || string(out) != "if a <= b {}" {
		t.Errorf("Apply = %q, %v", out, err)
	}
	if _, err := m.Apply([]byte("if a > b {}")); err == nil || !strings.Contains(err.Error(), "no longer occurs") {
		t.Errorf("missing search text: %v", err)
	}
	if _, err := m.Apply([]byte("a < b; a < b")); err == nil || !strings.Contains(err.Error(), "2 times") {
		t.Errorf("ambiguous search text: %v", err)
	}
}
