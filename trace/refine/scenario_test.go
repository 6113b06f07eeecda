package refine

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the expected verdicts of testdata/check/*.txt")

const wantSep = "---- want\n"

// verdict renders a check result for the scenario files.
func verdict(res *Result, err error) string {
	var b strings.Builder
	switch {
	case err != nil:
		fmt.Fprintf(&b, "malformed: %v\n", err)
	case !res.OK():
		fmt.Fprintf(&b, "fails: %v\n", res.Failure)
	default:
		s := res.Summary
		fmt.Fprintf(&b, "refines: %d events, %d windows\n", s.Events, s.Windows)
		for _, v := range s.VMs {
			fmt.Fprintf(&b, "vm %d: decisions %d, holds %d, max delay %d, demand %d -> %d\n", v.VM, v.Decisions, v.Holds, v.MaxDelay, v.InitDemand, v.FinalDemand)
		}
		for _, f := range s.Flags {
			fmt.Fprintf(&b, "flag: %s\n", f)
		}
	}
	return b.String()
}

// TestScenarios runs the data-driven scenarios of testdata/check: each
// file has comment lines (#), the trace's JSON lines, a "---- want" line
// and the expected verdict in full. Among the comments, the scenario's
// author states the verdict by hand, from the trace and the model:
//
//	# expect: refines, demand 16 -> 10     (vm 0's initial and final demand)
//	# expect: fails at line 3 (decide)     (the first non-refining line, its kind)
//
// go test -run Scenarios -update rewrites the full verdicts after a
// deliberate change of wording; it never rewrites the expect line, which
// the checker's verdict must still match.
func TestScenarios(t *testing.T) {
	files, err := filepath.Glob("testdata/check/*.txt")
	if err != nil || len(files) == 0 {
		t.Fatalf("no scenarios: %v", err)
	}
	for _, file := range files {
		t.Run(strings.TrimSuffix(filepath.Base(file), ".txt"), func(t *testing.T) {
			data, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			in, want, ok := strings.Cut(string(data), wantSep)
			if !ok {
				t.Fatalf("%s: no %q line", file, strings.TrimSpace(wantSep))
			}
			var tr bytes.Buffer
			expect := ""
			for _, l := range strings.SplitAfter(in, "\n") {
				if e, ok := strings.CutPrefix(l, "# expect: "); ok {
					expect = strings.TrimSpace(e)
				}
				if !strings.HasPrefix(l, "#") {
					tr.WriteString(l)
				}
			}
			got := verdict(Check([]Input{{Name: "trace.jsonl", R: &tr}}, Options{}))
			if err := matchExpect(expect, got); err != nil {
				t.Errorf("%s: %v", file, err)
			}
			if *update {
				if err := os.WriteFile(file, []byte(in+wantSep+got), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			if got != want {
				t.Errorf("%s:\n got: %s\nwant: %s", file, got, want)
			}
		})
	}
}

// matchExpect checks a verdict against a scenario's expect line.
func matchExpect(expect, got string) error {
	var from, to, line int
	var kind string
	switch {
	case strings.HasPrefix(expect, "refines"):
		if _, err := fmt.Sscanf(expect, "refines, demand %d -> %d", &from, &to); err != nil {
			return fmt.Errorf("expect line %q: want \"refines, demand A -> B\"", expect)
		}
		if want := fmt.Sprintf("demand %d -> %d\n", from, to); !strings.HasPrefix(got, "refines:") || !strings.Contains(got, "vm 0: ") || !strings.Contains(got, want) {
			return fmt.Errorf("the checker says %q; the scenario expects it to refine with vm 0's %s", strings.TrimSpace(got), strings.TrimSpace(want))
		}
	case strings.HasPrefix(expect, "fails"):
		if _, err := fmt.Sscanf(expect, "fails at line %d (%s", &line, &kind); err != nil || !strings.HasSuffix(kind, ")") {
			return fmt.Errorf("expect line %q: want \"fails at line N (kind)\"", expect)
		}
		kind = strings.TrimSuffix(kind, ")")
		prefix := fmt.Sprintf("fails: trace.jsonl:%d: vm ", line)
		rest, ok := strings.CutPrefix(got, prefix) // "0 decide: ..."
		if f := strings.Fields(rest); !ok || len(f) < 2 || f[1] != kind+":" {
			return fmt.Errorf("the checker says %q; the scenario expects a failure at line %d, a %s event", strings.TrimSpace(got), line, kind)
		}
	default:
		return fmt.Errorf("no \"# expect: refines, demand A -> B\" or \"# expect: fails at line N (kind)\" line")
	}
	return nil
}
