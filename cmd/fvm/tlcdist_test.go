package main

import (
	"strings"
	"testing"
)

// TestTLCDistributedBadInput: bad flags exit 2 before any JVM starts (the
// distributed run itself is tested in package tla).
func TestTLCDistributedBadInput(t *testing.T) {
	for _, tc := range []struct {
		args   []string
		stderr string
	}{
		{[]string{"tlc", "distributed", "--workers", "0"}, "--workers and --threads must be at least 1"},
		{[]string{"tlc", "distributed", "--config", "nosuch"}, "no such configuration"},
	} {
		_, errOut, code := fvm(t, t.TempDir(), tc.args...)
		if code != exitBadInput || !strings.Contains(errOut, tc.stderr) {
			t.Errorf("fvm %v: exit %d, stderr %q; want %d and %q", tc.args, code, errOut, exitBadInput, tc.stderr)
		}
	}
}
