//go:build unix

package tla

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"syscall"
	"testing"
	"time"
)

// pidWatch cancels the run once every JVM has started and records their
// process ids (from the progress lines).
type pidWatch struct {
	t      *testing.T
	want   int
	cancel context.CancelFunc
	pids   []int
}

func (p *pidWatch) Write(b []byte) (int, error) {
	line := string(b)
	if i := strings.Index(line, "(pid "); i >= 0 {
		var pid int
		if _, err := fmt.Sscanf(line[i:], "(pid %d", &pid); err == nil {
			p.pids = append(p.pids, pid)
			if len(p.pids) == p.want {
				p.cancel()
			}
		}
	}
	return len(b), nil
}

// TestDistributedCancelKills cancels a run once the server and both
// workers have started: every JVM must be gone when RunDistributed
// returns.
func TestDistributedCancelKills(t *testing.T) {
	r := distRunner(t)
	m, err := Load("aiad")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	w := &pidWatch{t: t, want: 3, cancel: cancel}
	_, err = r.CheckDistributed(ctx, m, DistributedOptions{Timeout: 5 * time.Minute, Progress: w})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled run: %v", err)
	}
	if len(w.pids) != 3 {
		t.Fatalf("started JVMs: %v, want 3", w.pids)
	}
	for _, pid := range w.pids {
		if err := syscall.Kill(pid, 0); !errors.Is(err, syscall.ESRCH) {
			t.Errorf("JVM %d still exists after the cancelled run (kill -0: %v)", pid, err)
		}
	}
}
