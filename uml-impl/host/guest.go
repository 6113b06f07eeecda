package host

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// NoPin as Config.CPU leaves the guest unpinned.
const NoPin = -1

// Config describes one guest.
type Config struct {
	// Kernel is the UML kernel binary (from Build).
	Kernel string
	// Name names the guest in messages and in $FVM_NAME.
	Name string
	// Script is run by /bin/sh as the body of the guest's init, in $FVM_OUT,
	// after /proc and $FVM_OUT are mounted. The guest's root is the host's
	// root file system, read-only, so host binaries are usable. Its exit
	// status is the guest's; then the guest powers off.
	Script string
	// Env is exported to Script. Keys must be shell identifiers.
	Env map[string]string
	// OutDir is a host directory (created if missing), mounted read-write
	// at the same path inside the guest and exported as $FVM_OUT: what the
	// guest writes there is what the host collects.
	OutDir string
	// CPU is the host CPU the whole process tree is pinned to, or NoPin.
	CPU int
	// Nice is the host nice value of the whole process tree and of its
	// session's autogroup (0: inherit; negative needs root). Tests use a
	// strong priority so that guests compete with each other, not with
	// unrelated work on the machine.
	Nice int
	// Mem is the guest memory (UML mem=); empty means 128M.
	Mem string
	// Timeout kills the guest's whole process tree after this long; 0
	// means only the context passed to Start ends it.
	Timeout time.Duration
	// SampleEvery is the host CPU sampling interval; 0 means 100 ms.
	SampleEvery time.Duration
	// Console, if not nil, receives a live copy of the guest console.
	Console io.Writer
}

// Guest is a running guest.
type Guest struct {
	cfg    Config
	cmd    *exec.Cmd
	tree   *cpuTree
	runDir string
	start  time.Time

	mu       sync.Mutex
	console  []byte
	timedOut bool

	done    chan struct{}
	waitErr error
}

var reEnvKey = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// Start boots the guest described by cfg. The guest runs until its script
// ends, ctx is done or cfg.Timeout passes; call Wait to collect it.
func Start(ctx context.Context, cfg Config) (*Guest, error) {
	if cfg.Name == "" {
		cfg.Name = "guest"
	}
	if cfg.Mem == "" {
		cfg.Mem = "128M"
	}
	if cfg.SampleEvery <= 0 {
		cfg.SampleEvery = 100 * time.Millisecond
	}
	if cfg.Kernel == "" {
		return nil, fmt.Errorf("guest %s: no kernel given: build one with `fvm uml build` (or make uml)", cfg.Name)
	}
	if st, err := os.Stat(cfg.Kernel); err != nil || st.IsDir() || st.Mode()&0o111 == 0 {
		return nil, fmt.Errorf("guest %s: kernel %s is missing or not executable: build it with `fvm uml build` (or make uml)", cfg.Name, cfg.Kernel)
	}
	if cfg.OutDir == "" {
		return nil, fmt.Errorf("guest %s: no output directory given", cfg.Name)
	}
	out, err := filepath.Abs(cfg.OutDir)
	if err != nil {
		return nil, fmt.Errorf("guest %s: output directory: %w", cfg.Name, err)
	}
	cfg.OutDir = out
	if err := os.MkdirAll(cfg.OutDir, 0o755); err != nil {
		return nil, fmt.Errorf("guest %s: output directory: %w", cfg.Name, err)
	}
	for k := range cfg.Env {
		if !reEnvKey.MatchString(k) {
			return nil, fmt.Errorf("guest %s: environment key %q is not a shell identifier", cfg.Name, k)
		}
	}
	runDir, err := os.MkdirTemp("", "fvm-guest-")
	if err != nil {
		return nil, fmt.Errorf("guest %s: run directory: %w", cfg.Name, err)
	}
	g := &Guest{cfg: cfg, runDir: runDir, done: make(chan struct{})}
	if err := g.writeInit(); err != nil {
		os.RemoveAll(runDir)
		return nil, err
	}
	args := []string{
		"mem=" + cfg.Mem, "root=/dev/root", "rootfstype=hostfs", "rootflags=/", "ro",
		"init=" + filepath.Join(runDir, "init.sh"), "con=null", "con0=fd:0,fd:1",
		"uml_dir=" + runDir,
	}
	// taskset and nice set the CPU and priority, then exec the kernel, so
	// every process it forks inherits them.
	argv := append([]string{cfg.Kernel}, args...)
	if cfg.Nice != 0 {
		argv = append([]string{"nice", "-n", strconv.Itoa(cfg.Nice)}, argv...)
	}
	if cfg.CPU != NoPin {
		argv = append([]string{"taskset", "-c", strconv.Itoa(cfg.CPU)}, argv...)
	}
	if argv[0] != cfg.Kernel {
		p, err := exec.LookPath(argv[0])
		if err != nil {
			os.RemoveAll(runDir)
			return nil, fmt.Errorf("guest %s: %s is needed to pin or nice guests: %w", cfg.Name, argv[0], err)
		}
		argv[0] = p
	}
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Dir = runDir
	cmd.Env = os.Environ()
	if os.Getenv("TMPDIR") == "" {
		// UML's memory file goes to $TMPDIR, /dev/shm or /tmp and must be
		// mappable PROT_EXEC; /dev/shm is noexec on some hosts.
		cmd.Env = append(cmd.Env, "TMPDIR="+os.TempDir())
	}
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	pr, pw, err := os.Pipe()
	if err != nil {
		os.RemoveAll(runDir)
		return nil, fmt.Errorf("guest %s: console pipe: %w", cfg.Name, err)
	}
	cmd.Stdout = pw
	cmd.Stderr = pw
	g.start = time.Now()
	if err := cmd.Start(); err != nil {
		pr.Close()
		pw.Close()
		os.RemoveAll(runDir)
		return nil, fmt.Errorf("guest %s: start %s: %w", cfg.Name, cfg.Kernel, err)
	}
	pw.Close()
	g.cmd = cmd
	g.tree = newCPUTree(cmd.Process.Pid)
	if cfg.Nice != 0 {
		if err := setAutogroupNice(cmd.Process.Pid, cfg.Nice); err != nil {
			killSession(g.tree)
			cmd.Wait()
			pr.Close()
			os.RemoveAll(runDir)
			return nil, fmt.Errorf("guest %s: %w", cfg.Name, err)
		}
	}
	g.tree.sample()

	if cfg.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, cfg.Timeout)
		go func() { <-g.done; cancel() }()
	}
	consoleDone := make(chan struct{})
	go g.readConsole(pr, consoleDone)
	go g.sampleLoop()
	go func() {
		select {
		case <-ctx.Done():
			g.mu.Lock()
			g.timedOut = true
			g.mu.Unlock()
			killSession(g.tree)
		case <-g.done:
		}
	}()
	go func() {
		err := cmd.Wait()
		g.tree.sample()
		// Leftover helpers or stubs of a crashed kernel hold the console.
		killSession(g.tree)
		<-consoleDone
		g.waitErr = g.verdict(err)
		os.RemoveAll(g.runDir)
		close(g.done)
	}()
	return g, nil
}

