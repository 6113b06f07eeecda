package report

import (
	"fmt"
	"image/color"
	"math"
	"os"
	"path/filepath"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"

	"github.com/friendly-vm/fvm/proofs"
	"github.com/friendly-vm/fvm/ref"
	"github.com/friendly-vm/fvm/sim"
	"github.com/friendly-vm/fvm/vocab"
)

// ProofPlotOptions configures WriteProofPlots.
type ProofPlotOptions struct {
	// Seed picks the interleaving of sim.Simulate.
	Seed uint64
	// Steps is the number of simulated actions (0: 300 per FVM, at least 1200).
	Steps int
	// Init are the initial demands (nil: on the shared host FVM 0 at
	// dmax and the others at dmin, a maximally unfair start; on the fair
	// and duty hosts one unit above the others near the symmetric
	// operating point, to show whether the difference mode grows).
	Init []int
	// Prefix starts every file name (default "prove-").
	Prefix string
}

// ProofPlotFiles are the paths WriteProofPlots wrote.
type ProofPlotFiles struct {
	Phase, Gap string
}

// WriteProofPlots simulates p with sim.Simulate and writes two PNGs into dir:
// the Chiu–Jain phase plot (FVM 0's demand against FVM 1's, with the
// fairness and efficiency lines) and the fairness gap against the number
// of congested ticks, simulated and predicted by package proofs. It needs
// N >= 2.
func WriteProofPlots(p *ref.Params, dir string, opt ProofPlotOptions) (ProofPlotFiles, error) {
	a, err := proofs.Analyze(p)
	if err != nil {
		return ProofPlotFiles{}, err
	}
	n := p.N()
	if n < 2 {
		return ProofPlotFiles{}, fmt.Errorf("plots need at least 2 FVMs, have %d", n)
	}
	if opt.Steps == 0 {
		opt.Steps = max(1200, 300*n)
	}
	if opt.Init == nil {
		opt.Init = make([]int, n)
		base, top := p.Dmin, p.Dmax
		if p.Host != vocab.Shared && a.HasMode {
			base = min(max(int(math.Round(a.Mode.Point)), p.Dmin), p.Dmax-1)
			top = base + 1
		}
		for i := range opt.Init {
			opt.Init[i] = base
		}
		opt.Init[0] = top
	}
	if opt.Prefix == "" {
		opt.Prefix = "prove-"
	}
	run, err := sim.Simulate(p, sim.Options{Seed: opt.Seed, Steps: opt.Steps, Init: opt.Init})
	if err != nil {
		return ProofPlotFiles{}, fmt.Errorf("plots: %w", err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return ProofPlotFiles{}, fmt.Errorf("plots: %w", err)
	}
	files := ProofPlotFiles{
		Phase: filepath.Join(dir, opt.Prefix+"phase.png"),
		Gap:   filepath.Join(dir, opt.Prefix+"gap.png"),
	}
	if err := phasePlot(p, a, run, files.Phase); err != nil {
		return files, fmt.Errorf("phase plot: %w", err)
	}
	if err := gapPlot(p, a, run, files.Gap); err != nil {
		return files, fmt.Errorf("gap plot: %w", err)
	}
	return files, nil
}

// The plots' colours (matplotlib's tab10), as functions so that the
// package holds no mutable state.
func colTraj() color.Color  { return color.RGBA{R: 31, G: 119, B: 180, A: 255} }
func colFair() color.Color  { return color.RGBA{R: 44, G: 160, B: 44, A: 255} }
func colEff() color.Color   { return color.RGBA{R: 214, G: 39, B: 40, A: 255} }
func colPred() color.Color  { return color.RGBA{R: 255, G: 127, B: 14, A: 255} }
func colBound() color.Color { return color.RGBA{R: 148, G: 103, B: 189, A: 255} }

// unitTicks labels 0..max every 1, 2 or 5 times a power of ten, at most
// ten labels.
func unitTicks(max float64) plot.ConstantTicks {
	step := 1.0
	for max/step > 10 {
		switch {
		case math.Round(step/math.Pow(10, math.Floor(math.Log10(step)))) == 2:
			step = step / 2 * 5
		default:
			step *= 2
		}
	}
	var ticks plot.ConstantTicks
	for v := 0.0; v <= max+1e-9; v += step {
		ticks = append(ticks, plot.Tick{Value: v, Label: fmt.Sprintf("%g", v)})
	}
	return ticks
}

func newPlot(title, x, y string) *plot.Plot {
	pl := plot.New()
	pl.Title.Text = title
	pl.X.Label.Text = x
	pl.Y.Label.Text = y
	pl.Add(plotter.NewGrid())
	pl.Legend.Top = true
	return pl
}

func addLine(pl *plot.Plot, pts plotter.XYs, c color.Color, width vg.Length, dashed bool, label string) error {
	l, err := plotter.NewLine(pts)
	if err != nil {
		return err
	}
	l.Color = c
	l.Width = width
	if dashed {
		l.Dashes = []vg.Length{vg.Points(6), vg.Points(4)}
	}
	pl.Add(l)
	if label != "" {
		pl.Legend.Add(label, l)
	}
	return nil
}

func phasePlot(p *ref.Params, a proofs.Analysis, run sim.Run, file string) error {
	hi := float64(p.Dmax)
	pl := newPlot(fmt.Sprintf("Chiu–Jain phase plot (%v host, %v, N=%d)", p.Host, p.Rule, p.N()),
		"d_1 (FVM 0 demand, units)", "d_2 (FVM 1 demand, units)")
	// Headroom above the data for the legend.
	pl.X.Min, pl.Y.Min, pl.X.Max, pl.Y.Max = 0, 0, hi*1.05, hi*1.3
	pl.X.Tick.Marker = unitTicks(pl.X.Max)
	pl.Y.Tick.Marker = unitTicks(pl.Y.Max)
	traj := plotter.XYs{{X: float64(run.Init.D[0]), Y: float64(run.Init.D[1])}}
	for _, st := range run.Steps {
		last := traj[len(traj)-1]
		x, y := float64(st.State.D[0]), float64(st.State.D[1])
		if x != last.X || y != last.Y {
			traj = append(traj, plotter.XY{X: x, Y: y})
		}
	}
	if err := addLine(pl, plotter.XYs{{X: 0, Y: 0}, {X: hi, Y: hi}}, colFair(), vg.Points(1.5), true, "fairness line d_1 = d_2"); err != nil {
		return err
	}
	if a.FairPoint != nil && !a.Identical {
		r := a.FairPoint[1] / a.FairPoint[0]
		end := plotter.XY{X: hi, Y: hi * r}
		if r > 1 {
			end = plotter.XY{X: hi / r, Y: hi}
		}
		if err := addLine(pl, plotter.XYs{{X: 0, Y: 0}, end}, colBound(), vg.Points(1.5), true, fmt.Sprintf("fair ray d_2/d_1 = %.3g (Perron)", r)); err != nil {
			return err
		}
	}
	// Efficiency line: the two FVMs' part of the threshold at the fair
	// point (shared host), or of twice the symmetric operating point.
	eff, label := 0.0, ""
	switch {
	case a.HasBand:
		w := 2.0 / float64(p.N())
		if a.FairPoint != nil {
			w = a.FairPoint[0] + a.FairPoint[1]
		}
		eff = float64(a.Band.Threshold) * w
		label = fmt.Sprintf("efficiency line d_1 + d_2 = %.4g", eff)
		if p.N() > 2 {
			label += " (their part of the threshold)"
		}
	case a.HasMode && a.Mode.Verdict != proofs.Saturated:
		eff = 2 * a.Mode.Point
		label = fmt.Sprintf("efficiency line d_1 + d_2 = %.4g (operating point)", eff)
	}
	if eff > 0 {
		if err := addLine(pl, plotter.XYs{{X: math.Max(0, eff-hi), Y: math.Min(eff, hi)}, {X: math.Min(eff, hi), Y: math.Max(0, eff-hi)}}, colEff(), vg.Points(1.5), true, label); err != nil {
			return err
		}
	}
	if err := addLine(pl, traj, colTraj(), vg.Points(1), false, "trajectory (sim.Simulate)"); err != nil {
		return err
	}
	start, err := plotter.NewScatter(traj[:1])
	if err != nil {
		return err
	}
	start.GlyphStyle.Shape = draw.CircleGlyph{}
	start.GlyphStyle.Radius = vg.Points(4)
	start.GlyphStyle.Color = colTraj()
	pl.Add(start)
	pl.Legend.Add(fmt.Sprintf("start (%g, %g)", traj[0].X, traj[0].Y), start)
	return pl.Save(7*vg.Inch, 7*vg.Inch, file)
}

func gapPlot(p *ref.Params, a proofs.Analysis, run sim.Run, file string) error {
	ticks := proofs.Ticks(p, run)
	fair := a.FairPoint
	if fair == nil {
		fair = make([]float64, p.N())
		for i := range fair {
			fair[i] = 1
		}
	}
	gap := func(d []int) float64 {
		if a.Identical {
			return float64(proofs.Gap(d))
		}
		return proofs.WeightedGap(d, fair)
	}
	g0 := gap(run.Init.Demands(p.N()))
	sim := plotter.XYs{{X: 0, Y: g0}}
	k := 0
	for _, tp := range ticks {
		if tp.Congested == 0 {
			continue
		}
		k++
		sim = append(sim, plotter.XY{X: float64(k), Y: gap(tp.Projected)})
	}
	shared := p.Host == vocab.Shared
	title := fmt.Sprintf("Fairness gap vs congested ticks (rate %.3g per epoch)", a.Rate)
	if !shared && a.HasMode {
		title = fmt.Sprintf("Fairness gap vs congested ticks — %v host, %v: %s", p.Host, p.Signal, a.Mode.Verdict)
	}
	ylabel := "projected gap max d*_i - min d*_i (units)"
	if !a.Identical {
		ylabel = "projected distance from the fair ray (units)"
	}
	pl := newPlot(title, "congested ticks (decreases)", ylabel)
	pl.Y.Min = 0
	top := g0
	for _, pt := range sim {
		top = math.Max(top, pt.Y)
	}
	pl.Y.Max = math.Max(1, top) * 1.3 // headroom for the legend
	// The SWL rate predicts the shared signal; per-FVM signals (fair,
	// duty) have no such prediction (hosts.md): only the simulation.
	if shared {
		pred := plotter.XYs{}
		for j := 0; j <= k; j++ {
			pred = append(pred, plotter.XY{X: float64(j), Y: g0 * math.Pow(a.Rate, float64(j))})
		}
		if err := addLine(pl, pred, colPred(), vg.Points(2), true, fmt.Sprintf("predicted g0 * %.3g^k", a.Rate)); err != nil {
			return err
		}
	}
	if a.Identical && p.Rule == vocab.AIMD && p.Host == vocab.Shared {
		b := proofs.IterateGap(p.FVMs[0].Beta, int(g0), k)
		up := plotter.XYs{}
		for j, v := range b.Upper {
			up = append(up, plotter.XY{X: float64(j), Y: float64(v)})
		}
		if err := addLine(pl, up, colBound(), vg.Points(1.5), true, "proved bound ceil(beta*g) iterate"); err != nil {
			return err
		}
		tol := plotter.XYs{{X: 0, Y: float64(a.FairTolerance)}, {X: float64(k), Y: float64(a.FairTolerance)}}
		if err := addLine(pl, tol, colFair(), vg.Points(1), true, fmt.Sprintf("fair tolerance %d", a.FairTolerance)); err != nil {
			return err
		}
	}
	if err := addLine(pl, sim, colTraj(), vg.Points(1.5), false, "simulated (sim.Simulate)"); err != nil {
		return err
	}
	pts, err := plotter.NewScatter(sim)
	if err != nil {
		return err
	}
	pts.GlyphStyle.Radius = vg.Points(2)
	pts.GlyphStyle.Color = colTraj()
	pl.Add(pts)
	// Show the transient: three times the decreases the simulation took
	// to reach its final gap, at least 15.
	settle := 0
	for j, pt := range sim {
		if pt.Y != sim[len(sim)-1].Y {
			settle = j + 1
		}
	}
	if xmax := max(15, 3*settle); xmax < k {
		pl.X.Max = float64(xmax)
	}
	return pl.Save(8*vg.Inch, 5*vg.Inch, file)
}
