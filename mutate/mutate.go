package mutate

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// ListFile is where the mutants are kept, relative to the repository root.
const ListFile = "mutate/mutants.txt"

// Kinds are the kinds of bug a mutant may be: the mistakes a maintainer
// makes.
var Kinds = []string{"rounding", "off-by-one", "comparison", "read-back", "dropped-sample", "unit", "ordering", "forgotten-check"}

// Areas are the parts of the system the mutants are spread over, each with
// the path prefix of its files.
var Areas = []struct{ Name, Prefix string }{
	{"ref", "ref/"},
	{"controller", "uml-impl/controller/"},
	{"checker", "trace/refine/"},
	{"runner", "uml-impl/runner/"},
	// The run summaries' figures that the runner and the friendly
	// experiments share (metrics.Delays).
	{"metrics", "metrics/"},
	{"host", "uml-impl/host/"},
	// The /proc parsers the host runner measures guests with.
	{"host", "internal/procstat/"},
	{"kernel", "uml-impl/patch/"},
	// fvm friendly: the cgroup ports of the same controller.
	{"friendly", "friendly/"},
}

// Mutant is one deliberate bug: replace Search (which must occur exactly
// once in File) by Replace, then run Tests, one of which must fail.
type Mutant struct {
	Name string
	File string // relative to the repository root
	Kind string // one of Kinds
	Why  string // what the bug does, in a line
	// Tests are go test argument lists (packages and flags such as -run),
	// run one after the other from the repository root.
	Tests [][]string
	// Kernel marks a mutant of the kernel patch: its tests need a kernel
	// built from the mutated patch (FVM_KERNEL) and run on a real guest.
	Kernel bool
	// Equivalent, when set, says why the mutant cannot change what the
	// system does: it is kept (and must still apply) but not run.
	Equivalent string
	Search     string
	Replace    string
	Line       int // line of its "===" in the list, for messages
}

// Area returns the name of the area File belongs to ("" if none).
func (m *Mutant) Area() string {
	for _, a := range Areas {
		if strings.HasPrefix(m.File, a.Prefix) {
			return a.Name
		}
	}
	return ""
}

// Apply returns src with the mutant applied. Search must occur exactly
// once: a search text that a refactor removed or duplicated is an error
// naming the mutant and the fix.
func (m *Mutant) Apply(src []byte) ([]byte, error) {
	switch n := bytes.Count(src, []byte(m.Search)); n {
	case 1:
		return bytes.Replace(src, []byte(m.Search), []byte(m.Replace), 1), nil
	case 0:
		return nil, fmt.Errorf("mutant %s (%s:%d): its search text no longer occurs in %s: update the mutant to the current source", m.Name, ListFile, m.Line, m.File)
	default:
		return nil, fmt.Errorf("mutant %s (%s:%d): its search text occurs %d times in %s: make it unique", m.Name, ListFile, m.Line, n, m.File)
	}
}

// Load reads the mutant list of the repository at root.
func Load(root string) ([]Mutant, error) {
	f, err := os.Open(filepath.Join(root, ListFile))
	if err != nil {
		return nil, fmt.Errorf("mutant list: %w", err)
	}
	defer f.Close()
	return Parse(f, ListFile)
}