// setAutogroupNice gives the guest's session the nice value: with
// autogroup scheduling (sched_autogroup_enabled) each session competes as
// one group and the processes' own nice values only matter inside it. UML
// calls setsid() right at start, so wait for that first.
func setAutogroupNice(pid, nice int) error {
	ag := "/proc/" + strconv.Itoa(pid) + "/autogroup"
	if _, err := os.Stat(ag); err != nil {
		return nil // no autogroup support: the process nice is all there is
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		sid, _, _, ok := readStat(pid)
		if !ok {
			return fmt.Errorf("kernel process %d died at start", pid)
		}
		if sid == pid {
			break
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("kernel process %d did not call setsid() within 5 s", pid)
		}
		time.Sleep(time.Millisecond)
	}
	if err := os.WriteFile(ag, []byte(strconv.Itoa(nice)), 0); err != nil {
		return fmt.Errorf("set the session's autogroup nice %d: %w", nice, err)
	}
	return nil
}

func shellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// writeInit writes the guest's init (the fixed prologue and epilogue) and
// the user's script into the run directory.
func (g *Guest) writeInit() error {
	script := filepath.Join(g.runDir, "script.sh")
	if err := os.WriteFile(script, []byte(g.cfg.Script+"\n"), 0o755); err != nil {
		return fmt.Errorf("guest %s: write script: %w", g.cfg.Name, err)
	}
	var b strings.Builder
	b.WriteString("#!/bin/sh\n# Generated by friendly-vm uml-impl/host: the init of guest " + g.cfg.Name + ".\n")
	b.WriteString("export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/ TERM=dumb\n")
	fmt.Fprintf(&b, "export FVM_NAME=%s FVM_OUT=%s\n", shellQuote(g.cfg.Name), shellQuote(g.cfg.OutDir))
	keys := make([]string, 0, len(g.cfg.Env))
	for k := range g.cfg.Env {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		fmt.Fprintf(&b, "export %s=%s\n", k, shellQuote(g.cfg.Env[k]))
	}
	fmt.Fprintf(&b, `rc=0
mount -t proc proc /proc || { echo "fvm-init: cannot mount /proc"; rc=126; }
if [ $rc = 0 ]; then
	mount -t hostfs -o "$FVM_OUT" none "$FVM_OUT" || { echo "fvm-init: cannot mount $FVM_OUT read-write (hostfs)"; rc=127; }
fi
if [ $rc = 0 ]; then
	cd "$FVM_OUT" && /bin/sh %s
	rc=$?
fi
sync
echo "fvm-init: exit $rc"
echo o > /proc/sysrq-trigger
sleep 60
`, shellQuote(script))
	if err := os.WriteFile(filepath.Join(g.runDir, "init.sh"), []byte(b.String()), 0o755); err != nil {
		return fmt.Errorf("guest %s: write init: %w", g.cfg.Name, err)
	}
	return nil
}

