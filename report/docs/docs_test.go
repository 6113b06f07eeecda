package docs

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The documents agree with what the checker and the committed data say.
func TestDocs(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the model checker on every documented configuration")
	}
	if stale, err := Update("../..", All(), true); err != nil {
		t.Fatalf("%v\n%v", err, stale)
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
