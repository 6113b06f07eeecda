package friendly

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/friendly-vm/fvm/friendly/cgroup"
	"github.com/friendly-vm/fvm/friendly/port"
	"github.com/friendly-vm/fvm/trace"
	"github.com/friendly-vm/fvm/uml-impl/controller"
	"github.com/friendly-vm/fvm/uml-impl/host"
	"github.com/friendly-vm/fvm/vocab"
)

// Version is the controller version recorded in trace headers.
const Version = "fvm friendly 1"

// Options is one friendly run.
type Options struct {
	// Command is the command and its arguments.
	Command []string
	// Dir is the run directory (created): the trace <Name>.jsonl, the
	// summary, and raw/ (the watchdog's messages).
	Dir  string
	Name string
	// SummaryFile is where the summary goes (default Dir/summary.json).
	SummaryFile string
	// Config is the controller's configuration (VM and N: the group's
	// index among the friendly groups of a run, and their number).
	Config controller.Config
	// PeriodUs is the CFS period (port.DefaultPeriodUs if 0).
	PeriodUs int64
	// CPU, if >= 0, pins the command to that CPU and keeps the
	// controller's own threads off it.
	CPU int
	// Nice, if not 0, gives the group the CPU weight of a session at that
	// nice (cgroup.Group.SetNice): experiments raise it together with
	// their own session's, so that background load cannot take the core
	// while the participants keep equal weights.
	Nice int
	// Interval is the longest time between two polls (100 ms if 0).
	Interval time.Duration
	// Exe is the fvm executable that runs the helpers (HelperArgs).
	Exe string
	// FS is the file system (cgroup.OS{} if nil).
	FS cgroup.FS
	// The command's standard streams (nil: /dev/null).
	Stdin          io.Reader
	Stdout, Stderr io.Writer
	// Log receives the run's own messages (nil: discarded).
	Log io.Writer
	// Signals, if not nil, are passed on to the command.
	Signals <-chan os.Signal
	// Started, if not nil, is called with the command's pid once it runs
	// in the group.
	Started func(pid int)
}

// Result is what Run returns.
type Result struct {
	// ExitStatus is the command's (128+N if killed by signal N).
	ExitStatus int
	Summary    *Summary
	Trace      string
	Group      string // the group's cpu directory
}

// Now returns host CLOCK_MONOTONIC in ns (the clock of the windows).
func Now() int64 {
	var ts unix.Timespec
	if err := unix.ClockGettime(unix.CLOCK_MONOTONIC, &ts); err != nil {
		panic(fmt.Sprintf("clock_gettime(CLOCK_MONOTONIC): %v", err))
	}
	return ts.Nano()
}

// ErrSetup marks an error before the command started (nothing ran).
var ErrSetup = errors.New("fvm friendly: setup")

func setupErr(err error) error { return fmt.Errorf("%w: %w", ErrSetup, err) }

// Run runs the command as a friendly group (see the package comment) and
// returns its exit status. An error wrapping ErrSetup means the command
// never started; any other error comes with the command's status (the
// controller failed while the command ran on, unthrottled from then on).
// A cancelled ctx passes SIGTERM on to the command once.
func Run(ctx context.Context, o Options) (*Result, error) {
	if len(o.Command) == 0 {
		return nil, setupErr(errors.New("no command given"))
	}
	if o.FS == nil {
		o.FS = cgroup.OS{}
	}
	if o.Log == nil {
		o.Log = io.Discard
	}
	if o.PeriodUs == 0 {
		o.PeriodUs = port.DefaultPeriodUs
		if o.Config.IdlePause {
			o.PeriodUs = vocab.IdlePeriodUs
		}
	}
	if o.Interval <= 0 {
		o.Interval = 100 * time.Millisecond
	}
	if o.Name == "" {
		o.Name = "friendly"
	}
	if err := o.Config.Validate(); err != nil {
		return nil, setupErr(fmt.Errorf("controller config: %w", err))
	}
	tracePath := filepath.Join(o.Dir, o.Name+".jsonl")
	if o.SummaryFile == "" {
		o.SummaryFile = filepath.Join(o.Dir, "summary.json")
	}
	if err := os.MkdirAll(filepath.Join(o.Dir, "raw"), 0o755); err != nil {
		return nil, setupErr(err)
	}
	if _, err := os.Stat(tracePath); err == nil {
		return nil, setupErr(fmt.Errorf("%s exists: use a new --out directory or another --name", tracePath))
	}
	layout, err := cgroup.Detect(o.FS)
	if err != nil {
		return nil, setupErr(err)
	}
	if r, err := layout.Sweep(o.FS); err != nil {
		fmt.Fprintf(o.Log, "fvm friendly: sweeping groups left by dead owners: %v\n", err)
	} else if len(r.Removed)+len(r.Unthrottled) > 0 {
		fmt.Fprintf(o.Log, "fvm friendly: groups left by dead owners: removed %v, quota lifted on %v (tasks still inside)\n", r.Removed, r.Unthrottled)
	}
	if o.CPU >= 0 {
		if err := host.KeepOffCPU(o.CPU); err != nil {
			return nil, setupErr(err)
		}
	}
	name, err := cgroup.OwnerName(o.FS, os.Getpid())
	if err != nil {
		return nil, setupErr(err)
	}
	g, err := layout.Create(o.FS, name)
	if err != nil {
		return nil, setupErr(fmt.Errorf("%w (fvm friendly needs root)", err))
	}
	r := &runState{o: o, g: g, trace: tracePath}
	res, err := r.run(ctx, layout)
	if err != nil && errors.Is(err, ErrSetup) {
		if rerr := g.Release(); rerr != nil {
			err = errors.Join(err, rerr)
		}
		r.stopWatchdog()
	}
	return res, err
}

