package cgroup

import (
	"errors"
	"fmt"
	iofs "io/fs"
	"path"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// Unlimited is the quota of a group that is never throttled (v1's -1,
// v2's "max").
const Unlimited = -1

// Kernel limits of CFS bandwidth control (kernel/sched/core.c): a quota
// and a period are at least 1 ms; a period is at most 1 s.
const (
	MinQuotaUs  = 1000
	MinPeriodUs = 1000
	MaxPeriodUs = 1_000_000
)

// Group is one friendly group: the cgroup Prefix+Name at the root of the
// hierarchies of a Layout (the cpu one, and v1's cpuacct one when it is
// mounted apart).
type Group struct {
	fs     FS
	layout Layout
	name   string
	dirs   []string // dirs[0]: the cpu controller's
	homes  []string
}

// Group returns the handle of the group called name (which may not exist).
func (l *Layout) Group(fs FS, name string) *Group {
	d, h := l.dirs(name)
	return &Group{fs: fs, layout: *l, name: name, dirs: d, homes: h}
}

// Create makes the group called name (in v2, enabling the cpu controller
// for the root's children first). It fails if the group exists.
func (l *Layout) Create(fs FS, name string) (*Group, error) {
	if name == "" || strings.ContainsAny(name, "/\n") || name == "." || name == ".." {
		return nil, fmt.Errorf("cgroup name %q: want a plain directory name", name)
	}
	if l.Version == V2 {
		// The group gets the cpu controller from the root's subtree_control.
		if err := enable(fs, l.CPU); err != nil {
			return nil, err
		}
	}
	g := l.Group(fs, name)
	for _, d := range g.dirs {
		if err := fs.Mkdir(d); err != nil {
			return nil, fmt.Errorf("cgroup %s: %w", d, err)
		}
	}
	return g, nil
}

func notExist(err error) bool { return errors.Is(err, unix.ENOENT) || errors.Is(err, iofs.ErrNotExist) }

// enable turns the cpu controller on for the children of dir (v2).
func enable(fs FS, dir string) error {
	b, err := fs.ReadFile(path.Join(dir, "cgroup.subtree_control"))
	if err != nil {
		return fmt.Errorf("cgroup %s: %w", dir, err)
	}
	for _, c := range strings.Fields(string(b)) {
		if c == "cpu" {
			return nil
		}
	}
	if err := fs.WriteFile(path.Join(dir, "cgroup.subtree_control"), []byte("+cpu")); err != nil {
		return fmt.Errorf("cgroup %s: enable the cpu controller for its children: %w", dir, err)
	}
	return nil
}

// Name returns the group's name (its directory is Prefix+Name).
func (g *Group) Name() string { return g.name }

// Dir returns the group's directory in the cpu controller's hierarchy.
func (g *Group) Dir() string { return g.dirs[0] }

// Dirs returns the group's directories, the cpu controller's first.
func (g *Group) Dirs() []string { return append([]string(nil), g.dirs...) }

// Layout returns the layout the group lives in.
func (g *Group) Layout() Layout { return g.layout }

// Exists reports whether the group's cpu directory is there.
func (g *Group) Exists() bool {
	_, err := g.fs.ReadFile(path.Join(g.dirs[0], "cgroup.procs"))
	return err == nil
}

// AddProc moves process pid (all its threads) into the group, in every
// hierarchy.
func (g *Group) AddProc(pid int) error {
	for _, d := range g.dirs {
		if err := g.fs.WriteFile(path.Join(d, "cgroup.procs"), []byte(strconv.Itoa(pid))); err != nil {
			return fmt.Errorf("cgroup %s: add process %d: %w", d, pid, err)
		}
	}
	return nil
}

func quotaText(v Version, quotaUs int64) string {
	if quotaUs < 0 {
		if v == V2 {
			return "max"
		}
		return "-1"
	}
	return strconv.FormatInt(quotaUs, 10)
}

// SetBandwidth sets the quota (µs of CPU per period, or Unlimited) and
// the period (µs).
func (g *Group) SetBandwidth(quotaUs, periodUs int64) error {
	d := g.dirs[0]
	if g.layout.Version == V2 {
		s := quotaText(V2, quotaUs) + " " + strconv.FormatInt(periodUs, 10)
		if err := g.fs.WriteFile(path.Join(d, "cpu.max"), []byte(s)); err != nil {
			return fmt.Errorf("cgroup %s: cpu.max %q: %w", d, s, err)
		}
		return nil
	}
	if err := g.fs.WriteFile(path.Join(d, "cpu.cfs_period_us"), []byte(strconv.FormatInt(periodUs, 10))); err != nil {
		return fmt.Errorf("cgroup %s: cpu.cfs_period_us %d: %w", d, periodUs, err)
	}
	return g.SetQuota(quotaUs)
}

// SetQuota sets the quota (µs of CPU per period, or Unlimited), keeping
// the period: one write.
func (g *Group) SetQuota(quotaUs int64) error {
	d := g.dirs[0]
	file := "cpu.cfs_quota_us"
	if g.layout.Version == V2 {
		file = "cpu.max"
	}
	s := quotaText(g.layout.Version, quotaUs)
	if err := g.fs.WriteFile(path.Join(d, file), []byte(s)); err != nil {
		return fmt.Errorf("cgroup %s: %s %s: %w", d, file, s, err)
	}
	return nil
}

// niceWeight is the kernel's weight of each nice value, -20..19
// (sched_prio_to_weight in kernel/sched/core.c): a task or group of weight
// w gets w/sum of the CPU among its runnable siblings.
var niceWeight = [40]int{
	88761, 71755, 56483, 46273, 36291, 29154, 23254, 18705, 14949, 11916,
	9548, 7620, 6100, 4904, 3906, 3121, 2501, 1991, 1586, 1277,
	1024, 820, 655, 526, 423, 335, 272, 215, 172, 137,
	110, 87, 70, 56, 45, 36, 29, 23, 18, 15,
}

// NiceWeight returns the kernel's weight for nice n (-20..19).
func NiceWeight(n int) (int, error) {
	if n < -20 || n > 19 {
		return 0, fmt.Errorf("nice %d: want -20..19", n)
	}
	return niceWeight[n+20], nil
}

// SetNice gives the group the CPU weight of a task or session at nice n
// among its siblings (v1: cpu.shares; v2: cpu.weight.nice).
func (g *Group) SetNice(n int) error {
	w, err := NiceWeight(n)
	if err != nil {
		return err
	}
	d := g.dirs[0]
	file, val := "cpu.shares", strconv.Itoa(w)
	if g.layout.Version == V2 {
		file, val = "cpu.weight.nice", strconv.Itoa(n)
	}
	if err := g.fs.WriteFile(path.Join(d, file), []byte(val)); err != nil {
		return fmt.Errorf("cgroup %s: %s %s: %w", d, file, val, err)
	}
	return nil
}

// Bandwidth reads back the quota (Unlimited if none) and the period, µs.
func (g *Group) Bandwidth() (quotaUs, periodUs int64, err error) {
	d := g.dirs[0]
	if g.layout.Version == V2 {
		b, err := g.fs.ReadFile(path.Join(d, "cpu.max"))
		if err != nil {
			return 0, 0, fmt.Errorf("cgroup %s: %w", d, err)
		}
		f := strings.Fields(string(b))
		if len(f) != 2 {
			return 0, 0, fmt.Errorf("cgroup %s: cpu.max %q: want \"QUOTA PERIOD\"", d, b)
		}
		quotaUs = Unlimited
		if f[0] != "max" {
			if quotaUs, err = strconv.ParseInt(f[0], 10, 64); err != nil {
				return 0, 0, fmt.Errorf("cgroup %s: cpu.max %q: %w", d, b, err)
			}
		}
		if periodUs, err = strconv.ParseInt(f[1], 10, 64); err != nil {
			return 0, 0, fmt.Errorf("cgroup %s: cpu.max %q: %w", d, b, err)
		}
		return quotaUs, periodUs, nil
	}
	if quotaUs, err = readInt(g.fs, path.Join(d, "cpu.cfs_quota_us")); err != nil {
		return 0, 0, err
	}
	if quotaUs < 0 {
		quotaUs = Unlimited
	}
	if periodUs, err = readInt(g.fs, path.Join(d, "cpu.cfs_period_us")); err != nil {
		return 0, 0, err
	}
	return quotaUs, periodUs, nil
}

func readInt(fs FS, p string) (int64, error) {
	b, err := fs.ReadFile(p)
	if err != nil {
		return 0, fmt.Errorf("cgroup: %w", err)
	}
	v, err := strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64)
	if err != nil {
		return 0, fmt.Errorf("cgroup: %s: %w", p, err)
	}
	return v, nil
}

