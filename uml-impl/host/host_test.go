package host

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestRejectedHunks(t *testing.T) {
	tests := []struct {
		name, out string
		want      []string
	}{
		{"clean", "checking file arch/um/kernel/process.c\n", nil},
		{"one hunk", "checking file arch/um/kernel/process.c\nHunk #2 FAILED at 212.\n1 out of 2 hunks FAILED\n",
			[]string{"arch/um/kernel/process.c: hunk #2 rejected (expected at line 212)"}},
		{"two files", "checking file a.c\nHunk #1 FAILED at 3.\nchecking file 'b c.h'\nHunk #4 FAILED at 90.\n",
			[]string{"a.c: hunk #1 rejected (expected at line 3)", "b c.h: hunk #4 rejected (expected at line 90)"}},
		{"missing file", "can't find file to patch at input line 5\n", []string{"a file to patch is missing from the source"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := rejectedHunks(tc.out)
			if strings.Join(got, "|") != strings.Join(tc.want, "|") {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}

// TestApplyPatch runs the real patch(1) on a tiny tree: a matching patch
// applies, a stale one fails loudly naming the file and hunk and changes
// nothing.
func TestApplyPatch(t *testing.T) {
	if _, err := exec.LookPath("patch"); err != nil {
		t.Skip("patch(1) not installed")
	}
	dir := t.TempDir()
	write := func(name, s string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	tree := filepath.Join(dir, "tree")
	if err := os.MkdirAll(tree, 0o755); err != nil {
		t.Fatal(err)
	}
	orig := "one\ntwo\nthree\n"
	if err := os.WriteFile(filepath.Join(tree, "f.c"), []byte(orig), 0o644); err != nil {
		t.Fatal(err)
	}
	good := write("good.patch", "--- a/f.c\n+++ b/f.c\n@@ -1,3 +1,3 @@\n one\n-two\n+TWO\n three\n")
	stale := write("stale.patch", "--- a/f.c\n+++ b/f.c\n@@ -1,3 +1,3 @@\n uno\n-dos\n+DOS\n tres\n")
	ctx := context.Background()

	err := ApplyPatch(ctx, tree, stale, "test source")
	if err == nil || !strings.Contains(err.Error(), "PATCH DOES NOT APPLY") || !strings.Contains(err.Error(), "f.c: hunk #1 rejected") {
		t.Fatalf("stale patch: got %v, want a loud error naming f.c hunk #1", err)
	}
	if b, _ := os.ReadFile(filepath.Join(tree, "f.c")); string(b) != orig {
		t.Fatalf("a failed dry run changed the tree: %q", b)
	}
	if err := ApplyPatch(ctx, tree, good, "test source"); err != nil {
		t.Fatalf("good patch: %v", err)
	}
	if b, _ := os.ReadFile(filepath.Join(tree, "f.c")); string(b) != "one\nTWO\nthree\n" {
		t.Fatalf("after the good patch: %q", b)
	}
}

func TestParseStats(t *testing.T) {
	good := "version 1\nactive 1\nseq 3\n"
	s, err := ParseStats(good)
	if err != nil || s["seq"] != 3 || len(s) != 3 {
		t.Fatalf("ParseStats(%q) = %v, %v", good, s, err)
	}
	for _, bad := range []string{"version\n", "version 1 2\n", "seq -1\n", "seq x\n", "a 1\na 2\n"} {
		if _, err := ParseStats(bad); err == nil {
			t.Errorf("ParseStats(%q): no error", bad)
		}
	}
}

func TestParseWindows(t *testing.T) {
	w1 := "5 1000 100001000 100000000 60000000 0 0 100000000 40000000 400 1666 0 10000 0 0"
	w2 := "6 100001000 200001000 100000000 50000000 0 50000000 50000000 0 0 1000 500 10000 45000000 1"
	ws, err := ParseWindows(WindowsHeader + "\n" + w1 + "\n" + w2 + "\n")
	if err != nil || len(ws) != 2 || ws[1].Seq != 6 {
		t.Fatalf("got %v, %v", ws, err)
	}
	if ws[0].String() != w1 {
		t.Errorf("String() = %q, want %q", ws[0].String(), w1)
	}
	for _, w := range ws {
		if err := w.Check(); err != nil {
			t.Error(err)
		}
	}
	// A line of interface versions 2 and 3 (13 fields): a sleep-mode window.
	if w, err := ParseWindow(w1[:len(w1)-4]); err != nil || w != ws[0] {
		t.Errorf("version 2 line: %+v, %v, want %+v", w, err, ws[0])
	}
	if ws, err := ParseWindows(WindowsHeader + "\n"); err != nil || len(ws) != 0 {
		t.Errorf("header only: %v, %v", ws, err)
	}
	bad := []string{
		"",                                    // no header
		"# seq\n" + w1,                        // wrong header
		WindowsHeader + "\n" + w2 + "\n" + w1, // not contiguous
		WindowsHeader + "\n5 1 2",             // short line
		WindowsHeader + "\n" + w1 + " 7",      // 16 fields
		WindowsHeader + "\n" + w1[:len(w1)-1] + "2", // pause_mode 2
	}
	for _, b := range bad {
		if _, err := ParseWindows(b); err == nil {
			t.Errorf("ParseWindows(%q): no error", b)
		}
	}
}

func TestWindowCheck(t *testing.T) {
	ok := Window{Seq: 1, Start: 0, End: 100, Wall: 100, CPU: 40, Idle: 10, Pause: 20, Want: 70, Steal: 30,
		StealPermille: 300, VCTPermille: 1750}
	if err := ok.Check(); err != nil {
		t.Fatal(err)
	}
	mutations := map[string]func(w *Window){
		"wall":  func(w *Window) { w.Wall++ },
		"want":  func(w *Window) { w.Want-- },
		"steal": func(w *Window) { w.Steal++ },
		"sp":    func(w *Window) { w.StealPermille++ },
		"vct":   func(w *Window) { w.VCTPermille-- },
		"cpu0":  func(w *Window) { w.CPU, w.Steal, w.StealPermille = 0, 70, 700 },
	}
	for name, m := range mutations {
		w := ok
		m(&w)
		if err := w.Check(); err == nil {
			t.Errorf("%s: Check accepted %+v", name, w)
		}
	}
}

func TestCPUBetween(t *testing.T) {
	h := []CPUSample{{T: 100, CPU: 0}, {T: 200, CPU: 50}, {T: 300, CPU: 150}}
	tests := []struct {
		t0, t1 int64
		want   uint64
		err    bool
	}{
		{100, 300, 150, false},
		{150, 250, 75, false},
		{200, 200, 0, false},
		{50, 200, 0, true},
		{100, 301, 0, true},
	}
	for _, tc := range tests {
		got, err := CPUBetween(h, tc.t0, tc.t1)
		if (err != nil) != tc.err || got != tc.want {
			t.Errorf("CPUBetween(%d, %d) = %d, %v; want %d, error %v", tc.t0, tc.t1, got, err, tc.want, tc.err)
		}
	}
}

func TestShellQuote(t *testing.T) {
	for in, want := range map[string]string{"a": "'a'", "": "''", "it's": `'it'\''s'`, "$x y": "'$x y'"} {
		if got := shellQuote(in); got != want {
			t.Errorf("shellQuote(%q) = %s, want %s", in, got, want)
		}
	}
}

// TestCPUTreeSession measures a busy shell in its own session, the way a
// UML guest's tree is found, and checks that exited children keep counting.
func TestCPUTreeSession(t *testing.T) {
	cmd := exec.Command("setsid", "sh", "-c", "i=0; while [ $i -lt 300000 ]; do i=$((i+1)); done; (i=0; while [ $i -lt 100000 ]; do i=$((i+1)); done); sleep 0.3")
	if err := cmd.Start(); err != nil {
		t.Skipf("setsid: %v", err)
	}
	tree := newCPUTree(cmd.Process.Pid)
	done := make(chan error)
	go func() { done <- cmd.Wait() }()
	var last CPUSample
loop:
	for {
		select {
		case err := <-done:
			if err != nil {
				t.Fatal(err)
			}
			break loop
		default:
			s := tree.sample()
			if s.CPU < last.CPU {
				t.Fatalf("CPU went down: %d -> %d", last.CPU, s.CPU)
			}
			last = s
			time.Sleep(10 * time.Millisecond)
		}
	}
	if last.CPU < 50_000_000 {
		t.Errorf("a busy shell used %d ns of host CPU, want > 50 ms", last.CPU)
	}
	// A second measure of the same CPU time: the kernel's rusage of the
	// shell, which includes its waited-for subshell. The tree loses at most
	// one sampling interval (10 ms) per exited process.
	ru := cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
	if d := time.Duration(last.CPU) - ru; d > ru/10+30*time.Millisecond || -d > ru/10+30*time.Millisecond {
		t.Errorf("the session's tree measured %v of host CPU, its rusage says %v", time.Duration(last.CPU), ru)
	}
	t.Logf("busy session used %.3f s of host CPU over %d samples (rusage %.3f s)", float64(last.CPU)/1e9, len(tree.history()), ru.Seconds())
}

func TestStartErrors(t *testing.T) {
	ctx := context.Background()
	out := t.TempDir()
	tests := []struct {
		name string
		cfg  Config
		want string
	}{
		{"no kernel", Config{OutDir: out}, "no kernel given"},
		{"missing kernel", Config{Kernel: "/nonexistent/linux", OutDir: out}, "build it with `fvm uml build`"},
		{"no out dir", Config{Kernel: "/bin/true"}, "no output directory"},
		{"bad env", Config{Kernel: "/bin/true", OutDir: out, Env: map[string]string{"A-B": "x"}}, "not a shell identifier"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Start(ctx, tc.cfg)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("got %v, want an error containing %q", err, tc.want)
			}
		})
	}
}
