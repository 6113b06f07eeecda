// Package cgrouptest is a fake cgroup and proc file system in a test
// directory: a cgroup.FS that behaves like the kernel's for everything
// package cgroup does (control files appear with a cgroup, writes are
// validated like the kernel's, a pid written to cgroup.procs leaves its
// old cgroup, a cgroup with tasks cannot be removed), plus helpers that
// play the scheduler: set a group's counters and a task's schedstat.
package cgrouptest

import (
	"fmt"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/friendly-vm/fvm/friendly/cgroup"
)

// Tree is the fake file system rooted at Root; paths given to it are the
// real system's (/sys/fs/cgroup/cpu/..., /proc/...).
type Tree struct {
	Root   string
	mounts []mnt
	mu     sync.Mutex
}

type mnt struct {
	point string
	ctl   []string // v1 controllers; nil for v2
	v2    bool
}

// The mount points of the fakes, as on the project's machines.
const (
	V1CPU     = "/sys/fs/cgroup/cpu"
	V1Acct    = "/sys/fs/cgroup/cpuacct"
	V1Both    = "/sys/fs/cgroup/cpu,cpuacct"
	V2Unified = "/sys/fs/cgroup/unified"
	V2Root    = "/sys/fs/cgroup"
)

// NewV1 returns a tree with cgroup v1's cpu and cpuacct controllers,
// mounted apart (as on the project's machines) or together, and a cgroup2
// mount without the cpu controller beside them.
func NewV1(t testing.TB, together bool) *Tree {
	tr := &Tree{Root: t.TempDir()}
	if together {
		tr.mounts = append(tr.mounts, mnt{point: V1Both, ctl: []string{"cpu", "cpuacct"}})
	} else {
		tr.mounts = append(tr.mounts, mnt{point: V1CPU, ctl: []string{"cpu"}}, mnt{point: V1Acct, ctl: []string{"cpuacct"}})
	}
	tr.mounts = append(tr.mounts, mnt{point: V2Unified, v2: true})
	tr.init(t, "")
	return tr
}

// NewV2 returns a tree with only cgroup v2, mounted at /sys/fs/cgroup,
// whose root offers controllers (e.g. "cpu memory", or "memory" for a
// system where cpu is bound to v1).
func NewV2(t testing.TB, controllers string) *Tree {
	tr := &Tree{Root: t.TempDir(), mounts: []mnt{{point: V2Root, v2: true}}}
	tr.init(t, controllers)
	return tr
}

func (tr *Tree) init(t testing.TB, v2ctl string) {
	t.Helper()
	var mi strings.Builder
	var self strings.Builder
	for i, m := range tr.mounts {
		if err := tr.makeCgroup(m, m.point, true); err != nil {
			t.Fatal(err)
		}
		if m.v2 {
			tr.put(path.Join(m.point, "cgroup.controllers"), v2ctl+"\n")
			fmt.Fprintf(&mi, "%d 20 0:%d / %s rw,nosuid,nodev,noexec,relatime shared:%d - cgroup2 cgroup2 rw\n", 30+i, 30+i, m.point, i)
			fmt.Fprintf(&self, "0::/\n")
			continue
		}
		fmt.Fprintf(&mi, "%d 20 0:%d / %s rw,nosuid,nodev,noexec,relatime shared:%d - cgroup cgroup rw,%s\n", 30+i, 30+i, m.point, i, strings.Join(m.ctl, ","))
		fmt.Fprintf(&self, "%d:%s:/\n", 10-i, strings.Join(m.ctl, ","))
	}
	fmt.Fprintf(&mi, "99 20 0:99 / /proc rw - proc proc rw\n")
	tr.put("/proc/self/mountinfo", mi.String())
	tr.put("/proc/self/cgroup", self.String())
}

// Path returns where a real path lives in the fake.
func (tr *Tree) Path(p string) string { return filepath.Join(tr.Root, filepath.FromSlash(p)) }

func (tr *Tree) put(p, s string) {
	q := tr.Path(p)
	if err := os.MkdirAll(filepath.Dir(q), 0o755); err != nil {
		panic(err)
	}
	if err := os.WriteFile(q, []byte(s), 0o644); err != nil {
		panic(err)
	}
}

// mountOf returns the mount holding path p.
func (tr *Tree) mountOf(p string) (mnt, bool) {
	best, ok := mnt{}, false
	for _, m := range tr.mounts {
		if (p == m.point || strings.HasPrefix(p, m.point+"/")) && len(m.point) > len(best.point) {
			best, ok = m, true
		}
	}
	return best, ok
}

