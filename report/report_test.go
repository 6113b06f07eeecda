package report

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestDocRendersEveryBlock(t *testing.T) {
	var d Doc
	d.Title = "Run <1>"
	d.Heading(2, "Shares")
	d.Para("Jain index %.3f", 0.991)
	d.Table([]string{"vm", "share"}, [][]string{{"a|b", "0.5"}})
	d.Image("shares.png", "share per VM")
	d.Pre("HostTick\nAct(0)\n")
	md := string(d.Markdown())
	for _, want := range []string{"# Run <1>", "## Shares", "Jain index 0.991", "| vm | share |", "|---|---|", `| a\|b | 0.5 |`, "![share per VM](shares.png)", "```\nHostTick\nAct(0)\n```"} {
		if !strings.Contains(md, want) {
			t.Errorf("markdown lacks %q:\n%s", want, md)
		}
	}
	h := string(d.HTML())
	for _, want := range []string{"<title>Run &lt;1&gt;</title>", "<h2>Shares</h2>", "<th>vm</th>", "<td>a|b</td>", `<img src="shares.png"`, "<pre>HostTick\nAct(0)</pre>"} {
		if !strings.Contains(h, want) {
			t.Errorf("html lacks %q", want)
		}
	}
}

func TestPlotSaveWritesPNG(t *testing.T) {
	dir := t.TempDir()
	lp := LinePlot{Title: "demand", XLabel: "step", YLabel: "d", Series: []Series{
		{Name: "fvm0", X: []float64{0, 1, 2}, Y: []float64{1, 2, 1}},
		{Name: "pred", X: []float64{0, 2}, Y: []float64{1.5, 1.5}, Dashed: true},
	}}
	path := filepath.Join(dir, "d.png")
	if err := lp.Save(path); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(path)
	if err != nil || len(data) < 1000 || string(data[1:4]) != "PNG" {
		t.Fatalf("not a PNG: %d bytes, err %v", len(data), err)
	}
	bad := LinePlot{Series: []Series{{X: []float64{1}, Y: nil}}}
	if err := bad.Save(filepath.Join(dir, "bad.png")); err == nil {
		t.Fatal("mismatched series saved without error")
	}
	hist := LinePlot{Title: "delays", Hist: 4, Series: []Series{{Y: []float64{0, 1, 1, 2, 2, 2}}}}
	if err := hist.Save(filepath.Join(dir, "h.png")); err != nil {
		t.Fatal(err)
	}
}

func TestWrite(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "sub")
	d := Doc{Title: "t"}
	d.Para("x")
	if err := d.Write(dir); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"report.md", "report.html"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Fatal(err)
		}
	}
}
