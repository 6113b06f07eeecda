package experiment

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/friendly-vm/fvm/friendly"
	"github.com/friendly-vm/fvm/uml-impl/controller"
	"github.com/friendly-vm/fvm/uml-impl/host"
)

// Env is what a run needs from outside.
type Env struct {
	// Exe is the fvm executable: it runs fvm friendly, the exec helper
	// and the latency loop (`fvm friendly probe`).
	Exe string
	// Scratch is where the gzip job's input is made (os.TempDir() if "").
	Scratch string
	// Progress receives a line per second (nil: none).
	Progress io.Writer
}

// ProbeArgs are the arguments, after the executable, of the latency loop.
var ProbeArgs = []string{"friendly", "probe"}

// gzipInputSize is the gzip job's input: long enough (a few seconds of
// gzip -6 per pass) that the job's processes rarely exit, so that the
// per-task CPU measurement loses little.
const gzipInputSize = 48 << 20

// gzipInput makes (or reuses) the job's input: text of words from a fixed
// seed, compressible like source code or logs.
func gzipInput(dir string) (string, error) {
	p := filepath.Join(dir, "fvm-friendly-gzip-input-1")
	if st, err := os.Stat(p); err == nil && st.Size() == gzipInputSize {
		return p, nil
	}
	words := strings.Fields("the quick brown fox jumps over a lazy dog friendly virtual machine steal window demand pause quota period controller group kernel trace sample decide actuate core share fair jain aimd")
	r := rand.New(rand.NewPCG(1, 2))
	tmp, err := os.CreateTemp(dir, "fvm-gzip-input-")
	if err != nil {
		return "", fmt.Errorf("gzip input: %w", err)
	}
	w := bufio.NewWriter(tmp)
	n := 0
	for n < gzipInputSize {
		s := words[r.IntN(len(words))]
		if r.IntN(12) == 0 {
			s += "\n"
		} else {
			s += " "
		}
		s = s[:min(len(s), gzipInputSize-n)]
		w.WriteString(s)
		n += len(s)
	}
	if err := errors.Join(w.Flush(), tmp.Close()); err != nil {
		os.Remove(tmp.Name())
		return "", fmt.Errorf("gzip input: %w", err)
	}
	if err := os.Rename(tmp.Name(), p); err != nil {
		return "", fmt.Errorf("gzip input: %w", err)
	}
	return p, nil
}

// AutogroupNice sets the nice of the calling process's session's
// autogroup (/proc/self/autogroup: with CONFIG_SCHED_AUTOGROUP the
// session is one scheduling entity, weighted by this nice, and the tasks
// the runner starts inherit its session) and returns the function that
// restores the old value. Without autogroups it does nothing.
//
// A process whose session never called setsid() (one started by a
// service manager or a container's first process without a session) sits
// in the root task group, which has no autogroup to weigh: the kernel
// shows an empty /proc/self/autogroup and refuses the write with EINVAL.
// Its participants would then compete task by task against every other
// task of the root group, so AutogroupNice first starts a session of its
// own (setsid), which gives the process and what it starts afterwards one
// autogroup, as under a login shell.
func AutogroupNice(n int) (restore func(), err error) {
	const p = "/proc/self/autogroup"
	b, err := os.ReadFile(p)
	if errors.Is(err, os.ErrNotExist) {
		return func() {}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("autogroup: %w", err)
	}
	old, ok := parseAutogroup(string(b))
	if !ok {
		if _, err := unix.Setsid(); err != nil {
			return nil, fmt.Errorf("autogroup: this process's session has no autogroup (root task group) and it cannot start one (setsid: %w): run it under setsid(1)", err)
		}
		if b, err = os.ReadFile(p); err != nil {
			return nil, fmt.Errorf("autogroup: %w", err)
		}
		if old, ok = parseAutogroup(string(b)); !ok {
			return nil, fmt.Errorf("autogroup: no autogroup after setsid (%s reads %q)", p, b)
		}
	}
	if err := os.WriteFile(p, []byte(strconv.Itoa(n)), 0); err != nil {
		return nil, fmt.Errorf("autogroup nice %d: %w", n, err)
	}
	return func() { _ = os.WriteFile(p, []byte(strconv.Itoa(old)), 0) }, nil
}

