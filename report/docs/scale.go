package docs

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/friendly-vm/fvm/report"
	"github.com/friendly-vm/fvm/spec"
	"github.com/friendly-vm/fvm/spec/mc"
)

// scaleRun is a committed check result too large to recompute in a test:
// the command that wrote it, and what it shows.
type scaleRun struct {
	file, command, what string
}

// scaleRuns are the results under testdata/check that MODEL.md cites.
var scaleRuns = []scaleRun{
	{"deployed-sleep-u100-safety.json", "fvm check --config deployed-sleep --u 100 --capacity 100 --dmax 100 --alpha 5 --dmin 5 --liveness=false --result F",
		"the sleeping pause's controller at its former granularity u = 100 (the same 5% step)"},
	{"deployed-sleep-u100-nosym.json", "fvm check --config deployed-sleep --u 100 --capacity 100 --dmax 100 --alpha 5 --dmin 5 --liveness=false --symmetry=false --result F",
		"the same without symmetry: the states the liveness graph would hold"},
	{"deployed-sleep-n4-safety.json", "fvm check --config deployed-sleep --n 4 --liveness=false --result F",
		"four FVMs at the sleeping pause's parameters"},
	{"deployed-n4-safety.json", "fvm check --config deployed --n 4 --liveness=false --result F",
		"four FVMs at the deployed (work-conserving) parameters"},
}

// Scale renders MODEL.md's block on the deployed configurations at larger
// sizes, from the committed results.
func Scale(root string) (string, error) {
	var rows [][]string
	for _, s := range scaleRuns {
		path := filepath.Join(root, "testdata", "check", s.file)
		b, err := os.ReadFile(path)
		if err != nil {
			return "", err
		}
		var r spec.Report
		if err := json.Unmarshal(b, &r); err != nil {
			return "", fmt.Errorf("%s: %w", path, err)
		}
		if r.Model == nil {
			return "", fmt.Errorf("%s: no model recorded (re-run: %s)", path, s.command)
		}
		var held []string
		for _, v := range r.Verdicts {
			held = append(held, v.Name+" "+v.Status)
		}
		sym := "off"
		if r.Safety.Symmetry {
			sym = "on"
		}
		m := r.Model
		// Without symmetry the search found every state and transition
		// the liveness graph holds (the initial states are generated but
		// are no transition).
		graph := "—"
		if !r.Safety.Symmetry {
			st := r.Safety
			need := mc.LivenessPeakBytes(int64(st.BytesPerState*float64(st.Distinct)), st.Distinct, st.Generated-st.Initial)
			graph = fmt.Sprintf("≥ %.1f GiB (budget %d GiB)", float64(need)/(1<<30), spec.DeployedMaxMemory>>30)
		}
		rows = append(rows, []string{s.what, fmt.Sprintf("N=%d, u=%d, α=%d, dmin=%d, dmax=%d", m.N, m.U, m.Alpha, m.Dmin, m.Dmax),
			sym, thousands(r.Safety.Distinct), thousands(r.Safety.Generated - r.Safety.Initial), graph, fmt.Sprintf("%.0f s", r.Safety.Seconds), strings.Join(held, ", "),
			"`" + strings.Replace(s.command, "--result F", "--result testdata/check/"+s.file, 1) + "`"})
	}
	return report.MarkdownTable([]string{"what", "model", "symmetry", "distinct states", "transitions", "liveness check would need", "search", "verdicts", "command"}, rows), nil
}
