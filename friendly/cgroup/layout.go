package cgroup

import (
	"bytes"
	"errors"
	"fmt"
	"path"
	"slices"
	"strings"
)

// Version is the cgroup interface in use.
type Version int

// The two cgroup interfaces.
const (
	V1 Version = 1
	V2 Version = 2
)

// Prefix begins the directory name of every group of `fvm friendly`, at
// the root of each hierarchy: each group is a scheduling entity of its own
// beside the others (like a session's autogroup), not a share of a common
// parent; every directory there whose name begins with Prefix is ours.
const Prefix = "fvm-friendly-"

// Layout says where the CPU controller is: the directory groups are made
// in and, to move tasks back, the caller's own cgroup.
type Layout struct {
	Version Version `json:"version"`
	// CPU is the mount of the hierarchy with the cpu controller (v1) or
	// of the unified hierarchy (v2).
	CPU string `json:"cpu"`
	// Acct is the mount of v1's cpuacct controller (CPU when both are
	// mounted together); in v2, CPU.
	Acct string `json:"acct"`
	// HomeCPU and HomeAcct are the caller's cgroups in those hierarchies
	// (directories), where Release moves a group's tasks back to.
	HomeCPU  string `json:"home_cpu"`
	HomeAcct string `json:"home_acct"`
}

// mount is one line of /proc/self/mountinfo.
type mount struct {
	root, point, fstype string
	super               []string // super options
}

// unescape undoes mountinfo's octal escapes (\040 for a space).
func unescape(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+4 <= len(s) && isOctal(s[i+1:i+4]) {
			b.WriteByte((s[i+1]-'0')<<6 | (s[i+2]-'0')<<3 | (s[i+3] - '0'))
			i += 3
			continue
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

func isOctal(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '7' {
			return false
		}
	}
	return true
}

// parseMountinfo parses /proc/self/mountinfo (proc(5)).
func parseMountinfo(b []byte) ([]mount, error) {
	var out []mount
	for n, line := range bytes.Split(b, []byte("\n")) {
		f := strings.Fields(string(line))
		if len(f) == 0 {
			continue
		}
		sep := slices.Index(f, "-")
		if sep < 6 || len(f) < sep+4 {
			return nil, fmt.Errorf("mountinfo line %d: malformed: %q", n+1, line)
		}
		out = append(out, mount{root: unescape(f[3]), point: unescape(f[4]), fstype: f[sep+1],
			super: strings.Split(f[sep+3], ",")})
	}
	return out, nil
}

// selfCgroups parses /proc/self/cgroup: the caller's cgroup path in each
// v1 hierarchy (keyed by controller) and in v2 (key "").
func selfCgroups(b []byte) map[string]string {
	m := map[string]string{}
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.SplitN(line, ":", 3)
		if len(f) != 3 {
			continue
		}
		if f[1] == "" {
			m[""] = f[2]
			continue
		}
		for _, c := range strings.Split(f[1], ",") {
			m[c] = f[2]
		}
	}
	return m
}

// home returns the directory of cgroup path p (relative to the hierarchy's
// root) under mount m, whose own root in the hierarchy is m.root.
func home(m mount, p string) (string, error) {
	rel := p
	if m.root != "/" {
		if p != m.root && !strings.HasPrefix(p, m.root+"/") {
			return "", fmt.Errorf("our cgroup %s is outside the mount %s (root %s)", p, m.point, m.root)
		}
		rel = strings.TrimPrefix(p, m.root)
	}
	return path.Join(m.point, rel), nil
}

// ErrNoCPUController says no hierarchy offers the cpu controller.
var ErrNoCPUController = errors.New("no cgroup hierarchy with the cpu controller")

