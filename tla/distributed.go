package tla

import (
	"bufio"
	"context"
	"crypto/sha256"
	_ "embed"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/friendly-vm/fvm/internal/cachedir"
	"github.com/friendly-vm/fvm/spec"
	"github.com/friendly-vm/fvm/spec/mc"
)

// Distributed TLC: TLC's own distributed engine (package
// tlc2.tool.distributed of tla2tools.jar: one TLCServer holding the state
// queue and the fingerprint set, TLCWorker JVMs computing successor states
// over Java RMI) run on the generated model files, every JVM on 127.0.0.1.
// See tla/README.md for the command lines and the quirks of v1.8.0.

// distLauncherSource is tla/FVMDistributedTLC.java: TLC's TLCServer with its
// fingerprint set exported over RMI again (v1.8.0 dropped that export, which
// breaks every worker) and RMI sockets bound to the loopback address. It is
// compiled with javac at run time.
//
//go:embed FVMDistributedTLC.java
var distLauncherSource string

const distLauncherClass = "FVMDistributedTLC"

// ErrNoJavac is returned by RunDistributed when no javac (a JDK) is found
// to compile the launcher.
var ErrNoJavac = errors.New("javac not available")

// DistributedOptions configures a distributed TLC run.
type DistributedOptions struct {
	// Workers is the number of TLCWorker JVMs; 0 means 2.
	Workers int
	// Threads is each worker's thread count
	// (tlc2.tool.distributed.TLCWorker.threadCount); 0 means 1.
	Threads int
	// Report is the interval of the server's progress lines
	// (tlc2.tool.distributed.TLCServer.report); 0 means 10s.
	Report time.Duration
	// Timeout bounds the whole run; 0 means no bound but ctx's.
	Timeout time.Duration
	// JavaOptions are passed to every JVM (e.g. "-Xmx4g").
	JavaOptions []string
	// Progress, if set, receives the server's progress lines (and every
	// line of every JVM if Runner.Log is set, to Runner.Log).
	Progress io.Writer
	// Stagger is the time between starting one worker JVM and the next
	// (0: all at once). Whatever it is, the search starts only once every
	// worker thread has registered; a test uses it to start a worker late.
	Stagger time.Duration
}

// DistributedResult is what a distributed TLC run found. Result holds the
// server's counts and verdict, as ParseOutput reads them from plain TLC.
type DistributedResult struct {
	Result
	// Port is the TLCServer's RMI registry port on 127.0.0.1.
	Port int
	// Registered lists the worker threads that registered with the server
	// (rmi://host:port/thread, the port being the worker JVM's RMI port);
	// WorkerJVMs is the number of distinct worker JVMs among them.
	Registered []string
	WorkerJVMs int
	// GateWants is the number of worker threads the server waited for
	// before it handed out the first states (its "FVM gate" line), and
	// StartedWith the number registered when it did (0 if it never did,
	// as when an initial state violates an invariant).
	GateWants, StartedWith int
	// Sent is the number of states the server handed to each worker
	// thread (its final "Worker: ... Sent:" statistics).
	Sent map[string]int64
	// Invariants are the invariants the configuration checked; Verdicts
	// has a verdict for each of them and Deadlock when the search
	// completed, else for the violated property only.
	Invariants []string
	Verdicts   map[string]mc.Status
	// WorkerOutput is each worker JVM's output.
	WorkerOutput []string
	// NamedBy is "" when TLC's output named the violated property, else
	// how it was named (distributed TLC prints the trace of a violation
	// but not which invariant failed; see nameViolation).
	NamedBy string
}

// findJavac returns the javac beside java, or javac from PATH.
func findJavac(java string) (string, error) {
	if p, err := exec.LookPath(java); err == nil {
		if real, err := filepath.EvalSymlinks(p); err == nil {
			c := filepath.Join(filepath.Dir(real), "javac")
			if _, err := os.Stat(c); err == nil {
				return c, nil
			}
		}
	}
	if p, err := exec.LookPath("javac"); err == nil {
		return p, nil
	}
	return "", fmt.Errorf("%w: distributed TLC compiles tla/%s.java with javac; install a JDK (Debian: default-jdk-headless)",
		ErrNoJavac, distLauncherClass)
}