// parseAutogroup reads /proc/PID/autogroup ("/autogroup-123 nice 0"): the
// nice, and false when the task has no autogroup (the kernel prints
// nothing for the root task group).
func parseAutogroup(s string) (nice int, ok bool) {
	f := strings.Fields(s)
	if len(f) != 3 || !strings.HasPrefix(f[0], "/autogroup-") || f[1] != "nice" {
		return 0, false
	}
	n, err := strconv.Atoi(f[2])
	if err != nil {
		return 0, false
	}
	return n, true
}

// argv is a participant's workload command.
func argv(s *Spec, p Participant, env Env, dir, input string) []string {
	switch p.Workload {
	case Gzip:
		return []string{"sh", "-c", `for i in 1 2; do (while :; do gzip -6 -c "$1" > /dev/null; done) & done; wait`, "sh", input}
	case Loop:
		return append(append([]string{env.Exe}, ProbeArgs...), "--period", s.Probe.Period.String(), "--work", s.Probe.Work.String(),
			"--out", filepath.Join(dir, "raw", p.Name+".latency"))
	}
	return []string{"sh", "-c", "while :; do :; done"}
}

// proc is a running participant.
type proc struct {
	p    Participant
	cmd  *exec.Cmd
	cpu  *groupCPU // nil for friendly groups (their traces have host events)
	out  *os.File  // raw/<name>.cpu
	done chan struct{}
	err  error
}

// Result is a run's outcome.
type Result struct {
	Dir     string
	Summary *Summary
}

// Run executes spec into dir (created; it must not hold traces). It
// returns an error only when the run could not be made; a participant
// that failed makes the summary incomplete.
func Run(ctx context.Context, spec Spec, env Env, dir string) (*Result, error) {
	if err := spec.Prepare(); err != nil {
		return nil, fmt.Errorf("run spec: %w", err)
	}
	if env.Progress == nil {
		env.Progress = io.Discard
	}
	if m, _ := filepath.Glob(filepath.Join(dir, "*.jsonl")); len(m) > 0 {
		return nil, fmt.Errorf("run dir %s already holds traces: use a new directory", dir)
	}
	if err := os.MkdirAll(filepath.Join(dir, "raw"), 0o755); err != nil {
		return nil, fmt.Errorf("run dir: %w", err)
	}
	if err := friendly.WriteJSON(filepath.Join(dir, "spec.json"), spec); err != nil {
		return nil, err
	}
	if err := host.KeepOffCPU(spec.CPU); err != nil {
		return nil, err
	}
	if spec.Nice != 0 {
		restore, err := AutogroupNice(spec.Nice)
		if err != nil {
			return nil, err
		}
		defer restore()
	}
	input := ""
	for _, p := range spec.Participants {
		if p.Workload == Gzip && input == "" {
			scratch := env.Scratch
			if scratch == "" {
				scratch = os.TempDir()
			}
			var err error
			if input, err = gzipInput(scratch); err != nil {
				return nil, err
			}
		}
	}
	var procs []*proc
	stopAll := func() {
		for _, pr := range procs {
			_ = unix.Kill(-pr.cmd.Process.Pid, syscall.SIGTERM)
		}
		for _, pr := range procs {
			select {
			case <-pr.done:
			case <-time.After(10 * time.Second):
				_ = unix.Kill(-pr.cmd.Process.Pid, syscall.SIGKILL)
				<-pr.done
			}
		}
	}
	fr := spec.Friendly()
	for i, p := range spec.Participants {
		pr, err := start(&spec, i, p, fr, env, dir, input)
		if err != nil {
			stopAll()
			return nil, err
		}
		procs = append(procs, pr)
	}
	// Sample the others' CPU every 100 ms, until the duration is over or a
	// participant ends by itself.
	var errs []string
	t0 := time.Now()
	tick := time.NewTicker(100 * time.Millisecond)
	deadline := time.After(spec.Duration)
	lastLine := t0
	sample := func() {
		for _, pr := range procs {
			if pr.cpu == nil {
				continue
			}
			c := pr.cpu.sample()
			fmt.Fprintf(pr.out, "%d %d\n", friendly.Now(), c)
		}
	}
	sample()
loop:
	for {
		select {
		case <-ctx.Done():
			errs = append(errs, "interrupted: "+ctx.Err().Error())
			break loop
		case <-deadline:
			break loop
		case <-tick.C:
			sample()
			for _, pr := range procs {
				select {
				case <-pr.done:
					errs = append(errs, fmt.Sprintf("%s ended before the run did: %v", pr.p.Name, pr.err))
					break loop
				default:
				}
			}
			if time.Since(lastLine) >= time.Second {
				lastLine = time.Now()
				fmt.Fprintf(env.Progress, "\r[%s] %4.0fs/%v   ", spec.Name, time.Since(t0).Seconds(), spec.Duration)
			}
		}
	}
	tick.Stop()
	sample()
	stopAll()
	fmt.Fprintln(env.Progress)
	for _, pr := range procs {
		if pr.out != nil {
			if err := pr.out.Close(); err != nil {
				errs = append(errs, err.Error())
			}
		}
		if pr.err != nil && !stoppedBySignal(pr.err) {
			errs = append(errs, fmt.Sprintf("%s: %v", pr.p.Name, pr.err))
		}
	}
	sum, err := Summarize(dir)
	if err != nil {
		return nil, err
	}
	sum.Errors = append(sum.Errors, errs...)
	sum.Complete = sum.Complete && len(errs) == 0
	if err := friendly.WriteJSON(filepath.Join(dir, "summary.json"), sum); err != nil {
		return nil, err
	}
	return &Result{Dir: dir, Summary: sum}, nil
}

