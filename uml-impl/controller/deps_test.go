package controller

import (
	"os/exec"
	"strings"
	"testing"
)

// TestIndependentOfReference checks that neither the controller nor the
// daemon links the reference model or the model checker: the trace checker
// holds this implementation to the reference, which would prove nothing if
// it simply called it.
func TestIndependentOfReference(t *testing.T) {
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("go tool not found")
	}
	for _, pkg := range []string{".", "../../cmd/fvmd"} {
		out, err := exec.Command(goTool, "list", "-deps", pkg).CombinedOutput()
		if err != nil {
			t.Fatalf("go list -deps %s: %v\n%s", pkg, err, out)
		}
		for _, dep := range strings.Fields(string(out)) {
			for _, banned := range []string{"github.com/friendly-vm/fvm/ref", "github.com/friendly-vm/fvm/spec", "github.com/friendly-vm/fvm/trace/refine"} {
				if dep == banned || strings.HasPrefix(dep, banned+"/") {
					t.Errorf("%s depends on %s", pkg, dep)
				}
			}
		}
	}
}