// makeCgroup creates the control files of a new cgroup.
func (tr *Tree) makeCgroup(m mnt, dir string, root bool) error {
	if err := os.MkdirAll(tr.Path(dir), 0o755); err != nil {
		return err
	}
	files := map[string]string{"cgroup.procs": ""}
	if m.v2 {
		files["cgroup.threads"] = ""
		files["cgroup.subtree_control"] = ""
		files["cpu.pressure"] = "some avg10=0.00 avg60=0.00 avg300=0.00 total=0\n"
		if !root {
			parent, err := os.ReadFile(tr.Path(path.Join(path.Dir(dir), "cgroup.subtree_control")))
			if err != nil {
				return err
			}
			files["cgroup.controllers"] = string(parent)
			if slices.Contains(strings.Fields(string(parent)), "cpu") {
				files["cpu.max"] = "max 100000\n"
				files["cpu.weight.nice"] = "0\n"
				files["cpu.idle"] = "0\n"
				files["cpu.stat"] = "usage_usec 0\nuser_usec 0\nsystem_usec 0\nnr_periods 0\nnr_throttled 0\nthrottled_usec 0\nnr_bursts 0\nburst_usec 0\n"
			}
		}
	} else {
		files["tasks"] = ""
		if slices.Contains(m.ctl, "cpu") {
			files["cpu.cfs_period_us"] = "100000\n"
			files["cpu.cfs_quota_us"] = "-1\n"
			files["cpu.shares"] = "1024\n"
			files["cpu.idle"] = "0\n"
			files["cpu.stat"] = "nr_periods 0\nnr_throttled 0\nthrottled_time 0\nnr_bursts 0\nburst_time 0\n"
		}
		if slices.Contains(m.ctl, "cpuacct") {
			files["cpuacct.usage"] = "0\n"
		}
	}
	for f, s := range files {
		if err := os.WriteFile(tr.Path(path.Join(dir, f)), []byte(s), 0o644); err != nil {
			return err
		}
	}
	return nil
}

func pathErr(op, p string, err error) error { return &os.PathError{Op: op, Path: p, Err: err} }

// idle reports whether the group in dir is at idle priority (cpu.idle 1).
func (tr *Tree) idle(dir string) bool {
	b, err := os.ReadFile(tr.Path(path.Join(dir, "cpu.idle")))
	return err == nil && strings.TrimSpace(string(b)) == "1"
}

// ReadFile implements cgroup.FS.
func (tr *Tree) ReadFile(p string) ([]byte, error) {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	b, err := os.ReadFile(tr.Path(p))
	if err != nil {
		return nil, pathErr("open", p, unix.ENOENT)
	}
	return b, nil
}

// Mkdir implements cgroup.FS.
func (tr *Tree) Mkdir(p string) error {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	m, ok := tr.mountOf(p)
	if !ok {
		return pathErr("mkdir", p, unix.EACCES)
	}
	if _, err := os.Stat(tr.Path(p)); err == nil {
		return pathErr("mkdir", p, unix.EEXIST)
	}
	if _, err := os.Stat(tr.Path(path.Dir(p))); err != nil {
		return pathErr("mkdir", p, unix.ENOENT)
	}
	return tr.makeCgroup(m, p, false)
}

// Rmdir implements cgroup.FS: EBUSY while the cgroup holds a process or a
// child cgroup.
func (tr *Tree) Rmdir(p string) error {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	m, ok := tr.mountOf(p)
	if !ok || p == m.point {
		return pathErr("rmdir", p, unix.EBUSY)
	}
	b, err := os.ReadFile(tr.Path(path.Join(p, "cgroup.procs")))
	if err != nil {
		return pathErr("rmdir", p, unix.ENOENT)
	}
	subs, _ := cgroup.SubDirsOf(tr.Path(p))
	if len(strings.Fields(string(b))) > 0 || len(subs) > 0 {
		return pathErr("rmdir", p, unix.EBUSY)
	}
	return os.RemoveAll(tr.Path(p))
}

// SubDirs implements cgroup.FS.
func (tr *Tree) SubDirs(p string) ([]string, error) {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	s, err := cgroup.SubDirsOf(tr.Path(p))
	if err != nil {
		return nil, pathErr("open", p, unix.ENOENT)
	}
	return s, nil
}

