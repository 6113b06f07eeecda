package cgroup_test

import (
	"errors"
	"path"
	"slices"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/friendly-vm/fvm/friendly/cgroup"
	"github.com/friendly-vm/fvm/friendly/cgroup/cgrouptest"
)

// layouts are the three shapes the package must handle.
func layouts(t *testing.T) map[string]*cgrouptest.Tree {
	return map[string]*cgrouptest.Tree{
		"v1 apart":    cgrouptest.NewV1(t, false),
		"v1 together": cgrouptest.NewV1(t, true),
		"v2":          cgrouptest.NewV2(t, "cpuset cpu io memory pids"),
	}
}

func TestDetect(t *testing.T) {
	for _, tc := range []struct {
		name       string
		tree       *cgrouptest.Tree
		want       cgroup.Layout
		wantErrHas string
	}{
		{name: "v1 apart, cgroup2 without cpu", tree: cgrouptest.NewV1(t, false),
			want: cgroup.Layout{Version: cgroup.V1, CPU: cgrouptest.V1CPU, Acct: cgrouptest.V1Acct, HomeCPU: cgrouptest.V1CPU, HomeAcct: cgrouptest.V1Acct}},
		{name: "v1 together", tree: cgrouptest.NewV1(t, true),
			want: cgroup.Layout{Version: cgroup.V1, CPU: cgrouptest.V1Both, Acct: cgrouptest.V1Both, HomeCPU: cgrouptest.V1Both, HomeAcct: cgrouptest.V1Both}},
		{name: "v2 with cpu", tree: cgrouptest.NewV2(t, "cpu memory"),
			want: cgroup.Layout{Version: cgroup.V2, CPU: cgrouptest.V2Root, Acct: cgrouptest.V2Root, HomeCPU: cgrouptest.V2Root, HomeAcct: cgrouptest.V2Root}},
		{name: "v2 without cpu, no v1", tree: cgrouptest.NewV2(t, "memory pids"),
			wantErrHas: `does not offer the cpu controller (cgroup.controllers: "memory pids"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l, err := cgroup.Detect(tc.tree)
			if tc.wantErrHas != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErrHas) || !errors.Is(err, cgroup.ErrNoCPUController) {
					t.Fatalf("err %v, want one containing %q", err, tc.wantErrHas)
				}
				if !strings.Contains(err.Error(), "no cgroup v1 hierarchy with the cpu controller") {
					t.Errorf("the error does not say v1 is missing too: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if *l != tc.want {
				t.Errorf("layout %+v, want %+v", *l, tc.want)
			}
		})
	}
}

// A mount whose root is a cgroup below the hierarchy's root (a container)
// and an escaped mount point: the caller's home is found under the mount.
func TestDetectNestedMount(t *testing.T) {
	tr := cgrouptest.NewV1(t, false)
	mi := "30 20 0:30 /docker/abc /sys/fs/cgroup/cpu\\040x rw - cgroup cgroup rw,cpu\n" +
		"31 20 0:31 /docker/abc /sys/fs/cgroup/cpuacct rw - cgroup cgroup rw,cpuacct\n"
	self := "5:cpu:/docker/abc/inner\n4:cpuacct:/docker/abc\n"
	fake := overlay{tr, map[string]string{"/proc/self/mountinfo": mi, "/proc/self/cgroup": self}}
	l, err := cgroup.Detect(fake)
	if err != nil {
		t.Fatal(err)
	}
	want := cgroup.Layout{Version: cgroup.V1, CPU: "/sys/fs/cgroup/cpu x", Acct: "/sys/fs/cgroup/cpuacct",
		HomeCPU: "/sys/fs/cgroup/cpu x/inner", HomeAcct: "/sys/fs/cgroup/cpuacct"}
	if *l != want {
		t.Errorf("layout %+v, want %+v", *l, want)
	}
	fake.files["/proc/self/cgroup"] = "5:cpu:/elsewhere\n4:cpuacct:/docker/abc\n"
	if _, err := cgroup.Detect(fake); err == nil || !strings.Contains(err.Error(), "outside the mount") {
		t.Errorf("a cgroup outside the mount: err %v", err)
	}
}

// overlay serves some files from a map, the rest from the tree.
type overlay struct {
	*cgrouptest.Tree
	files map[string]string
}

func (o overlay) ReadFile(p string) ([]byte, error) {
	if s, ok := o.files[p]; ok {
		return []byte(s), nil
	}
	return o.Tree.ReadFile(p)
}

func TestGroupLifecycle(t *testing.T) {
	for name, tr := range layouts(t) {
		t.Run(name, func(t *testing.T) {
			l, err := cgroup.Detect(tr)
			if err != nil {
				t.Fatal(err)
			}
			tr.Spawn(100, 5)
			tr.Spawn(101, 6)
			g, err := l.Create(tr, "42-7")
			if err != nil {
				t.Fatal(err)
			}
			if _, err := l.Create(tr, "42-7"); err == nil {
				t.Error("creating an existing group succeeded")
			}
			if err := g.AddProc(100); err != nil {
				t.Fatal(err)
			}
			for _, d := range g.Dirs() {
				if got := tr.Procs(d); !slices.Equal(got, []int{100}) {
					t.Errorf("%s holds %v, want [100]", d, got)
				}
				if got := tr.Procs(path.Dir(d)); !slices.Equal(got, []int{101}) {
					t.Errorf("the root of %s holds %v, want [101]", d, got)
				}
			}
			if th, err := g.Threads(); err != nil || !slices.Equal(th, []int{100}) {
				t.Errorf("threads %v, %v", th, err)
			}
			if err := g.SetBandwidth(5000, 20000); err != nil {
				t.Fatal(err)
			}
			if q, p, err := g.Bandwidth(); err != nil || q != 5000 || p != 20000 {
				t.Errorf("bandwidth %d/%d, %v; want 5000/20000", q, p, err)
			}
			if !g.HasIdle() {
				t.Error("the group has no cpu.idle")
			}
			for _, idle := range []bool{true, false} {
				if err := g.SetIdle(idle); err != nil {
					t.Fatal(err)
				}
				want := map[bool]string{true: "1\n", false: "0\n"}[idle]
				if b, err := tr.ReadFile(path.Join(g.Dir(), "cpu.idle")); err != nil || string(b) != want {
					t.Errorf("cpu.idle after SetIdle(%v): %q, %v; want %q", idle, b, err, want)
				}
			}
			if err := g.SetQuota(19000); err != nil {
				t.Fatal(err)
			}
			if q, p, err := g.Bandwidth(); err != nil || q != 19000 || p != 20000 {
				t.Errorf("after SetQuota: %d/%d, %v; want 19000/20000 (the period kept)", q, p, err)
			}
			// The kernel's limits: a quota under 1 ms is EINVAL.
			if err := g.SetQuota(999); !errors.Is(err, unix.EINVAL) {
				t.Errorf("quota 999 us: err %v, want EINVAL", err)
			}
			tr.SetUsage(g, cgroup.Usage{CPUNs: 7_000_000, ThrottledNs: 3_000_000, NrThrottled: 4})
			if u, err := g.Usage(); err != nil || u != (cgroup.Usage{CPUNs: 7_000_000, ThrottledNs: 3_000_000, NrThrottled: 4}) {
				t.Errorf("usage %+v, %v", u, err)
			}
			if err := g.SetNice(-15); err != nil {
				t.Fatal(err)
			}
			want := map[cgroup.Version]string{cgroup.V1: "cpu.shares:29154", cgroup.V2: "cpu.weight.nice:-15"}[l.Version]
			f, v, _ := strings.Cut(want, ":")
			if got := strings.TrimSpace(tr.Content(path.Join(g.Dir(), f))); got != v {
				t.Errorf("after SetNice(-15): %s = %q, want %s (the kernel's weight of nice -15)", f, got, v)
			}
			if err := g.SetNice(20); err == nil {
				t.Error("nice 20 accepted")
			}
			if err := g.Release(); err != nil {
				t.Fatal(err)
			}
			for _, d := range g.Dirs() {
				if tr.Exists(d) {
					t.Errorf("%s still exists after Release", d)
				}
				if got := tr.Procs(path.Dir(d)); !slices.Equal(got, []int{101, 100}) {
					t.Errorf("the root of %s holds %v after Release, want [101 100]", d, got)
				}
			}
			if err := g.Release(); err != nil {
				t.Errorf("a second Release: %v", err)
			}
		})
	}
}

// In v2 the cpu controller is enabled down to the group; without it in
// the root's controllers, Create fails saying so.
func TestCreateV2EnablesCPU(t *testing.T) {
	tr := cgrouptest.NewV2(t, "cpu memory")
	l, err := cgroup.Detect(tr)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := l.Create(tr, "1-1"); err != nil {
		t.Fatal(err)
	}
	if c := tr.Content(path.Join(cgrouptest.V2Root, "cgroup.subtree_control")); !strings.Contains(c, "cpu") {
		t.Errorf("the root's cgroup.subtree_control = %q, want cpu enabled", c)
	}
	if c := tr.Content(path.Join(cgrouptest.V2Root, cgroup.Prefix+"1-1", "cpu.max")); c == "" {
		t.Error("the group has no cpu.max")
	}
	bad := &cgroup.Layout{Version: cgroup.V2, CPU: cgrouptest.V2Root, Acct: cgrouptest.V2Root, HomeCPU: cgrouptest.V2Root, HomeAcct: cgrouptest.V2Root}
	tr2 := cgrouptest.NewV2(t, "memory")
	if _, err := bad.Create(tr2, "1-1"); err == nil || !strings.Contains(err.Error(), "enable the cpu controller") {
		t.Errorf("create without the cpu controller: %v", err)
	}
}

func TestSweep(t *testing.T) {
	for name, tr := range layouts(t) {
		t.Run(name, func(t *testing.T) {
			l, err := cgroup.Detect(tr)
			if err != nil {
				t.Fatal(err)
			}
			tr.Spawn(10, 111) // a live owner
			tr.Spawn(20, 222) // a task left in a dead owner's group
			mk := func(n string) *cgroup.Group {
				g, err := l.Create(tr, n)
				if err != nil {
					t.Fatal(err)
				}
				if err := g.SetBandwidth(1000, 20000); err != nil {
					t.Fatal(err)
				}
				return g
			}
			live := mk("10-111")      // owner 10 runs with that start time
			reused := mk("10-5")      // pid 10 now belongs to another process: owner dead
			dead := mk("30-333")      // no process 30
			busy := mk("31-444")      // dead owner, but a task is still inside
			foreign := mk("not-ours") // not a name OwnerName makes
			if err := busy.AddProc(20); err != nil {
				t.Fatal(err)
			}
			if err := busy.SetIdle(true); err != nil { // left in a work-conserving pause
				t.Fatal(err)
			}
			r, err := l.Sweep(tr)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(r.Removed, []string{"10-5", "30-333"}) || !slices.Equal(r.Unthrottled, []string{"31-444"}) {
				t.Errorf("sweep %+v, want removed [10-5 30-333], unthrottled [31-444]", r)
			}
			for _, g := range []*cgroup.Group{live, busy, foreign} {
				if !g.Exists() {
					t.Errorf("%s was removed", g.Name())
				}
			}
			for _, g := range []*cgroup.Group{reused, dead} {
				for _, d := range g.Dirs() {
					if tr.Exists(d) {
						t.Errorf("%s was not removed", d)
					}
				}
			}
			if q, _, _ := busy.Bandwidth(); q != cgroup.Unlimited {
				t.Errorf("the orphan with a task still has quota %d", q)
			}
			if b, err := tr.ReadFile(path.Join(busy.Dir(), "cpu.idle")); err != nil || string(b) != "0\n" {
				t.Errorf("the orphan with a task is still at idle priority: cpu.idle %q, %v", b, err)
			}
			if q, _, _ := live.Bandwidth(); q != 1000 {
				t.Errorf("the live owner's group quota changed to %d", q)
			}
			left, err := l.Leftovers(tr)
			if err != nil || !slices.Equal(left, []string{"10-111", "31-444", "not-ours"}) {
				t.Errorf("leftovers %v, %v", left, err)
			}
		})
	}
}

func TestProcfs(t *testing.T) {
	tr := cgrouptest.NewV1(t, false)
	tr.Spawn(7, 12345)
	tr.SetSchedstat(7, 900, 50)
	if s, err := cgroup.ReadSchedstat(tr, 7); err != nil || s != (cgroup.Schedstat{RunNs: 900, DelayNs: 50}) {
		t.Errorf("schedstat %+v, %v", s, err)
	}
	n, err := cgroup.OwnerName(tr, 7)
	if err != nil || n != "7-12345" {
		t.Errorf("owner name %q, %v", n, err)
	}
	for _, tc := range []struct {
		name        string
		alive, isOK bool
	}{{"7-12345", true, true}, {"7-1", false, true}, {"8-12345", false, true}, {"x-1", false, false}, {"7", false, false}, {"0-0", false, false}} {
		if a, ok := cgroup.OwnerAlive(tr, tc.name); a != tc.alive || ok != tc.isOK {
			t.Errorf("OwnerAlive(%q) = %v, %v; want %v, %v", tc.name, a, ok, tc.alive, tc.isOK)
		}
	}
	if _, err := cgroup.ReadSchedstat(tr, 8); err == nil {
		t.Error("schedstat of a missing task read")
	}
}
