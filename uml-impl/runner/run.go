package runner

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/sys/unix"

	"github.com/friendly-vm/fvm/uml-impl/host"
)

// Binaries are the static guest programs a run needs.
type Binaries struct {
	Fvmd, Work string
}

// Packages of the guest programs.
const (
	FvmdPackage = "github.com/friendly-vm/fvm/cmd/fvmd"
	WorkPackage = "github.com/friendly-vm/fvm/uml-impl/runner/fvmwork"
)

// BuildBinaries builds fvmd and fvmwork as static binaries (CGO_ENABLED=0)
// into dir. It runs the go tool, so the working directory must be inside
// the friendly-vm module.
func BuildBinaries(ctx context.Context, dir string) (Binaries, error) {
	b := Binaries{Fvmd: filepath.Join(dir, "fvmd"), Work: filepath.Join(dir, "fvmwork")}
	goTool := filepath.Join(os.Getenv("GOROOT"), "bin", "go")
	if _, err := os.Stat(goTool); err != nil {
		goTool = "go"
	}
	for _, x := range []struct{ out, pkg string }{{b.Fvmd, FvmdPackage}, {b.Work, WorkPackage}} {
		cmd := exec.CommandContext(ctx, goTool, "build", "-trimpath", "-o", x.out, x.pkg)
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			return b, fmt.Errorf("build %s (run inside the friendly-vm module): %w: %s", x.pkg, err, out)
		}
	}
	return b, nil
}

// shellQuote quotes s for /bin/sh.
func shellQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

// script is the guest's init body: start the workload, then the
// controller (loading a binary from hostfs stalls the whole VM for a
// while; the controller should not be running yet when the workload's
// does), wait for the workload, stop the controller with SIGTERM (it
// writes its end event and fsyncs), and exit with the first failure. The controller runs at guest
// nice -10 so that a busy workload does not delay its reads (a guest-side
// priority: no host privilege is involved), with Go's asynchronous
// preemption off: it signals the one goroutine that does the work whenever
// it has run 10 ms, and in a paused guest a poll spans pauses and each
// signal is one more round trip through the host.
func script(b Binaries, s *Spec, v *VM) string {
	dur := v.Stop - v.Start
	if v.NoController {
		return fmt.Sprintf("exec %s %s -for %s -progress %s -dir \"$FVM_OUT\"\n",
			shellQuote(b.Work), v.Workload, dur, shellQuote(v.Name+".progress"))
	}
	period := s.PeriodUs + v.Controller.VM*s.PeriodStepUs
	args := append(v.Controller.Args(), "-trace", v.Name+".guest", "-workload", v.Workload,
		"-interval", s.Poll.String(), "-stats", v.Name+".fvmd.json", "-period-us", strconv.Itoa(period))
	if s.PollLog {
		args = append(args, "-poll-log", v.Name+".polls")
	}
	q := make([]string, len(args))
	for i, a := range args {
		q[i] = shellQuote(a)
	}
	return fmt.Sprintf(`%s %s -for %s -progress %s -dir "$FVM_OUT" &
W=$!
GODEBUG=asyncpreemptoff=1 nice -n -10 %s %s &
C=$!
wait $W
W=$?
kill -TERM $C
wait $C
D=$?
echo "fvm-run: workload exit $W, fvmd exit $D"
[ $W = 0 ] || exit $W
exit $D
`, shellQuote(b.Work), v.Workload, dur, shellQuote(v.Name+".progress"), shellQuote(b.Fvmd), strings.Join(q, " "))
}

// Result is what Run returns: the summary, and whether every guest
// finished cleanly.
type Result struct {
	Dir      string
	Summary  *Summary
	Complete bool
	Errors   []string
}

