//go:build friendlyreal

package experiment

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/friendly-vm/fvm/friendly"
	"github.com/friendly-vm/fvm/friendly/cgroup"
	"github.com/friendly-vm/fvm/trace"
	"github.com/friendly-vm/fvm/trace/refine"
	"github.com/friendly-vm/fvm/uml-impl/controller"
)

// Real friendly-group tests (make test-friendly): the pair, greedy and
// kill -9 scenarios on the real kernel's cgroups, serially, pinned to
// FVM_GUEST_CPU (default 0), with the machine to themselves. Each run is
// refinement-checked. With FVM_RUN_DIR set, each run is kept there (the
// calibration rounds summarized under testdata/thresholds/friendly were
// made so).

var fvmExe string

// realNice raises the participants together against background load on
// a shared machine (Spec.Nice): they keep the kernel's default weights
// against each other. On an idle machine (CI) it changes nothing.
const realNice = -15

func TestMain(m *testing.M) {
	if reason := prerequisites(); reason != "" {
		fmt.Printf("SKIP friendly: %s: the real friendly-group tests (pair fairness, greedy friendliness, kill -9 of the controller, leftovers) did not run\n", reason)
		os.Exit(0)
	}
	dir, err := os.MkdirTemp("", "fvm-friendly-real")
	if err != nil {
		panic(err)
	}
	fvmExe = filepath.Join(dir, "fvm")
	if out, err := exec.Command("go", "build", "-o", fvmExe, "github.com/friendly-vm/fvm/cmd/fvm").CombinedOutput(); err != nil {
		panic("go build fvm: " + err.Error() + "\n" + string(out))
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// prerequisites says why the tests cannot run here ("" if they can): they
// need root and a cgroup hierarchy with the cpu controller in which a
// group can be made.
func prerequisites() string {
	if os.Geteuid() != 0 {
		return "not root"
	}
	l, err := cgroup.Detect(cgroup.OS{})
	if err != nil {
		return err.Error()
	}
	name, err := cgroup.OwnerName(cgroup.OS{}, os.Getpid())
	if err != nil {
		return err.Error()
	}
	g, err := l.Create(cgroup.OS{}, name)
	if err != nil {
		return "cannot make a cgroup: " + err.Error()
	}
	if err := g.Release(); err != nil {
		return "cannot remove a cgroup: " + err.Error()
	}
	return ""
}

func realCPU(t *testing.T) int {
	t.Helper()
	c := os.Getenv("FVM_GUEST_CPU")
	if c == "" {
		return 0
	}
	n, err := strconv.Atoi(c)
	if err != nil || n < 0 {
		t.Fatalf("FVM_GUEST_CPU=%q: want a CPU number", c)
	}
	return n
}

// runDir is where a run goes: $FVM_RUN_DIR/name, else a test directory.
func runDir(t *testing.T, name string) string {
	if d := os.Getenv("FVM_RUN_DIR"); d != "" {
		return filepath.Join(d, name)
	}
	return filepath.Join(t.TempDir(), name)
}

func runReal(t *testing.T, name string, d time.Duration) *Summary {
	return runRealMode(t, name, d, false)
}

// runRealMode runs the experiment with sleeping pauses (CFS quotas) or, if
// idle, work-conserving ones (cpu.idle).
func runRealMode(t *testing.T, name string, d time.Duration, idle bool) *Summary {
	t.Helper()
	e, err := Lookup(name)
	if err != nil {
		t.Fatal(err)
	}
	specs := e.Specs(d, realCPU(t), realNice, idle)
	ctx, cancel := context.WithTimeout(context.Background(), d+2*time.Minute)
	defer cancel()
	res, err := Run(ctx, specs[0], Env{Exe: fvmExe}, runDir(t, specs[0].Name))
	if err != nil {
		t.Fatal(err)
	}
	s := res.Summary
	t.Logf("%s\n%s", res.Dir, RunTable(s))
	if !s.Complete {
		t.Errorf("%s incomplete: %v", s.Name, s.Errors)
	}
	if s.Refines == nil || !*s.Refines {
		t.Errorf("%s does not refine ref: %s", s.Name, s.RefineFailure)
	}
	for _, p := range s.Participants {
		if bound := int64(controller.DefaultFor(idle).Delay); p.Role == Friendly && (p.MaxDelay > bound || p.GapWindows > 0) {
			t.Errorf("%s: max feedback delay %d windows (bound %d), %d windows lost", p.Name, p.MaxDelay, bound, p.GapWindows)
		}
	}
	return s
}

func TestRealPairIsFair(t *testing.T) {
	s := runReal(t, "pair", RealPairDuration)
	if s.JainFriendly < PairJainMin {
		t.Errorf("pair: Jain index %.4f of the groups' shares, want >= %.2f", s.JainFriendly, PairJainMin)
	}
}

func TestRealGreedyIsFriendly(t *testing.T) {
	s := runReal(t, "greedy", RealGreedyDuration)
	f, g := s.Participants[0], s.Participants[1]
	if f.Share >= GreedyFriendlyMax {
		t.Errorf("greedy: the friendly group's share %.3f, want below its fair share %.2f", f.Share, GreedyFriendlyMax)
	}
	if g.Share < GreedyOtherMin {
		t.Errorf("greedy: the busy process's share %.3f, want >= %.2f", g.Share, GreedyOtherMin)
	}
}

// With work-conserving pauses (fvm friendly --pause-mode idle), two busy
// groups share the core fairly and use all of it, and beside a busy
// process a busy group backs off below its fair share.
func TestRealIdlePairIsFairAndFull(t *testing.T) {
	s := runRealMode(t, "pair", RealPairDuration, true)
	if s.JainFriendly < IdlePairJainMin {
		t.Errorf("pair, work-conserving pauses: Jain index %.4f of the groups' shares, want >= %.2f", s.JainFriendly, IdlePairJainMin)
	}
	if s.Utilisation < IdlePairUtilisationMin {
		t.Errorf("pair, work-conserving pauses: utilisation %.3f, want >= %.2f", s.Utilisation, IdlePairUtilisationMin)
	}
}

func TestRealIdleGreedyIsFriendly(t *testing.T) {
	s := runRealMode(t, "greedy", RealGreedyDuration, true)
	f, g := s.Participants[0], s.Participants[1]
	if f.Share >= IdleGreedyFriendlyMax {
		t.Errorf("greedy, work-conserving pauses: the friendly group's share %.3f, want below %.2f", f.Share, IdleGreedyFriendlyMax)
	}
	if g.Share < IdleGreedyOtherMin {
		t.Errorf("greedy, work-conserving pauses: the busy process's share %.3f, want >= %.2f", g.Share, IdleGreedyOtherMin)
	}
}

// share measures a task's CPU share over d.
func share(t *testing.T, pid int, d time.Duration) float64 {
	t.Helper()
	read := func() (int64, uint64) {
		s, err := cgroup.ReadSchedstat(cgroup.OS{}, pid)
		if err != nil {
			t.Fatal(err)
		}
		return friendly.Now(), s.RunNs
	}
	t0, c0 := read()
	time.Sleep(d)
	t1, c1 := read()
	return float64(c1-c0) / float64(t1-t0)
}

// startPinned starts argv pinned to cpu in its own process group.
func startPinned(t *testing.T, cpu int, argv ...string) *exec.Cmd {
	t.Helper()
	spec := fmt.Sprintf(`{"argv":[%s],"cpu":%d}`, quoteJSON(argv), cpu)
	cmd := exec.Command(fvmExe, append(append([]string(nil), friendly.HelperArgs...), "exec", spec)...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = unix.Kill(-cmd.Process.Pid, syscall.SIGKILL); _ = cmd.Wait() })
	return cmd
}

func quoteJSON(xs []string) string {
	q := make([]string, len(xs))
	for i, x := range xs {
		q[i] = strconv.Quote(x)
	}
	return strings.Join(q, ",")
}

// groupOf returns the group of the fvm friendly process pid and its
// command's pid, waiting until the command runs in it: until the exec
// helper in the group has become comm. (The helper enters the group
// before the controller lets it exec; a controller killed in between
// leaves the helper to exit without running the command, and the group
// empty.)
func groupOf(t *testing.T, pid int, comm string) (*cgroup.Group, int) {
	t.Helper()
	l, err := cgroup.Detect(cgroup.OS{})
	if err != nil {
		t.Fatal(err)
	}
	name, err := cgroup.OwnerName(cgroup.OS{}, pid)
	if err != nil {
		t.Fatal(err)
	}
	g := l.Group(cgroup.OS{}, name)
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if ps, err := g.Procs(); err == nil && len(ps) > 0 {
			if b, err := os.ReadFile(fmt.Sprintf("/proc/%d/comm", ps[0])); err == nil && strings.TrimSpace(string(b)) == comm {
				return g, ps[0]
			}
		}
	}
	t.Fatalf("fvm friendly (pid %d) made no group %s with %s running in it", pid, name, comm)
	return nil, 0
}

