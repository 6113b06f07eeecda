package main

import (
	"strings"
	"testing"
)

// TestFriendlyBadInput: bad flags and commands of fvm friendly exit with
// exitBadInput and one line naming the input, before any cgroup is made.
func TestFriendlyBadInput(t *testing.T) {
	tests := []struct {
		name   string
		args   []string
		stderr string
	}{
		{"no command", []string{"friendly"}, "requires at least 1 arg"},
		{"command not found", []string{"friendly", "--", "/nonexistent/cmd"}, `command "/nonexistent/cmd"`},
		{"init above u", []string{"friendly", "--init", "21", "--", "true"}, "init = 21"},
		{"vm outside n", []string{"friendly", "--vm", "2", "--n", "2", "--", "true"}, "vm = 2"},
		{"period too short", []string{"friendly", "--period-us", "5000", "--", "true"}, "--period-us 5000"},
		{"quota period too short", []string{"friendly", "--pause-mode", "sleep", "--period-us", "10000", "--", "true"}, "--period-us 10000"},
		{"unknown pause mode", []string{"friendly", "--pause-mode", "nap", "--", "true"}, "--pause-mode"},
		{"nice out of range", []string{"friendly", "--nice", "20", "--", "true"}, "--nice 20"},
		{"experiment nice out of range", []string{"friendly", "experiment", "pair", "--nice", "-21"}, "--nice -21"},
		{"experiment period too short", []string{"friendly", "experiment", "pair", "--period-us", "10000"}, "--period-us 10000"},
		{"experiment step below -1", []string{"friendly", "experiment", "four", "--period-step-us", "-2"}, "--period-step-us -2"},
		{"unknown experiment", []string{"friendly", "experiment", "nope"}, `unknown experiment "nope"`},
		{"short experiment", []string{"friendly", "experiment", "pair", "--duration", "1s"}, "--duration 1s"},
		{"helper without spec", []string{"friendly", "helper", "exec"}, "want exec|watchdog"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, stderr, code := fvm(t, t.TempDir(), tc.args...)
			if code != exitBadInput || !strings.Contains(stderr, tc.stderr) || strings.Count(strings.TrimSpace(stderr), "\n") > 0 {
				t.Errorf("fvm %v: exit %d, stderr %q; want exit %d and one line containing %q", tc.args, code, stderr, exitBadInput, tc.stderr)
			}
		})
	}
}

// The command's own exit status is passed through (a light real run: the
// command exits at once; on a machine without root or cgroups fvm
// friendly exits 2 naming what is missing instead).
func TestFriendlyExitStatus(t *testing.T) {
	dir := t.TempDir()
	_, stderr, code := fvm(t, dir, "friendly", "--out", dir+"/run", "--", "sh", "-c", "exit 7")
	if code == exitBadInput && (strings.Contains(stderr, "root") || strings.Contains(stderr, "cgroup")) {
		t.Skipf("no cgroups here: %s", stderr)
	}
	if code != 7 {
		t.Errorf("exit %d, want the command's 7; stderr %q", code, stderr)
	}
	_, _, code = fvm(t, dir, "friendly", "--out", dir+"/run2", "--", "sh", "-c", "kill -TERM $$")
	if code != 128+15 {
		t.Errorf("a command killed by SIGTERM: exit %d, want 143", code)
	}
}