// CheckDistributed checks every invariant of the configuration (and
// deadlock freedom) with distributed TLC, without symmetry: the safety run
// of Check. Distributed TLC checks no temporal properties.
func (r *Runner) CheckDistributed(ctx context.Context, m *Model, o DistributedOptions) (*DistributedResult, error) {
	return r.RunDistributed(ctx, m, m.Cfg(CfgOptions{Invariants: m.Invariants()}), "", nil, o)
}

// RunDistributed writes the model files as Run does and runs distributed
// TLC on them: one TLCServer and o.Workers TLCWorker JVMs, all bound to
// 127.0.0.1 (a free port, a fresh metadir and java.io.tmpdir per JVM in a
// temporary directory that is removed afterwards). It returns when the
// server has finished; every JVM it started is killed before it returns,
// also on error, timeout or cancellation. The cfg must not use liveness
// (PROPERTIES) or CHECK_DEADLOCK, which distributed TLC does not support.
func (r *Runner) RunDistributed(ctx context.Context, m *Model, cfg, module string, extra map[string]string, o DistributedOptions) (*DistributedResult, error) {
	if o.Workers <= 0 {
		o.Workers = 2
	}
	if o.Threads <= 0 {
		o.Threads = 1
	}
	if o.Report <= 0 {
		o.Report = 10 * time.Second
	}
	if module == "" {
		module = m.ModuleName()
	}
	for _, l := range strings.Split(cfg, "\n") {
		if f := strings.Fields(l); len(f) > 0 && (f[0] == "PROPERTY" || f[0] == "PROPERTIES" || f[0] == "CHECK_DEADLOCK") {
			return nil, fmt.Errorf("tlc distributed: the cfg has %s, which distributed TLC does not support", f[0])
		}
	}
	java := r.Java
	if java == "" {
		java = "java"
	}
	javac, err := findJavac(java)
	if err != nil {
		return nil, err
	}
	if o.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, o.Timeout)
		defer cancel()
	}
	dir, err := os.MkdirTemp("", "fvm-tlcdist-*")
	if err != nil {
		return nil, fmt.Errorf("tlc distributed: %w", err)
	}
	if !r.KeepDir {
		defer os.RemoveAll(dir)
	}
	modelDir := filepath.Join(dir, "model")
	files := map[string]string{
		"FVM.tla":                    fvmSource,
		"FVMTrace.tla":               fvmTraceSource,
		m.ModuleName() + ".tla":      m.Module(),
		m.ModuleName() + "_dist.cfg": cfg,
	}
	for k, v := range extra {
		files[k] = v
	}
	if err := writeFiles(modelDir, files); err != nil {
		return nil, err
	}
	if err := writeFiles(dir, map[string]string{distLauncherClass + ".java": distLauncherSource}); err != nil {
		return nil, err
	}
	classes, err := r.launcherClasses(ctx, javac, dir)
	if err != nil {
		return nil, err
	}
	var res *DistributedResult
	for attempt := 1; ; attempt++ {
		res, err = r.runDistributedOnce(ctx, dir, classes, module+".tla", m.ModuleName()+"_dist.cfg", o)
		if !errors.Is(err, errPortInUse) || attempt == 3 {
			break
		}
	}
	if err != nil {
		return nil, err
	}
	res.Invariants = cfgInvariants(cfg)
	res.Verdicts = map[string]mc.Status{}
	if res.Kind == "unnamed" {
		if err := r.nameViolation(ctx, m, cfg, module, extra, res); err != nil {
			return res, err
		}
	}
	switch {
	case res.Violated != "":
		res.Verdicts[res.Violated] = mc.Violated
	case res.Complete:
		for _, p := range res.Invariants {
			res.Verdicts[p] = mc.Holds
		}
		res.Verdicts[spec.Deadlock] = mc.Holds
	default:
		return res, fmt.Errorf("tlc distributed: the search did not complete\n%s", tail(res.Output, 20))
	}
	return res, nil
}