// Usage is a reading of a group's cumulative counters.
type Usage struct {
	CPUNs       uint64 // CPU time of all its tasks (cpuacct.usage; v2 usage_usec)
	ThrottledNs uint64 // time its run queues spent throttled (cpu.stat)
	NrThrottled uint64 // periods in which it was throttled
}

// keyed parses "key value" lines.
func keyed(b []byte, p string) (map[string]uint64, error) {
	m := map[string]uint64{}
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		if len(f) == 0 {
			continue
		}
		if len(f) != 2 {
			return nil, fmt.Errorf("cgroup: %s: line %q: want \"key value\"", p, line)
		}
		v, err := strconv.ParseUint(f[1], 10, 64)
		if err != nil {
			return nil, fmt.Errorf("cgroup: %s: %w", p, err)
		}
		m[f[0]] = v
	}
	return m, nil
}

// Usage reads the group's counters.
func (g *Group) Usage() (Usage, error) {
	p := path.Join(g.dirs[0], "cpu.stat")
	b, err := g.fs.ReadFile(p)
	if err != nil {
		return Usage{}, fmt.Errorf("cgroup: %w", err)
	}
	st, err := keyed(b, p)
	if err != nil {
		return Usage{}, err
	}
	if g.layout.Version == V2 {
		u, ok1 := st["usage_usec"]
		t, ok2 := st["throttled_usec"]
		if !ok1 || !ok2 {
			return Usage{}, fmt.Errorf("cgroup: %s: no usage_usec or throttled_usec", p)
		}
		return Usage{CPUNs: u * 1000, ThrottledNs: t * 1000, NrThrottled: st["nr_throttled"]}, nil
	}
	t, ok := st["throttled_time"]
	if !ok {
		return Usage{}, fmt.Errorf("cgroup: %s: no throttled_time", p)
	}
	acct := path.Join(g.dirs[len(g.dirs)-1], "cpuacct.usage")
	u, err := readInt(g.fs, acct)
	if err != nil {
		return Usage{}, err
	}
	return Usage{CPUNs: uint64(u), ThrottledNs: t, NrThrottled: st["nr_throttled"]}, nil
}

