package docs

import (
	"fmt"
	"math"
	"sort"
	"strings"

	"github.com/friendly-vm/fvm/configs"
	"github.com/friendly-vm/fvm/proofs"
	"github.com/friendly-vm/fvm/ref"
	"github.com/friendly-vm/fvm/report"
	"github.com/friendly-vm/fvm/spec"
	"github.com/friendly-vm/fvm/uml-impl/runner"
	"github.com/friendly-vm/fvm/vocab"
)

// mechanism is one candidate of proofs/mechanisms.md: a host model and a
// rule with their threshold and smallest demand, applied to the committed
// configurations idle-pair (two FVMs) and idle-greedy (one FVM beside a
// greedy VM); everything else (u = 20, alpha 1, beta 1/2, dmax 20, delay 2,
// loss) is theirs.
type mechanism struct {
	label string
	host  vocab.Host
	rule  vocab.Rule
	theta vocab.Rat
	dmin  int
}

// mechanisms are the candidates, today's deployed mechanism first: each
// of (a), (b), (c) alone at the deployed threshold, then (a) at the
// threshold Theorem 18 picks for friendliness, alone and with (b) or (c).
func mechanisms() []mechanism {
	return []mechanism{
		{"today: pause, AIMD", vocab.Duty, vocab.AIMD, vocab.R(1, 5), 1},
		{"(b) pause, decrease by the signal", vocab.Duty, vocab.AIMDProp, vocab.R(1, 5), 1},
		{"(c) pause, per-VM phase", vocab.Duty, vocab.AIMDPhase, vocab.R(1, 5), 1},
		{"(a) work-conserving pause, AIMD, θ 1/5", vocab.DutyIdle, vocab.AIMD, vocab.R(1, 5), 1},
		{"(a) work-conserving pause, AIMD", vocab.DutyIdle, vocab.AIMD, vocab.R(3, 40), 2},
		{"(a)+(b)", vocab.DutyIdle, vocab.AIMDProp, vocab.R(3, 40), 2},
		{"(a)+(c)", vocab.DutyIdle, vocab.AIMDPhase, vocab.R(3, 40), 2},
	}
}

// apply sets the mechanism's fields on a configuration.
func (m mechanism) apply(c *configs.Config) {
	c.Host, c.Rule, c.Theta, c.Dmin, c.Phases = m.host, m.rule, m.theta, m.dmin, 0
	if m.rule == vocab.AIMDPhase {
		c.Phases = c.N
	}
}

// flags are the `fvm check` flags that turn base into the mechanism's
// configuration.
func (m mechanism) flags(base string) string {
	c, err := configs.Load(base)
	if err != nil {
		return "?"
	}
	var f []string
	if c.Host != m.host {
		f = append(f, "--host "+m.host.String())
	}
	if c.Rule != m.rule {
		f = append(f, "--rule "+m.rule.String())
	}
	if !c.Theta.Equal(m.theta) {
		f = append(f, "--theta "+m.theta.String())
	}
	if c.Dmin != m.dmin {
		f = append(f, fmt.Sprintf("--dmin %d", m.dmin))
	}
	if m.rule == vocab.AIMDPhase {
		f = append(f, fmt.Sprintf("--phases %d", c.N))
	}
	return strings.TrimSpace("--config " + base + " " + strings.Join(f, " "))
}

// params returns base's configuration under the mechanism.
func (m mechanism) params(base string) (*ref.Params, error) {
	c, err := configs.Load(base)
	if err != nil {
		return nil, err
	}
	m.apply(c)
	return c.Params()
}

// scenario is one of the real experiments the targets are about, as the
// model sees it: the FVMs' initial demands, the greedy VMs (always
// awake), and the run's length.
type scenario struct {
	name    string
	init    []int
	greedy  bool
	windows int
}

// scenarios derives pair, four and greedy from the runner's experiments
// (uml-impl/runner): the FVMs start where the runner starts them with the
// default controller (u = 20), and the model runs as long as the run.
func scenarios() ([]scenario, error) {
	var out []scenario
	for _, name := range []string{"pair", "four", "greedy"} {
		e, err := runner.Lookup(name)
		if err != nil {
			return nil, err
		}
		specs := e.Specs(runner.Base(vocab.Steal, false), 0, "")
		sc := scenario{name: name, windows: int(e.Duration.Nanoseconds() / vocab.WindowNs)}
		for _, v := range specs[0].VMs {
			switch v.Role() {
			case "fvm":
				sc.init = append(sc.init, v.Controller.Init)
			case "greedy":
				sc.greedy = true
			}
		}
		out = append(out, sc)
	}
	return out, nil
}

