package docs

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
)

// Block is a generated part of a document.
type Block struct {
	File string // relative to the repository root
	Name string
	// Render returns the block's Markdown (ending in a newline); nil
	// leaves the block's text as it is (Only).
	Render func(root string) (string, error)
}

// Only keeps the blocks called want rendered and leaves the text of every
// other block as it is, so that part of the documents can be regenerated
// while another part cannot be rendered (its data not recorded yet). A
// name that no block has is an error.
func Only(blocks []Block, want []string) ([]Block, error) {
	keep := map[string]bool{}
	for _, n := range want {
		keep[n] = true
	}
	out := make([]Block, len(blocks))
	for i, b := range blocks {
		if !keep[b.Name] {
			b.Render = nil
		}
		delete(keep, b.Name)
		out[i] = b
	}
	if len(keep) > 0 {
		var unknown []string
		for n := range keep {
			unknown = append(unknown, n)
		}
		sort.Strings(unknown)
		return nil, fmt.Errorf("docs: no block called %s (known: %s)", strings.Join(unknown, ", "), names(blocks))
	}
	return out, nil
}

var reBlock = regexp.MustCompile(`(?s)(<!-- fvm:docs ([a-z0-9-]+) -->\n)(.*?)(<!-- fvm:end -->)`)

// Update regenerates every block of blocks in the documents under root.
// With check set it writes nothing and returns an error naming every block
// whose text differs from its rendering. It also fails for a marker in a
// document that names no block, and for a block whose marker is missing.
func Update(root string, blocks []Block, check bool) ([]string, error) {
	byFile := map[string][]Block{}
	for _, b := range blocks {
		byFile[b.File] = append(byFile[b.File], b)
	}
	files := make([]string, 0, len(byFile))
	for f := range byFile {
		files = append(files, f)
	}
	sort.Strings(files)
	var stale, changed []string
	for _, f := range files {
		path := filepath.Join(root, f)
		text, err := os.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("docs: %w", err)
		}
		want := map[string]Block{}
		for _, b := range byFile[f] {
			want[b.Name] = b
		}
		seen := map[string]bool{}
		var renderErr error
		out := reBlock.ReplaceAllFunc(text, func(m []byte) []byte {
			sub := reBlock.FindSubmatch(m)
			name := string(sub[2])
			b, ok := want[name]
			if !ok {
				renderErr = fmt.Errorf("docs: %s: block %q has no generator (known: %s)", f, name, names(byFile[f]))
				return m
			}
			seen[name] = true
			if b.Render == nil {
				return m
			}
			body, err := b.Render(root)
			if err != nil {
				renderErr = fmt.Errorf("docs: %s block %s: %w", f, name, err)
				return m
			}
			if string(sub[3]) != body {
				stale = append(stale, f+" "+name)
			}
			return append(append(append([]byte{}, sub[1]...), body...), sub[4]...)
		})
		if renderErr != nil {
			return nil, renderErr
		}
		for _, b := range byFile[f] {
			if !seen[b.Name] {
				return nil, fmt.Errorf("docs: %s has no <!-- fvm:docs %s --> block", f, b.Name)
			}
		}
		if check || bytes.Equal(out, text) {
			continue
		}
		if err := os.WriteFile(path, out, 0o644); err != nil {
			return nil, fmt.Errorf("docs: %w", err)
		}
		changed = append(changed, f)
	}
	if check && len(stale) > 0 {
		return stale, fmt.Errorf("docs: out of date (run `fvm docs`): %s", strings.Join(stale, "; "))
	}
	return changed, nil
}

func names(bs []Block) string {
	var s []string
	for _, b := range bs {
		s = append(s, b.Name)
	}
	return strings.Join(s, ", ")
}

// thousands formats n with commas.
func thousands(n int64) string {
	s := fmt.Sprint(n)
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}