// launcherClasses returns a directory with the compiled launcher. javac
// costs a JVM start (seconds of CPU), so the classes are cached in
// <cachedir.Root()>/tlcdist ($FVM_CACHE or ~/.cache/friendly-vm), keyed by the
// launcher's source, the jar (path, size, time) and javac; without a cache
// directory they are compiled into tmp, which holds the source.
func (r *Runner) launcherClasses(ctx context.Context, javac, tmp string) (string, error) {
	compile := func(out string) error {
		c := exec.CommandContext(ctx, javac, "-nowarn", "-d", out, "-cp", r.Jar, filepath.Join(tmp, distLauncherClass+".java"))
		if b, err := c.CombinedOutput(); err != nil {
			return fmt.Errorf("tlc distributed: javac %s.java: %v\n%s", distLauncherClass, err, b)
		}
		return nil
	}
	base, _ := cachedir.Root()
	fi, err := os.Stat(r.Jar)
	if base == "" || err != nil {
		d := filepath.Join(tmp, "classes")
		return d, compile(d)
	}
	h := sha256.New()
	fmt.Fprintf(h, "%s\x00%s\x00%d\x00%d\x00%s", distLauncherSource, r.Jar, fi.Size(), fi.ModTime().UnixNano(), javac)
	root := filepath.Join(base, "tlcdist")
	dir := filepath.Join(root, hex.EncodeToString(h.Sum(nil))[:16])
	if _, err := os.Stat(filepath.Join(dir, distLauncherClass+".class")); err == nil {
		return dir, nil
	}
	if err := os.MkdirAll(root, 0o755); err != nil {
		d := filepath.Join(tmp, "classes")
		return d, compile(d)
	}
	stage, err := os.MkdirTemp(root, "build-*")
	if err != nil {
		return "", fmt.Errorf("tlc distributed: %w", err)
	}
	if err := compile(stage); err != nil {
		os.RemoveAll(stage)
		return "", err
	}
	if err := os.Rename(stage, dir); err != nil {
		os.RemoveAll(stage)
		if _, serr := os.Stat(filepath.Join(dir, distLauncherClass+".class")); serr != nil {
			return "", fmt.Errorf("tlc distributed: %w", err)
		}
	}
	return dir, nil
}

func writeFiles(dir string, files map[string]string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("tlc distributed: %w", err)
	}
	for name, text := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			return fmt.Errorf("tlc distributed: %w", err)
		}
	}
	return nil
}

// cfgInvariants returns the names on the cfg's INVARIANT(S) lines.
func cfgInvariants(cfg string) []string {
	var invs []string
	for _, l := range strings.Split(cfg, "\n") {
		if f := strings.Fields(l); len(f) > 0 && (f[0] == "INVARIANT" || f[0] == "INVARIANTS") {
			invs = append(invs, f[1:]...)
		}
	}
	return invs
}

var errPortInUse = errors.New("RMI port already in use")

// freePort returns a TCP port on 127.0.0.1 that was free a moment ago.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// jvm is one started JVM: its output, line by line, and its end.
type jvm struct {
	name string
	cmd  *exec.Cmd
	mu   sync.Mutex
	out  strings.Builder
	done chan struct{} // closed once the process has exited and its output is read
	err  error         // cmd.Wait's error, valid after done
}

func (j *jvm) output() string {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.out.String()
}

func (j *jvm) exited() bool {
	select {
	case <-j.done:
		return true
	default:
		return false
	}
}

// kill ends the JVM (see killJVM) unless it has exited, and waits for it.
func (j *jvm) kill() {
	if !j.exited() {
		killJVM(j.cmd)
	}
	<-j.done
}

