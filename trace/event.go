package trace

import (
	"fmt"
	"strconv"
	"strings"
)

// Version is the schema version this package reads and writes.
const Version = 1

// Kind is an event's kind.
type Kind uint8

// Event kinds. KindInvalid is the zero value and never valid on a line.
const (
	KindInvalid Kind = iota
	KindHeader       // run parameters for one VM; first event of the VM
	KindSample       // one kernel window's measurement and the congested bit
	KindDecide       // one application of the rule
	KindActuate      // the pause the kernel reports in force after a write
	KindHost         // the runner's host-side CPU measurement of one VM
	KindGap          // windows lost (the kernel's ring overflowed)
	KindEnd          // the VM's trace ends: cleanly, or with a reason
)

var kindNames = [...]string{"invalid", "header", "sample", "decide", "actuate", "host", "gap", "end"}

func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return "kind(" + strconv.Itoa(int(k)) + ")"
}

// ParseKind parses a kind name.
func ParseKind(s string) (Kind, error) {
	for i := 1; i < len(kindNames); i++ {
		if kindNames[i] == s {
			return Kind(i), nil
		}
	}
	return KindInvalid, fmt.Errorf("unknown kind %q (want one of %s)", s, strings.Join(kindNames[1:], ", "))
}

// Branch says which way a decision went.
type Branch uint8

// Branches of a decide event. BranchInvalid is the zero value.
const (
	BranchInvalid  Branch = iota
	BranchIncrease        // not congested: the rule's increase, within dmax
	BranchDecrease        // congested: the rule's decrease, within dmin
	BranchClamp           // the rule's result was cut to dmin or dmax
	// BranchHold: the demand was set outside the rule (a fallback, a
	// restart, or ignoring an unusable window), consuming window
	// sample_seq if it is not 0.
	BranchHold
)

var branchNames = [...]string{"invalid", "increase", "decrease", "clamp", "hold"}

func (b Branch) String() string {
	if int(b) < len(branchNames) {
		return branchNames[b]
	}
	return "branch(" + strconv.Itoa(int(b)) + ")"
}

// ParseBranch parses a branch name.
func ParseBranch(s string) (Branch, error) {
	for i := 1; i < len(branchNames); i++ {
		if branchNames[i] == s {
			return Branch(i), nil
		}
	}
	return BranchInvalid, fmt.Errorf("unknown branch %q (want one of %s)", s, strings.Join(branchNames[1:], ", "))
}

// Rat is an exact non-negative rational Num/Den, written in JSON as the
// string "num/den" (or "num" when Den is 1). The zero value (0/0) means
// "not set" and is omitted by the Writer.
type Rat struct {
	Num, Den int64
}

// IsZero reports whether r is unset (Den == 0).
func (r Rat) IsZero() bool { return r.Den == 0 }

// String formats r as "num/den", or "num" when Den is 1.
func (r Rat) String() string {
	if r.Den == 1 {
		return strconv.FormatInt(r.Num, 10)
	}
	return strconv.FormatInt(r.Num, 10) + "/" + strconv.FormatInt(r.Den, 10)
}

// Float returns r as a float64 (for reports).
func (r Rat) Float() float64 { return float64(r.Num) / float64(r.Den) }

// ParseRat parses "a/b", "a" or a decimal such as "0.875" into a
// non-negative rational with a positive denominator (not reduced, except
// that decimals become a/10^k).
func ParseRat(s string) (Rat, error) {
	if num, den, ok := strings.Cut(s, "/"); ok {
		n, err1 := parseUint(num)
		d, err2 := parseUint(den)
		if err1 != nil || err2 != nil {
			return Rat{}, fmt.Errorf("rational %q: want a/b with non-negative integers a and b", s)
		}
		if d == 0 {
			return Rat{}, fmt.Errorf("rational %q: denominator must be positive", s)
		}
		return Rat{n, d}, nil
	}
	ip, frac, dot := strings.Cut(s, ".")
	if ip == "" || dot && frac == "" || len(frac) > 9 {
		return Rat{}, fmt.Errorf("rational %q: want a/b, an integer or a decimal with at most 9 places", s)
	}
	den := int64(1)
	for range frac {
		den *= 10
	}
	n, err := parseUint(ip + frac)
	if err != nil {
		return Rat{}, fmt.Errorf("rational %q: want a/b, an integer or a decimal with at most 9 places", s)
	}
	return Rat{n, den}, nil
}

func parseUint(s string) (int64, error) {
	if s == "" || len(s) > 18 {
		return 0, fmt.Errorf("bad integer %q", s)
	}
	var n int64
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, fmt.Errorf("bad integer %q", s)
		}
		n = n*10 + int64(c-'0')
	}
	return n, nil
}

