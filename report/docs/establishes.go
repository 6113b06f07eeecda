package docs

import (
	"fmt"
	"path/filepath"
	"strings"

	"github.com/friendly-vm/fvm/report"
	"github.com/friendly-vm/fvm/spec"
	"github.com/friendly-vm/fvm/spec/mc"
	"github.com/friendly-vm/fvm/uml-impl/controller"
	"github.com/friendly-vm/fvm/uml-impl/runner"
	"github.com/friendly-vm/fvm/vocab"
)

// violated lists the properties configuration name violates.
func (k *checker) violated(name string) (string, error) {
	r, err := k.check(name, false)
	if err != nil {
		return "", err
	}
	var v []string
	for _, x := range r.Verdicts() {
		if x.Status == mc.Violated {
			v = append(v, x.Name)
		}
	}
	if len(v) == 0 {
		return "none", nil
	}
	return strings.Join(v, ", "), nil
}

// holdsAll says which of props hold for configuration name.
func (k *checker) holdsAll(name string, props ...string) (string, error) {
	r, err := k.check(name, false)
	if err != nil {
		return "", err
	}
	var out []string
	for _, p := range props {
		out = append(out, fmt.Sprintf("`%s` %s", p, verdictOf(r, p)))
	}
	return strings.Join(out, ", "), nil
}

// runSummary reads a committed run's summary.
func runSummary(root, name string) (*runner.Summary, error) {
	return runner.ReadSummary(filepath.Join(root, runsDir, name))
}

// runName is the committed run of experiment e with the default
// controller of a pause mode (idle: controller.Default's work-conserving
// pause) on signal sig, named as `fvm uml experiment` names it.
func runName(e string, sig vocab.Signal, idle bool) (string, error) {
	return runner.RunName(e, runner.Base(sig, idle))
}

// vmShare is the share of the VM named name in s.
func vmShare(s *runner.Summary, name string) (float64, error) {
	for _, v := range s.VMs {
		if v.Name == name {
			return v.Share, nil
		}
	}
	return 0, fmt.Errorf("run %s has no VM %s", s.Name, name)
}

// patchAdded counts the lines the kernel patch series adds.
func patchAdded(root string) (int, error) {
	files, err := filepath.Glob(filepath.Join(root, "uml-impl", "patch", "*.patch"))
	if err != nil || len(files) == 0 {
		return 0, fmt.Errorf("no patch under uml-impl/patch (%v)", err)
	}
	n := 0
	for _, f := range files {
		st, err := readPatchStat(f)
		if err != nil {
			return 0, err
		}
		n += st.added
	}
	return n, nil
}

