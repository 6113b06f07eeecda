package docs

import (
	"fmt"
	"math"
	"strings"

	"github.com/friendly-vm/fvm/configs"
	"github.com/friendly-vm/fvm/report"
	"github.com/friendly-vm/fvm/spec"
	"github.com/friendly-vm/fvm/spec/mc"
)

// modelConfigs are the configurations of MODEL.md's verdict table.
func modelConfigs() []string {
	return []string{"default", "hetero-delay", "greedy", "hetero-params", "mimd", "aiad", "fair-host", "duty-vct", "duty-steal", "deployed-sleep", "deployed"}
}

// checker runs the model checker as `fvm check --config name` does, once
// per configuration for every block of one Update.
type checker struct {
	results map[string]*spec.Result
}

func newChecker() *checker { return &checker{results: map[string]*spec.Result{}} }

func (k *checker) check(name string, lossForever bool) (*spec.Result, error) {
	key := fmt.Sprintf("%s/%v", name, lossForever)
	if r, ok := k.results[key]; ok {
		return r, nil
	}
	c, err := configs.Load(name)
	if err != nil {
		return nil, err
	}
	p, err := c.Params()
	if err != nil {
		return nil, err
	}
	r, err := spec.Check(p, spec.Options{Symmetry: c.Check.Symmetry, Liveness: c.Check.Liveness, LossForever: lossForever})
	if err != nil {
		return nil, fmt.Errorf("check %s: %w", name, err)
	}
	k.results[key] = r
	return r, nil
}

func verdictOf(r *spec.Result, name string) string {
	for _, v := range r.Verdicts() {
		if v.Name == name {
			if v.Status == mc.Violated {
				return "**violated**"
			}
			return v.Status.String()
		}
	}
	return "—"
}

func distinct(r *spec.Result) int64 {
	if r.Liveness != nil {
		return r.Liveness.Stats.Distinct
	}
	return r.Safety.Stats.Distinct
}

func f4(x float64) string {
	if math.IsNaN(x) {
		return "—"
	}
	return fmt.Sprintf("%.4f", x)
}

// verdicts renders MODEL.md's verdict table.
func (k *checker) verdicts(string) (string, error) {
	var rows [][]string
	for _, name := range modelConfigs() {
		r, err := k.check(name, false)
		if err != nil {
			return "", err
		}
		p := r.Params
		desc := fmt.Sprintf("`%s` (%v", name, p.Host)
		if p.Signal.Valid() {
			desc += fmt.Sprintf(" %v > %v", p.Signal, p.Theta)
		}
		desc += fmt.Sprintf(", N=%d, u=%d, delay %v", p.N(), p.U, delaysOf(r))
		if p.Loss {
			desc += ", loss"
		}
		desc += ")"
		band := "—"
		if r.Bounds.HasBand {
			band = fmt.Sprintf("%s, band [%d, %d]", verdictOf(r, spec.Efficient), r.Bounds.Band.Lo, r.Bounds.Band.Hi)
		}
		util := "—"
		if r.Bounds.Floor != nil {
			util = fmt.Sprintf("%s, floor %v", verdictOf(r, spec.Utilised), r.Bounds.Floor)
		}
		rows = append(rows, []string{desc, thousands(distinct(r)), band, verdictOf(r, spec.DemandsConverge), util,
			verdictOf(r, spec.FairShares), fmt.Sprint(len(r.LimitSets)), f4(r.WorstJain), f4(r.WorstJainBound), f4(r.UtilCycle)})
	}
	r, err := k.check("default", true)
	if err != nil {
		return "", err
	}
	out := report.MarkdownTable([]string{"configuration", "distinct states (no symmetry)", "Efficient", "DemandsConverge", "Utilised", "FairShares", "limit sets", "worst Jain (uniform)", "every cycle ≥", "utilisation, every cycle ≥"}, rows)
	out += fmt.Sprintf("\nWithout the assumption that losses end (`fvm check --config default --loss-forever`): DemandsConverge %s, FairShares %s.\n",
		verdictOf(r, spec.DemandsConverge), verdictOf(r, spec.FairShares))
	return out, nil
}

func delaysOf(r *spec.Result) string {
	var ds []string
	same := true
	for _, f := range r.Params.FVMs {
		ds = append(ds, fmt.Sprint(f.Delay))
		same = same && f.Delay == r.Params.FVMs[0].Delay
	}
	if same {
		return ds[0]
	}
	return strings.Join(ds, "/")
}

// deployed renders MODEL.md's block on the deployed configurations: the
// default (work-conserving) pause's, then the sleeping pause's.
func (k *checker) deployed(string) (string, error) {
	var b strings.Builder
	for i, name := range []string{"deployed", "deployed-sleep"} {
		r, err := k.check(name, false)
		if err != nil {
			return "", err
		}
		if i > 0 {
			b.WriteString("\n")
		}
		fmt.Fprintf(&b, "`fvm check --config %s`: %s distinct states with symmetry (safety), %s without (liveness), %d limit set(s); every property holds:",
			name, thousands(r.Safety.Stats.Distinct), thousands(r.Liveness.Stats.Distinct), len(r.LimitSets))
		for _, v := range r.Verdicts() {
			fmt.Fprintf(&b, " %s %s;", v.Name, v.Status)
		}
		b.WriteString("\n\n")
		var rows [][]string
		for _, f := range r.LimitSets {
			sym := "no"
			if f.Symmetric {
				sym = "yes"
			}
			shares := make([]string, len(f.Shares))
			for i, s := range f.Shares {
				shares[i] = fmt.Sprintf("%.3f", s)
			}
			rows = append(rows, []string{thousands(int64(f.States)), sym, strings.Join(shares, " / "), f4(f.Jain), f4(f.JainBound),
				fmt.Sprintf("%.3f", f.Util), fmt.Sprintf("%.3f", f.UtilMin), fmt.Sprintf("%.3f", f.UtilCycle)})
		}
		b.WriteString(report.MarkdownTable([]string{"limit set states", "symmetric", "average shares (uniform)", "Jain (uniform)", "every cycle ≥", "utilisation (uniform)", "utilisation, min state", "utilisation, every cycle ≥"}, rows))
		fmt.Fprintf(&b, "\nSo in the long run `%s` leaves %.0f%% of the core idle on average over the limit set's states, and a worst-case (adversarially scheduled) fair behaviour at most %.0f%%.\n",
			name, 100*(1-r.LimitSets[0].Util), 100*(1-r.UtilCycle))
	}
	return b.String(), nil
}

// modelBlocks are the generated blocks of spec/MODEL.md.
func modelBlocks(k *checker) []Block {
	return []Block{
		{File: "spec/MODEL.md", Name: "verdicts", Render: k.verdicts},
		{File: "spec/MODEL.md", Name: "deployed", Render: k.deployed},
		{File: "spec/MODEL.md", Name: "scale", Render: Scale},
	}
}