// startJVM starts java with args in dir, in its own process group (killed
// with its parent, see jvmProcAttr); every output line goes to onLine.
func (r *Runner) startJVM(name, dir string, args []string, onLine func(string)) (*jvm, error) {
	java := r.Java
	if java == "" {
		java = "java"
	}
	pr, pw, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(java, args...)
	cmd.Dir = dir
	cmd.Stdout, cmd.Stderr = pw, pw
	cmd.SysProcAttr = jvmProcAttr()
	if err := cmd.Start(); err != nil {
		pr.Close()
		pw.Close()
		return nil, fmt.Errorf("tlc distributed: start %s: %w", name, err)
	}
	pw.Close()
	j := &jvm{name: name, cmd: cmd, done: make(chan struct{})}
	read := make(chan struct{})
	go func() {
		defer close(read)
		defer pr.Close()
		sc := bufio.NewScanner(pr)
		sc.Buffer(make([]byte, 1<<20), 1<<24)
		for sc.Scan() {
			line := sc.Text()
			j.mu.Lock()
			j.out.WriteString(line)
			j.out.WriteByte('\n')
			j.mu.Unlock()
			if r.Log != nil {
				fmt.Fprintf(r.Log, "[%s] %s\n", name, line)
			}
			if onLine != nil {
				onLine(line)
			}
		}
	}()
	go func() {
		j.err = cmd.Wait()
		<-read
		close(j.done)
	}()
	return j, nil
}

// serverProgress are the prefixes of the server's lines that
// DistributedOptions.Progress receives.
var serverProgress = []string{"Finished computing initial states", "TLC server at ", "Registration for worker", "FVM gate: ",
	"Progress(", "Worker: ", "Model checking completed", "Error: ", "Finished in "}

