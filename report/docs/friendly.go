package docs

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/friendly-vm/fvm/friendly/experiment"
	"github.com/friendly-vm/fvm/report"
	"github.com/friendly-vm/fvm/trace"
	"github.com/friendly-vm/fvm/trace/refine"
)

// friendlyRuns is where the friendly groups' committed runs are, relative
// to the repository root.
const friendlyRuns = "testdata/runs"

// friendlyCalibration holds the summaries of the calibration rounds of the
// real tests: round-K/RUN/summary.json (and friendly-kill9/kill.json)
// from FVM_RUN_DIR=<dir>/round-K make test-friendly.
const friendlyCalibration = "testdata/thresholds/friendly"

// friendlyIdleCalibration holds those of the real tests with
// work-conserving pauses (TestRealIdle*).
const friendlyIdleCalibration = "testdata/thresholds/friendly-idle"

func readSummary(root, dir string) (*experiment.Summary, error) {
	return experiment.ReadSummary(filepath.Join(root, friendlyRuns, dir))
}

func shares(s *experiment.Summary) string {
	var xs []string
	for _, p := range s.Participants {
		xs = append(xs, fmt.Sprintf("%s %.1f%%", p.Name, 100*p.Share))
	}
	return strings.Join(xs, ", ")
}

func yes(b *bool) string {
	if b != nil && *b {
		return "yes"
	}
	return "**no**"
}

func conv(x float64) string {
	if x < 0 {
		return "never"
	}
	return fmt.Sprintf("%.0f s", x)
}

// friendlyRefining checks the committed experiment runs that have friendly
// groups against ref: how many refine, of how many.
func friendlyRefining(root string) (refining, total int, err error) {
	for _, e := range experiment.Experiments() {
		for _, sp := range slices.Concat(e.Specs(0, 0, 0, false), idleRuns(e)) {
			if len(sp.Friendly()) == 0 {
				continue // no trace: the baselines of the job experiment
			}
			dir := filepath.Join(root, friendlyRuns, sp.Name)
			res, err := refine.CheckFiles([]string{dir}, refine.Options{})
			if err != nil {
				return 0, 0, fmt.Errorf("%s: %w", dir, err)
			}
			total++
			if res.OK() {
				refining++
			}
		}
	}
	return refining, total, nil
}

// idleRuns are the committed runs of e with work-conserving pauses, if e
// is one of experiment.IdleRecorded (else none).
func idleRuns(e experiment.Experiment) []experiment.Spec {
	if !slices.Contains(experiment.IdleRecorded(), e.Name) {
		return nil
	}
	return e.Specs(0, 0, 0, true)
}

