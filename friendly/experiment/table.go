package experiment

import (
	"fmt"
	"strings"
)

// pct formats a share as a percentage.
func pct(x float64) string {
	if x < 0 {
		return "—"
	}
	return fmt.Sprintf("%.1f%%", 100*x)
}

func num(x float64, prec int) string {
	if x < 0 {
		return "—"
	}
	return fmt.Sprintf("%.*f", prec, x)
}

func mdTable(header []string, rows [][]string) string {
	var b strings.Builder
	b.WriteString("| " + strings.Join(header, " | ") + " |\n")
	b.WriteString("|" + strings.Repeat("---|", len(header)) + "\n")
	for _, r := range rows {
		b.WriteString("| " + strings.Join(r, " | ") + " |\n")
	}
	return b.String()
}

func refines(s *Summary) string {
	switch {
	case s.Refines == nil:
		return "—"
	case *s.Refines:
		return "yes"
	}
	return "**no**"
}

// RunTable renders one run: a line per participant (share over the second
// half, and for friendly groups their mean demand, pause and steal next
// to the duty and fair models' predictions), then the run's figures.
func RunTable(s *Summary) string {
	var rows [][]string
	for _, p := range s.Participants {
		d, pause, steal := "—", "—", "—"
		if p.Role == Friendly {
			d, pause, steal = fmt.Sprintf("%.1f", p.MeanD), fmt.Sprintf("%.0f‰", p.MeanPause), fmt.Sprintf("%.0f‰", p.MeanSteal)
		}
		rows = append(rows, []string{p.Name, string(p.Role), p.Workload, pct(p.Share), d, pause, steal, pct(p.DutyShare), pct(p.FairShare)})
	}
	out := mdTable([]string{"", "role", "workload", "share", "mean d (of 20)", "mean pause", "mean steal", "duty model", "fair model"}, rows)
	out += fmt.Sprintf("\nJain (friendly) %s, utilisation %s, convergence %s, refines ref: %s%s\n",
		num(s.JainFriendly, 3), pct(s.Utilisation), seconds(s.ConvergenceS), refines(s), complete(s))
	return out
}

func seconds(x float64) string {
	if x < 0 {
		return "never"
	}
	return fmt.Sprintf("%.0f s", x)
}

func complete(s *Summary) string {
	if s.Complete {
		return ""
	}
	return "; **incomplete**: " + strings.Join(s.Errors, "; ")
}

// Variant is the part of a run's name after its experiment's
// (friendly-job-nice19: nice19).
func Variant(name, experiment string) string {
	return strings.TrimPrefix(strings.TrimPrefix(name, RunPrefix+experiment), "-")
}

// JobTable renders the job experiment's comparison: for each variant, the
// latency loop's responses (mean, p99) and their slowdown against the loop
// alone, the job's share of the core and the loop's, and the utilisation.
func JobTable(runs []*Summary) (string, error) {
	var alone *Latency
	for _, s := range runs {
		if Variant(s.Name, "job") == "alone" {
			alone = loopOf(s)
		}
	}
	if alone == nil || alone.Mean <= 0 {
		return "", fmt.Errorf("job table: no run of the loop alone")
	}
	var rows [][]string
	for _, s := range runs {
		l := loopOf(s)
		if l == nil {
			return "", fmt.Errorf("job table: %s has no latency loop", s.Name)
		}
		job, loop := "—", "—"
		for _, p := range s.Participants {
			if p.Workload == Gzip {
				job = pct(p.Share)
			} else if p.Workload == Loop {
				loop = pct(p.Share)
			}
		}
		v := Variant(s.Name, "job")
		if v == "alone" {
			v = "loop alone"
		} else {
			v = "job " + v
		}
		rows = append(rows, []string{v, fmt.Sprintf("%.2f", l.Mean), fmt.Sprintf("%.2f", l.P99),
			fmt.Sprintf("%.2f×", l.Mean/alone.Mean), fmt.Sprintf("%.2f×", l.P99/alone.P99), job, loop, pct(s.Utilisation)})
	}
	return mdTable([]string{"run", "loop response, mean (ms)", "p99 (ms)", "slowdown, mean", "slowdown, p99", "job's share", "loop's share", "utilisation"}, rows), nil
}

func loopOf(s *Summary) *Latency {
	for _, p := range s.Participants {
		if p.Latency != nil {
			return p.Latency
		}
	}
	return nil
}
