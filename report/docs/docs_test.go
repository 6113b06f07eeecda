package docs

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// The documents agree with what the checker and the committed data say,
// one subtest per document. proofs/mechanisms.md is TestMechanismsDoc's
// (it checks the prose against the same rows), so its blocks are not
// rendered twice.
func TestDocs(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the model checker on every documented configuration")
	}
	own := map[string]bool{}
	for _, b := range mechanismBlocks(&mechanismData{}) {
		own[b.File+" "+b.Name] = true
	}
	byFile := map[string][]Block{}
	var files []string
	for _, b := range All() {
		if own[b.File+" "+b.Name] {
			delete(own, b.File+" "+b.Name)
			continue
		}
		if byFile[b.File] == nil {
			files = append(files, b.File)
		}
		byFile[b.File] = append(byFile[b.File], b)
	}
	if len(own) > 0 {
		t.Fatalf("All() lacks the mechanisms blocks %v that TestMechanismsDoc checks", own)
	}
	for _, f := range files {
		t.Run(f, func(t *testing.T) {
			if stale, err := Update("../..", byFile[f], true); err != nil {
				t.Fatalf("%v\n%v (regenerate with `go run ./cmd/fvm docs`)", err, stale)
			}
			checkIndependently(t, byFile[f])
		})
	}
}

// checkIndependently runs the independent check (independent_test.go) of
// every block of bs that has one, on the committed document: its figures
// against the data, not against its renderer.
func checkIndependently(t *testing.T, bs []Block) {
	t.Helper()
	for _, b := range bs {
		if check, ok := independentCheck(b.Name); ok {
			check(t, committedBlock(t, b.File, b.Name))
		}
	}
}

// Update rewrites a stale block, leaves the rest of the file alone, and in
// check mode reports it without writing.
func TestUpdateBlocks(t *testing.T) {
	dir := t.TempDir()
	doc := "intro\n<!-- fvm:docs n -->\nold\n<!-- fvm:end -->\noutro\n"
	if err := os.WriteFile(filepath.Join(dir, "a.md"), []byte(doc), 0o644); err != nil {
		t.Fatal(err)
	}
	b := []Block{{File: "a.md", Name: "n", Render: func(string) (string, error) { return "new\n", nil }}}
	if _, err := Update(dir, b, true); err == nil || !strings.Contains(err.Error(), "a.md n") {
		t.Fatalf("check mode: %v", err)
	}
	if got, _ := os.ReadFile(filepath.Join(dir, "a.md")); string(got) != doc {
		t.Fatalf("check mode wrote %q", got)
	}
	if _, err := Update(dir, b, false); err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(filepath.Join(dir, "a.md")); string(got) != "intro\n<!-- fvm:docs n -->\nnew\n<!-- fvm:end -->\noutro\n" {
		t.Fatalf("updated to %q", got)
	}
	if _, err := Update(dir, b, true); err != nil {
		t.Fatalf("after the update: %v", err)
	}
	missing := []Block{{File: "a.md", Name: "other", Render: b[0].Render}}
	if _, err := Update(dir, missing, true); err == nil {
		t.Fatal("a block without a marker passed")
	}
}

// Only renders the blocks named and leaves the others' text alone, even a
// block that cannot be rendered; an unknown name is an error.
func TestOnly(t *testing.T) {
	dir := t.TempDir()
	doc := "<!-- fvm:docs a -->\nold a\n<!-- fvm:end -->\n<!-- fvm:docs b -->\nold b\n<!-- fvm:end -->\n"
	if err := os.WriteFile(filepath.Join(dir, "d.md"), []byte(doc), 0o644); err != nil {
		t.Fatal(err)
	}
	bs := []Block{
		{File: "d.md", Name: "a", Render: func(string) (string, error) { return "new a\n", nil }},
		{File: "d.md", Name: "b", Render: func(string) (string, error) { return "", fmt.Errorf("no data") }},
	}
	if _, err := Update(dir, bs, false); err == nil {
		t.Fatal("a block that cannot be rendered passed")
	}
	only, err := Only(bs, []string{"a"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Update(dir, only, false); err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(filepath.Join(dir, "d.md")); string(got) != strings.Replace(doc, "old a", "new a", 1) {
		t.Fatalf("updated to %q", got)
	}
	if _, err := Only(bs, []string{"a", "c"}); err == nil || !strings.Contains(err.Error(), "no block called c") {
		t.Fatalf("unknown name: %v", err)
	}
}

// The generated blocks on friendly groups agree with their committed runs
// (a part of TestDocs that needs no model checking): they are not stale,
// and what they state is what the runs' data say (checked independently
// of the renderers).
func TestFriendlyDocs(t *testing.T) {
	var want []string
	for _, b := range FriendlyBlocks() {
		want = append(want, b.Name)
		if _, ok := independentCheck(b.Name); !ok {
			t.Errorf("block %s has no independent check", b.Name)
		}
	}
	only, err := Only(All(), want)
	if err != nil {
		t.Fatal(err)
	}
	if stale, err := Update("../..", only, true); err != nil {
		t.Fatalf("%v\n%v", err, stale)
	}
	checkIndependently(t, FriendlyBlocks())
}

// readPatchStat agrees with git's own count of each patch (git apply
// --numstat: a second implementation).
func TestPatchStatAgreesWithGit(t *testing.T) {
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("SKIP: no git")
	}
	files, err := filepath.Glob("../../uml-impl/patch/*.patch")
	if err != nil || len(files) == 0 {
		t.Fatalf("no patches: %v", err)
	}
	for _, f := range files {
		abs, err := filepath.Abs(f)
		if err != nil {
			t.Fatal(err)
		}
		// Outside any repository, so that git counts every file.
		cmd := exec.Command("git", "apply", "--numstat", abs)
		cmd.Dir = t.TempDir()
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("git apply --numstat %s: %v", f, err)
		}
		var want patchStats
		for _, l := range strings.Split(strings.TrimSpace(string(out)), "\n") {
			var a, d int
			if _, err := fmt.Sscanf(l, "%d %d", &a, &d); err != nil {
				t.Fatalf("%s: numstat line %q: %v", f, l, err)
			}
			want.files++
			want.added += a
			want.removed += d
		}
		got, err := readPatchStat(f)
		if err != nil {
			t.Fatal(err)
		}
		if got != want {
			t.Errorf("%s: readPatchStat %+v, git %+v", filepath.Base(f), got, want)
		}
	}
}