// runDistributedOnce starts the server, then (once it is ready) the
// workers, and waits for the server to finish.
func (r *Runner) runDistributedOnce(ctx context.Context, dir, classes, spec, cfg string, o DistributedOptions) (*DistributedResult, error) {
	port, err := freePort()
	if err != nil {
		return nil, fmt.Errorf("tlc distributed: %w", err)
	}
	cp := r.classPath() + string(os.PathListSeparator) + classes
	common := []string{"-XX:+UseParallelGC",
		"-Djava.rmi.server.hostname=127.0.0.1",
		"-Dtlc2.tool.distributed.TLCServer.port=" + strconv.Itoa(port),
		// TLCWorker reads its RMI port (for its name) from JDK internals.
		"--add-exports=java.rmi/sun.rmi.server=ALL-UNNAMED",
		"--add-exports=java.rmi/sun.rmi.transport=ALL-UNNAMED"}
	common = append(common, o.JavaOptions...)
	tmpdir := func(name string) (string, error) {
		d := filepath.Join(dir, "tmp-"+name)
		return d, os.MkdirAll(d, 0o755)
	}
	var jvms []*jvm
	defer func() {
		for _, j := range jvms {
			j.kill()
		}
	}()

	stmp, err := tmpdir("server")
	if err != nil {
		return nil, fmt.Errorf("tlc distributed: %w", err)
	}
	ready := make(chan struct{})
	var readyOnce sync.Once
	serverArgs := append(append([]string{}, common...),
		"-Djava.io.tmpdir="+stmp,
		"-Dtlc2.tool.distributed.TLCServer.report="+strconv.FormatInt(o.Report.Milliseconds(), 10),
		"-Dtlc2.tool.distributed.selector.factory="+distLauncherClass+"$GatedSelectors",
		"-Dfvm.tlc.workerThreads="+strconv.Itoa(o.Workers*o.Threads),
		"-cp", cp, distLauncherClass, "server",
		"-metadir", filepath.Join(dir, "states"), "-config", cfg, spec)
	start := time.Now()
	server, err := r.startJVM("server", filepath.Join(dir, "model"), serverArgs, func(line string) {
		if strings.HasPrefix(line, "TLC server at ") && strings.Contains(line, "is ready") {
			readyOnce.Do(func() { close(ready) })
		}
		if o.Progress != nil {
			for _, p := range serverProgress {
				if strings.HasPrefix(line, p) {
					fmt.Fprintln(o.Progress, "  server: "+line)
					break
				}
			}
		}
	})
	if err != nil {
		return nil, err
	}
	jvms = append(jvms, server)
	progress := func(format string, a ...any) {
		if o.Progress != nil {
			fmt.Fprintf(o.Progress, "  "+format+"\n", a...)
		}
	}
	progress("TLCServer started on 127.0.0.1:%d (pid %d)", port, server.cmd.Process.Pid)

	var workers []*jvm
	workerExit := make(chan *jvm, o.Workers)
	readyCh := (<-chan struct{})(ready)
	for !server.exited() {
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("tlc distributed: %w after %.0fs; the server's last lines:\n%s",
				ctx.Err(), time.Since(start).Seconds(), tail(server.output(), 15))
		case <-readyCh:
			readyCh = nil
			for i := 1; i <= o.Workers; i++ {
				if i > 1 && o.Stagger > 0 {
					select {
					case <-time.After(o.Stagger):
					case <-ctx.Done():
						return nil, fmt.Errorf("tlc distributed: %w while starting the workers", ctx.Err())
					}
				}
				name := fmt.Sprintf("worker%d", i)
				wtmp, err := tmpdir(name)
				if err != nil {
					return nil, fmt.Errorf("tlc distributed: %w", err)
				}
				// Each worker keeps the spec files it fetches from the
				// server under its own java.io.tmpdir.
				args := append(append([]string{}, common...),
					"-Djava.io.tmpdir="+wtmp,
					"-Dtlc2.tool.distributed.TLCWorker.threadCount="+strconv.Itoa(o.Threads),
					"-cp", cp, distLauncherClass, "worker", "127.0.0.1")
				w, err := r.startJVM(name, wtmp, args, nil)
				if err != nil {
					return nil, err
				}
				jvms = append(jvms, w)
				workers = append(workers, w)
				go func() { <-w.done; workerExit <- w }()
				progress("%s started (pid %d, %d threads)", name, w.cmd.Process.Pid, o.Threads)
			}
		case w := <-workerExit:
			// A worker exits normally only when the server tells it to,
			// at the end of the search.
			if !strings.Contains(w.output(), "work completed") {
				return nil, fmt.Errorf("tlc distributed: %s exited (%v) before the server finished:\n%s",
					w.name, w.err, tail(w.output(), 15))
			}
		case <-server.done:
		}
	}
	duration := time.Since(start)
	// Workers that were told to exit do so at once; any other is killed.
	grace := time.After(5 * time.Second)
	for _, w := range workers {
		select {
		case <-w.done:
		case <-grace:
		}
	}
	for _, j := range jvms {
		j.kill()
	}
	out := server.output()
	if strings.Contains(out, "Port already in use") {
		return nil, fmt.Errorf("tlc distributed: port %d: %w", port, errPortInUse)
	}
	res, err := ParseDistributedOutput(out)
	if err != nil {
		return nil, fmt.Errorf("tlc distributed: %w (server: %v)\n%s", err, server.err, tail(out, 30))
	}
	res.Port = port
	res.Duration = duration
	for _, j := range jvms {
		if ps := j.cmd.ProcessState; ps != nil {
			res.CPU += ps.UserTime() + ps.SystemTime()
		}
	}
	for _, w := range workers {
		res.WorkerOutput = append(res.WorkerOutput, w.output())
	}
	return res, nil
}

var (
	distRegistered = regexp.MustCompile(`^Registration for worker at (\S+) completed`)
	distSent       = regexp.MustCompile(`^Worker: (\S+) Sent: (\d+) Rcvd: (\d+)`)
	distInvariant  = regexp.MustCompile(`^Error: (?:Error: )?Invariant (\w+) is violated`)
	distDeadlock   = regexp.MustCompile(`^Error: (?:Error: )?[Dd]eadlock reached`)
	distWorkerPort = regexp.MustCompile(`^rmi://[^/]*:(\d+)/`)
	distGateWants  = regexp.MustCompile(`^FVM gate: no states before (\d+) worker threads have registered`)
	distGateOpen   = regexp.MustCompile(`^FVM gate: (\d+) worker threads registered, the search starts`)
)