// recordedWith says how the committed runs called dirs were made, from
// their spec.json and their friendly groups' trace headers: the kernel and
// cgroup interface, the core, the nice, the groups' CFS periods and, with
// a latency loop, its period and work. A setting that differs between the
// runs lists each value.
func recordedWith(root string, dirs []string) (string, error) {
	var kernels, cpus, nices, periods, loops []string
	add := func(xs *[]string, x string) {
		if !slices.Contains(*xs, x) {
			*xs = append(*xs, x)
		}
	}
	for _, d := range dirs {
		dir := filepath.Join(root, friendlyRuns, d)
		sp, err := experiment.ReadSpec(dir)
		if err != nil {
			return "", err
		}
		add(&cpus, fmt.Sprint(sp.CPU))
		add(&nices, fmt.Sprint(sp.Nice))
		hasLoop := false
		for _, p := range sp.Participants {
			if p.Workload == experiment.Loop {
				hasLoop = true
			}
			if p.Role != experiment.Friendly {
				continue
			}
			evs, err := trace.ReadFile(filepath.Join(dir, p.Name+".jsonl"))
			if err != nil {
				return "", err
			}
			if len(evs) == 0 || evs[0].Header == nil {
				return "", fmt.Errorf("%s: %s.jsonl has no header", dir, p.Name)
			}
			add(&kernels, "`"+evs[0].Header.Kernel+"`")
		}
		if len(sp.Friendly()) > 0 {
			kind := "CFS quota"
			if sp.IdlePause {
				kind = "cpu.idle"
			}
			add(&periods, fmt.Sprintf("%d + k·%d µs (%s)", sp.PeriodUs, max(sp.PeriodStepUs, 0), kind))
		}
		if hasLoop {
			ms := func(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
			add(&loops, fmt.Sprintf("%g ms of CPU every %g ms", ms(sp.Probe.Work), ms(sp.Probe.Period)))
		}
	}
	out := fmt.Sprintf("Recorded on %s; every participant pinned to CPU %s; `--nice %s`; friendly group k's period %s",
		strings.Join(kernels, ", "), strings.Join(cpus, ", "), strings.Join(nices, ", "), strings.Join(periods, "; "))
	if len(loops) > 0 {
		out += "; the latency loop does " + strings.Join(loops, ", ")
	}
	return out + " (from the runs' `spec.json` and trace headers).\n", nil
}

// FriendlyRuns renders README.md's table of the committed pair, four and
// greedy runs of friendly groups.
func FriendlyRuns(root string) (string, error) {
	var rows [][]string
	var dirs []string
	type run struct {
		e    experiment.Experiment
		spec experiment.Spec
	}
	var runs []run
	for _, idle := range []bool{false, true} {
		for _, name := range experiment.IdleRecorded() {
			e, err := experiment.Lookup(name)
			if err != nil {
				return "", err
			}
			for _, sp := range e.Specs(0, 0, 0, idle) {
				runs = append(runs, run{e, sp})
			}
		}
	}
	for _, r := range runs {
		e, dir := r.e, r.spec.Name
		dirs = append(dirs, dir)
		s, err := readSummary(root, dir)
		if err != nil {
			return "", err
		}
		if !s.Complete {
			return "", fmt.Errorf("%s is incomplete: %v", dir, s.Errors)
		}
		sp, err := experiment.ReadSpec(filepath.Join(root, friendlyRuns, dir))
		if err != nil {
			return "", err
		}
		jain := "—"
		if s.JainFriendly >= 0 {
			jain = fmt.Sprintf("%.3f", s.JainFriendly)
		}
		pause := "sleeping (CFS quota)"
		if sp.IdlePause {
			pause = "work-conserving (cpu.idle)"
		}
		rows = append(rows, []string{"`" + dir + "`", fmt.Sprintf("%s; %.0f s", e.Description, sp.Duration.Seconds()), pause, jain,
			fmt.Sprintf("%.1f%%", 100*s.Utilisation), conv(s.ConvergenceS), shares(s), yes(s.Refines)})
	}
	with, err := recordedWith(root, dirs)
	if err != nil {
		return "", err
	}
	return report.MarkdownTable([]string{"run", "what", "pause", "Jain (friendly)", "utilisation", "convergence", "shares (second half)", "refines ref"}, rows) + "\n" + with, nil
}

// FriendlyJob renders README.md's comparison of the job beside the
// latency loop: alone, unmanaged, nice 19, SCHED_IDLE, friendly.
func FriendlyJob(root string) (string, error) {
	e, err := experiment.Lookup("job")
	if err != nil {
		return "", err
	}
	var sums []*experiment.Summary
	var dirs []string
	for _, sp := range e.Specs(0, 0, 0, false) {
		dirs = append(dirs, sp.Name)
		s, err := readSummary(root, sp.Name)
		if err != nil {
			return "", err
		}
		if !s.Complete {
			return "", fmt.Errorf("%s is incomplete: %v", sp.Name, s.Errors)
		}
		if s.Refines != nil && !*s.Refines {
			return "", fmt.Errorf("%s does not refine ref: %s", sp.Name, s.RefineFailure)
		}
		sums = append(sums, s)
	}
	t, err := experiment.JobTable(sums)
	if err != nil {
		return "", err
	}
	with, err := recordedWith(root, dirs)
	if err != nil {
		return "", err
	}
	return t + "\n" + with, nil
}

// calibration reads every calibration run's file named rel.
func calibration(root, rounds, rel string, v func() any) ([]any, error) {
	dirs, err := filepath.Glob(filepath.Join(root, rounds, "*"))
	if err != nil {
		return nil, err
	}
	var out []any
	for _, d := range dirs {
		b, err := os.ReadFile(filepath.Join(d, rel))
		if err != nil {
			return nil, fmt.Errorf("calibration run %s: %w", filepath.Base(d), err)
		}
		x := v()
		if err := json.Unmarshal(b, x); err != nil {
			return nil, fmt.Errorf("calibration run %s: %s: %w", filepath.Base(d), rel, err)
		}
		out = append(out, x)
	}
	return out, nil
}

// FriendlyThresholds renders README.md's table of the real tests'
// thresholds against their calibration runs: minimum, median and maximum
// of each measured figure, the threshold, and the margin between the
// threshold and the worst calibration run. A threshold that a calibration
// run fails (no margin) is an error.
func FriendlyThresholds(root string) (string, error) {
	sum := func() any { return &experiment.Summary{} }
	pairs, err := calibration(root, friendlyCalibration, "friendly-pair/summary.json", sum)
	if err != nil {
		return "", err
	}
	greedies, err := calibration(root, friendlyCalibration, "friendly-greedy/summary.json", sum)
	if err != nil {
		return "", err
	}
	kills, err := calibration(root, friendlyCalibration, "friendly-kill9/kill.json", func() any { return &experiment.KillRun{} })
	if err != nil {
		return "", err
	}
	idlePairs, err := calibration(root, friendlyIdleCalibration, "friendly-pair-idle/summary.json", sum)
	if err != nil {
		return "", err
	}
	idleGreedies, err := calibration(root, friendlyIdleCalibration, "friendly-greedy-idle/summary.json", sum)
	if err != nil {
		return "", err
	}
	type fig struct {
		what      string
		xs        []float64
		threshold float64
		atLeast   bool // the test wants x >= threshold (else x < threshold)
	}
	var figs []fig
	add := func(what string, atLeast bool, threshold float64, runs []any, f func(any) float64) {
		var xs []float64
		for _, r := range runs {
			xs = append(xs, f(r))
		}
		figs = append(figs, fig{what, xs, threshold, atLeast})
	}
	add(fmt.Sprintf("pair (%v): Jain of the two groups", experiment.RealPairDuration), true, experiment.PairJainMin, pairs,
		func(r any) float64 { return r.(*experiment.Summary).JainFriendly })
	add(fmt.Sprintf("greedy (%v): the friendly group's share", experiment.RealGreedyDuration), false, experiment.GreedyFriendlyMax, greedies,
		func(r any) float64 { return r.(*experiment.Summary).Participants[0].Share })
	add(fmt.Sprintf("greedy (%v): the busy process's share", experiment.RealGreedyDuration), true, experiment.GreedyOtherMin, greedies,
		func(r any) float64 { return r.(*experiment.Summary).Participants[1].Share })
	add(fmt.Sprintf("pair, work-conserving (%v): Jain of the two groups", experiment.RealPairDuration), true, experiment.IdlePairJainMin, idlePairs,
		func(r any) float64 { return r.(*experiment.Summary).JainFriendly })
	add(fmt.Sprintf("pair, work-conserving (%v): utilisation", experiment.RealPairDuration), true, experiment.IdlePairUtilisationMin, idlePairs,
		func(r any) float64 { return r.(*experiment.Summary).Utilisation })
	add(fmt.Sprintf("greedy, work-conserving (%v): the friendly group's share", experiment.RealGreedyDuration), false, experiment.IdleGreedyFriendlyMax, idleGreedies,
		func(r any) float64 { return r.(*experiment.Summary).Participants[0].Share })
	add(fmt.Sprintf("greedy, work-conserving (%v): the busy process's share", experiment.RealGreedyDuration), true, experiment.IdleGreedyOtherMin, idleGreedies,
		func(r any) float64 { return r.(*experiment.Summary).Participants[1].Share })
	add("kill -9: the command's share before (throttled)", false, experiment.Kill9BeforeMax, kills,
		func(r any) float64 { return r.(*experiment.KillRun).ShareBefore })
	add("kill -9: the command's share after (unthrottled)", true, experiment.Kill9AfterMin, kills,
		func(r any) float64 { return r.(*experiment.KillRun).ShareAfter })
	var rows [][]string
	for _, f := range figs {
		if len(f.xs) < 5 {
			return "", fmt.Errorf("%s: %d calibration runs, want at least 5", f.what, len(f.xs))
		}
		xs := slices.Clone(f.xs)
		slices.Sort(xs)
		lo, hi, med := xs[0], xs[len(xs)-1], xs[len(xs)/2]
		if len(xs)%2 == 0 {
			med = (xs[len(xs)/2-1] + xs[len(xs)/2]) / 2
		}
		margin, rel := lo-f.threshold, "≥"
		if !f.atLeast {
			margin, rel = f.threshold-hi, "<"
		}
		if margin <= 0 {
			return "", fmt.Errorf("%s: threshold %s %.3f fails a calibration run (min %.3f, max %.3f)", f.what, rel, f.threshold, lo, hi)
		}
		rows = append(rows, []string{f.what, fmt.Sprint(len(xs)), fmt.Sprintf("%.3f", lo), fmt.Sprintf("%.3f", med), fmt.Sprintf("%.3f", hi),
			fmt.Sprintf("%s %.2f", rel, f.threshold), fmt.Sprintf("%.3f", margin)})
	}
	return report.MarkdownTable([]string{"real test: figure", "runs", "min", "median", "max", "threshold", "margin to the worst run"}, rows), nil
}

// FriendlyBlocks are README.md's generated blocks on friendly groups.
func FriendlyBlocks() []Block {
	return []Block{
		{File: "README.md", Name: "friendly-runs", Render: FriendlyRuns},
		{File: "README.md", Name: "friendly-job", Render: FriendlyJob},
		{File: "README.md", Name: "friendly-thresholds", Render: FriendlyThresholds},
	}
}
