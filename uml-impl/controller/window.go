package controller

import (
	"bytes"
	"fmt"
	"strconv"

	"github.com/friendly-vm/fvm/vocab"
)

// Window is one line of /proc/fvm/windows: the kernel's measurement of one
// sampling window (uml-impl/README.md). Times are host CLOCK_MONOTONIC ns.
// In pause mode idle (a work-conserving pause) the signal fields cover the
// normal-priority part of the window, PauseNs its idle-priority part, and
// IdleCPUNs is the CPU the VM got at idle priority.
type Window struct {
	Seq           uint64 `json:"seq"`
	StartNs       uint64 `json:"start_ns"`
	EndNs         uint64 `json:"end_ns"`
	WallNs        uint64 `json:"wall_ns"`
	CPUNs         uint64 `json:"cpu_ns"`
	IdleNs        uint64 `json:"idle_ns"`
	PauseNs       uint64 `json:"pause_ns"`
	WantNs        uint64 `json:"want_ns"`
	StealNs       uint64 `json:"steal_ns"`
	StealPermille uint64 `json:"steal_permille"`
	VCTPermille   uint64 `json:"vct_permille"`
	PausePermille uint64 `json:"pause_permille"`
	PeriodUs      uint64 `json:"period_us"`
	IdleCPUNs     uint64 `json:"idle_cpu_ns,omitempty"`
	PauseMode     uint64 `json:"pause_mode,omitempty"`
}

// windowFields is the number of fields of a windows line (interface
// version 4); windowFieldsV2 that of versions 2 and 3, without idle_cpu_ns and
// pause_mode.
const (
	windowFields   = 15
	windowFieldsV2 = 13
)

// ParseWindows parses the content of /proc/fvm/windows: an optional header
// line starting with '#', then one window per line, 15 unsigned decimal
// fields (13 from a kernel of interface version 2 or 3). A malformed line is an
// error naming its line number.
func ParseWindows(b []byte) ([]Window, error) {
	var out []Window
	for n, line := range bytes.Split(b, []byte("\n")) {
		line = bytes.TrimSpace(line)
		if len(line) == 0 || line[0] == '#' {
			continue
		}
		f := bytes.Fields(line)
		if len(f) != windowFields && len(f) != windowFieldsV2 {
			return out, fmt.Errorf("windows line %d: %d fields, want %d: %q", n+1, len(f), windowFields, line)
		}
		var v [windowFields]uint64
		for i, s := range f {
			x, err := strconv.ParseUint(string(s), 10, 64)
			if err != nil {
				return out, fmt.Errorf("windows line %d field %d: %w", n+1, i+1, err)
			}
			v[i] = x
		}
		out = append(out, Window{
			Seq: v[0], StartNs: v[1], EndNs: v[2], WallNs: v[3], CPUNs: v[4], IdleNs: v[5],
			PauseNs: v[6], WantNs: v[7], StealNs: v[8], StealPermille: v[9], VCTPermille: v[10],
			PausePermille: v[11], PeriodUs: v[12], IdleCPUNs: v[13], PauseMode: v[14],
		})
	}
	return out, nil
}

// Format renders w as a windows line (the inverse of ParseWindows).
func (w Window) Format() string {
	return fmt.Sprintf("%d %d %d %d %d %d %d %d %d %d %d %d %d %d %d", w.Seq, w.StartNs, w.EndNs, w.WallNs,
		w.CPUNs, w.IdleNs, w.PauseNs, w.WantNs, w.StealNs, w.StealPermille, w.VCTPermille,
		w.PausePermille, w.PeriodUs, w.IdleCPUNs, w.PauseMode)
}

// maxWindowFactor bounds a window's wall time to this many nominal windows:
// the kernel's sampler can be late (the host may not run it), not this late.
const maxWindowFactor = 100

// Garbage returns why w cannot be a window the kernel produced (its fields
// contradict each other or the interface's ranges), or "" if it is
// plausible. windowNs is the nominal window length.
func Garbage(w Window, windowNs int64) string {
	sat := func(a, b uint64) uint64 {
		if a > b {
			return a - b
		}
		return 0
	}
	// within reports whether x is within 1 of num*1000/den (kernel rounding).
	within := func(x, num, den uint64) bool {
		if den == 0 || num > (1<<63)/1000 {
			return false
		}
		q := num * 1000 / den
		return x+1 >= q && x <= q+1
	}
	switch {
	case w.Seq == 0:
		return "seq 0"
	case w.EndNs <= w.StartNs:
		return "end_ns <= start_ns"
	case w.WallNs != w.EndNs-w.StartNs:
		return "wall_ns != end_ns - start_ns"
	case w.WallNs < uint64(windowNs)/2:
		return fmt.Sprintf("wall_ns %d shorter than half a window", w.WallNs)
	case w.WallNs > uint64(windowNs)*maxWindowFactor:
		return fmt.Sprintf("wall_ns %d longer than %d windows", w.WallNs, maxWindowFactor)
	case w.IdleNs > w.WallNs || w.PauseNs > w.WallNs:
		return "idle_ns or pause_ns > wall_ns"
	case w.CPUNs > 2*w.WallNs:
		return "cpu_ns > 2*wall_ns"
	case w.WantNs != sat(w.WallNs, w.IdleNs+w.PauseNs):
		return "want_ns != wall_ns - idle_ns - pause_ns"
	case w.StealNs != sat(w.WantNs, w.CPUNs):
		return "steal_ns != want_ns - cpu_ns"
	case w.StealPermille > 1000 || !within(w.StealPermille, w.StealNs, w.WallNs):
		return "steal_permille != 1000*steal_ns/wall_ns"
	case w.CPUNs == 0 && w.VCTPermille != 0:
		return "vct_permille != 0 with cpu_ns 0"
	case w.CPUNs > 0 && !within(w.VCTPermille, w.WantNs, w.CPUNs):
		return "vct_permille != 1000*want_ns/cpu_ns"
	case w.PausePermille > vocab.MaxPausePermille:
		return "pause_permille > 950"
	case w.PeriodUs < 1000 || w.PeriodUs > 1_000_000:
		return "period_us outside [1000, 1000000]"
	case w.PauseMode > 1:
		return "pause_mode not 0 (sleep) or 1 (idle)"
	case w.IdleCPUNs > 2*w.WallNs:
		return "idle_cpu_ns > 2*wall_ns"
	}
	return ""
}