// ids parses a list of pids or tids, one a line.
func ids(b []byte, p string) ([]int, error) {
	var out []int
	for _, f := range strings.Fields(string(b)) {
		v, err := strconv.Atoi(f)
		if err != nil {
			return nil, fmt.Errorf("cgroup: %s: %w", p, err)
		}
		out = append(out, v)
	}
	return out, nil
}

// Threads lists the group's threads (tids).
func (g *Group) Threads() ([]int, error) {
	file := "tasks"
	if g.layout.Version == V2 {
		file = "cgroup.threads"
	}
	p := path.Join(g.dirs[0], file)
	b, err := g.fs.ReadFile(p)
	if err != nil {
		return nil, fmt.Errorf("cgroup: %w", err)
	}
	return ids(b, p)
}

// Procs lists the group's processes in its cpu hierarchy.
func (g *Group) Procs() ([]int, error) { return procs(g.fs, g.dirs[0]) }

func procs(fs FS, dir string) ([]int, error) {
	p := path.Join(dir, "cgroup.procs")
	b, err := fs.ReadFile(p)
	if err != nil {
		return nil, fmt.Errorf("cgroup: %w", err)
	}
	return ids(b, p)
}

// Release undoes the group: it lifts the quota (so that nothing in it is
// throttled a moment longer), moves every process back to the caller's
// cgroup of each hierarchy, and removes the group's directories. It is
// idempotent: a group already gone is released.
func (g *Group) Release() error {
	var errs []error
	if g.Exists() {
		if err := g.SetQuota(Unlimited); err != nil {
			errs = append(errs, err)
		}
	}
	for i, d := range g.dirs {
		if err := moveAll(g.fs, d, g.homes[i]); err != nil {
			errs = append(errs, err)
		}
	}
	for _, d := range g.dirs {
		if err := rmdir(g.fs, d); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// moveAll moves every process of dir to home, over several rounds (a
// process may fork while it is moved).
func moveAll(fs FS, dir, home string) error {
	for round := 0; round < 100; round++ {
		ps, err := procs(fs, dir)
		if notExist(err) {
			return nil
		}
		if err != nil {
			return err
		}
		if len(ps) == 0 {
			return nil
		}
		for _, p := range ps {
			err := fs.WriteFile(path.Join(home, "cgroup.procs"), []byte(strconv.Itoa(p)))
			if err != nil && !errors.Is(err, unix.ESRCH) {
				return fmt.Errorf("cgroup %s: move process %d back to %s: %w", dir, p, home, err)
			}
		}
	}
	return fmt.Errorf("cgroup %s: processes keep appearing: could not empty it", dir)
}

// rmdir removes a cgroup directory, retrying for up to a second while the
// kernel still counts an exiting task in it.
func rmdir(fs FS, dir string) error {
	for try := 0; ; try++ {
		err := fs.Rmdir(dir)
		if err == nil || notExist(err) {
			return nil
		}
		if !IsBusy(err) || try == 100 {
			return fmt.Errorf("cgroup: %w", err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// HasIdle reports whether the group has cpu.idle (Linux 5.15 and later,
// in cgroup v1's cpu hierarchy and in v2): what a work-conserving pause
// needs.
func (g *Group) HasIdle() bool {
	_, err := g.fs.ReadFile(path.Join(g.dirs[0], "cpu.idle"))
	return err == nil
}

// SetIdle puts the group at idle priority among its siblings (cpu.idle 1:
// its tasks run only when no sibling at normal priority wants the CPU) or
// back (0).
func (g *Group) SetIdle(idle bool) error {
	d := g.dirs[0]
	v := "0"
	if idle {
		v = "1"
	}
	if err := g.fs.WriteFile(path.Join(d, "cpu.idle"), []byte(v)); err != nil {
		return fmt.Errorf("cgroup %s: cpu.idle %s: %w", d, v, err)
	}
	return nil
}
