package report

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/friendly-vm/fvm/metrics"
	"github.com/friendly-vm/fvm/trace"
	"github.com/friendly-vm/fvm/trace/refine"
	"github.com/friendly-vm/fvm/vocab"
)

// runSummary is the part of a run directory's summary.json (written by the
// UML runner) that the report shows. Fields it lacks stay zero.
type runSummary struct {
	Name         string  `json:"name"`
	JainFVM      float64 `json:"jain_fvm"`
	JainAll      float64 `json:"jain_all"`
	Utilisation  float64 `json:"utilisation"`
	ConvergenceS float64 `json:"convergence_s"`
	Complete     bool    `json:"complete"`
	Errors       []string
	VMs          []struct {
		Name      string  `json:"name"`
		Index     int     `json:"vm"`
		Role      string  `json:"role"`
		Signal    string  `json:"signal"`
		Share     float64 `json:"share"`
		MeanD     float64 `json:"mean_d"`
		U         int     `json:"u"`
		MeanPause float64 `json:"mean_pause_permille"`
		Progress  uint64  `json:"progress"`
		DutyShare float64 `json:"duty_share"`
		FairShare float64 `json:"fair_share"`
	} `json:"vms"`
}

// series collects one VM's time series from its trace events.
type series struct {
	demandT, demand   []float64 // decide: d_after/U
	shareT, share     []float64 // host: cpu/wall per runner window
	signalT, vct      []float64 // sample: VCT (ratio)
	steal             []float64 // sample: steal (fraction)
	u                 int
	delays            []float64 // decide: newest - sample windows
	hasHeader         bool
	gapWindows, holds int64
}

