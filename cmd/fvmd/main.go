package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime"
	"runtime/debug"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/friendly-vm/fvm/trace"
	"github.com/friendly-vm/fvm/uml-impl/controller"
	"github.com/friendly-vm/fvm/vocab"
)

// version is the controller version recorded in trace headers.
const version = "fvmd 1"

func main() {
	// fvmd allocates a little per poll and runs for the guest's life: a
	// collection only when the heap nears 64 MiB keeps the garbage
	// collector's threads off the few CPU slots a paused VM gets.
	debug.SetGCPercent(-1)
	debug.SetMemoryLimit(64 << 20)
	// The binary's pages come from hostfs on first use: a code path met
	// for the first time mid-run (the first trace flush, the first gap)
	// would page it in while the VM is paused most of the time, one
	// slow host round trip per page, and the next windows would wait for
	// it (seen: 0.6-0.9 s stalls early in runs). Locking every mapped
	// page brings them all in now, before the first window is read.
	if err := unix.Mlockall(unix.MCL_CURRENT); err != nil {
		fmt.Fprintln(os.Stderr, "fvmd: mlockall (pages will come in on first use):", err)
	}
	if err := run(os.Args[1:], os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "fvmd:", err)
		os.Exit(1)
	}
}

// warmUp runs the first poll's work once on a throwaway core, before the
// controller starts: reading and parsing the whole ring, deciding on it
// and encoding the events. The first poll otherwise pages in its heap
// and code while the VM may already be paused most of the time (seen:
// half a second at 900‰, long enough for the next windows to fall
// behind the delay bound). Then a collection makes that heap reusable and
// the pages, now mapped, are locked in.
func warmUp(cfg controller.Config, src *controller.ProcSource) {
	if ws, err := src.Windows(); err == nil {
		if core, err := controller.NewCore(cfg, 0, 0); err == nil {
			w := trace.NewWriter(io.Discard)
			for _, e := range core.Observe(0, ws) {
				_ = w.Write(&e)
			}
		}
	}
	runtime.GC()
	_ = unix.Mlockall(unix.MCL_CURRENT)
}

type options struct {
	cfg      controller.Config
	trace    string
	proc     string
	interval time.Duration
	duration time.Duration
	workload string
	periodUs int
	// pauseMode is the kernel's pause_mode, set first; it names the
	// host model the trace declares (cfg.Host()).
	pauseMode string
	stats     string
	pollLog   string
	// flushEvery: how long trace lines may wait in memory (Loop.FlushEvery).
	flushEvery time.Duration
}

