//go:build umlkernel

package kernel_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/friendly-vm/fvm/uml-impl/host"
)

// guestNice is the host priority of the guests: all guests get the same, so
// they share the core among themselves exactly as at nice 0, while other
// work that may run on the machine (nice 0) hardly disturbs them.
const guestNice = -20

// rig is what every test needs: the kernel, the guest probe and the host
// CPU every guest is pinned to (FVM_GUEST_CPU, default 0); the test process
// keeps off that CPU so that only guests compete there.
type rig struct {
	kernel, probe string
	cpu           int
}

// kernelPath is the kernel under test (FVM_KERNEL, which make test-uml sets).
func kernelPath(t *testing.T) string {
	t.Helper()
	k := os.Getenv("FVM_KERNEL")
	if k == "" {
		t.Fatal("FVM_KERNEL is not set: run `make test-uml`, or FVM_KERNEL=$(go run ./cmd/fvm uml build) go test -tags umlkernel ./uml-impl/kernel/")
	}
	return k
}

func newRig(t *testing.T) rig {
	t.Helper()
	k := kernelPath(t)
	cpu := 0
	if c := os.Getenv("FVM_GUEST_CPU"); c != "" {
		n, err := strconv.Atoi(c)
		if err != nil || n < 0 {
			t.Fatalf("FVM_GUEST_CPU=%q: want a CPU number", c)
		}
		cpu = n
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	p, err := host.BuildProbe(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if err := host.KeepOffCPU(cpu); err != nil {
		t.Fatal(err)
	}
	busy, err := cpuBusy(cpu, 500*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("host CPU %d was %.0f%% busy before the test (guests run at nice %d; the tests want the machine to themselves)", cpu, 100*busy, guestNice)
	return rig{kernel: k, probe: p, cpu: cpu}
}

// cpuBusy measures how busy a host CPU is over d, from /proc/stat.
func cpuBusy(cpu int, d time.Duration) (float64, error) {
	read := func() (busy, total uint64, err error) {
		b, err := os.ReadFile("/proc/stat")
		if err != nil {
			return 0, 0, err
		}
		for _, l := range strings.Split(string(b), "\n") {
			f := strings.Fields(l)
			if len(f) < 5 || f[0] != fmt.Sprintf("cpu%d", cpu) {
				continue
			}
			// user nice system idle iowait irq softirq steal (guest time is
			// already inside user and nice).
			for i, s := range f[1:min(9, len(f))] {
				v, err := strconv.ParseUint(s, 10, 64)
				if err != nil {
					return 0, 0, fmt.Errorf("/proc/stat %s: %w", f[0], err)
				}
				total += v
				if i != 3 && i != 4 { // idle, iowait
					busy += v
				}
			}
			return busy, total, nil
		}
		return 0, 0, fmt.Errorf("/proc/stat: no cpu%d", cpu)
	}
	b0, t0, err := read()
	if err != nil {
		return 0, err
	}
	time.Sleep(d)
	b1, t1, err := read()
	if err != nil || t1 == t0 {
		return 0, err
	}
	return float64(b1-b0) / float64(t1-t0), nil
}

// guestSpec is one guest of a scenario.
type guestSpec struct {
	name   string
	script string // may use $P (the probe)
	files  map[string][]byte
}

// booted is a guest that ran to completion.
type booted struct {
	g   *host.Guest
	out string
}

func (b booted) read(t *testing.T, name string) []byte {
	t.Helper()
	d, err := os.ReadFile(filepath.Join(b.out, name))
	if err != nil {
		t.Fatalf("guest output: %v\nconsole:\n%s", err, b.g.Console())
	}
	return d
}

func (b booted) json(t *testing.T, name string, v any) {
	t.Helper()
	if err := json.Unmarshal(b.read(t, name), v); err != nil {
		t.Fatalf("guest output %s: %v", name, err)
	}
}

// run boots the guests together on r.cpu and waits for all of them.
func (r rig) run(t *testing.T, specs ...guestSpec) []booted {
	t.Helper()
	ctx := context.Background()
	var bs []booted
	for _, s := range specs {
		out := filepath.Join(t.TempDir(), s.name)
		if err := os.MkdirAll(out, 0o755); err != nil {
			t.Fatal(err)
		}
		for n, d := range s.files {
			if err := os.WriteFile(filepath.Join(out, n), d, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		g, err := host.Start(ctx, host.Config{
			Kernel: r.kernel, Name: s.name, OutDir: out, CPU: r.cpu, Nice: guestNice,
			Timeout: 2 * time.Minute, Env: map[string]string{"P": r.probe},
			Script: s.script,
		})
		if err != nil {
			t.Fatal(err)
		}
		bs = append(bs, booted{g: g, out: out})
	}
	for _, b := range bs {
		if cpus, err := b.g.AllowedCPUs(); err == nil && cpus != fmt.Sprint(r.cpu) {
			t.Errorf("guest pinned to CPUs %s, want %d", cpus, r.cpu)
		}
	}
	var wg sync.WaitGroup
	errs := make([]error, len(bs))
	for i, b := range bs {
		wg.Add(1)
		go func() { defer wg.Done(); errs[i] = b.g.Wait() }()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	return bs
}

// watched is what `guestprobe watch` recorded.
type watched struct {
	windows []host.Window
	stats   []host.Stats
	res     struct {
		Windows int      `json:"windows"`
		First   uint64   `json:"first"`
		Last    uint64   `json:"last"`
		Gaps    []string `json:"gaps"`
		Reads   int      `json:"reads"`
		Errors  []string `json:"errors"`
	}
}

func readWatch(t *testing.T, b booted) watched {
	t.Helper()
	var w watched
	b.json(t, "watch.json", &w.res)
	for i, l := range strings.Split(strings.TrimSpace(string(b.read(t, "windows.txt"))), "\n") {
		win, err := host.ParseWindow(l)
		if err != nil {
			t.Fatalf("windows.txt line %d: %v", i+1, err)
		}
		w.windows = append(w.windows, win)
	}
	for i, l := range strings.Split(strings.TrimSpace(string(b.read(t, "stats.txt"))), "\n") {
		f := strings.Fields(l)
		var sb strings.Builder
		for j := 0; j+1 < len(f); j += 2 {
			fmt.Fprintf(&sb, "%s %s\n", f[j], f[j+1])
		}
		s, err := host.ParseStats(sb.String())
		if err != nil {
			t.Fatalf("stats.txt line %d: %v", i+1, err)
		}
		w.stats = append(w.stats, s)
	}
	return w
}

// spun is what `guestprobe spin` reported.
type spun struct {
	Iters       uint64 `json:"iters"`
	GuestNS     int64  `json:"guest_ns"`
	HostStartNS int64  `json:"host_start_ns"`
	HostEndNS   int64  `json:"host_end_ns"`
}

// summary is the mean signal over the windows inside [t0, t1], and the
// windows' sums as fractions of their wall time: CPU at normal priority,
// paused (in a work-conserving pause: the idle-priority part), CPU at idle
// priority, and steal; modes counts the windows by pause_mode.
type summary struct {
	n                        int
	steal, vct, pause, maxSt float64
	cpuShare, pausedFraction float64
	idleCPUShare, stealShare float64
	modes                    map[uint64]int
}

func summarize(ws []host.Window, t0, t1 int64) summary {
	s := summary{modes: map[uint64]int{}}
	var wall, cpu, paused, idleCPU, steal uint64
	for _, w := range ws {
		if int64(w.Start) < t0 || int64(w.End) > t1 {
			continue
		}
		s.n++
		s.steal += float64(w.StealPermille)
		s.vct += float64(w.VCTPermille)
		s.maxSt = max(s.maxSt, float64(w.StealPermille))
		s.modes[w.PauseMode]++
		wall += w.Wall
		cpu += w.CPU
		paused += w.Pause
		idleCPU += w.IdleCPU
		steal += w.Steal
	}
	if s.n > 0 {
		s.steal /= float64(s.n)
		s.vct /= float64(s.n)
		f := func(x uint64) float64 { return float64(x) / float64(wall) }
		s.cpuShare, s.pausedFraction, s.idleCPUShare, s.stealShare = f(cpu), f(paused), f(idleCPU), f(steal)
	}
	return s
}

// hostShare is the fraction of host CPU time the guest got in [t0, t1].
func hostShare(t *testing.T, b booted, t0, t1 int64) float64 {
	t.Helper()
	c, err := host.CPUBetween(b.g.CPUHistory(), t0, t1)
	if err != nil {
		t.Fatalf("guest host CPU: %v", err)
	}
	return float64(c) / float64(t1-t0)
}

// interval is the measurement interval common to the spins, without the
// first settle time and a margin at the end.
func interval(t *testing.T, settle time.Duration, ss ...spun) (int64, int64) {
	t.Helper()
	var t0, t1 int64
	for i, s := range ss {
		if s.HostStartNS == 0 || s.HostEndNS <= s.HostStartNS {
			t.Fatalf("spin %d: no host times (%+v)", i, s)
		}
		if i == 0 || s.HostStartNS > t0 {
			t0 = s.HostStartNS
		}
		if i == 0 || s.HostEndNS < t1 {
			t1 = s.HostEndNS
		}
	}
	t0 += settle.Nanoseconds()
	t1 -= (200 * time.Millisecond).Nanoseconds()
	if t1-t0 < (3 * time.Second).Nanoseconds() {
		t.Fatalf("the spins overlap for only %s", time.Duration(t1-t0))
	}
	return t0, t1
}

const spinScript = `
$P watch -for %[1]s -every 500ms -dir "$FVM_OUT" &
%[3]s
$P spin -for %[2]s -out "$FVM_OUT/spin.json"
wait
`

// spinGuest busy-loops for dur after running setup, while the probe
// records every window (until a second after the spin).
func spinGuest(name string, dur time.Duration, setup string) guestSpec {
	return guestSpec{name: name, script: fmt.Sprintf(spinScript, dur+time.Second, dur, setup)}
}