// inHomeCgroup reports whether pid is back in the caller's cpu cgroup.
func inHomeCgroup(t *testing.T, pid int) bool {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/cgroup")
	if err != nil {
		t.Fatal(err)
	}
	return !strings.Contains(string(b), cgroup.Prefix)
}

// TestRealKill9 kills fvm friendly with SIGKILL while its busy command is
// throttled beside a busy process (--pause-mode sleep: a quota the
// watchdog must lift, as calibrated): the command must not stay throttled.
// It runs on (the watchdog's choice, see package friendly): back in the
// caller's cgroup, the group removed, its share back to its fair share
// beside the busy process; the trace ends with the watchdog's unclean end
// and refines ref up to it.
func TestRealKill9(t *testing.T) {
	cpu := realCPU(t)
	dir := runDir(t, "friendly-kill9")
	restore, err := AutogroupNice(realNice)
	if err != nil {
		t.Fatal(err)
	}
	defer restore()
	startPinned(t, cpu, "sh", "-c", "while :; do :; done")
	f := exec.Command(fvmExe, "friendly", "--pause-mode", "sleep", "--out", dir, "--name", "F", "--cpu", strconv.Itoa(cpu), "--init", "1",
		"--nice", strconv.Itoa(realNice), "--", "sh", "-c", "while :; do :; done")
	f.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := f.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = unix.Kill(-f.Process.Pid, syscall.SIGKILL) })
	g, pid := groupOf(t, f.Process.Pid, "sh")
	time.Sleep(3 * time.Second)
	q, p, err := g.Bandwidth()
	if err != nil {
		t.Fatal(err)
	}
	before := share(t, pid, 2*time.Second)
	if err := f.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_ = f.Wait()
	killed := time.Now()
	for !inHomeCgroup(t, pid) || g.Exists() {
		if time.Since(killed) > 2*time.Second {
			t.Fatalf("2 s after kill -9 of fvm friendly the command is still in group %s (exists %v)", g.Name(), g.Exists())
		}
		time.Sleep(5 * time.Millisecond)
	}
	restored := time.Since(killed)
	after := share(t, pid, 2*time.Second)
	k := KillRun{QuotaUs: q, PeriodUs: p, ShareBefore: before, ShareAfter: after, RestoredS: restored.Seconds()}
	t.Logf("kill -9: quota %d/%d us before; command's share %.3f before, %.3f after; restored %v after the kill", q, p, before, after, restored)
	if d := os.Getenv("FVM_RUN_DIR"); d != "" {
		if err := friendly.WriteJSON(filepath.Join(dir, "kill.json"), k); err != nil {
			t.Fatal(err)
		}
	}
	if q < 0 || q >= p {
		t.Errorf("before the kill the group was not throttled: quota %d us of %d", q, p)
	}
	if before >= Kill9BeforeMax {
		t.Errorf("share before the kill %.3f, want < %.2f (throttled)", before, Kill9BeforeMax)
	}
	if after < Kill9AfterMin {
		t.Errorf("share after the kill %.3f, want >= %.2f (unthrottled, beside one busy process)", after, Kill9AfterMin)
	}
	evs, err := trace.ReadFile(filepath.Join(dir, "F.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	if last := evs[len(evs)-1]; last.Kind != trace.KindEnd || last.End.Clean || last.End.Reason != friendly.DiedReason {
		t.Errorf("the trace ends with %+v, want the watchdog's unclean end", last)
	}
	rr, err := refine.CheckFiles([]string{dir}, refine.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if rr.OK() || rr.Failure.Kind != "end" || !strings.Contains(rr.Failure.Msg, "ended incompletely") {
		t.Errorf("trace check of the killed run: %v, want a failure at its unclean end only", rr.Failure)
	}
}

// TestRealNoLeftovers: a group whose controller and watchdog were both
// killed is the one case the watchdog cannot cover; the next run lifts
// the quota of such a group while a task is still in it, and once it is
// empty the next run removes it: after that no cgroup of ours is left.
// Every run made here refines ref.
func TestRealNoLeftovers(t *testing.T) {
	base := runDir(t, "friendly-leftovers")
	l, err := cgroup.Detect(cgroup.OS{})
	if err != nil {
		t.Fatal(err)
	}
	f := exec.Command(fvmExe, "friendly", "--pause-mode", "sleep", "--out", filepath.Join(base, "killed"), "--init", "1", "--", "sleep", "60")
	f.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := f.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = unix.Kill(-f.Process.Pid, syscall.SIGKILL) })
	g, sleeper := groupOf(t, f.Process.Pid, "sleep")
	wd := watchdogOf(t, g.Name())
	_ = unix.Kill(wd, syscall.SIGKILL)
	_ = f.Process.Kill()
	_ = f.Wait()
	time.Sleep(200 * time.Millisecond)
	if q, _, err := g.Bandwidth(); err != nil || q < 0 {
		t.Fatalf("with controller and watchdog killed, the group should be left throttled: quota %d, %v", q, err)
	}
	if ps, err := g.Procs(); err != nil || !slices.Contains(ps, sleeper) {
		t.Fatalf("with controller and watchdog killed, the command (pid %d) should be left in the group: it holds %v, %v", sleeper, ps, err)
	}
	run := func(name string) {
		t.Helper()
		dir := filepath.Join(base, name)
		out, err := exec.Command(fvmExe, "friendly", "--out", dir, "--", "true").CombinedOutput()
		if err != nil {
			t.Fatalf("fvm friendly -- true: %v\n%s", err, out)
		}
		t.Logf("%s: %s", name, strings.TrimSpace(string(out)))
		rr, err := refine.CheckFiles([]string{dir}, refine.Options{})
		if err != nil || !rr.OK() {
			t.Errorf("run %s does not refine ref: %v %v", name, err, rr.Failure)
		}
	}
	run("next")
	if q, _, err := g.Bandwidth(); err != nil || q != cgroup.Unlimited {
		t.Errorf("the next run did not lift the orphan's quota: %d, %v", q, err)
	}
	if !g.Exists() {
		t.Fatal("the next run removed a group with a task in it")
	}
	_ = unix.Kill(sleeper, syscall.SIGKILL)
	for deadline := time.Now().Add(2 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		if ps, _ := g.Procs(); len(ps) == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the sleeper did not leave the group")
		}
	}
	run("after")
	left, err := l.Leftovers(cgroup.OS{})
	if err != nil || len(left) != 0 {
		t.Errorf("groups of ours left after the next run: %v, %v", left, err)
	}
}

// watchdogOf finds the watchdog process of a group.
func watchdogOf(t *testing.T, group string) int {
	t.Helper()
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile("/proc/" + e.Name() + "/cmdline")
		if err != nil {
			continue
		}
		if s := string(b); strings.Contains(s, "watchdog") && strings.Contains(s, `"group":"`+group+`"`) {
			return pid
		}
	}
	t.Fatalf("no watchdog for group %s", group)
	return 0
}