func parseFlags(args []string, stderr io.Writer) (options, error) {
	o := options{cfg: controller.Default()}
	fs := flag.NewFlagSet("fvmd", flag.ContinueOnError)
	fs.SetOutput(stderr)
	c := &o.cfg
	theta := -1
	fs.StringVar(&o.trace, "trace", "", "trace file to write (JSONL; required)")
	fs.StringVar(&o.proc, "proc", controller.DefaultProcDir, "the kernel's FVM interface directory")
	fs.IntVar(&c.VM, "vm", c.VM, "this VM's index in the run (0-based)")
	fs.IntVar(&c.N, "n", c.N, "number of VMs in the run")
	fs.TextVar(&c.Signal, "signal", c.Signal, "congestion signal: steal or vct")
	fs.IntVar(&theta, "theta", -1, fmt.Sprintf("threshold in permille (default %d for steal, %d with -pause-mode sleep, %d for vct)", controller.DefaultTheta(vocab.Steal, true), controller.DefaultTheta(vocab.Steal, false), controller.DefaultTheta(vocab.VCT, false)))
	fs.TextVar(&c.Rule, "rule", c.Rule, "rule: aimd, mimd or aiad")
	fs.IntVar(&c.U, "u", c.U, "demand units per core (a divisor of 1000): a demand d is d/u of the core")
	fs.IntVar(&c.Alpha, "alpha", c.Alpha, "additive increase, in units of 1/u of the core")
	fs.TextVar(&c.Beta, "beta", c.Beta, "multiplicative decrease factor (a/b or decimal)")
	fs.TextVar(&c.Mu, "mu", c.Mu, "multiplicative increase factor (mimd)")
	fs.IntVar(&c.Delta, "delta", c.Delta, "additive decrease (aiad), in units of 1/u of the core")
	fs.IntVar(&c.Dmin, "dmin", c.Dmin, fmt.Sprintf("lowest demand, in units of 1/u of the core (%d with -pause-mode sleep)", controller.DefaultSleep().Dmin))
	fs.IntVar(&c.Dmax, "dmax", c.Dmax, "highest demand, in units of 1/u of the core")
	fs.IntVar(&c.Init, "init", c.Init, "initial demand, in units of 1/u of the core")
	fs.IntVar(&c.Safe, "safe", c.Safe, fmt.Sprintf("demand held while blind, in units of 1/u of the core (%d with -pause-mode sleep)", controller.DefaultSleep().Safe))
	fs.IntVar(&c.Delay, "delay", c.Delay, "delay bound: windows a window may wait before it is given up (a gap)")
	fs.TextVar(&c.EWMA, "ewma", c.EWMA, "EWMA weight of the newest window (1: none)")
	fs.Int64Var(&c.HoldAfterNs, "hold-after-ns", c.HoldAfterNs, "hold the safe demand after this much silence")
	fs.IntVar(&c.HoldGarbage, "hold-garbage", c.HoldGarbage, "hold the safe demand after this many garbage windows in a row")
	fs.DurationVar(&o.interval, "interval", 100*time.Millisecond, "longest time between two reads of the ring (reads are timed to the windows' ends)")
	fs.DurationVar(&o.duration, "duration", 0, "stop after this long (0: until SIGTERM)")
	fs.TextVar(&c.FidelityTol, "fidelity-tol", c.FidelityTol, "tolerance (fraction of the core) declared in the header for model fidelity")
	fs.StringVar(&o.workload, "workload", "", "workload description for the header")
	fs.IntVar(&o.periodUs, "period-us", 0, "set the actuation period first (0: leave it)")
	fs.StringVar(&o.pauseMode, "pause-mode", c.PauseMode(), "how the kernel takes a pause: idle (work-conserving, at host SCHED_IDLE: host model duty-idle; the host must run the VM with CAP_SYS_NICE) or sleep (host model duty)")
	fs.DurationVar(&o.flushEvery, "flush-every", time.Second, "write the trace's lines at most this often (and at exit; 0: after every poll)")
	fs.StringVar(&o.pollLog, "poll-log", "", "at exit, write one line per poll with its timings (host ns: start, read, decided and actuated, traced; windows read, newest seq)")
	fs.StringVar(&o.stats, "stats", "", "at exit, write the daemon's own CPU time and poll count here (JSON)")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if fs.NArg() > 0 {
		return o, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	if o.trace == "" {
		return o, errors.New("-trace is required")
	}
	c.ThetaPermille = theta
	idle, err := controller.ParsePauseMode(o.pauseMode)
	if err != nil {
		return o, fmt.Errorf("-pause-mode %w", err)
	}
	c.IdlePause = idle
	if theta < 0 {
		c.ThetaPermille = controller.DefaultTheta(c.Signal, idle)
	}
	// Each pause mode has its own demand bounds (controller.DefaultFor):
	// those not given on the command line are the mode's.
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	d := controller.DefaultFor(idle)
	if !set["dmin"] {
		c.Dmin = d.Dmin
	}
	if !set["safe"] {
		c.Safe = d.Safe
	}
	if o.interval <= 0 {
		return o, fmt.Errorf("-interval %v: must be positive", o.interval)
	}
	return o, c.Validate()
}

// guestClock reads the guest's CLOCK_MONOTONIC through the Go runtime's
// own monotonic clock (time.Since), which is read without entering the
// scheduler's system-call path: a clock_gettime(2) through x/sys/unix is
// a scheduled system call, and in a UML guest each one costs a round trip
// through the host (see the controller's raw I/O). The two clocks are
// paired once, from the tightest of a few brackets.
type guestClock struct {
	base   time.Time
	baseNs int64
}

func newGuestClock() (guestClock, error) {
	best := guestClock{}
	bestWidth := time.Duration(-1)
	for range 5 {
		t0 := time.Now()
		var ts unix.Timespec
		if err := unix.ClockGettime(unix.CLOCK_MONOTONIC, &ts); err != nil {
			return best, fmt.Errorf("clock_gettime: %w", err)
		}
		t1 := time.Now()
		if w := t1.Sub(t0); bestWidth < 0 || w < bestWidth {
			bestWidth = w
			best = guestClock{base: t0.Add(w / 2), baseNs: ts.Nano()}
		}
	}
	return best, nil
}

// now returns the guest's CLOCK_MONOTONIC in ns.
func (c guestClock) now() int64 { return c.baseNs + int64(time.Since(c.base)) }

// hostClock returns a clock reading host CLOCK_MONOTONIC (the time base of
// the kernel's windows) and its offset from the guest's monotonic clock,
// measured once against the now_ns of /proc/fvm/stats.
func hostClock(guest guestClock, stats map[string]uint64, t0, t1 int64) (func() int64, int64) {
	now, ok := stats["now_ns"]
	if !ok {
		return guest.now, 0
	}
	off := int64(now) - (t0+t1)/2
	return func() int64 { return guest.now() + off }, off
}

func kernelRelease() string {
	var u unix.Utsname
	if err := unix.Uname(&u); err != nil {
		return "unknown"
	}
	return unix.ByteSliceToString(u.Release[:])
}

func run(args []string, stderr io.Writer) (err error) {
	o, err := parseFlags(args, stderr)
	if err != nil {
		return err
	}
	src := &controller.ProcSource{Dir: o.proc}
	act := &controller.ProcActuator{Dir: o.proc}
	defer src.Close()
	defer act.Close()
	guest, err := newGuestClock()
	if err != nil {
		return err
	}
	t0 := guest.now()
	stats, err := src.Stats()
	t1 := guest.now()
	if err != nil {
		return err
	}
	if stats["active"] != 1 {
		return fmt.Errorf("%s/stats: active = %d: the FVM sampler is not running", o.proc, stats["active"])
	}
	if o.periodUs > 0 {
		if err := os.WriteFile(o.proc+"/period_us", []byte(fmt.Sprintf("%d\n", o.periodUs)), 0); err != nil {
			return fmt.Errorf("set period: %w", err)
		}
	}
	if err := setPauseMode(o.proc, o.pauseMode); err != nil {
		return err
	}
	warmUp(o.cfg, src)
	now, off := hostClock(guest, stats, t0, t1)
	start := stats["seq"]
	core, err := controller.NewCore(o.cfg, start, now())
	if err != nil {
		return err
	}
	tf, err := controller.CreateTrace(o.trace)
	if err != nil {
		return err
	}
	defer func() {
		if cerr := tf.Close(); err == nil {
			err = cerr
		}
	}()
	// Interface version 2 has "next", whose reads wait for each window and
	// carry the host time: one system call per window.
	var source controller.SignalSource = src
	reads := fmt.Sprintf("polls windows (every %v at most)", o.interval)
	if controller.NextAvailable(o.proc) {
		ns := &controller.NextSource{Dir: o.proc}
		defer ns.Close()
		source, reads = ns, "reads next"
	}
	loop := &controller.Loop{Core: core, Source: source, Act: act, Sink: tf, Now: now, FlushEvery: o.flushEvery}
	if o.pollLog != "" {
		f, err := os.Create(o.pollLog)
		if err != nil {
			return fmt.Errorf("poll log: %w", err)
		}
		defer f.Close()
		loop.PollLog = f
	}
	h := core.Header()
	h.ClockOffsetNs = off
	h.Kernel = fmt.Sprintf("%s fvm-interface %d", kernelRelease(), stats["version"])
	c := o.cfg
	h.Controller = fmt.Sprintf("%s (safe %d, hold after %d ns or %d garbage windows, start seq %d, %s)",
		version, c.Safe, c.HoldAfterNs, c.HoldGarbage, start, reads)
	h.Workload = o.workload
	h.PeriodUs = int64(stats["period_us"])
	if p, err := act.Period(); err == nil {
		h.PeriodUs = int64(p)
	}
	if err := loop.Start(h); err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	if o.duration > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, o.duration)
		defer cancel()
	}
	runErr := loop.Run(ctx, o.interval)
	reason := "duration"
	if runErr != nil {
		reason = "error: " + runErr.Error()
	} else if !errors.Is(ctx.Err(), context.DeadlineExceeded) {
		reason = "signal"
	}
	if err := loop.Stop(runErr == nil, strings.TrimSpace(reason)); err != nil {
		return err
	}
	if o.stats != "" {
		if err := writeStats(o.stats, time.Duration(now()-t0-off)); err != nil {
			return err
		}
	}
	return runErr
}