// Parse reads a mutant list. Lines starting with "#" outside a mutant's
// text are comments. Each mutant is
//
//	=== name
//	file: path
//	kind: one of Kinds
//	why: what the bug does
//	test: go test arguments        (one or more lines)
//	kernel: yes                    (optional)
//	equivalent: why it is          (optional)
//	--- search
//	text to find, verbatim
//	+++ replace
//	text to put instead, verbatim
//
// The replacement ends at the next "===" line or the end of the file;
// trailing empty lines of both texts are dropped, and so are the comment
// lines (#) that end a replacement (they belong to what follows), so a
// replacement cannot end with a line starting with "#".
func Parse(r io.Reader, name string) ([]Mutant, error) {
	var out []Mutant
	var cur *Mutant
	var state int // 0: fields, 1: search, 2: replace
	var search, replace []string
	finish := func() error {
		if cur == nil {
			return nil
		}
		cur.Search = strings.Join(trimTail(search), "\n")
		for len(replace) > 0 && strings.HasPrefix(replace[len(replace)-1], "#") || len(replace) > 0 && strings.TrimSpace(replace[len(replace)-1]) == "" {
			replace = replace[:len(replace)-1]
		}
		cur.Replace = strings.Join(replace, "\n")
		if err := cur.validate(); err != nil {
			return fmt.Errorf("%s:%d: %w", name, cur.Line, err)
		}
		out = append(out, *cur)
		cur, search, replace, state = nil, nil, nil, 0
		return nil
	}
	sc := bufio.NewScanner(r)
	for n := 1; sc.Scan(); n++ {
		l := sc.Text()
		if rest, ok := strings.CutPrefix(l, "=== "); ok {
			if err := finish(); err != nil {
				return nil, err
			}
			cur = &Mutant{Name: strings.TrimSpace(rest), Line: n}
			continue
		}
		switch {
		case cur == nil:
			if strings.TrimSpace(l) != "" && !strings.HasPrefix(l, "#") {
				return nil, fmt.Errorf("%s:%d: %q outside a mutant (a mutant starts with \"=== name\")", name, n, l)
			}
		case state == 0 && l == "--- search":
			state = 1
		case state == 1 && l == "+++ replace":
			state = 2
		case state == 1:
			search = append(search, l)
		case state == 2:
			replace = append(replace, l)
		case strings.TrimSpace(l) == "" || strings.HasPrefix(l, "#"):
		default:
			key, val, ok := strings.Cut(l, ":")
			if !ok {
				return nil, fmt.Errorf("%s:%d: %q: want \"field: value\" or \"--- search\"", name, n, l)
			}
			val = strings.TrimSpace(val)
			switch key {
			case "file":
				cur.File = val
			case "kind":
				cur.Kind = val
			case "why":
				cur.Why = val
			case "test":
				args, err := splitArgs(val)
				if err != nil {
					return nil, fmt.Errorf("%s:%d: %w", name, n, err)
				}
				cur.Tests = append(cur.Tests, args)
			case "kernel":
				cur.Kernel = val == "yes"
			case "equivalent":
				cur.Equivalent = val
			default:
				return nil, fmt.Errorf("%s:%d: unknown field %q (want file, kind, why, test, kernel or equivalent)", name, n, key)
			}
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if err := finish(); err != nil {
		return nil, err
	}
	seen := map[string]bool{}
	for _, m := range out {
		if seen[m.Name] {
			return nil, fmt.Errorf("%s:%d: mutant %s is listed twice", name, m.Line, m.Name)
		}
		seen[m.Name] = true
	}
	return out, nil
}

func (m *Mutant) validate() error {
	switch {
	case m.Name == "" || strings.ContainsAny(m.Name, " \t"):
		return fmt.Errorf("mutant name %q: want one word", m.Name)
	case m.File == "":
		return fmt.Errorf("mutant %s: no file", m.Name)
	case m.Area() == "":
		var names []string
		for _, a := range Areas {
			names = append(names, a.Name)
		}
		return fmt.Errorf("mutant %s: file %s is in none of the areas %s", m.Name, m.File, strings.Join(names, ", "))
	case !slices.Contains(Kinds, m.Kind):
		return fmt.Errorf("mutant %s: kind %q: want one of %s", m.Name, m.Kind, strings.Join(Kinds, ", "))
	case m.Why == "":
		return fmt.Errorf("mutant %s: no why", m.Name)
	case len(m.Tests) == 0:
		return fmt.Errorf("mutant %s: no test line", m.Name)
	case m.Search == "":
		return fmt.Errorf("mutant %s: empty search text", m.Name)
	case m.Search == m.Replace:
		return fmt.Errorf("mutant %s: the replacement is the search text", m.Name)
	case m.Kernel != (m.Area() == "kernel"):
		return fmt.Errorf("mutant %s: \"kernel: yes\" is for the mutants of the kernel patch, and they need it", m.Name)
	case m.Kernel && !addedLines(m.Search, m.Replace):
		return fmt.Errorf("mutant %s: a kernel mutant changes added lines (\"+...\") only, line for line, so that the patch's hunks still count right", m.Name)
	}
	return nil
}

// addedLines reports whether a and b are patch lines added by the patch
// ("+" first), as many in each.
func addedLines(a, b string) bool {
	la, lb := strings.Split(a, "\n"), strings.Split(b, "\n")
	if len(la) != len(lb) {
		return false
	}
	for i := range la {
		if !strings.HasPrefix(la[i], "+") || !strings.HasPrefix(lb[i], "+") || strings.HasPrefix(la[i], "+++") {
			return false
		}
	}
	return true
}

func trimTail(ls []string) []string {
	for len(ls) > 0 && strings.TrimSpace(ls[len(ls)-1]) == "" {
		ls = ls[:len(ls)-1]
	}
	return ls
}

// splitArgs splits a test line into arguments: blanks separate them, single
// quotes group (as in a shell, without escapes).
func splitArgs(s string) ([]string, error) {
	var out []string
	var b strings.Builder
	in, any := false, false
	for _, r := range s {
		switch {
		case r == '\'':
			in, any = !in, true
		case !in && (r == ' ' || r == '\t'):
			if any {
				out = append(out, b.String())
				b.Reset()
				any = false
			}
		default:
			b.WriteRune(r)
			any = true
		}
	}
	if in {
		return nil, fmt.Errorf("test line %q: unbalanced quote", s)
	}
	if any {
		out = append(out, b.String())
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("empty test line")
	}
	return out, nil
}
