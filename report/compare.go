package report

import (
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"

	"github.com/friendly-vm/fvm/proofs"
	"github.com/friendly-vm/fvm/trace"
	"github.com/friendly-vm/fvm/trace/refine"
	"github.com/friendly-vm/fvm/uml-impl/runner"
	"github.com/friendly-vm/fvm/vocab"
)

// Comparison is the table of a comparison of mechanisms (fvm uml compare):
// one row per mechanism and threshold; and the table of the controllers'
// pair and four runs against what the proofs predict for the same
// parameters.
type Comparison struct {
	Header, PredHeader []string
	Cells, PredCells   [][]string
	rows               []runner.CompareRow
}

// ReadComparison reads the comparison in dir, checks every run's traces
// against ref, and lays out its table.
func ReadComparison(dir string) (*Comparison, error) {
	rows, err := runner.ReadComparison(dir)
	if err != nil {
		return nil, err
	}
	c := &Comparison{rows: rows, Header: []string{"mechanism", "θ",
		"pair Jain", "pair util.", "pair conv.", "four Jain", "four util.", "four conv.",
		"greedy guest's share", "beside it", "pair work vs cfs", "refines ref"}}
	var cfsWork float64
	for _, r := range rows {
		if r.Mechanism == runner.BaselineCFS && r.Pair != nil {
			cfsWork = runner.Work(r.Pair)
		}
	}
	for _, r := range rows {
		theta := "—"
		if r.ThetaPermille > 0 {
			theta = fmt.Sprintf("%d‰", r.ThetaPermille)
		}
		cells := []string{r.Label(), theta}
		for _, s := range []*runner.Summary{r.Pair, r.Four} {
			if s == nil {
				cells = append(cells, "—", "—", "—")
				continue
			}
			conv := "never"
			if s.ConvergenceS >= 0 {
				conv = fmt.Sprintf("%.0f s", s.ConvergenceS)
			}
			cells = append(cells, fmt.Sprintf("%.3f%s", s.JainFVM, incomplete(s)), fmt.Sprintf("%.1f%%", 100*s.Utilisation), conv)
		}
		if g, o, ok := r.GreedyShares(); ok {
			cells = append(cells, fmt.Sprintf("%.1f%%%s", 100*g, incomplete(r.Greedy)), fmt.Sprintf("%.1f%%", 100*o))
		} else {
			cells = append(cells, "—", "—")
		}
		if r.Pair != nil && cfsWork > 0 {
			cells = append(cells, fmt.Sprintf("%.2f", runner.Work(r.Pair)/cfsWork))
		} else {
			cells = append(cells, "—")
		}
		verdict := "yes"
		if len(r.Runs) == 0 {
			verdict = "—"
		}
		for _, d := range r.Runs {
			res, err := refine.CheckFiles([]string{d}, refine.Options{})
			if err != nil {
				return nil, fmt.Errorf("comparison run %s: %w", d, err)
			}
			if !res.OK() {
				verdict = "**no** (" + d + "): " + res.Failure.Msg
				break
			}
		}
		c.Cells = append(c.Cells, append(cells, verdict))
	}
	if err := c.predictions(); err != nil {
		return nil, err
	}
	return c, nil
}

// simSeed seeds the simulations of the second table (proofs.Simulated).
const simSeed = 1