// Detect finds the CPU controller from /proc/self/mountinfo and
// /proc/self/cgroup: cgroup v2 if the unified hierarchy lists cpu in its
// cgroup.controllers, else cgroup v1's cpu hierarchy and its cpuacct
// hierarchy. The error, if none is usable, names what is missing.
func Detect(fs FS) (*Layout, error) {
	mi, err := fs.ReadFile("/proc/self/mountinfo")
	if err != nil {
		return nil, fmt.Errorf("cgroups: %w", err)
	}
	mounts, err := parseMountinfo(mi)
	if err != nil {
		return nil, fmt.Errorf("cgroups: /proc/self/mountinfo: %w", err)
	}
	cg, err := fs.ReadFile("/proc/self/cgroup")
	if err != nil {
		return nil, fmt.Errorf("cgroups: %w", err)
	}
	self := selfCgroups(cg)
	var v2 *mount
	var cpu, acct *mount
	for i := range mounts {
		m := &mounts[i]
		switch m.fstype {
		case "cgroup2":
			if v2 == nil {
				v2 = m
			}
		case "cgroup":
			if cpu == nil && slices.Contains(m.super, "cpu") {
				cpu = m
			}
			if acct == nil && slices.Contains(m.super, "cpuacct") {
				acct = m
			}
		}
	}
	var why []string
	if v2 != nil {
		ctl, err := fs.ReadFile(path.Join(v2.point, "cgroup.controllers"))
		switch {
		case err != nil:
			why = append(why, fmt.Sprintf("cgroup2 at %s: %v", v2.point, err))
		case !slices.Contains(strings.Fields(string(ctl)), "cpu"):
			why = append(why, fmt.Sprintf("cgroup2 at %s does not offer the cpu controller (cgroup.controllers: %q; it is bound to a v1 hierarchy)", v2.point, strings.TrimSpace(string(ctl))))
		default:
			h, err := home(*v2, self[""])
			if err != nil {
				return nil, fmt.Errorf("cgroups: %w", err)
			}
			return &Layout{Version: V2, CPU: v2.point, Acct: v2.point, HomeCPU: h, HomeAcct: h}, nil
		}
	} else {
		why = append(why, "no cgroup2 mount")
	}
	switch {
	case cpu == nil:
		why = append(why, "no cgroup v1 hierarchy with the cpu controller (mount -t cgroup -o cpu cgroup /sys/fs/cgroup/cpu)")
	case acct == nil:
		why = append(why, fmt.Sprintf("cgroup v1 cpu at %s, but no cpuacct hierarchy (mount -t cgroup -o cpuacct cgroup /sys/fs/cgroup/cpuacct)", cpu.point))
	default:
		hc, err := home(*cpu, self["cpu"])
		if err != nil {
			return nil, fmt.Errorf("cgroups: %w", err)
		}
		ha, err := home(*acct, self["cpuacct"])
		if err != nil {
			return nil, fmt.Errorf("cgroups: %w", err)
		}
		return &Layout{Version: V1, CPU: cpu.point, Acct: acct.point, HomeCPU: hc, HomeAcct: ha}, nil
	}
	return nil, fmt.Errorf("cgroups: %w: %s", ErrNoCPUController, strings.Join(why, "; "))
}

// String describes the layout in one line (for trace headers).
func (l *Layout) String() string {
	if l.Version == V2 {
		return fmt.Sprintf("cgroup v2 at %s (cpu.max, cpu.stat)", l.CPU)
	}
	if l.Acct == l.CPU {
		return fmt.Sprintf("cgroup v1 cpu,cpuacct at %s (cpu.cfs_quota_us, cpu.stat, cpuacct.usage)", l.CPU)
	}
	return fmt.Sprintf("cgroup v1 cpu at %s, cpuacct at %s (cpu.cfs_quota_us, cpu.stat, cpuacct.usage)", l.CPU, l.Acct)
}

// dirs returns the hierarchies' directories of the group called name (one
// in v2 or when cpu and cpuacct are mounted together, else two), each
// with the home its tasks go back to.
func (l *Layout) dirs(name string) (dirs, homes []string) {
	dirs = []string{path.Join(l.CPU, Prefix+name)}
	homes = []string{l.HomeCPU}
	if l.Acct != l.CPU {
		dirs = append(dirs, path.Join(l.Acct, Prefix+name))
		homes = append(homes, l.HomeAcct)
	}
	return dirs, homes
}