// establishes renders README.md's table of claims and their evidence.
func (k *checker) establishes(root string) (string, error) {
	conv, err := k.holdsAll("default", spec.Efficient, spec.DemandsConverge, spec.FairShares)
	if err != nil {
		return "", err
	}
	convDelay, err := k.holdsAll("hetero-delay", spec.Efficient, spec.DemandsConverge, spec.FairShares)
	if err != nil {
		return "", err
	}
	def, err := k.check("default", false)
	if err != nil {
		return "", err
	}
	var unfair []string
	for _, c := range []string{"mimd", "aiad", "hetero-params"} {
		v, err := k.violated(c)
		if err != nil {
			return "", err
		}
		unfair = append(unfair, fmt.Sprintf("`%s` violates %s", c, v))
	}
	vct, err := k.check("duty-vct", false)
	if err != nil {
		return "", err
	}
	steal, err := k.check("duty-steal", false)
	if err != nil {
		return "", err
	}
	dep, err := k.holdsAll("deployed", spec.Utilised, spec.FairShares)
	if err != nil {
		return "", err
	}
	greedyRun, err := runName("greedy", vocab.Steal, controller.Default().IdlePause)
	if err != nil {
		return "", err
	}
	greedy, err := runSummary(root, greedyRun)
	if err != nil {
		return "", err
	}
	gF, err := vmShare(greedy, "F")
	if err != nil {
		return "", err
	}
	gG, err := vmShare(greedy, "G")
	if err != nil {
		return "", err
	}
	// VCT against steal in each multi-FVM experiment, with the sleeping
	// pause (the duty host of the checker's duty-vct) and with the default,
	// work-conserving one.
	var modes []string
	for _, idle := range []bool{false, true} {
		var jains []string
		for _, e := range []string{"pair", "four", "join-leave", "hetero"} {
			var js [2]float64
			for k, sig := range []vocab.Signal{vocab.VCT, vocab.Steal} {
				name, err := runName(e, sig, idle)
				if err != nil {
					return "", err
				}
				s, err := runSummary(root, name)
				if err != nil {
					return "", err
				}
				js[k] = s.JainFVM
			}
			if js[0] >= js[1] {
				return "", fmt.Errorf("%s (idle pause %v): the VCT run's Jain %.3f is not below the steal run's %.3f: the claim's words no longer hold", e, idle, js[0], js[1])
			}
			jains = append(jains, fmt.Sprintf("`%s` %.3f against %.3f", e, js[0], js[1]))
		}
		modes = append(modes, strings.Join(jains, ", "))
	}
	signalJains := fmt.Sprintf("with the sleeping pause %s; with the default, work-conserving pause %s", modes[0], modes[1])
	added, err := patchAdded(root)
	if err != nil {
		return "", err
	}
	runs, err := loadRuns(root, "")
	if err != nil {
		return "", err
	}
	refining := 0
	for _, r := range runs {
		if r.refines == "yes" {
			refining++
		}
	}
	frRefining, frTotal, err := friendlyRefining(root)
	if err != nil {
		return "", err
	}
	rows := [][]string{
		{"Identical FVMs converge to a fair share from any start, under feedback delay and lost samples",
			fmt.Sprintf("`fvm check`: for every behavior of `default` (N=3, delay bound 2, loss) %s; of `hetero-delay` (delay bounds 0, 1, 3) %s; TLC agrees state for state (`tla/`); `proofs/shared.md` proves the contraction per decrease and the exact rounding residual", conv, convDelay)},
		{"Efficiency: total demand stays in a band",
			fmt.Sprintf("the band is derived in `proofs/efficiency.md`, and the checker shows it is tight ([%d, %d] for `default`)", def.Bounds.Band.Lo, def.Bounds.Band.Hi)},
		{"Convergence rate", "`proofs/swl.md`: the second eigenvalue of the epoch matrix; simulations fall in the proved range"},
		{"Non-AIMD rules and unequal alpha/(1−beta) are unfair",
			strings.Join(unfair, "; ") + " (`fvm check` exits 1 and prints the lasso)"},
		{"What runs is what is verified",
			fmt.Sprintf("`configs/deployed.json` is `controller.Default` (a test holds the trace header to it): %s (`spec/MODEL.md`, \"The deployed configuration\")", dep)},
		{"A friendly VM yields to a greedy one",
			fmt.Sprintf("real run `testdata/runs/%s` (the default controller): the greedy guest keeps %.0f%% of the core, the FVM backs off to %.0f%%", greedyRun, 100*gG, 100*gF)},
		{"The paper's signal (VCT)",
			fmt.Sprintf("**anti-fair under pause actuation** — the checker finds winner-take-all limit sets (`duty-vct`, worst long-run Jain %.2f), the linearised difference mode is unstable (`proofs/hosts.md`), and the real runs' Jain index of the FVMs' shares is lower with VCT than with steal in every multi-FVM experiment (%s). The steal signal is fair in the checker (`duty-steal` worst Jain %.3f), so **steal is our default**. Details: `spec/MODEL.md` (\"Hypothesis\") and `uml-impl/README.md`",
				vct.WorstJain, signalJains, steal.WorstJain)},
		{"The guest patch is small", fmt.Sprintf("`uml-impl/patch/`: %d added lines over %s", added, "the series' patches, checkpatch-clean but for the MAINTAINERS note a new file draws (`TestCheckpatch`)")},
		{"Real runs are held to the reference",
			fmt.Sprintf("%d of the %d committed runs of UML guests and %d of the %d of friendly process groups (`friendly/`) under `testdata/runs` refine `ref` (`fvm trace check`, `trace/REFINEMENT.md`); mutated traces are rejected", refining, len(runs), frRefining, frTotal)},
	}
	return report.MarkdownTable([]string{"claim (the paper's, made testable)", "evidence"}, rows), nil
}