// Run builds the report of a run directory (or a single trace file): the
// refinement verdict, the runner's summary if present, and plots of demand
// and share per VM over time, the Jain index over time, the stretch (VCT)
// signal and the histogram of feedback delays. Plots are written into
// outDir, which is also where the report belongs.
func Run(path, outDir string) (*Doc, error) {
	files, err := refine.Paths([]string{path})
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(outDir, 0o755); err != nil {
		return nil, fmt.Errorf("report: %w", err)
	}
	doc := &Doc{Title: "friendly-vm run " + filepath.Base(strings.TrimSuffix(path, "/"))}

	res, checkErr := refine.CheckFiles([]string{path}, refine.Options{})
	doc.Heading(2, "Refinement verdict")
	switch {
	case checkErr != nil:
		doc.Para("The traces are malformed, so refinement could not be checked: %v", checkErr)
	case res.OK():
		doc.Para("**Refines ref**: every decision is the reference's step from the sample it used, every window was consumed once, in order, within the delay bound, and every actuation read back the decided pause (trace/REFINEMENT.md).")
	default:
		f := res.Failure
		doc.Para("**Does not refine ref.** %s", f.Error())
		var ctx strings.Builder
		for _, c := range f.Context {
			fmt.Fprintf(&ctx, "%s:%d  %s\n", c.File, c.Line, c.Text)
		}
		doc.Pre(ctx.String())
	}
	if res != nil {
		s := res.Summary
		doc.Para("Events %d, windows %d, Jain index of the FVMs' shares %s, utilisation %s, convergence %s.",
			s.Events, s.Windows, fmtNA(s.Jain, "%.3f"), fmtNA(s.Utilisation, "%.3f"), fmtConv(s.ConvergenceNs))
		for _, fl := range s.Flags {
			doc.Para("Note: %s", fl)
		}
	}

	if err := runnerSummary(doc, path); err != nil {
		return nil, err
	}

	byVM := map[int]*series{}
	var t0 int64 = -1
	for _, f := range files {
		evs, err := trace.ReadFile(f)
		if err != nil {
			doc.Para("Trace %s could not be read for plots: %v", f, err)
			continue
		}
		for i := range evs {
			e := &evs[i]
			if t0 < 0 || e.TNs < t0 && e.TNs > 0 {
				t0 = e.TNs
			}
			s := byVM[e.VM]
			if s == nil {
				s = &series{u: 1}
				byVM[e.VM] = s
			}
			addEvent(s, e)
		}
	}
	if len(byVM) == 0 {
		return doc, nil
	}
	vms := make([]int, 0, len(byVM))
	for vm := range byVM {
		vms = append(vms, vm)
	}
	sort.Ints(vms)
	sec := func(ts []float64) []float64 {
		out := make([]float64, len(ts))
		for i, t := range ts {
			out[i] = (t - float64(t0)) / 1e9
		}
		return out
	}
	var demand, share, vct []Series
	var delays []float64
	for _, vm := range vms {
		s := byVM[vm]
		name := fmt.Sprintf("vm %d", vm)
		if len(s.demand) > 0 {
			demand = append(demand, Series{Name: name, X: sec(s.demandT), Y: s.demand})
		}
		if len(s.share) > 0 {
			share = append(share, Series{Name: name, X: sec(s.shareT), Y: s.share})
		}
		if len(s.vct) > 0 {
			vct = append(vct, Series{Name: name, X: sec(s.signalT), Y: s.vct})
		}
		delays = append(delays, s.delays...)
	}
	doc.Heading(2, "Time series")
	plots := []struct {
		file string
		lp   LinePlot
		ok   bool
	}{
		{"demand.png", LinePlot{Title: "Demand per FVM (awake fraction d/U)", XLabel: "time (s)", YLabel: "d/U", Series: demand, YMin: 0, YMax: 1.05}, len(demand) > 0},
		{"share.png", LinePlot{Title: "Host CPU share per VM (runner's measurement)", XLabel: "time (s)", YLabel: "share of the core", Series: share, YMin: 0, YMax: 1.05}, len(share) > 0},
		{"jain.png", LinePlot{Title: "Jain index of the FVMs' demands over time", XLabel: "time (s)", YLabel: "Jain index", Series: []Series{jainOverTime(byVM, vms, sec)}, YMin: 0, YMax: 1.02}, countFVMs(byVM) >= 2},
		{"vct.png", LinePlot{Title: "Stretch signal: virtual clock time (real time per unit of CPU progress)", XLabel: "time (s)", YLabel: "VCT", Series: vct}, len(vct) > 0},
		{"delays.png", LinePlot{Title: "Feedback delay of each decision (windows behind the newest)", XLabel: "delay (windows)", YLabel: "decisions", Series: []Series{{Y: delays}}, Hist: max(1, int(maxOf(delays))+1)}, len(delays) > 0},
	}
	for _, pl := range plots {
		if !pl.ok {
			continue
		}
		if err := pl.lp.Save(filepath.Join(outDir, pl.file)); err != nil {
			return nil, err
		}
		doc.Image(pl.file, pl.lp.Title)
	}
	return doc, nil
}

func addEvent(s *series, e *trace.Event) {
	t := float64(e.TNs)
	switch e.Kind {
	case trace.KindHeader:
		s.hasHeader = true
		s.u = max(e.Header.U, 1)
	case trace.KindDecide:
		s.demandT = append(s.demandT, t)
		s.demand = append(s.demand, float64(e.Decide.DAfter)/float64(s.u))
		if e.Decide.Branch == vocab.Hold {
			s.holds++
		} else if e.Decide.SampleSeq > 0 {
			s.delays = append(s.delays, float64(e.Decide.NewestSeq-e.Decide.SampleSeq))
		}
	case trace.KindHost:
		if e.Host.WallNs > 0 {
			s.shareT = append(s.shareT, t)
			s.share = append(s.share, float64(e.Host.CPUNs)/float64(e.Host.WallNs))
		}
	case trace.KindSample:
		s.signalT = append(s.signalT, t)
		s.vct = append(s.vct, float64(e.Sample.VCTPermille)/1000)
		s.steal = append(s.steal, float64(e.Sample.StealPermille)/1000)
	case trace.KindGap:
		s.gapWindows += e.Gap.ToSeq - e.Gap.FromSeq + 1
	}
}