// scenarioParams is the mechanism's configuration for a scenario: the
// pair configuration widened to the scenario's FVMs, or the greedy one.
func (m mechanism) scenarioParams(sc scenario) (*ref.Params, []int, error) {
	base := "idle-pair"
	if sc.greedy {
		base = "idle-greedy"
	}
	c, err := configs.Load(base)
	if err != nil {
		return nil, nil, err
	}
	c.N = len(sc.init)
	m.apply(c)
	p, err := c.Params()
	if err != nil {
		return nil, nil, fmt.Errorf("%s, scenario %s: %w", m.label, sc.name, err)
	}
	init := make([]int, len(sc.init))
	for i, x := range sc.init {
		init[i] = min(max(x, p.Dmin), p.Dmax)
	}
	return p, init, nil
}

// The targets (the real pair and four, and beside a greedy guest).
const (
	targetUtil        = 0.95
	targetJain        = 0.99
	targetGreedy      = 0.85
	targetFVM         = 0.05
	targetConvergence = 10.0 // seconds
)

// mechanismRow is everything the documents say about one mechanism.
type mechanismRow struct {
	m               mechanism
	pair, greedy    *spec.Result
	predict, simul  map[string]proofs.Figures
	rate            float64
	metSync, metSim int
	ofSync, ofSim   int
	missSim         []string
}

// simSeed seeds every simulation of the documents (sim.Simulate).
const simSeed = 1

// simWindows is how many ticks a simulation runs: ten minutes of windows,
// so that its averages are not one scheduler's luck.
const simWindows = 6000

func checkMechanism(m mechanism) (*mechanismRow, error) {
	row := &mechanismRow{m: m, predict: map[string]proofs.Figures{}, simul: map[string]proofs.Figures{}}
	for _, base := range []string{"idle-pair", "idle-greedy"} {
		p, err := m.params(base)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", m.label, err)
		}
		c, err := configs.Load(base)
		if err != nil {
			return nil, err
		}
		r, err := spec.Check(p, spec.Options{Symmetry: c.Check.Symmetry && p.Rule != vocab.AIMDPhase, Liveness: true})
		if err != nil {
			return nil, fmt.Errorf("%s: %w", m.label, err)
		}
		if base == "idle-pair" {
			row.pair = r
		} else {
			row.greedy = r
		}
	}
	scs, err := scenarios()
	if err != nil {
		return nil, err
	}
	for _, sc := range scs {
		p, init, err := m.scenarioParams(sc)
		if err != nil {
			return nil, err
		}
		pr, err := proofs.Predict(p, init, sc.windows)
		if err != nil {
			return nil, fmt.Errorf("%s, %s: %w", m.label, sc.name, err)
		}
		row.predict[sc.name] = pr.Figures
		if sc.name == "pair" {
			row.rate = pr.Rate
		}
		f, err := proofs.Simulated(p, init, simWindows, simSeed)
		if err != nil {
			return nil, fmt.Errorf("%s, %s: %w", m.label, sc.name, err)
		}
		row.simul[sc.name] = f
	}
	row.metSync, row.ofSync, _ = targetsMet(row.predict)
	row.metSim, row.ofSim, row.missSim = targetsMet(row.simul)
	return row, nil
}

// targetsMet counts the targets that figures meet: utilisation,
// Jain and convergence for pair and four, the greedy VM's and the FVM's
// shares beside a greedy VM.
func targetsMet(fs map[string]proofs.Figures) (met, of int, missed []string) {
	check := func(ok bool, what string) {
		of++
		if ok {
			met++
		} else {
			missed = append(missed, what)
		}
	}
	for _, sc := range []string{"pair", "four"} {
		f := fs[sc]
		check(f.Utilisation >= targetUtil, sc+" utilisation")
		check(f.Jain >= targetJain, sc+" Jain")
		check(f.ConvergenceS >= 0 && f.ConvergenceS <= targetConvergence, sc+" convergence")
	}
	g := fs["greedy"]
	check(len(g.MeanGreedy) > 0 && g.MeanGreedy[0] >= targetGreedy, "greedy keeps 85%")
	check(len(g.MeanShares) > 0 && g.MeanShares[0] >= targetFVM, "FVM keeps 5%")
	return met, of, missed
}