// stoppedBySignal: the participant ended because the run stopped it
// (SIGTERM), directly or, for a friendly group, its command (fvm friendly
// passes the status on: 128+15).
func stoppedBySignal(err error) bool {
	var ee *exec.ExitError
	if !errors.As(err, &ee) {
		return false
	}
	if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() && ws.Signal() == syscall.SIGTERM {
		return true
	}
	return ee.ExitCode() == 128+int(syscall.SIGTERM)
}

// start starts participant i.
func start(s *Spec, i int, p Participant, fr []int, env Env, dir, input string) (*proc, error) {
	cmdArgv := argv(s, p, env, dir, input)
	var cmd *exec.Cmd
	if p.Role == Friendly {
		k := 0
		for j, x := range fr {
			if x == i {
				k = j
			}
		}
		args := []string{"friendly", "--out", dir, "--name", p.Name, "--summary", filepath.Join(dir, "raw", p.Name+".summary.json"),
			"--vm", strconv.Itoa(k), "--n", strconv.Itoa(len(fr)), "--cpu", strconv.Itoa(s.CPU),
			"--period-us", strconv.FormatInt(s.GroupPeriodUs(k), 10)}
		if p.Init > 0 {
			args = append(args, "--init", strconv.Itoa(p.Init))
		}
		if s.Nice != 0 {
			args = append(args, "--nice", strconv.Itoa(s.Nice))
		}
		args = append(args, "--pause-mode", controller.PauseModeOf(s.IdlePause))
		cmd = exec.Command(env.Exe, append(append(args, "--"), cmdArgv...)...)
	} else {
		es := friendly.ExecSpec{Argv: cmdArgv, CPU: s.CPU, Idle: p.Role == Idle}
		if p.Role == Nice19 {
			n := 19
			es.Nice = &n
		}
		b, err := json.Marshal(es)
		if err != nil {
			return nil, err
		}
		cmd = exec.Command(env.Exe, append(append(append([]string(nil), friendly.HelperArgs...), "exec"), string(b))...)
	}
	log, err := os.Create(filepath.Join(dir, "raw", p.Name+".log"))
	if err != nil {
		return nil, err
	}
	cmd.Stdout, cmd.Stderr = log, log
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		log.Close()
		return nil, fmt.Errorf("start %s: %w", p.Name, err)
	}
	pr := &proc{p: p, cmd: cmd, done: make(chan struct{})}
	if p.Role != Friendly {
		pr.cpu = newGroupCPU(cmd.Process.Pid)
		if pr.out, err = os.Create(filepath.Join(dir, "raw", p.Name+".cpu")); err != nil {
			return nil, err
		}
	}
	go func() {
		pr.err = cmd.Wait()
		log.Close()
		close(pr.done)
	}()
	return pr, nil
}