// runState is one run in progress.
type runState struct {
	o     Options
	g     *cgroup.Group
	trace string

	wdog  *exec.Cmd
	wdogW *os.File // the controller's end of the watchdog's pipe
	wlog  *os.File
}

func (r *runState) startWatchdog(layout *cgroup.Layout) error {
	pr, pw, err := os.Pipe()
	if err != nil {
		return err
	}
	defer pr.Close()
	spec := WatchdogSpec{Layout: *layout, Group: r.g.Name(), Trace: r.trace, VM: r.o.Config.VM, Summary: r.o.SummaryFile}
	cmd, err := helperCmd(r.o.Exe, "watchdog", spec)
	if err != nil {
		pw.Close()
		return err
	}
	r.wlog, err = os.Create(filepath.Join(r.o.Dir, "raw", r.o.Name+".watchdog"))
	if err != nil {
		pw.Close()
		return err
	}
	cmd.Stderr = r.wlog
	cmd.ExtraFiles = []*os.File{pr}
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		pw.Close()
		return fmt.Errorf("start the watchdog: %w", err)
	}
	r.wdog, r.wdogW = cmd, pw
	return nil
}

// stopWatchdog closes the pipe (the watchdog finds the group gone and
// exits) and waits for it, killing it after 5 s.
func (r *runState) stopWatchdog() {
	if r.wdog == nil {
		return
	}
	r.wdogW.Close()
	done := make(chan struct{})
	go func() { _ = r.wdog.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		_ = r.wdog.Process.Kill()
		<-done
	}
	r.wdog = nil
	if st, err := r.wlog.Stat(); err == nil && st.Size() == 0 {
		os.Remove(r.wlog.Name())
	}
	r.wlog.Close()
}

func quoteArgs(args []string) string {
	q := make([]string, len(args))
	for i, a := range args {
		if a != "" && !strings.ContainsAny(a, " \t\n'\"\\$`;&|<>()*?[]{}~#!") {
			q[i] = a
			continue
		}
		q[i] = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
	}
	return strings.Join(q, " ")
}

func kernelRelease() string {
	var u unix.Utsname
	if err := unix.Uname(&u); err != nil {
		return "unknown"
	}
	return unix.ByteSliceToString(u.Release[:])
}

// Header is the trace header of a friendly group: the controller core's
// (the model it is held to: configs/deployed-sleep.json's, the duty host,
// or with work-conserving pauses deployed.json's, duty-idle; the steal
// signal), with the group's period as the actuation period, the
// kernel and cgroup interface as the kernel, and the command as the
// workload.
func Header(core *controller.Core, layout *cgroup.Layout, group string, o Options) trace.Header {
	h := core.Header()
	h.PeriodUs = o.PeriodUs
	h.Kernel = fmt.Sprintf("linux %s, %s", kernelRelease(), layout)
	c := core.Config()
	weight := ""
	if o.Nice != 0 {
		weight = fmt.Sprintf(", CPU weight of nice %d", o.Nice)
	}
	kind := "CFS"
	if c.IdlePause {
		kind = "cpu.idle"
	}
	h.Controller = fmt.Sprintf("%s (controller core of fvmd; group %s, %s period %d us%s, safe %d, hold after %d ns or %d garbage windows, poll %v)",
		Version, group, kind, o.PeriodUs, weight, c.Safe, c.HoldAfterNs, c.HoldGarbage, o.Interval)
	h.Workload = quoteArgs(o.Command)
	return h
}

// exitStatus is the shell's view of how a process ended.
func exitStatus(st *os.ProcessState) int {
	if ws, ok := st.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		return 128 + int(ws.Signal())
	}
	return st.ExitCode()
}