// Run executes spec, writing RUN_DIR dir (created; must not hold an
// earlier run's traces). Progress lines go to progress (nil: none). A
// guest that fails or is killed at its deadline makes the run incomplete,
// but everything written is kept, traces are merged and the summary is
// written; the returned error is only for a run that could not be carried
// out at all.
func Run(ctx context.Context, spec Spec, bins Binaries, dir string, progress io.Writer) (*Result, error) {
	if err := spec.Prepare(); err != nil {
		return nil, fmt.Errorf("run spec: %w", err)
	}
	if err := spec.CheckPrivileges(); err != nil {
		return nil, err
	}
	if progress == nil {
		progress = io.Discard
	}
	raw := filepath.Join(dir, "raw")
	if err := os.MkdirAll(raw, 0o755); err != nil {
		return nil, fmt.Errorf("run dir: %w", err)
	}
	if m, _ := filepath.Glob(filepath.Join(dir, "*.jsonl")); len(m) > 0 {
		return nil, fmt.Errorf("run dir %s already holds traces (%s): use a new directory", dir, filepath.Base(m[0]))
	}
	if err := writeJSON(filepath.Join(dir, "spec.json"), spec); err != nil {
		return nil, err
	}
	if err := host.KeepOffCPU(spec.CPU); err != nil {
		return nil, err
	}
	n := len(spec.VMs)
	guests := make([]*host.Guest, n)
	errs := make([]error, n)
	var mu sync.Mutex
	var wg sync.WaitGroup
	t0 := time.Now()
	for i := range spec.VMs {
		v := &spec.VMs[i]
		wg.Add(1)
		go func() {
			defer wg.Done()
			select {
			case <-time.After(v.Start):
			case <-ctx.Done():
				errs[i] = fmt.Errorf("guest %s: not started: %w", v.Name, ctx.Err())
				return
			}
			con, err := os.Create(filepath.Join(raw, v.Name+".console"))
			if err != nil {
				errs[i] = fmt.Errorf("guest %s: console file: %w", v.Name, err)
				return
			}
			defer con.Close()
			g, err := host.Start(ctx, host.Config{
				Kernel: spec.Kernel, Name: v.Name, Script: script(bins, &spec, v), OutDir: raw,
				CPU: spec.CPU, Timeout: v.Stop - v.Start + spec.Slack, Console: con,
			})
			if err != nil {
				errs[i] = err
				return
			}
			prioritise(g, &spec, v, raw)
			mu.Lock()
			guests[i] = g
			mu.Unlock()
			errs[i] = g.Wait()
		}()
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for running := true; running; {
		select {
		case <-done:
			running = false
		case <-tick.C:
			mu.Lock()
			for i, g := range guests {
				if g != nil {
					prioritise(g, &spec, &spec.VMs[i], raw)
				}
			}
			line := progressLine(&spec, guests, time.Since(t0))
			mu.Unlock()
			fmt.Fprint(progress, "\r"+line)
		}
	}
	fmt.Fprintln(progress)
	res := &Result{Dir: dir, Complete: true}
	hist := make([][]host.CPUSample, n)
	for i, g := range guests {
		if g != nil {
			hist[i] = g.CPUHistory()
		}
		if errs[i] != nil {
			res.Complete = false
			res.Errors = append(res.Errors, errs[i].Error())
		}
	}
	var merr []error
	for i := range spec.VMs {
		reason := ""
		if errs[i] != nil {
			reason = firstLine(errs[i].Error())
		}
		if err := mergeTrace(dir, &spec, i, hist[i], reason); err != nil {
			merr = append(merr, err)
			res.Complete = false
			res.Errors = append(res.Errors, err.Error())
		}
	}
	sum, err := Summarize(dir)
	if err != nil {
		return res, errors.Join(append(merr, err)...)
	}
	sum.Complete = res.Complete
	sum.Errors = res.Errors
	if err := writeJSON(filepath.Join(dir, "summary.json"), sum); err != nil {
		return res, err
	}
	res.Summary = sum
	return res, nil
}

// prioritise gives guest v its host priority: the spec's nice, and a
// baseline guest's own (Baselines) once its workload has started (its
// progress file in raw has a line): at nice 19 beside a busy guest a
// guest would not even boot, and the run would measure nothing. The
// runner calls it again every second, for the processes the guest has
// forked since.
func prioritise(g *host.Guest, s *Spec, v *VM, raw string) {
	nice := s.Nice
	if st, err := os.Stat(filepath.Join(raw, v.Name+".progress")); err != nil || st.Size() == 0 {
		renice(g, nice)
		return
	}
	switch v.Baseline {
	case BaselineNice19:
		// 19 levels below the others keeps nice 19's weight against nice 0
		// (15 against 1024) when the spec raises every guest.
		nice = min(19, s.Nice+19)
	case BaselineSchedIdle:
		schedIdle(g, nice)
	}
	renice(g, nice)
}

// schedIdle puts every thread of the guest at SCHED_IDLE, as chrt --idle
// does; lowering one's own policy needs no privilege.
func schedIdle(g *host.Guest, nice int) {
	attr := unix.SchedAttr{Size: unix.SizeofSchedAttr, Policy: unix.SCHED_IDLE, Nice: int32(nice)}
	for _, p := range append([]int{g.Pid()}, g.Pids()...) {
		tasks, err := os.ReadDir(fmt.Sprintf("/proc/%d/task", p))
		if err != nil {
			continue // the process has exited
		}
		for _, t := range tasks {
			if tid, err := strconv.Atoi(t.Name()); err == nil {
				_ = unix.SchedSetAttr(tid, &attr, 0) // a thread may have exited
			}
		}
	}
}

// renice sets the nice value of every process of the guest (children
// forked later inherit it from the kernel process) and of its autogroup:
// UML calls setsid(), so with CONFIG_SCHED_AUTOGROUP each guest is its own
// scheduling group, weighted by the group's nice against other sessions.
func renice(g *host.Guest, nice int) {
	if nice == 0 {
		return
	}
	pids := append([]int{g.Pid()}, g.Pids()...)
	for _, p := range pids {
		_ = unix.Setpriority(unix.PRIO_PROCESS, p, nice) // a process may have exited
	}
	// Best effort: no autogroups on this host, or the guest is gone.
	_ = os.WriteFile(fmt.Sprintf("/proc/%d/autogroup", g.Pid()), []byte(strconv.Itoa(nice)), 0)
}

// firstLine is the first line of a guest error, without the host
// package's "; last console lines:" lead-in (the console is in raw/).
func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i]
	}
	return strings.TrimSuffix(s, "; last console lines:")
}