// WriteFile implements cgroup.FS, validating like the kernel.
func (tr *Tree) WriteFile(p string, b []byte) error {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	q := tr.Path(p)
	if _, err := os.Stat(q); err != nil {
		return pathErr("open", p, unix.ENOENT)
	}
	s := strings.TrimSpace(string(b))
	dir, file := path.Split(p)
	dir = path.Clean(dir)
	inval := pathErr("write", p, unix.EINVAL)
	switch file {
	case "cgroup.procs", "tasks":
		pid, err := strconv.Atoi(s)
		if err != nil || pid <= 0 {
			return inval
		}
		if _, err := os.Stat(tr.Path("/proc/" + s + "/stat")); err != nil {
			return pathErr("write", p, unix.ESRCH)
		}
		m, _ := tr.mountOf(p)
		if err := tr.removePid(m.point, pid); err != nil {
			return err
		}
		for _, f := range []string{"cgroup.procs", "tasks", "cgroup.threads"} {
			if err := appendLine(tr.Path(path.Join(dir, f)), s); err != nil {
				return err
			}
		}
		return nil
	case "cpu.cfs_quota_us":
		v, err := strconv.ParseInt(s, 10, 64)
		if err != nil || (v >= 0 && v < cgroup.MinQuotaUs) {
			return inval
		}
		if v < 0 {
			v = -1
		}
		return os.WriteFile(q, []byte(strconv.FormatInt(v, 10)+"\n"), 0o644)
	case "cpu.cfs_period_us":
		v, err := strconv.ParseInt(s, 10, 64)
		if err != nil || v < cgroup.MinPeriodUs || v > cgroup.MaxPeriodUs {
			return inval
		}
		return os.WriteFile(q, []byte(s+"\n"), 0o644)
	case "cpu.max":
		f := strings.Fields(s)
		old, _ := os.ReadFile(q)
		of := strings.Fields(string(old))
		if len(f) < 1 || len(f) > 2 || len(of) != 2 {
			return inval
		}
		if f[0] != "max" {
			v, err := strconv.ParseInt(f[0], 10, 64)
			if err != nil || v < cgroup.MinQuotaUs {
				return inval
			}
		}
		period := of[1]
		if len(f) == 2 {
			v, err := strconv.ParseInt(f[1], 10, 64)
			if err != nil || v < cgroup.MinPeriodUs || v > cgroup.MaxPeriodUs {
				return inval
			}
			period = f[1]
		}
		return os.WriteFile(q, []byte(f[0]+" "+period+"\n"), 0o644)
	case "cpu.idle":
		if s != "0" && s != "1" {
			return inval
		}
		// As the kernel (sched_group_set_idle): either way the group's
		// weight becomes the idle weight or the default, whatever it was.
		for f, def := range map[string]string{"cpu.shares": "1024", "cpu.weight.nice": "0"} {
			w := tr.Path(path.Join(dir, f))
			if _, err := os.Stat(w); err == nil {
				if err := os.WriteFile(w, []byte(def+"\n"), 0o644); err != nil {
					return err
				}
			}
		}
		return os.WriteFile(q, []byte(s+"\n"), 0o644)
	case "cpu.shares":
		v, err := strconv.Atoi(s)
		if err != nil || v < 2 || v > 262144 || tr.idle(dir) {
			return inval // an idle group's weight cannot change
		}
		return os.WriteFile(q, []byte(s+"\n"), 0o644)
	case "cpu.weight.nice":
		v, err := strconv.Atoi(s)
		if err != nil || v < -20 || v > 19 || tr.idle(dir) {
			return inval
		}
		return os.WriteFile(q, []byte(s+"\n"), 0o644)
	case "cgroup.subtree_control":
		ctl, _ := os.ReadFile(tr.Path(path.Join(dir, "cgroup.controllers")))
		cur, _ := os.ReadFile(q)
		on := strings.Fields(string(cur))
		for _, w := range strings.Fields(s) {
			if len(w) < 2 || w[0] != '+' || !slices.Contains(strings.Fields(string(ctl)), w[1:]) {
				return inval
			}
			if !slices.Contains(on, w[1:]) {
				on = append(on, w[1:])
			}
		}
		return os.WriteFile(q, []byte(strings.Join(on, " ")+"\n"), 0o644)
	}
	return inval
}

func appendLine(p, s string) error {
	f, err := os.OpenFile(p, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		if os.IsNotExist(err) {
			return nil
		}
		return err
	}
	defer f.Close()
	_, err = f.WriteString(s + "\n")
	return err
}

