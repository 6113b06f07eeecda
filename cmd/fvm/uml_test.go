package main

import "testing"

// TestUMLBadInput: bad flags of the uml subcommands exit with exitBadInput
// before anything is built or booted.
func TestUMLBadInput(t *testing.T) {
	tests := []struct {
		name string
		args []string
	}{
		{"boot without kernel", []string{"uml", "boot", "true"}},
		{"boot missing kernel", []string{"uml", "boot", "--kernel", "/nonexistent/linux", "true"}},
		{"boot bad timeout", []string{"uml", "boot", "--kernel", "/bin/true", "--timeout", "0s", "true"}},
		{"boot no script", []string{"uml", "boot", "--kernel", "/bin/true"}},
		{"build missing patch dir", []string{"uml", "build", "--no-install", "--patch-dir", "/nonexistent"}},
		{"build negative jobs", []string{"uml", "build", "--no-install", "-j", "-1"}},
		{"build stray argument", []string{"uml", "build", "extra"}},
		{"bench no runs", []string{"uml", "bench", "--runs", "0"}},
		{"bench bad nice", []string{"uml", "bench", "--nice", "-21"}},
		{"unknown flag", []string{"uml", "build", "--frobnicate"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := run(tc.args); got != exitBadInput {
				t.Errorf("fvm %v: exit %d, want %d", tc.args, got, exitBadInput)
			}
		})
	}
}