// mechanismRows checks every mechanism once per rendering of a document.
func mechanismRows() ([]*mechanismRow, error) {
	var rows []*mechanismRow
	for _, m := range mechanisms() {
		r, err := checkMechanism(m)
		if err != nil {
			return nil, err
		}
		rows = append(rows, r)
	}
	return rows, nil
}

func f3(x float64) string {
	if math.IsNaN(x) || x < 0 {
		return "—"
	}
	return fmt.Sprintf("%.3f", x)
}

func secs(x float64) string {
	if x < 0 {
		return "never"
	}
	return fmt.Sprintf("%.1f s", x)
}

// mechanismsChecker renders the checker's verdicts and limit-set figures
// for every mechanism.
func mechanismsChecker(rows []*mechanismRow) string {
	var t1, t2 [][]string
	for _, r := range rows {
		p := r.pair
		wc := verdictOf(p, spec.WorkConserving)
		t1 = append(t1, []string{r.m.label, "`fvm check " + r.m.flags("idle-pair") + "`", thousands(distinct(p)),
			verdictOf(p, spec.FairShares), wc, fmt.Sprint(len(p.LimitSets)), f4(p.WorstJain), f4(p.WorstJainBound),
			fmt.Sprintf("%s / %s", f3(uniformUtil(p)), f3(p.UtilCycle))})
		g := r.greedy
		ceiling := "—"
		if g.Bounds.Ceiling != nil {
			ceiling = fmt.Sprintf("%s, H = %d, greedy ≥ %.3f", verdictOf(g, spec.Friendly), g.Bounds.Ceiling[0], g.Params.GreedyShares(g.Bounds.Ceiling)[0].Float())
		}
		gu, gmin, fu, fmin := greedyFigures(g)
		t2 = append(t2, []string{r.m.label, "`fvm check " + r.m.flags("idle-greedy") + "`", ceiling,
			fmt.Sprintf("%s / %s", f3(gu), f3(gmin)), fmt.Sprintf("%s / %s", f3(fu), f3(fmin))})
	}
	out := "Two FVMs (`idle-pair` and its variants):\n\n"
	out += report.MarkdownTable([]string{"mechanism", "configuration", "distinct states", "FairShares", "WorkConserving", "limit sets", "worst Jain (uniform)", "every cycle ≥", "utilisation: uniform / every cycle ≥"}, t1)
	out += "\nOne FVM beside a greedy VM that always wants the core (`idle-greedy` and its variants):\n\n"
	out += report.MarkdownTable([]string{"mechanism", "configuration", "Friendly (ceiling, greedy share at it)", "greedy share: uniform / min", "FVM share: uniform / min"}, t2)
	return out
}

// uniformUtil is the smallest uniform-average utilisation of a limit set.
func uniformUtil(r *spec.Result) float64 {
	u := math.NaN()
	for _, f := range r.LimitSets {
		if math.IsNaN(u) || f.Util < u {
			u = f.Util
		}
	}
	return u
}

// greedyFigures returns, over the limit sets, the smallest uniform-average
// greedy share, the smallest greedy share in a state, and the same for the
// FVM.
func greedyFigures(r *spec.Result) (gu, gmin, fu, fmin float64) {
	gu, gmin, fu, fmin = math.Inf(1), math.Inf(1), math.Inf(1), math.Inf(1)
	for _, f := range r.LimitSets {
		gu, gmin = math.Min(gu, f.Greedy[0]), math.Min(gmin, f.GreedyMin[0])
		fu, fmin = math.Min(fu, f.Shares[0]), math.Min(fmin, f.ShareMin)
	}
	return gu, gmin, fu, fmin
}

