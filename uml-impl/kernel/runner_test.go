//go:build umlkernel

package kernel_test

import (
	"context"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/friendly-vm/fvm/uml-impl/host"
)

// TestRunnerFailures boots real guests that fail in each way the runner
// must report: a script error, a hung guest past its deadline (its whole
// process tree must be gone afterwards) and a kernel that dies.
func TestRunnerFailures(t *testing.T) {
	r := newRig(t)
	tests := []struct {
		name    string
		script  string
		timeout time.Duration
		kill    bool // kill the kernel process from outside, as a crash
		want    string
	}{
		{"script fails", "exit 7", time.Minute, false, "init script failed with status 7"},
		{"hung guest", "sleep 600", 3 * time.Second, false, "killed after"},
		{"kernel dies", "sleep 600", time.Minute, true, "ended before its init finished"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			g, err := host.Start(context.Background(), host.Config{
				Kernel: r.kernel, Name: tc.name, OutDir: t.TempDir(), CPU: r.cpu, Nice: guestNice,
				Timeout: tc.timeout, Script: tc.script,
			})
			if err != nil {
				t.Fatal(err)
			}
			if tc.kill {
				time.Sleep(2 * time.Second)
				if err := syscall.Kill(g.Pid(), syscall.SIGKILL); err != nil {
					t.Fatal(err)
				}
			}
			start := time.Now()
			err = g.Wait()
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Wait() = %v, want an error containing %q", err, tc.want)
			}
			if left := g.Pids(); len(left) > 0 {
				t.Errorf("host processes of the guest left behind: %v", left)
			}
			t.Logf("%s: reported after %s: %s", tc.name, time.Since(start).Round(time.Millisecond), strings.SplitN(err.Error(), "\n", 2)[0])
		})
	}
}