func (r *runState) run(ctx context.Context, layout *cgroup.Layout) (*Result, error) {
	o := r.o
	src := port.NewSource(o.FS, r.g, Now)
	// The pause: a CFS quota (sleeping, host duty) or, for a
	// work-conserving pause, cpu.idle switched every period (duty-idle).
	var act controller.Actuator
	var idle *port.IdleActuator
	if o.Config.IdlePause {
		a, err := port.NewIdleActuator(r.g, src, o.PeriodUs, o.Nice)
		if err != nil {
			return nil, setupErr(err)
		}
		act, idle = a, a
	} else {
		a, err := port.NewActuator(r.g, o.PeriodUs)
		if err != nil {
			return nil, setupErr(err)
		}
		act = a
	}
	// stopIdle ends the switches (once) before the group is released.
	stopIdle := func() error {
		if idle == nil {
			return nil
		}
		a := idle
		idle = nil
		return a.Stop()
	}
	if o.Nice != 0 {
		if err := r.g.SetNice(o.Nice); err != nil {
			return nil, setupErr(err)
		}
	}
	if err := r.startWatchdog(layout); err != nil {
		return nil, setupErr(err)
	}
	core, err := controller.NewCore(o.Config, 0, Now())
	if err != nil {
		return nil, setupErr(err)
	}
	tf, err := controller.CreateTrace(r.trace)
	if err != nil {
		return nil, setupErr(err)
	}
	loop := &controller.Loop{Core: core, Source: src, Act: act, Sink: tf, Now: Now}
	h := Header(core, layout, r.g.Name(), o)
	// abort ends the trace of a run whose command never started.
	abort := func(err error) (*Result, error) {
		serr := loop.Stop(false, "the command did not start: "+err.Error())
		return nil, setupErr(errors.Join(err, serr, tf.Close()))
	}
	if err := loop.Start(h); err != nil {
		return abort(err)
	}
	if idle != nil {
		idle.Start(Now)
		abortSleep := abort
		abort = func(err error) (*Result, error) {
			return abortSleep(errors.Join(err, stopIdle()))
		}
	}

	// The command: the exec helper waits until it is in the group.
	goR, goW, err := os.Pipe()
	if err != nil {
		return abort(err)
	}
	cmd, err := helperCmd(o.Exe, "exec", ExecSpec{Argv: o.Command, Wait: true, CPU: o.CPU})
	if err != nil {
		goR.Close()
		goW.Close()
		return abort(err)
	}
	cmd.Stdin, cmd.Stdout, cmd.Stderr = o.Stdin, o.Stdout, o.Stderr
	cmd.ExtraFiles = []*os.File{goR}
	if err := cmd.Start(); err != nil {
		goR.Close()
		goW.Close()
		return abort(fmt.Errorf("start %s: %w", o.Command[0], err))
	}
	goR.Close()
	if err := r.g.AddProc(cmd.Process.Pid); err != nil {
		goW.Close() // the helper exits without running the command
		_ = cmd.Wait()
		return abort(err)
	}
	_, werr := goW.Write([]byte{1})
	goW.Close()
	if werr != nil {
		_ = cmd.Wait()
		return abort(fmt.Errorf("start the command: %w", werr))
	}
	if o.Started != nil {
		o.Started(cmd.Process.Pid)
	}
	exited := make(chan *os.ProcessState, 1)
	go func() {
		_ = cmd.Wait()
		exited <- cmd.ProcessState
	}()

	ctl := &control{loop: loop, src: src, sink: tf, interval: o.Interval}
	var ctlErr error
	done := ctx.Done()
	timer := time.NewTimer(0)
	defer timer.Stop()
	var st *os.ProcessState
	for st == nil {
		select {
		case st = <-exited:
		case sig := <-o.Signals:
			_ = cmd.Process.Signal(sig)
		case <-done:
			done = nil
			_ = cmd.Process.Signal(syscall.SIGTERM)
		case <-timer.C:
			if ctlErr != nil {
				continue
			}
			wait, err := ctl.poll()
			if err != nil {
				// The trace cannot be written: stop controlling and let the
				// command run on unthrottled.
				ctlErr = fmt.Errorf("controller stopped, the command runs on unthrottled: %w", err)
				fmt.Fprintf(o.Log, "fvm friendly: %v\n", ctlErr)
				if serr := stopIdle(); serr != nil {
					ctlErr = errors.Join(ctlErr, serr)
				}
				if rerr := r.g.Release(); rerr != nil {
					ctlErr = errors.Join(ctlErr, rerr)
				}
				continue
			}
			timer.Reset(wait)
		}
	}
	status := exitStatus(st)
	var errs []error
	if ctlErr != nil {
		errs = append(errs, ctlErr)
	}
	reason := fmt.Sprintf("command exited with status %d", status)
	if ws, ok := st.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		reason = fmt.Sprintf("command killed by signal %d (%v)", ws.Signal(), ws.Signal())
	}
	if ctlErr == nil {
		if err := loop.Stop(true, reason); err != nil {
			errs = append(errs, err)
		}
	}
	if err := tf.Close(); err != nil {
		errs = append(errs, err)
	}
	if err := stopIdle(); err != nil {
		errs = append(errs, err)
	}
	if err := r.g.Release(); err != nil {
		errs = append(errs, err)
	}
	res := &Result{ExitStatus: status, Trace: r.trace, Group: r.g.Dir()}
	sum, err := Summarize(r.trace)
	if err != nil {
		errs = append(errs, err)
	}
	if sum != nil {
		sum.ExitStatus = status
		for _, e := range errs {
			sum.Errors = append(sum.Errors, e.Error())
		}
		sum.Complete = sum.Complete && len(errs) == 0
		if err := WriteJSON(o.SummaryFile, sum); err != nil {
			errs = append(errs, err)
		}
		res.Summary = sum
	}
	r.stopWatchdog()
	return res, errors.Join(errs...)
}
