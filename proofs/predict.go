package proofs

import (
	"fmt"
	"math"
	"slices"

	"github.com/friendly-vm/fvm/metrics"
	"github.com/friendly-vm/fvm/ref"
	"github.com/friendly-vm/fvm/sim"
	"github.com/friendly-vm/fvm/vocab"
)

// Figures summarise a run of the model window by window, defined as the
// runner defines them on a real run (uml-impl/runner, summary.json), so
// that a prediction and a measurement compare one to one.
type Figures struct {
	Windows int
	// MeanShares, MeanGreedy and Utilisation are averages over the second
	// half; Jain is Jain's index of MeanShares (-1 with one FVM).
	MeanShares, MeanGreedy []float64
	Utilisation, Jain      float64
	// UtilisationDesync is what the second half's mean awake fractions
	// r_j give if the VMs' cycles are independent (the FVMs desynchronised,
	// as real ones drift apart): 1 - prod_j (1 - r_j) under duty, 1 under
	// duty-idle.
	UtilisationDesync float64
	// ConvergenceS is the runner's convergence time (metrics.Convergence
	// with two or more FVMs, else metrics.Settle) on the share series; -1:
	// never.
	ConvergenceS float64
	// FirstFairS is when the FVMs' demands first come within
	// ref.FairTolerance of each other (the Chiu–Jain convergence from
	// unequal starts; 0 if they start so, -1: never), and Epochs the
	// congestion epochs (decreases of the FVM that starts highest) before
	// it.
	FirstFairS float64
	Epochs     int
	// EpochLen is the mean number of windows between two decreases of an
	// FVM in the second half (0: none).
	EpochLen float64
}

// Prediction is what the synchronous-round model (mechanisms.md, Theorem
// 20) predicts for a run: every window all FVMs sample the host model at
// their current demands and apply the rule before the next window (the real
// controller reads a window as it ends, and its pause is in force within one
// actuation period), from given initial demands, for a given number of
// windows.
type Prediction struct {
	Figures
	// D[t] are the demands in force during window t.
	D [][]int
	// Rate is the contraction of two FVMs' demand gap per synchronised
	// congestion epoch: the decrease factor, beta, or aimd-prop's mild
	// (1+beta)/2 when some of its epochs are mild.
	Rate float64
}

// Predict runs the synchronous-round model of p from demands init for the
// given number of windows (each vocab.WindowNs long).
func Predict(p *ref.Params, init []int, windows int) (Prediction, error) {
	return PredictTimed(p, init, windows, nil)
}

// WindowNsOf is how long a VM's window lasts when its actuation period is
// periodUs: the kernel closes a window only between two pauses, at least
// vocab.WindowNs after the last one, so a period longer than that
// stretches each window to about one period (uml-impl/README.md,
// "Window").
func WindowNsOf(periodUs int64) int64 {
	return max(vocab.WindowNs, periodUs*1000)
}

