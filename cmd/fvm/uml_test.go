package main

import (
	"errors"
	"strings"
	"testing"
)

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

// TestBenchVerdict: a median below the 98% target is a violation (exit 1),
// worked by hand for odd and even numbers of pairs.
func TestBenchVerdict(t *testing.T) {
	tests := []struct {
		ratios []float64
		median string
		miss   bool
	}{
		{[]float64{0.99, 1.01, 0.97}, "99.00%", false},
		{[]float64{0.97, 0.99, 0.96}, "97.00%", true},
		{[]float64{0.97, 0.99}, "98.00%", false}, // the mean of the middle two
		{[]float64{0.975, 0.984}, "97.95%", true},
	}
	for _, tc := range tests {
		line, err := benchVerdict(tc.ratios)
		var v violationError
		if !strings.Contains(line, "ratio patched/vanilla: "+tc.median) || tc.miss != (err != nil) || tc.miss && !errors.As(err, &v) {
			t.Errorf("benchVerdict(%v) = %q, %v; want median %s, miss %v (a violation)", tc.ratios, line, err, tc.median, tc.miss)
		}
		if tc.miss && !strings.Contains(line, "BELOW") {
			t.Errorf("benchVerdict(%v) = %q: a miss must say BELOW", tc.ratios, line)
		}
	}
}