// ParseDistributedOutput reads a TLCServer's output: the state counts and
// depth, the workers that registered and their statistics, and the verdict.
// Unlike plain TLC, distributed TLC (v1.8.0) prints the name of a violated
// invariant only for an initial state; for any other violation (or a
// deadlock) it prints just the trace, and the result has Violated "?" and
// Kind "unnamed" (RunDistributed then names it).
func ParseDistributedOutput(out string) (*DistributedResult, error) {
	res := &DistributedResult{Sent: map[string]int64{}}
	res.Output = out
	pat := newOutputPatterns()
	sawStats, sawDone, sawTrace := false, false, false
	var otherErr []string
	ports := map[string]bool{}
	sc := bufio.NewScanner(strings.NewReader(out))
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	for sc.Scan() {
		line := sc.Text()
		switch {
		case pat.stats.MatchString(line):
			m := pat.stats.FindStringSubmatch(line)
			res.Generated, res.Distinct = atoi(m[1]), atoi(m[2])
			res.Complete = atoi(m[3]) == 0
			sawStats = true
		case pat.depth.MatchString(line):
			res.Depth = int(atoi(pat.depth.FindStringSubmatch(line)[1]))
		case distRegistered.MatchString(line):
			uri := distRegistered.FindStringSubmatch(line)[1]
			res.Registered = append(res.Registered, uri)
			if m := distWorkerPort.FindStringSubmatch(uri); m != nil {
				ports[m[1]] = true
			}
		case distGateWants.MatchString(line):
			res.GateWants = int(atoi(distGateWants.FindStringSubmatch(line)[1]))
		case distGateOpen.MatchString(line):
			res.StartedWith = int(atoi(distGateOpen.FindStringSubmatch(line)[1]))
		case distSent.MatchString(line):
			m := distSent.FindStringSubmatch(line)
			res.Sent[m[1]] += atoi(m[2])
		case distInvariant.MatchString(line):
			res.Violated, res.Kind = distInvariant.FindStringSubmatch(line)[1], "invariant"
			res.TraceStates = 1 // "While working on the initial state:" follows
		case distDeadlock.MatchString(line):
			res.Violated, res.Kind = spec.Deadlock, "deadlock"
		case strings.HasPrefix(line, "Error: The behavior up to this point is:"):
			sawTrace = true
		case sawTrace && pat.state.MatchString(line):
			res.TraceStates = int(atoi(pat.state.FindStringSubmatch(line)[1]))
		case strings.HasPrefix(line, "Model checking completed. No error has been found."):
			sawDone = true
		case pat.err.MatchString(line):
			otherErr = append(otherErr, line)
		}
	}
	res.WorkerJVMs = len(ports)
	if res.GateWants == 0 {
		// TLC falls back to its own selector without a word when it cannot
		// load the launcher's; without the gate a worker can join a running
		// search (see tla/FVMDistributedTLC.java).
		return nil, errors.New("no \"FVM gate\" line: the server ran without FVMDistributedTLC$GatedSelectors (tlc2.tool.distributed.selector.factory)")
	}
	if sawTrace && res.Violated == "" {
		res.Violated, res.Kind = "?", "unnamed"
	}
	if res.Violated == "" && len(otherErr) > 0 {
		return nil, fmt.Errorf("TLC reported: %s", strings.Join(otherErr, "; "))
	}
	if !sawStats && res.Violated == "" {
		return nil, errors.New("no state counts in the TLC server's output")
	}
	if res.Violated == "" && !sawDone {
		return nil, errors.New("the TLC server neither completed nor reported a violation")
	}
	return res, nil
}

// lastTraceState returns the last state of the trace in TLC's output, as
// the TLA+ conjunction TLC prints ("/\ d = ...", "/\ q = ..." lines).
func lastTraceState(out string) string {
	var cur []string
	in := false
	var last []string
	for _, line := range strings.Split(out, "\n") {
		switch {
		case strings.HasPrefix(line, "State ") && strings.Contains(line, ": "):
			in, cur = true, nil
		case in && strings.TrimSpace(line) == "":
			in = false
			if len(cur) > 0 {
				last = cur
			}
		case in:
			cur = append(cur, line)
		}
	}
	if in && len(cur) > 0 {
		last = cur
	}
	return strings.Join(last, "\n")
}