func countFVMs(byVM map[int]*series) int {
	n := 0
	for _, s := range byVM {
		if len(s.demand) > 0 {
			n++
		}
	}
	return n
}

// jainOverTime samples every FVM's latest demand at each decision time and
// returns the Jain index of those demands.
func jainOverTime(byVM map[int]*series, vms []int, sec func([]float64) []float64) Series {
	type point struct {
		t  float64
		vm int
		d  float64
	}
	var pts []point
	for _, vm := range vms {
		s := byVM[vm]
		for i := range s.demand {
			pts = append(pts, point{s.demandT[i], vm, s.demand[i]})
		}
	}
	sort.Slice(pts, func(i, j int) bool { return pts[i].t < pts[j].t })
	latest := map[int]float64{}
	var ts, js []float64
	for _, p := range pts {
		latest[p.vm] = p.d
		if len(latest) < countFVMs(byVM) {
			continue
		}
		xs := make([]float64, 0, len(latest))
		for _, d := range latest {
			xs = append(xs, d)
		}
		ts = append(ts, p.t)
		js = append(js, metrics.Jain(xs))
	}
	return Series{Name: "Jain index", X: sec(ts), Y: js}
}

func runnerSummary(doc *Doc, path string) error {
	data, err := os.ReadFile(filepath.Join(path, "summary.json"))
	if errors.Is(err, fs.ErrNotExist) || errors.Is(err, fs.ErrInvalid) || isNotDir(err) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("report: %w", err)
	}
	var s runSummary
	if err := json.Unmarshal(data, &s); err != nil {
		return fmt.Errorf("report: %s: %w", filepath.Join(path, "summary.json"), err)
	}
	doc.Heading(2, "Run summary (host-side measurements)")
	complete := "complete"
	if !s.Complete {
		complete = "**INCOMPLETE**"
	}
	doc.Para("Run %s is %s. Jain index of the FVMs' host CPU shares (second half) %s, of all VMs %s; utilisation of the core %.3f; convergence time %s.",
		s.Name, complete, fmtNA(s.JainFVM, "%.3f"), fmtNA(s.JainAll, "%.3f"), s.Utilisation, fmtSeconds(s.ConvergenceS))
	for _, e := range s.Errors {
		doc.Para("Error: %s", e)
	}
	var rows [][]string
	for _, vm := range s.VMs {
		rows = append(rows, []string{vm.Name, vm.Role, vm.Signal, fmt.Sprintf("%.3f", vm.Share),
			fmt.Sprintf("%.3f", vm.DutyShare), fmt.Sprintf("%.3f", vm.FairShare),
			fmt.Sprintf("%.1f", vm.MeanPause), fmt.Sprint(vm.Progress)})
	}
	doc.Table([]string{"VM", "role", "signal", "host share", "duty model", "fair model", "mean pause ‰", "progress"}, rows)
	return nil
}

func isNotDir(err error) bool {
	var pe *fs.PathError
	return errors.As(err, &pe) && strings.Contains(pe.Err.Error(), "not a directory")
}

func fmtNA(x float64, format string) string {
	if x < 0 {
		return "n/a"
	}
	return fmt.Sprintf(format, x)
}

func fmtSeconds(s float64) string {
	if s < 0 {
		return "never (within the run)"
	}
	return fmt.Sprintf("%.1f s", s)
}

func fmtConv(ns int64) string {
	if ns < 0 {
		return "not reached"
	}
	return fmt.Sprintf("%.1f s", float64(ns)/1e9)
}

func maxOf(xs []float64) float64 {
	m := 0.0
	for _, x := range xs {
		m = max(m, x)
	}
	return m
}
