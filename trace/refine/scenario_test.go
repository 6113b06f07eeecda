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
// file has comment lines (#), among them "# expect: refines" or "# expect:
// fails" (written by whoever wrote the scenario), the trace's JSON lines, a
// "---- want" line and the expected verdict in full. go test -run Scenarios
// -update rewrites the full verdicts after a deliberate change of wording;
// it never rewrites the expect line, which the verdict must still match.
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
			if expect != "refines" && expect != "fails" {
				t.Fatalf("%s: no \"# expect: refines\" or \"# expect: fails\" line", file)
			}
			got := verdict(Check([]Input{{Name: "trace.jsonl", R: &tr}}, Options{}))
			if !strings.HasPrefix(got, expect+":") {
				t.Errorf("%s: the checker says %q, the scenario expects %s", file, strings.TrimSpace(got), expect)
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