// Header carries a VM's run parameters. It is the first event of every VM
// in every file. Fields marked optional may be left zero.
type Header struct {
	N        int    `json:"n"`         // FVMs in the run
	U        int    `json:"u"`         // demand units per core: d = r*U
	Capacity int    `json:"capacity"`  // host capacity in units (U = one core)
	Host     string `json:"host"`      // host model the run is compared with: shared, fair or duty
	Signal   string `json:"signal"`    // optional: vct or steal (the thresholded observable)
	Theta    Rat    `json:"theta"`     // optional: congested iff signal > theta (signal as a fraction: permille/1000)
	Kappa    Rat    `json:"kappa"`     // optional: the shared host's capacity fraction
	Greedy   []int  `json:"greedy"`    // optional: demands of non-adaptive VMs, in units
	Rule     string `json:"rule"`      // aimd, mimd or aiad
	Alpha    int    `json:"alpha"`     // optional: additive increase, units
	Beta     Rat    `json:"beta"`      // optional: multiplicative decrease
	Mu       Rat    `json:"mu"`        // optional: multiplicative increase
	Delta    int    `json:"delta"`     // optional: additive decrease, units
	Dmin     int    `json:"dmin"`      // demand bounds, units
	Dmax     int    `json:"dmax"`      //
	D        int    `json:"d"`         // this VM's delay bound: windows a sample may wait
	WindowNs int64  `json:"window_ns"` // the signal's sampling interval
	PeriodUs int64  `json:"period_us"` // the actuation period
	// FidelityTol is the tolerance, as a fraction, for host-vs-guest CPU
	// consistency and for model fidelity.
	FidelityTol Rat `json:"fidelity_tol"`
	// EWMA, if set, is the weight of the newest window in the controller's
	// smoothed signal; samples then carry SignalPermille. Optional.
	EWMA Rat `json:"ewma"`
	// GapTolerated lets a run with gap events pass refinement (flagged).
	GapTolerated bool `json:"gap_tolerated"` // optional
	// InitD is the demand in force before the first decision. Optional
	// (0: the first decide's d_before).
	InitD         int    `json:"init_d"`
	Kernel        string `json:"kernel"`          // kernel (patch) version
	Controller    string `json:"controller"`      // controller version
	Workload      string `json:"workload"`        // workload description
	Clock         string `json:"clock"`           // optional: "host" (default) or "guest"
	ClockOffsetNs int64  `json:"clock_offset_ns"` // optional: guest clock + offset = host clock
	Seed          uint64 `json:"seed"`            // optional: simulation seed
}

// Sample is one kernel window as the controller read it (uml-impl/README.md,
// "windows"), and the congested bit it derived.
type Sample struct {
	Seq           int64 `json:"seq"` // the kernel's window number (1, 2, ...)
	StartNs       int64 `json:"start_ns"`
	WallNs        int64 `json:"wall_ns"`
	WantNs        int64 `json:"want_ns"` // wall - idle - pause
	CPUNs         int64 `json:"cpu_ns"`  // CPU obtained
	IdleNs        int64 `json:"idle_ns"`
	PauseNs       int64 `json:"pause_ns"`
	StealPermille int64 `json:"steal_permille"`
	VCTPermille   int64 `json:"vct_permille"`
	// PausePermille is the pause in force at the end of the window.
	PausePermille int64 `json:"pause_permille"`
	// SignalPermille is the value the controller compared with theta when
	// it smooths (header ewma set). Optional.
	SignalPermille int64 `json:"signal_permille"`
	Congested      bool  `json:"congested"`
}

// Decide is one decision of the controller.
type Decide struct {
	Seq       int64  `json:"seq"`        // decision number (1, 2, ...)
	SampleSeq int64  `json:"sample_seq"` // the window it used; 0: none (a hold only)
	NewestSeq int64  `json:"newest_seq"` // the newest completed window when deciding
	DBefore   int    `json:"d_before"`
	DAfter    int    `json:"d_after"`
	Branch    Branch `json:"branch"`
}

// Actuate is the pause the kernel reports in force after the controller
// wrote it for decision Seq (0: the initial demand before any decision).
type Actuate struct {
	Seq           int64 `json:"seq"`
	D             int   `json:"d"`              // the demand being actuated
	PausePermille int64 `json:"pause_permille"` // read back
	PeriodUs      int64 `json:"period_us"`      // read back; optional
}

// Host is the runner's host-side view of one VM over one host window:
// CPU time summed over the guest's whole process tree.
type Host struct {
	Seq    int64 `json:"seq"` // the runner's window number (1, 2, ...)
	WallNs int64 `json:"wall_ns"`
	CPUNs  int64 `json:"cpu_ns"`
}

// Gap says windows FromSeq..ToSeq (inclusive) were lost.
type Gap struct {
	FromSeq int64 `json:"from_seq"`
	ToSeq   int64 `json:"to_seq"`
}

// End ends a VM's trace: Clean, or not with a Reason.
type End struct {
	Clean  bool   `json:"clean"`
	Reason string `json:"reason"`
}

// Event is one line of a trace. Kind says which of the per-kind fields is
// meaningful; the others are zero.
type Event struct {
	Kind Kind
	VM   int
	TNs  int64

	Header  *Header
	Sample  Sample
	Decide  Decide
	Actuate Actuate
	Host    Host
	Gap     Gap
	End     End
}

// Seq returns the event's sequence number (0 for header and end; FromSeq
// for gap).
func (e *Event) Seq() int64 {
	switch e.Kind {
	case KindSample:
		return e.Sample.Seq
	case KindDecide:
		return e.Decide.Seq
	case KindActuate:
		return e.Actuate.Seq
	case KindHost:
		return e.Host.Seq
	case KindGap:
		return e.Gap.FromSeq
	}
	return 0
}