// predictions lays out the second table: for every controller row's pair
// and four run, the real utilisation, Jain index, convergence (seconds and
// epochs) and epoch length beside proofs.PredictTimed's for the model the
// run's trace headers declare (each FVM deciding once per window, as long
// as its declared period makes it), from the same initial demands, over as many
// windows as the run's measured interval; and the epoch length of
// proofs.Simulated on the same (the model with its delays, seed simSeed).
func (c *Comparison) predictions() error {
	c.PredHeader = []string{"mechanism", "scenario", "utilisation: real / proofs", "Jain: real / proofs",
		"convergence: real (epochs)", "proofs: convergence; demands first fair (epochs)", "epoch, windows: real / proofs / simulated", "within 20%"}
	for _, r := range c.rows {
		if r.ThetaPermille == 0 {
			continue
		}
		for _, x := range []struct {
			name string
			s    *runner.Summary
		}{{runner.ComparePair, r.Pair}, {runner.CompareFour, r.Four}} {
			if x.s == nil {
				continue
			}
			pr, sim, err := predictRun(r.Dir(x.name), x.s)
			if err != nil {
				return err
			}
			f := pr.Figures
			var within []string
			if near20(x.s.Utilisation, f.Utilisation) {
				within = append(within, "utilisation")
			}
			if near20(x.s.EpochWindows, f.EpochLen) {
				within = append(within, "epoch")
			}
			if near20(x.s.EpochWindows, sim.EpochLen) {
				within = append(within, "simulated epoch")
			}
			if len(within) == 0 {
				within = []string{"neither"}
			}
			c.PredCells = append(c.PredCells, []string{r.Label(), x.name,
				fmt.Sprintf("%.3f / %.3f", x.s.Utilisation, f.Utilisation),
				fmt.Sprintf("%.3f / %.3f", x.s.JainFVM, f.Jain),
				fmt.Sprintf("%s (%s)", fmtSeconds(x.s.ConvergenceS), count(x.s.ConvergenceEpochs)),
				fmt.Sprintf("%s; %s (%d)", fmtSeconds(f.ConvergenceS), fmtSeconds(f.FirstFairS), f.Epochs),
				fmt.Sprintf("%.1f / %.1f / %.1f", x.s.EpochWindows, f.EpochLen, sim.EpochLen),
				strings.Join(within, ", ")})
		}
	}
	return nil
}

// predictRun is proofs.PredictTimed, each FVM deciding once per window
// as long as its declared actuation period makes it, and proofs.Simulated,
// for the model the run in dir declares.
func predictRun(dir string, s *runner.Summary) (proofs.Prediction, proofs.Figures, error) {
	var headers []*trace.Header
	var init []int
	var windowNs []int64
	for _, v := range s.VMs {
		h, err := readHeader(filepath.Join(dir, v.Name+".jsonl"))
		if err != nil {
			return proofs.Prediction{}, proofs.Figures{}, err
		}
		headers, init = append(headers, h), append(init, h.InitD)
		if v.Role == "fvm" {
			windowNs = append(windowNs, proofs.WindowNsOf(h.PeriodUs))
		}
	}
	p, err := refine.Params(headers...)
	if err != nil {
		return proofs.Prediction{}, proofs.Figures{}, fmt.Errorf("%s: %w", dir, err)
	}
	windows := int((s.IntervalS[1] - s.IntervalS[0]) * 1e9 / vocab.WindowNs)
	pr, err := proofs.PredictTimed(p, init, windows, windowNs)
	if err != nil {
		return pr, proofs.Figures{}, fmt.Errorf("%s: %w", dir, err)
	}
	sim, err := proofs.Simulated(p, init, windows, simSeed)
	if err != nil {
		return pr, sim, fmt.Errorf("%s: %w", dir, err)
	}
	return pr, sim, nil
}

// readHeader reads the header, the first event, of a trace file.
func readHeader(path string) (*trace.Header, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var e trace.Event
	if err := trace.NewReader(f, path).Next(&e); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if e.Header == nil {
		return nil, fmt.Errorf("%s: the first line is %v, not a header", path, e.Kind)
	}
	return e.Header, nil
}

// near20 reports whether a measured x is within 20% of a prediction p.
func near20(x, p float64) bool { return p != 0 && math.Abs(x-p) <= 0.2*math.Abs(p) }

func count(n int) string {
	if n < 0 {
		return "—"
	}
	return fmt.Sprint(n, " epochs")
}

// Markdown renders the two tables.
func (c *Comparison) Markdown() string {
	return MarkdownTable(c.Header, c.Cells) + "\nThe controllers' pair and four runs against the proofs' prediction for the parameters their traces declare:\n\n" + MarkdownTable(c.PredHeader, c.PredCells)
}

// MarkdownTable renders a Markdown table: a header row, its rule, and
// the rows (every generated table of the documents).
func MarkdownTable(header []string, rows [][]string) string {
	var b strings.Builder
	b.WriteString("| " + strings.Join(header, " | ") + " |\n|" + strings.Repeat("---|", len(header)) + "\n")
	for _, r := range rows {
		b.WriteString("| " + strings.Join(r, " | ") + " |\n")
	}
	return b.String()
}

