package report

import (
	"fmt"
	"image/color"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
)

// Series is one named line of a plot.
type Series struct {
	Name string
	X, Y []float64
	// Dashed draws the line dashed (e.g. a prediction next to a measurement).
	Dashed bool
}

// LinePlot describes a plot of several series.
type LinePlot struct {
	Title, XLabel, YLabel string
	Series                []Series
	// YMin, YMax fix the y range when YMax > YMin.
	YMin, YMax float64
	// Hist draws the first series' Y values as a histogram with this many
	// bins instead of lines (X is ignored).
	Hist int
}

// palette is colour-blind friendly (Okabe–Ito).
var palette = []color.Color{
	color.RGBA{0, 114, 178, 255}, color.RGBA{213, 94, 0, 255}, color.RGBA{0, 158, 115, 255},
	color.RGBA{204, 121, 167, 255}, color.RGBA{230, 159, 0, 255}, color.RGBA{86, 180, 233, 255},
	color.RGBA{0, 0, 0, 255}, color.RGBA{240, 228, 66, 255},
}

// Save renders the plot as a PNG (or SVG/PDF by extension) of 6x4 inches.
func (lp LinePlot) Save(path string) error {
	p := plot.New()
	p.Title.Text = lp.Title
	p.X.Label.Text = lp.XLabel
	p.Y.Label.Text = lp.YLabel
	p.Add(plotter.NewGrid())
	if lp.Hist > 0 {
		if len(lp.Series) == 0 || len(lp.Series[0].Y) == 0 {
			return fmt.Errorf("plot %q: histogram of no values", lp.Title)
		}
		h, err := plotter.NewHist(plotter.Values(lp.Series[0].Y), lp.Hist)
		if err != nil {
			return fmt.Errorf("plot %q: %w", lp.Title, err)
		}
		h.FillColor = palette[0]
		p.Add(h)
	} else {
		for k, s := range lp.Series {
			if len(s.X) != len(s.Y) {
				return fmt.Errorf("plot %q: series %q has %d x and %d y values", lp.Title, s.Name, len(s.X), len(s.Y))
			}
			pts := make(plotter.XYs, len(s.X))
			for i := range s.X {
				pts[i].X, pts[i].Y = s.X[i], s.Y[i]
			}
			l, err := plotter.NewLine(pts)
			if err != nil {
				return fmt.Errorf("plot %q: series %q: %w", lp.Title, s.Name, err)
			}
			l.Color = palette[k%len(palette)]
			l.Width = vg.Points(1.2)
			if s.Dashed {
				l.Dashes = []vg.Length{vg.Points(4), vg.Points(3)}
			}
			p.Add(l)
			if s.Name != "" {
				p.Legend.Add(s.Name, l)
			}
		}
		p.Legend.Top = true
	}
	if lp.YMax > lp.YMin {
		p.Y.Min, p.Y.Max = lp.YMin, lp.YMax
	}
	if err := p.Save(6*vg.Inch, 4*vg.Inch, path); err != nil {
		return fmt.Errorf("plot %q: save %s: %w", lp.Title, path, err)
	}
	return nil
}
