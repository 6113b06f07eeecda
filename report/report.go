package report

import (
	"bytes"
	"fmt"
	"html"
	"os"
	"path/filepath"
	"strings"
)

// Doc is a report: a title and a sequence of blocks. Images are files
// relative to the directory the report is written to.
type Doc struct {
	Title  string
	blocks []block
}

type blockKind int

const (
	heading blockKind = iota
	paragraph
	table
	image
	preformatted
)

type block struct {
	kind  blockKind
	text  string
	rows  [][]string // table: first row is the header
	level int
}

// Heading adds a section heading (level 2 is a section, 3 a subsection).
func (d *Doc) Heading(level int, text string) {
	d.blocks = append(d.blocks, block{kind: heading, text: text, level: level})
}

// Para adds a paragraph of plain text (Markdown inline markup is kept as is).
func (d *Doc) Para(format string, args ...any) {
	d.blocks = append(d.blocks, block{kind: paragraph, text: fmt.Sprintf(format, args...)})
}

// Table adds a table; header is the first row.
func (d *Doc) Table(header []string, rows [][]string) {
	d.blocks = append(d.blocks, block{kind: table, rows: append([][]string{header}, rows...)})
}

// Image adds a picture by its path relative to the report's directory.
func (d *Doc) Image(path, caption string) {
	d.blocks = append(d.blocks, block{kind: image, text: path, rows: [][]string{{caption}}})
}

// Pre adds preformatted text such as a counterexample.
func (d *Doc) Pre(text string) {
	d.blocks = append(d.blocks, block{kind: preformatted, text: strings.TrimRight(text, "\n")})
}

// Markdown renders the document as GitHub-flavoured Markdown.
func (d *Doc) Markdown() []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "# %s\n", d.Title)
	for _, bl := range d.blocks {
		b.WriteByte('\n')
		switch bl.kind {
		case heading:
			fmt.Fprintf(&b, "%s %s\n", strings.Repeat("#", bl.level), bl.text)
		case paragraph:
			fmt.Fprintf(&b, "%s\n", bl.text)
		case table:
			for k, row := range bl.rows {
				cells := make([]string, len(row))
				for i, c := range row {
					cells[i] = strings.ReplaceAll(c, "|", `\|`)
				}
				fmt.Fprintf(&b, "| %s |\n", strings.Join(cells, " | "))
				if k == 0 {
					fmt.Fprintf(&b, "|%s\n", strings.Repeat("---|", len(row)))
				}
			}
		case image:
			fmt.Fprintf(&b, "![%s](%s)\n", bl.rows[0][0], bl.text)
		case preformatted:
			fmt.Fprintf(&b, "```\n%s\n```\n", bl.text)
		}
	}
	return b.Bytes()
}

// HTML renders the document as one self-contained page (images are linked
// by relative path).
func (d *Doc) HTML() []byte {
	var b bytes.Buffer
	esc := html.EscapeString
	fmt.Fprintf(&b, "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>%s</title>\n", esc(d.Title))
	b.WriteString("<style>body{font-family:sans-serif;max-width:60em;margin:2em auto;padding:0 1em}" +
		"table{border-collapse:collapse}td,th{border:1px solid #bbb;padding:.2em .5em;text-align:left}" +
		"pre{background:#f4f4f4;padding:.5em;overflow-x:auto}img{max-width:100%}</style></head><body>\n")
	fmt.Fprintf(&b, "<h1>%s</h1>\n", esc(d.Title))
	for _, bl := range d.blocks {
		switch bl.kind {
		case heading:
			fmt.Fprintf(&b, "<h%d>%s</h%d>\n", bl.level, esc(bl.text), bl.level)
		case paragraph:
			fmt.Fprintf(&b, "<p>%s</p>\n", esc(bl.text))
		case table:
			b.WriteString("<table>\n")
			for k, row := range bl.rows {
				tag := "td"
				if k == 0 {
					tag = "th"
				}
				b.WriteString("<tr>")
				for _, c := range row {
					fmt.Fprintf(&b, "<%s>%s</%s>", tag, esc(c), tag)
				}
				b.WriteString("</tr>\n")
			}
			b.WriteString("</table>\n")
		case image:
			fmt.Fprintf(&b, "<figure><img src=\"%s\" alt=\"%s\"><figcaption>%s</figcaption></figure>\n",
				esc(bl.text), esc(bl.rows[0][0]), esc(bl.rows[0][0]))
		case preformatted:
			fmt.Fprintf(&b, "<pre>%s</pre>\n", esc(bl.text))
		}
	}
	b.WriteString("</body></html>\n")
	return b.Bytes()
}

// Write writes report.md and report.html into dir, syncing both so that a
// crash right after does not leave a truncated report.
func (d *Doc) Write(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("report dir: %w", err)
	}
	for name, data := range map[string][]byte{"report.md": d.Markdown(), "report.html": d.HTML()} {
		if err := WriteFileSync(filepath.Join(dir, name), data); err != nil {
			return err
		}
	}
	return nil
}

// WriteFileSync writes data to path and syncs it to disk before closing:
// a report or result that says it was written survives a crash.
func WriteFileSync(path string, data []byte) error {
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("sync %s: %w", path, err)
	}
	return f.Close()
}