// incomplete marks the figure of an incomplete run, or of one whose
// guests' workloads never ran at the same time.
func incomplete(s *runner.Summary) string {
	switch {
	case !s.Complete:
		return " (incomplete)"
	case s.IntervalS[1] <= s.IntervalS[0]:
		return " (no common interval)"
	}
	return ""
}

// PlotPoint is one mechanism's point in the comparison's plot: the greedy
// guest's share of the core beside it, and the utilisation of its pair.
type PlotPoint struct {
	Label                        string
	GreedyShare, PairUtilisation float64
}

// PlotPoints returns the plot's points: one per mechanism (and threshold)
// with both a pair and a greedy run, in the table's order.
func (c *Comparison) PlotPoints() []PlotPoint {
	var out []PlotPoint
	for _, r := range c.rows {
		g, _, ok := r.GreedyShares()
		if !ok || r.Pair == nil {
			continue
		}
		out = append(out, PlotPoint{Label: r.Label(), GreedyShare: g, PairUtilisation: r.Pair.Utilisation})
	}
	return out
}

// Plot draws utilisation (pair runs) against the greedy guest's share
// (greedy runs), one labelled point per mechanism and threshold: up and to
// the right is efficient and friendly. Rows without both runs are left
// out.
func (c *Comparison) Plot(path string) error {
	p := plot.New()
	p.Title.Text = "Utilisation against friendliness, one point per mechanism and threshold"
	p.X.Label.Text = "greedy guest's share of the core beside one guest (%)"
	p.Y.Label.Text = "core used by two guests (%)"
	p.Add(plotter.NewGrid())
	var pts plotter.XYs
	var labels []string
	for _, q := range c.PlotPoints() {
		pts = append(pts, plotter.XY{X: 100 * q.GreedyShare, Y: 100 * q.PairUtilisation})
		labels = append(labels, q.Label)
	}
	if len(pts) == 0 {
		return fmt.Errorf("plot %s: no mechanism has both a pair and a greedy run", path)
	}
	sc, err := plotter.NewScatter(pts)
	if err != nil {
		return fmt.Errorf("plot %s: %w", path, err)
	}
	sc.GlyphStyle.Color = palette[0]
	sc.GlyphStyle.Radius = vg.Points(3)
	sc.GlyphStyle.Shape = draw.CircleGlyph{}
	lb, err := plotter.NewLabels(plotter.XYLabels{XYs: pts, Labels: labels})
	if err != nil {
		return fmt.Errorf("plot %s: %w", path, err)
	}
	for i := range lb.TextStyle {
		lb.TextStyle[i].XAlign = draw.XLeft
	}
	lb.Offset = vg.Point{X: vg.Points(4), Y: vg.Points(2)}
	p.Add(sc, lb)
	minX, minY := math.Inf(1), math.Inf(1)
	for _, q := range pts {
		minX, minY = math.Min(minX, q.X), math.Min(minY, q.Y)
	}
	// The targets (the greedy guest keeps 85%, two guests use 95%): the
	// corner above and to the right of both lines is where a mechanism
	// should land.
	minX, minY = math.Min(minX, 80), math.Min(minY, 90)
	for k, l := range []plotter.XYs{{{X: 85, Y: math.Floor(minY/10) * 10}, {X: 85, Y: 102}}, {{X: math.Floor(minX/10) * 10, Y: 95}, {X: 112, Y: 95}}} {
		line, err := plotter.NewLine(l)
		if err != nil {
			return fmt.Errorf("plot %s: %w", path, err)
		}
		line.Color, line.Dashes = palette[1], []vg.Length{vg.Points(4), vg.Points(3)}
		p.Add(line)
		if k == 0 {
			p.Legend.Add("targets: greedy keeps 85%, two guests use 95%", line)
		}
	}
	p.Legend.Top, p.Legend.Left = false, true
	// Room on the right for the labels of points near 100%.
	p.X.Min, p.X.Max = math.Floor(minX/10)*10, 112
	p.Y.Min, p.Y.Max = math.Floor(minY/10)*10, 102
	if err := p.Save(7*vg.Inch, 5*vg.Inch, path); err != nil {
		return fmt.Errorf("plot %s: %w", path, err)
	}
	return nil
}