// removePid takes pid out of every cgroup of the mount at point.
func (tr *Tree) removePid(point string, pid int) error {
	return filepath.WalkDir(tr.Path(point), func(q string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		switch d.Name() {
		case "cgroup.procs", "tasks", "cgroup.threads":
		default:
			return nil
		}
		b, err := os.ReadFile(q)
		if err != nil {
			return err
		}
		var keep []string
		for _, f := range strings.Fields(string(b)) {
			if f != strconv.Itoa(pid) {
				keep = append(keep, f)
			}
		}
		s := strings.Join(keep, "\n")
		if s != "" {
			s += "\n"
		}
		return os.WriteFile(q, []byte(s), 0o644)
	})
}

// Spawn makes a fake process (one thread, tid = pid) with a start time,
// in the root cgroups; its schedstat starts at zero.
func (tr *Tree) Spawn(pid int, start uint64) {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	// The stat line has the command name in parentheses, then fields 3..22.
	fields := make([]string, 20)
	fields[0] = "R"
	for i := 1; i < 19; i++ {
		fields[i] = "0"
	}
	fields[19] = strconv.FormatUint(start, 10)
	tr.put("/proc/"+strconv.Itoa(pid)+"/stat", strconv.Itoa(pid)+" (fake task) "+strings.Join(fields, " ")+"\n")
	tr.put("/proc/"+strconv.Itoa(pid)+"/schedstat", "0 0 0\n")
	for _, m := range tr.mounts {
		_ = appendLine(tr.Path(path.Join(m.point, "cgroup.procs")), strconv.Itoa(pid))
		_ = appendLine(tr.Path(path.Join(m.point, "tasks")), strconv.Itoa(pid))
		_ = appendLine(tr.Path(path.Join(m.point, "cgroup.threads")), strconv.Itoa(pid))
	}
}

// Exit ends a fake process: it leaves its cgroups and /proc.
func (tr *Tree) Exit(pid int) {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	for _, m := range tr.mounts {
		_ = tr.removePid(m.point, pid)
	}
	_ = os.RemoveAll(tr.Path("/proc/" + strconv.Itoa(pid)))
}

// SetSchedstat sets a task's time on a CPU and run delay (ns).
func (tr *Tree) SetSchedstat(tid int, run, delay uint64) {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	tr.put("/proc/"+strconv.Itoa(tid)+"/schedstat", fmt.Sprintf("%d %d 7\n", run, delay))
}

// SetUsage sets a group's cumulative CPU and throttled time (ns) and
// throttled periods, in the files of its version: cpuacct.usage and v1's
// cpu.stat, or v2's cpu.stat (in µs, as the kernel reports them).
func (tr *Tree) SetUsage(g *cgroup.Group, u cgroup.Usage) {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	dirs := g.Dirs()
	if g.Layout().Version == cgroup.V2 {
		tr.put(path.Join(dirs[0], "cpu.stat"), fmt.Sprintf("usage_usec %d\nuser_usec %d\nsystem_usec 0\nnr_periods %d\nnr_throttled %d\nthrottled_usec %d\nnr_bursts 0\nburst_usec 0\n",
			u.CPUNs/1000, u.CPUNs/1000, u.NrThrottled, u.NrThrottled, u.ThrottledNs/1000))
		return
	}
	tr.put(path.Join(dirs[0], "cpu.stat"), fmt.Sprintf("nr_periods %d\nnr_throttled %d\nthrottled_time %d\nnr_bursts 0\nburst_time 0\n", u.NrThrottled, u.NrThrottled, u.ThrottledNs))
	tr.put(path.Join(dirs[len(dirs)-1], "cpuacct.usage"), fmt.Sprintf("%d\n", u.CPUNs))
}

// Procs lists the pids in a cgroup directory.
func (tr *Tree) Procs(dir string) []int {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	b, _ := os.ReadFile(tr.Path(path.Join(dir, "cgroup.procs")))
	var out []int
	for _, f := range strings.Fields(string(b)) {
		v, _ := strconv.Atoi(f)
		out = append(out, v)
	}
	return out
}

// Exists reports whether a path exists in the fake.
func (tr *Tree) Exists(p string) bool {
	_, err := os.Stat(tr.Path(p))
	return err == nil
}

// Content returns a file's content ("" if missing).
func (tr *Tree) Content(p string) string {
	b, _ := os.ReadFile(tr.Path(p))
	return string(b)
}
