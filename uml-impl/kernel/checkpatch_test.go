//go:build umlkernel

package kernel_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestCheckpatch runs the kernel's own style checker on every patch of the
// series (README.md says the patch is checkpatch-clean): no error, and no
// warning but the one every new file draws (whether MAINTAINERS needs a
// line). The checker comes from the tree FVM_KERNEL was built in.
func TestCheckpatch(t *testing.T) {
	k := kernelPath(t)
	script := filepath.Join(filepath.Dir(k), "scripts", "checkpatch.pl")
	if _, err := os.Stat(script); err != nil {
		t.Fatalf("%s: %v (FVM_KERNEL must be the linux binary at the root of its built tree)", script, err)
	}
	patches, err := filepath.Glob(filepath.Join("..", "patch", "*.patch"))
	if err != nil || len(patches) == 0 {
		t.Fatalf("no patches under ../patch (%v)", err)
	}
	total := regexp.MustCompile(`(?m)^total: (\d+) errors, (\d+) warnings`)
	for _, p := range patches {
		out, _ := exec.Command("perl", script, "--no-tree", p).CombinedOutput()
		m := total.FindStringSubmatch(string(out))
		if m == nil {
			t.Errorf("%s: no checkpatch summary in %q", filepath.Base(p), out)
			continue
		}
		if m[1] != "0" {
			t.Errorf("%s: checkpatch errors:\n%s", filepath.Base(p), out)
		}
		for _, l := range strings.Split(string(out), "\n") {
			if strings.Contains(l, "WARNING:") && !strings.Contains(l, "does MAINTAINERS need updating") {
				t.Errorf("%s: %s", filepath.Base(p), l)
			}
		}
		t.Logf("%s: %s", filepath.Base(p), m[0])
	}
}