// setPauseMode writes the kernel's pause_mode. A kernel without the file
// (interface version < 4) only sleeps: fine for sleep, an error for idle.
func setPauseMode(proc, mode string) error {
	p := proc + "/pause_mode"
	err := os.WriteFile(p, []byte(mode+"\n"), 0)
	switch {
	case err == nil:
		return nil
	case errors.Is(err, os.ErrNotExist) && mode == controller.PauseModeSleep:
		return nil
	case errors.Is(err, os.ErrNotExist):
		return fmt.Errorf("-pause-mode %s: %s is missing: the kernel predates interface version 4; rebuild it with `fvm uml build`", mode, p)
	}
	return fmt.Errorf("-pause-mode %s: write %s: %w", mode, p, err)
}

// writeStats records the daemon's own cost: CPU time (user+system, from
// getrusage) over its wall time, for the overhead benchmark.
func writeStats(path string, wall time.Duration) error {
	var ru unix.Rusage
	if err := unix.Getrusage(unix.RUSAGE_SELF, &ru); err != nil {
		return fmt.Errorf("getrusage: %w", err)
	}
	cpu := ru.Utime.Nano() + ru.Stime.Nano()
	s := fmt.Sprintf("{\"cpu_ns\": %d, \"wall_ns\": %d, \"max_rss_kib\": %d}\n", cpu, wall.Nanoseconds(), ru.Maxrss)
	if err := os.WriteFile(path, []byte(s), 0o644); err != nil {
		return fmt.Errorf("write stats: %w", err)
	}
	return nil
}