// PredictTimed is Predict with FVM i deciding once per windowNs[i]
// instead of once per vocab.WindowNs (nil: every FVM's window is
// vocab.WindowNs, Predict). A window's sample is what the real one
// measures: the host model's signal averaged over the window, against the
// threshold; while the demands stay the same over a window that is the
// model's own sample at those demands (so with every window vocab.WindowNs
// long, PredictTimed is Predict), and under the shared host, which has no
// per-FVM signal, the sample is the model's at the decision. The figures
// still count time in windows of vocab.WindowNs: D[t] are the demands at
// the start of window t, and a decrease counts in the window it falls in.
func PredictTimed(p *ref.Params, init []int, windows int, windowNs []int64) (Prediction, error) {
	if err := checkRun(p, init, windows); err != nil {
		return Prediction{}, fmt.Errorf("predict: %w", err)
	}
	n := p.N()
	if windowNs == nil {
		windowNs = slices.Repeat([]int64{vocab.WindowNs}, n)
	}
	if len(windowNs) != n {
		return Prediction{}, fmt.Errorf("predict: %d window lengths for %d FVMs", len(windowNs), n)
	}
	for i, w := range windowNs {
		if w <= 0 {
			return Prediction{}, fmt.Errorf("predict: FVM %d's window %d ns: want a positive length", i, w)
		}
	}
	d := append([]int(nil), init...)
	next := append([]int64(nil), windowNs...) // each FVM's next decision
	// Each FVM's signal integrated over its window so far (signal x ns),
	// and whether the demands changed in it.
	integral := make([]float64, n)
	changed := make([]bool, n)
	now := int64(0)
	advance := func(to int64) {
		if to == now {
			return
		}
		if p.Host != vocab.Shared {
			for i, o := range p.Observe(d) {
				sig := o.Steal
				if p.Signal == vocab.VCT {
					sig = o.VCT
				}
				integral[i] += sig.Float() * float64(to-now)
			}
		}
		now = to
	}
	var pr Prediction
	decreases := make([][]int, n)
	mild := 0
	var due []int
	for t := range windows {
		pr.D = append(pr.D, append([]int(nil), d...))
		end := int64(t+1) * vocab.WindowNs
		for {
			at := slices.Min(next)
			if at > end {
				break
			}
			advance(at)
			due = due[:0]
			for i, x := range next {
				if x == at {
					due = append(due, i)
				}
			}
			samples := p.Samples(d, t%p.PhaseCount())
			before := append([]int(nil), d...)
			for _, i := range due {
				x := samples[i]
				if changed[i] && p.Host != vocab.Shared {
					x = averagedSample(p, i, integral[i]/float64(windowNs[i]), t%p.PhaseCount())
				}
				if x == vocab.Congested || x == vocab.Mild {
					decreases[i] = append(decreases[i], t)
				}
				if x == vocab.Mild {
					mild++
				}
				d[i], _ = p.ApplySym(i, d[i], x)
				next[i] += windowNs[i]
				integral[i], changed[i] = 0, false
			}
			if !slices.Equal(before, d) {
				for i := range changed {
					changed[i] = !slices.Contains(due, i) // a due FVM's next window starts now
				}
			}
		}
	}
	pr.Figures = figuresOf(p, pr.D, decreases, lead(init))
	pr.Rate = p.FVMs[lead(init)].Beta.Float()
	if mild > 0 {
		pr.Rate = DecreaseFactor(p, p.FVMs[lead(init)])
	}
	return pr, nil
}

// averagedSample is the sample of FVM i whose window's signal averaged
// mean: Samples' rule (ref/host.go) on a mean instead of the signal at one
// demand vector.
func averagedSample(p *ref.Params, i int, mean float64, ph int) vocab.Symbol {
	theta := p.Theta.Float()
	switch {
	case mean <= theta:
		return vocab.Clear
	case p.Rule == vocab.AIMDProp && mean/2 <= theta:
		return vocab.Mild
	case p.Rule == vocab.AIMDPhase && p.PhaseOf(i) != ph:
		return vocab.Deferred
	}
	return vocab.Congested
}

// Simulated runs the reference model itself (sim.Simulate: every step an
// action chosen uniformly among the enabled ones, so each sample waits a
// random number of ticks within the delay bound) from init until it has
// taken the given number of HostTicks, and summarises it with one window
// per tick (the demands when the tick samples them).
func Simulated(p *ref.Params, init []int, windows int, seed uint64) (Figures, error) {
	if err := checkRun(p, init, windows); err != nil {
		return Figures{}, fmt.Errorf("simulate: %w", err)
	}
	n := p.N()
	// Every tick is followed on average by N Acts (one per sample), so
	// (N+1) steps a tick, plus slack; the run is cut at the tick count.
	run, err := sim.Simulate(p, sim.Options{Seed: seed, Steps: 3 * (n + 1) * windows, Init: init})
	if err != nil {
		return Figures{}, fmt.Errorf("simulate: %w", err)
	}
	var ds [][]int
	decreases := make([][]int, n)
	s := run.Init
	for _, st := range run.Steps {
		switch st.Action.Kind {
		case ref.HostTick:
			ds = append(ds, s.Demands(n))
		case ref.Act:
			if st.Congested && st.Sample != vocab.Deferred && len(ds) > 0 {
				decreases[st.Action.VM] = append(decreases[st.Action.VM], len(ds)-1)
			}
		}
		s = st.State
		if len(ds) == windows {
			break
		}
	}
	if len(ds) < windows {
		return Figures{}, fmt.Errorf("simulate: %d ticks in %d steps, want %d", len(ds), len(run.Steps), windows)
	}
	return figuresOf(p, ds, decreases, lead(init)), nil
}