// nameViolation names the violation behind a trace that distributed TLC
// printed without saying what was violated. TLC workers check a new
// state's invariants in the cfg's order and throw at the first one that is
// false, or report a deadlock for a state without successors; so plain TLC
// evaluates, on the trace's last state alone (INIT that state, NEXT
// stuttering), the same invariants in the same order followed by
// ENABLED Next: the first one false is the violated property.
func (r *Runner) nameViolation(ctx context.Context, m *Model, cfg, module string, extra map[string]string, res *DistributedResult) error {
	state := lastTraceState(res.Output)
	if state == "" {
		return errors.New("tlc distributed: a violation without a trace state")
	}
	const probe = "FVMDistLastState"
	var mod strings.Builder
	fmt.Fprintf(&mod, "---- MODULE %s ----\nEXTENDS %s\n", probe, module)
	mod.WriteString("LastState_ ==\n")
	for _, l := range strings.Split(state, "\n") {
		mod.WriteString("    " + l + "\n")
	}
	mod.WriteString("LastStutter_ == UNCHANGED vars\nLastEnabled_ == ENABLED Next\n====\n")
	var c strings.Builder
	for _, l := range strings.Split(cfg, "\n") {
		if f := strings.Fields(l); len(f) > 0 {
			switch f[0] {
			case "SPECIFICATION", "INIT", "NEXT", "INVARIANT", "INVARIANTS", "SYMMETRY", "POSTCONDITION":
				continue
			}
		}
		c.WriteString(l + "\n")
	}
	invs := append(cfgInvariants(cfg), "LastEnabled_")
	fmt.Fprintf(&c, "INIT LastState_\nNEXT LastStutter_\nINVARIANTS %s\n", strings.Join(invs, " "))
	files := map[string]string{probe + ".tla": mod.String()}
	for k, v := range extra {
		files[k] = v
	}
	plain := *r
	plain.Workers = "1"
	pr, err := plain.Run(ctx, m, c.String(), probe, files)
	if err != nil {
		return fmt.Errorf("tlc distributed: naming the violation: %w", err)
	}
	switch pr.Violated {
	case "":
		return fmt.Errorf("tlc distributed: the trace's last state violates no invariant and has a successor:\n%s", state)
	case "LastEnabled_":
		res.Violated, res.Kind = spec.Deadlock, "deadlock"
	default:
		res.Violated, res.Kind = pr.Violated, "invariant"
	}
	res.NamedBy = "plain TLC on the trace's last state"
	return nil
}

// CompareGo compares the run with the Go checker's safety run on the same
// configuration without symmetry (spec.Check with Symmetry and Liveness
// off): goDistinct is its distinct-state count, goVerdicts its verdict on
// every invariant and on Deadlock. It returns the differences.
func (res *DistributedResult) CompareGo(goDistinct int64, goVerdicts map[string]mc.Status) []string {
	var diff []string
	if res.Violated == "" && res.Distinct != goDistinct {
		diff = append(diff, fmt.Sprintf("distinct states: distributed TLC %d, Go checker %d", res.Distinct, goDistinct))
	}
	for p, v := range res.Verdicts {
		if g, ok := goVerdicts[p]; !ok {
			diff = append(diff, fmt.Sprintf("%s: distributed TLC says %s, the Go checker has no verdict", p, v))
		} else if g != v {
			diff = append(diff, fmt.Sprintf("%s: distributed TLC says %s, the Go checker says %s", p, v, g))
		}
	}
	if res.Violated == "" {
		for p, g := range goVerdicts {
			if _, ok := res.Verdicts[p]; !ok && g == mc.Violated {
				diff = append(diff, fmt.Sprintf("%s: the Go checker says fails, distributed TLC did not check it", p))
			}
		}
	}
	return diff
}