func (g *Guest) readConsole(r io.ReadCloser, done chan<- struct{}) {
	defer close(done)
	defer r.Close()
	br := bufio.NewReader(r)
	buf := make([]byte, 32*1024)
	for {
		n, err := br.Read(buf)
		if n > 0 {
			g.mu.Lock()
			g.console = append(g.console, buf[:n]...)
			g.mu.Unlock()
			if g.cfg.Console != nil {
				g.cfg.Console.Write(buf[:n])
			}
		}
		if err != nil {
			return
		}
	}
}

func (g *Guest) sampleLoop() {
	t := time.NewTicker(g.cfg.SampleEvery)
	defer t.Stop()
	for {
		select {
		case <-g.done:
			return
		case <-t.C:
			g.tree.sample()
		}
	}
}

var reInitExit = regexp.MustCompile(`fvm-init: exit (\d+)`)

// verdict turns the way the guest ended into an error, or nil when its
// script exited 0 and the kernel powered off.
func (g *Guest) verdict(waitErr error) error {
	g.mu.Lock()
	timedOut := g.timedOut
	console := string(g.console)
	g.mu.Unlock()
	last := tail(console, 15)
	if timedOut {
		return fmt.Errorf("guest %s: killed after %s (deadline or cancelled; hung?); last console lines:\n%s",
			g.cfg.Name, time.Since(g.start).Round(time.Millisecond), last)
	}
	m := reInitExit.FindAllStringSubmatch(console, -1)
	if m == nil {
		return fmt.Errorf("guest %s: kernel %s ended before its init finished (%v); last console lines:\n%s",
			g.cfg.Name, g.cfg.Kernel, waitErr, last)
	}
	if rc := m[len(m)-1][1]; rc != "0" {
		return fmt.Errorf("guest %s: init script failed with status %s; last console lines:\n%s", g.cfg.Name, rc, last)
	}
	if waitErr != nil {
		var ee *exec.ExitError
		if errors.As(waitErr, &ee) {
			return fmt.Errorf("guest %s: kernel exited with %v after a clean init; last console lines:\n%s", g.cfg.Name, waitErr, last)
		}
		return fmt.Errorf("guest %s: %w", g.cfg.Name, waitErr)
	}
	return nil
}

// Wait waits for the guest to end. It returns nil when the script exited
// 0 and the kernel powered off cleanly, else an error naming the guest,
// what happened and the last console lines.
func (g *Guest) Wait() error {
	<-g.done
	return g.waitErr
}

// Done is closed when the guest has ended.
func (g *Guest) Done() <-chan struct{} { return g.done }

// Kill kills the guest's whole host process tree now.
func (g *Guest) Kill() {
	g.mu.Lock()
	g.timedOut = true
	g.mu.Unlock()
	killSession(g.tree)
}

// Pid is the host pid of the UML kernel process (the session leader).
func (g *Guest) Pid() int { return g.cmd.Process.Pid }

// Pids lists the guest's live host processes.
func (g *Guest) Pids() []int { return g.tree.pids() }

// AllowedCPUs is the host CPU list the kernel process may run on.
func (g *Guest) AllowedCPUs() (string, error) { return allowedCPUs(g.Pid()) }

// CPU samples the guest's host CPU time now.
func (g *Guest) CPU() CPUSample { return g.tree.sample() }

// CPUHistory returns every host CPU sample taken so far, in time order.
func (g *Guest) CPUHistory() []CPUSample { return g.tree.history() }

// Console returns the console output so far.
func (g *Guest) Console() string {
	g.mu.Lock()
	defer g.mu.Unlock()
	return string(g.console)
}

// OutDir is the host directory the guest writes into.
func (g *Guest) OutDir() string { return g.cfg.OutDir }

// CPUBetween interpolates the guest's host CPU ns used between host
// monotonic times t0 and t1 from its samples.
func CPUBetween(h []CPUSample, t0, t1 int64) (uint64, error) {
	a, err := cpuAt(h, t0)
	if err != nil {
		return 0, err
	}
	b, err := cpuAt(h, t1)
	if err != nil {
		return 0, err
	}
	if b < a {
		return 0, fmt.Errorf("host CPU went backwards between %d and %d", t0, t1)
	}
	return b - a, nil
}

func cpuAt(h []CPUSample, t int64) (uint64, error) {
	if len(h) == 0 || t < h[0].T || t > h[len(h)-1].T {
		return 0, fmt.Errorf("no host CPU samples around t=%d", t)
	}
	i := sort.Search(len(h), func(i int) bool { return h[i].T >= t })
	if h[i].T == t || i == 0 {
		return h[i].CPU, nil
	}
	p, q := h[i-1], h[i]
	f := float64(t-p.T) / float64(q.T-p.T)
	return p.CPU + uint64(f*float64(q.CPU-p.CPU)), nil
}
