package docs

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/friendly-vm/fvm/report"
	"github.com/friendly-vm/fvm/uml-impl/controller"
	"github.com/friendly-vm/fvm/uml-impl/runner"
	"github.com/friendly-vm/fvm/vocab"
)

// experiments renders uml-impl/README.md's list of experiments from the
// runner's own table.
func experiments(string) (string, error) {
	var rows [][]string
	for _, e := range runner.Experiments() {
		rows = append(rows, []string{"`" + e.Name + "`", e.Description, e.Duration.String()})
	}
	return report.MarkdownTable([]string{"name", "question", "default length"}, rows), nil
}

// controllerDefaults renders controller.Default, what fvmd runs, and
// where the sleeping pause's defaults (controller.DefaultSleep) differ.
func controllerDefaults(string) (string, error) {
	c, cs := controller.Default(), controller.DefaultSleep()
	rows := [][]string{
		{"pause mode", c.PauseMode(), "work-conserving: during the pause the VM's host processes run at SCHED_IDLE (host model duty-idle)"},
		{"demand units per core `u`", fmt.Sprint(c.U), fmt.Sprintf("a demand d is d/%d of a core; the pause is 1000 − 1000·d/u permille", c.U)},
		{"demands `dmin`..`dmax`, initial, safe", fmt.Sprintf("%d..%d, %d, %d", c.Dmin, c.Dmax, c.Init, c.Safe), fmt.Sprintf("pause %d‰ at dmin (the kernel's maximum is %d‰); the FVM keeps at least dmin/2u beside a greedy VM", vocab.PausePermille(c.U, c.Dmin), vocab.MaxPausePermille)},
		{"rule", fmt.Sprintf("%v, α = %d, β = %v", c.Rule, c.Alpha, c.Beta), ""},
		{"signal, threshold", fmt.Sprintf("%v > %d‰ (VCT: > %d‰)", c.Signal, c.ThetaPermille, controller.DefaultTheta(vocab.VCT, true)), "congested when the window's signal exceeds the threshold; the greedy VM keeps 85% iff θ < 100‰"},
		{"delay bound `delay`", fmt.Sprintf("%d windows", c.Delay), "a window older than this when read is dropped (a `gap`): the model's loss"},
		{"smoothing `ewma`", c.EWMA.String(), "1: none"},
		{"sleeping pause (`-pause-mode sleep`)", fmt.Sprintf("%v > %d‰, demands %d..%d, safe %d", cs.Signal, cs.ThetaPermille, cs.Dmin, cs.Dmax, cs.Safe),
			"controller.DefaultSleep, configs/deployed-sleep.json (host model duty): needs no privilege; what a friendly process group runs"},
		{"hold after silence, after garbage", fmt.Sprintf("%v, %d windows in a row", c.HoldAfterNs/1e9, c.HoldGarbage), "the safe demand (seconds of silence)"},
	}
	return report.MarkdownTable([]string{"parameter", "default", "meaning"}, rows), nil
}

// patchStat renders the patch series' per-patch added and removed lines.
func patchStat(root string) (string, error) {
	files, err := filepath.Glob(filepath.Join(root, "uml-impl", "patch", "*.patch"))
	if err != nil || len(files) == 0 {
		return "", fmt.Errorf("no patch under uml-impl/patch (%v)", err)
	}
	var rows [][]string
	for _, f := range files {
		st, err := readPatchStat(f)
		if err != nil {
			return "", err
		}
		rows = append(rows, []string{"`" + filepath.Base(f) + "`", fmt.Sprint(st.files), fmt.Sprint(st.added), fmt.Sprint(st.removed)})
	}
	return report.MarkdownTable([]string{"patch", "files", "lines added", "lines removed"}, rows), nil
}

// patchStats counts what one patch file changes.
type patchStats struct{ files, added, removed int }

// readPatchStat counts the files a `git format-patch` file touches and the
// lines its hunks add and remove: only lines of the diff count (from the
// first "diff --git" to the signature "-- "), not the commit message.
func readPatchStat(path string) (patchStats, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return patchStats{}, err
	}
	var st patchStats
	inDiff := false
	for _, l := range strings.Split(string(b), "\n") {
		switch {
		case strings.HasPrefix(l, "diff --git "):
			inDiff = true
			st.files++
		case !inDiff:
		case l == "-- ":
			inDiff = false
		case strings.HasPrefix(l, "---"), strings.HasPrefix(l, "+++"):
		case strings.HasPrefix(l, "+"):
			st.added++
		case strings.HasPrefix(l, "-"):
			st.removed++
		}
	}
	if st.files == 0 {
		return st, fmt.Errorf("%s: no diff in the patch", path)
	}
	return st, nil
}