// mechanismsPredictions renders the proofs' synchronous-round predictions
// and the simulations, per mechanism and scenario.
func mechanismsPredictions(rows []*mechanismRow) string {
	var t [][]string
	for _, r := range rows {
		for _, sc := range []string{"pair", "four", "greedy"} {
			p, s := r.predict[sc], r.simul[sc]
			shares := func(f proofs.Figures) string {
				if sc == "greedy" {
					return fmt.Sprintf("FVM %.3f, greedy %.3f", f.MeanShares[0], f.MeanGreedy[0])
				}
				return fmt.Sprintf("Jain %.4f", f.Jain)
			}
			conv := func(f proofs.Figures) string {
				if sc == "greedy" {
					return secs(f.ConvergenceS) + " (settle)"
				}
				first := "never"
				if f.FirstFairS >= 0 {
					first = fmt.Sprintf("%.1f s, %d epochs", f.FirstFairS, f.Epochs)
				}
				return fmt.Sprintf("%s; fair first %s", secs(f.ConvergenceS), first)
			}
			util := func(f proofs.Figures) string {
				return fmt.Sprintf("%.3f (desync %.3f)", f.Utilisation, f.UtilisationDesync)
			}
			t = append(t, []string{r.m.label, sc, util(p), shares(p), conv(p), fmt.Sprintf("%.1f", p.EpochLen),
				util(s), shares(s), conv(s), fmt.Sprintf("%.1f", s.EpochLen)})
		}
	}
	return report.MarkdownTable([]string{"mechanism", "scenario", "predicted utilisation", "predicted shares", "predicted convergence", "epoch (windows)",
		"simulated utilisation", "simulated shares", "simulated convergence", "epoch (windows)"}, t)
}

// ranked orders rows by the targets met in the prediction and in
// the simulation together, then by the simulated pair's utilisation and
// Jain index.
func ranked(rows []*mechanismRow) []*mechanismRow {
	rows = append([]*mechanismRow(nil), rows...)
	sort.SliceStable(rows, func(i, j int) bool {
		a, b := rows[i], rows[j]
		if x, y := a.metSync+a.metSim, b.metSync+b.metSim; x != y {
			return x > y
		}
		if x, y := a.simul["pair"].Utilisation, b.simul["pair"].Utilisation; x != y {
			return x > y
		}
		return a.simul["pair"].Jain > b.simul["pair"].Jain
	})
	return rows
}

// mechanismsRanking renders the ranking (ranked).
func mechanismsRanking(rows []*mechanismRow) string {
	rows = ranked(rows)
	var t [][]string
	for k, r := range rows {
		missed := func(m []string) string {
			if len(m) == 0 {
				return "none"
			}
			return strings.Join(m, ", ")
		}
		s := r.simul
		t = append(t, []string{fmt.Sprint(k + 1), r.m.label,
			fmt.Sprintf("%d/%d", r.metSync, r.ofSync), fmt.Sprintf("%d/%d", r.metSim, r.ofSim),
			f3(s["pair"].Utilisation), f3(s["four"].Utilisation), f4(s["pair"].Jain), f4(s["four"].Jain),
			fmt.Sprintf("%.3f / %.3f", s["greedy"].MeanGreedy[0], s["greedy"].MeanShares[0]),
			fmt.Sprintf("%.2f", r.rate), missed(r.missSim)})
	}
	return report.MarkdownTable([]string{"rank", "mechanism", "targets met (predicted)", "targets met (simulated)", "pair utilisation", "four utilisation",
		"pair Jain", "four Jain", "greedy / FVM beside it", "rate per epoch", "simulation misses"}, t)
}

// mechanismData checks every mechanism at most once however many blocks
// (and tests) ask for the rows.
type mechanismData struct {
	rows []*mechanismRow
	err  error
	done bool
}

func (d *mechanismData) get() ([]*mechanismRow, error) {
	if !d.done {
		d.rows, d.err = mechanismRows()
		d.done = true
	}
	return d.rows, d.err
}

// mechanismBlocks are the generated blocks of proofs/mechanisms.md. They
// share one run of the checker, the predictions and the simulations.
func mechanismBlocks(d *mechanismData) []Block {
	render := func(f func([]*mechanismRow) string) func(string) (string, error) {
		return func(string) (string, error) {
			rows, err := d.get()
			if err != nil {
				return "", err
			}
			return f(rows), nil
		}
	}
	return []Block{
		{File: "proofs/mechanisms.md", Name: "mechanisms-ranking", Render: render(mechanismsRanking)},
		{File: "proofs/mechanisms.md", Name: "mechanisms-checker", Render: render(mechanismsChecker)},
		{File: "proofs/mechanisms.md", Name: "mechanisms-predictions", Render: render(mechanismsPredictions)},
	}
}