// progressLine shows each guest's host CPU share over the last second.
func progressLine(s *Spec, guests []*host.Guest, el time.Duration) string {
	var b strings.Builder
	fmt.Fprintf(&b, "[%s] %5.1fs/%v ", s.Name, el.Seconds(), s.Duration)
	for i, g := range guests {
		v := s.VMs[i]
		if g == nil {
			fmt.Fprintf(&b, " %s:-", v.Name)
			continue
		}
		select {
		case <-g.Done():
			fmt.Fprintf(&b, " %s:end", v.Name)
			continue
		default:
		}
		h := g.CPUHistory()
		if len(h) < 2 {
			fmt.Fprintf(&b, " %s:boot", v.Name)
			continue
		}
		last := h[len(h)-1]
		j := len(h) - 1
		for j > 0 && last.T-h[j].T < int64(time.Second) {
			j--
		}
		share := float64(last.CPU-h[j].CPU) / float64(max(1, last.T-h[j].T))
		fmt.Fprintf(&b, " %s:%3.0f%%", v.Name, 100*share)
	}
	b.WriteString("   ")
	return b.String()
}

func writeJSON(path string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return fmt.Errorf("encode %s: %w", filepath.Base(path), err)
	}
	if err := os.WriteFile(path, append(b, '\n'), 0o644); err != nil {
		return fmt.Errorf("write %s: %w", filepath.Base(path), err)
	}
	return nil
}