func checkRun(p *ref.Params, init []int, windows int) error {
	if err := p.Validate(); err != nil {
		return err
	}
	if _, err := ref.InitState(p, init); err != nil {
		return err
	}
	if windows < 2 {
		return fmt.Errorf("%d windows: want at least 2", windows)
	}
	return nil
}

// lead is the FVM that starts highest (the first of them).
func lead(init []int) int {
	l := 0
	for i, x := range init {
		if x > init[l] {
			l = i
		}
	}
	return l
}

// figuresOf summarises the demands ds[t] in force in each window t, with
// decreases[i] the windows after which FVM i decreased.
func figuresOf(p *ref.Params, ds [][]int, decreases [][]int, lead int) Figures {
	n, g, windows := p.N(), len(p.Greedy), len(ds)
	f := Figures{Windows: windows, ConvergenceS: -1, FirstFairS: -1, Jain: -1,
		MeanShares: make([]float64, n), MeanGreedy: make([]float64, g)}
	h := windows / 2
	w := float64(windows - h)
	r := make([]float64, n+g)
	series := make([]metrics.Series, n)
	cum := make([]float64, n)
	for i := range series {
		series[i] = metrics.Series{{T: 0, V: 0}}
	}
	for t, d := range ds {
		obs := p.Observe(d)
		for i, o := range obs {
			cum[i] += o.Share.Float() * vocab.WindowNs
			series[i] = append(series[i], metrics.Point{T: int64(t+1) * vocab.WindowNs, V: cum[i]})
		}
		if t < h {
			continue
		}
		for i, o := range obs {
			f.MeanShares[i] += o.Share.Float() / w
			r[i] += float64(d[i]) / float64(p.U) / w
		}
		for j, s := range p.GreedyShares(d) {
			f.MeanGreedy[j] += s.Float() / w
		}
		f.Utilisation += p.Utilisation(d).Float() / w
	}
	for j, x := range p.Greedy {
		r[n+j] = float64(x) / float64(p.U)
	}
	if j := metrics.Jain(f.MeanShares); n > 1 && !math.IsNaN(j) {
		f.Jain = j
	}
	f.UtilisationDesync = 1
	if p.Host == vocab.Duty {
		idle := 1.0
		for _, x := range r {
			idle *= 1 - x
		}
		f.UtilisationDesync = 1 - idle
	}
	rate := func(i int, a, b int64) float64 { return series[i].Rate(a, b) }
	end := int64(windows) * vocab.WindowNs
	seconds := func(ns int64) float64 {
		if ns < 0 {
			return -1
		}
		return float64(ns) / 1e9
	}
	if n >= 2 {
		f.ConvergenceS = seconds(metrics.Convergence(n, rate, 0, end))
	} else {
		f.ConvergenceS = seconds(metrics.Settle(f.MeanShares, rate, 0, end))
	}
	eps := ref.FairTolerance(p)
	for t, d := range ds {
		if slices.Max(d)-slices.Min(d) <= eps {
			f.FirstFairS = float64(t) * vocab.WindowNs / 1e9
			for _, u := range decreases[lead] {
				if u < t {
					f.Epochs++
				}
			}
			break
		}
	}
	gaps, sum := 0, 0
	for i := range n {
		for k := 1; k < len(decreases[i]); k++ {
			if decreases[i][k-1] >= h {
				gaps++
				sum += decreases[i][k] - decreases[i][k-1]
			}
		}
	}
	if gaps > 0 {
		f.EpochLen = float64(sum) / float64(gaps)
	}
	return f
}
