package host

import (
	"bufio"
	"fmt"
	"math"
	"strconv"
	"strings"
)

// InterfaceVersion is the /proc/fvm interface version of the kernel built
// from uml-impl/patch (stats "version"; uml-impl/README.md).
const InterfaceVersion = 4

// StatsKeys are the keys of /proc/fvm/stats (interface version 4), in the
// order the kernel prints them: grace_ns (awake time the controller's
// graces gave the VM, cumulative) and owed_ns (pause still owed for it)
// are new in 3, idle_cpu_ns (CPU at idle priority, cumulative) and
// pause_mode in 4.
func StatsKeys() []string {
	return []string{
		"version", "active", "window_ns", "ring_size", "period_us", "pause_permille", "seq",
		"wall_ns", "cpu_ns", "idle_ns", "pause_ns", "want_ns", "steal_ns",
		"steal_permille", "vct_permille", "stubs", "now_ns", "grace_ns", "owed_ns", "idle_cpu_ns", "pause_mode",
	}
}

// CumulativeKeys are the stats counters that never decrease.
func CumulativeKeys() []string {
	return []string{"seq", "wall_ns", "cpu_ns", "idle_ns", "pause_ns", "want_ns", "steal_ns", "now_ns", "grace_ns", "idle_cpu_ns"}
}

// maxPauseMode is the largest pause_mode a window can carry: 0 is sleep,
// 1 is idle (the work-conserving pause; uml-impl/README.md).
const maxPauseMode = 1

// Stats is one parsed /proc/fvm/stats snapshot, by key.
type Stats map[string]uint64

// ParseStats parses /proc/fvm/stats: "key value" lines with unsigned
// decimal values. Unknown keys are kept; malformed lines are errors.
func ParseStats(text string) (Stats, error) {
	s := Stats{}
	for i, l := range strings.Split(strings.TrimRight(text, "\n"), "\n") {
		f := strings.Fields(l)
		if len(f) != 2 {
			return nil, fmt.Errorf("stats line %d %q: want \"key value\"", i+1, l)
		}
		v, err := strconv.ParseUint(f[1], 10, 64)
		if err != nil {
			return nil, fmt.Errorf("stats line %d %q: %w", i+1, l, err)
		}
		if _, dup := s[f[0]]; dup {
			return nil, fmt.Errorf("stats line %d: duplicate key %q", i+1, f[0])
		}
		s[f[0]] = v
	}
	return s, nil
}

// Window is one line of /proc/fvm/windows. In a work-conserving pause
// (pause mode idle) CPU, Idle and Want cover the normal-priority part of
// the window only and Pause its idle-priority part; IdleCPU is the CPU the
// VM got at idle priority (0 in sleep mode).
type Window struct {
	Seq, Start, End, Wall, CPU, Idle, Pause, Want, Steal uint64
	StealPermille, VCTPermille, PausePermille, PeriodUS  uint64
	IdleCPU, PauseMode                                   uint64
}

// WindowsHeader is the first line of /proc/fvm/windows (interface version 4).
const WindowsHeader = "# seq start_ns end_ns wall_ns cpu_ns idle_ns pause_ns want_ns steal_ns steal_permille vct_permille pause_permille period_us idle_cpu_ns pause_mode"

// windowFields and windowFieldsV2 are the fields of a window line in
// interface versions 4 and 2-3 (version 4 appended idle_cpu_ns, pause_mode).
const (
	windowFields   = 15
	windowFieldsV2 = 13
)

// ParseWindows parses /proc/fvm/windows (header line, then 15 unsigned
// fields per window), checking the header and that sequence numbers are
// contiguous.
func ParseWindows(text string) ([]Window, error) {
	sc := bufio.NewScanner(strings.NewReader(text))
	var ws []Window
	n := 0
	for sc.Scan() {
		n++
		l := sc.Text()
		if n == 1 {
			if l != WindowsHeader {
				return nil, fmt.Errorf("windows line 1: header %q, want %q", l, WindowsHeader)
			}
			continue
		}
		w, err := ParseWindow(l)
		if err != nil {
			return nil, fmt.Errorf("windows line %d: %w", n, err)
		}
		if len(ws) > 0 && w.Seq != ws[len(ws)-1].Seq+1 {
			return nil, fmt.Errorf("windows line %d: seq %d follows %d", n, w.Seq, ws[len(ws)-1].Seq)
		}
		ws = append(ws, w)
	}
	if n == 0 {
		return nil, fmt.Errorf("windows: empty (no header)")
	}
	return ws, nil
}

// ParseWindow parses one window line: 15 fields, or the 13 of interface
// versions 2 and 3 (then IdleCPU and PauseMode are 0: sleep mode).
func ParseWindow(l string) (Window, error) {
	f := strings.Fields(l)
	if len(f) != windowFields && len(f) != windowFieldsV2 {
		return Window{}, fmt.Errorf("%q: %d fields, want %d (or %d before interface version 4)", l, len(f), windowFields, windowFieldsV2)
	}
	var v [windowFields]uint64
	for i, s := range f {
		x, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			return Window{}, fmt.Errorf("%q: field %d: %w", l, i+1, err)
		}
		v[i] = x
	}
	if v[14] > maxPauseMode {
		return Window{}, fmt.Errorf("%q: pause_mode %d, want 0 (sleep) or 1 (idle)", l, v[14])
	}
	return Window{v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7], v[8], v[9], v[10], v[11], v[12], v[13], v[14]}, nil
}

// String formats w as a /proc/fvm/windows line.
func (w Window) String() string {
	return fmt.Sprintf("%d %d %d %d %d %d %d %d %d %d %d %d %d %d %d", w.Seq, w.Start, w.End, w.Wall, w.CPU,
		w.Idle, w.Pause, w.Want, w.Steal, w.StealPermille, w.VCTPermille, w.PausePermille, w.PeriodUS,
		w.IdleCPU, w.PauseMode)
}

// Check verifies the arithmetic the interface promises for one window:
// wall = end - start, want = max(0, wall - idle - pause),
// steal = max(0, want - cpu) and the two permille values (rounded down).
func (w Window) Check() error {
	sub := func(a, b uint64) uint64 {
		if a > b {
			return a - b
		}
		return 0
	}
	switch {
	case w.End < w.Start || w.Wall != w.End-w.Start:
		return fmt.Errorf("window %d: wall %d != end %d - start %d", w.Seq, w.Wall, w.End, w.Start)
	case w.Want != sub(w.Wall, w.Idle+w.Pause):
		return fmt.Errorf("window %d: want %d != wall %d - idle %d - pause %d", w.Seq, w.Want, w.Wall, w.Idle, w.Pause)
	case w.Steal != sub(w.Want, w.CPU):
		return fmt.Errorf("window %d: steal %d != want %d - cpu %d", w.Seq, w.Steal, w.Want, w.CPU)
	case w.Wall > 0 && w.StealPermille != w.Steal*1000/w.Wall:
		return fmt.Errorf("window %d: steal_permille %d != 1000*%d/%d", w.Seq, w.StealPermille, w.Steal, w.Wall)
	case w.CPU > 0 && w.VCTPermille != min(w.Want*1000/w.CPU, math.MaxUint32):
		return fmt.Errorf("window %d: vct_permille %d != 1000*%d/%d", w.Seq, w.VCTPermille, w.Want, w.CPU)
	case w.CPU == 0 && w.VCTPermille != 0:
		return fmt.Errorf("window %d: vct_permille %d with cpu 0", w.Seq, w.VCTPermille)
	}
	return nil
}
