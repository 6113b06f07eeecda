package controller

// TraceVersion is the version of the JSONL trace format (design.md) the
// events of this package are written in.
const TraceVersion = 1

// Branch says which way a decision went.
type Branch uint8

// Branches, as recorded in decide events.
const (
	Increase Branch = iota
	Decrease
	Clamp // the rule's result was cut to Dmin or Dmax
	Hold  // no rule applied: a garbage window, or blind (hold Safe)
)

var branchNames = []string{"increase", "decrease", "clamp", "hold"}

func (b Branch) String() string { return name(branchNames, int(b)) }

// MarshalText implements encoding.TextMarshaler.
func (b Branch) MarshalText() ([]byte, error) { return []byte(b.String()), nil }

// Event is one trace event. Every concrete event embeds Base.
type Event interface {
	base() *Base
}

// Base holds the fields every trace line has.
type Base struct {
	V    int    `json:"v"`
	Kind string `json:"kind"`
	VM   string `json:"vm"`
	TNs  int64  `json:"t_ns"` // host CLOCK_MONOTONIC
}

func (b *Base) base() *Base { return b }

// Kinds of events this package writes.
const (
	KindHeader  = "header"
	KindSample  = "sample"
	KindDecide  = "decide"
	KindActuate = "actuate"
	KindGap     = "gap"
	KindEnd     = "end"
)

// Header opens a trace: the parameters the run was made with.
type Header struct {
	Base
	// Role is "fvm" (controller on) or "observe" (samples only: a greedy
	// guest's view, nothing actuated).
	Role       string `json:"role"`
	U          int    `json:"u"`
	Dmin       int    `json:"dmin"`
	Dmax       int    `json:"dmax"`
	Init       int    `json:"init"`
	Safe       int    `json:"safe"`
	Rule       Rule   `json:"rule"`
	Alpha      int    `json:"alpha"`
	Beta       Rat    `json:"beta"`
	Mu         Rat    `json:"mu"`
	Delta      int    `json:"delta"`
	Signal     Signal `json:"signal"`
	Theta      Rat    `json:"theta"` // theta_permille/1000 as a rational
	ThetaPerm  int    `json:"theta_permille"`
	EWMA       Rat    `json:"ewma"`
	D          int    `json:"d"`
	WindowNs   int64  `json:"window_ns"`
	PeriodUs   int    `json:"period_us"`
	HoldAfter  int64  `json:"hold_after_ns"`
	HoldGarb   int    `json:"hold_garbage"`
	StartSeq   uint64 `json:"start_seq"`       // windows up to this seq predate the controller
	ClockOff   int64  `json:"clock_offset_ns"` // host monotonic - guest monotonic
	Kernel     string `json:"kernel"`
	Controller string `json:"controller"`
	Workload   string `json:"workload"`
	// Host and Capacity name the reference host model this run is
	// compared against (duty: one core shared by duty-cycled VMs).
	Host     string `json:"host"`
	Capacity int    `json:"capacity"`
}

// Sample is one consumed window and the congestion bit derived from it.
type Sample struct {
	Base
	Window
	// Signal is the (smoothed) signal in permille that was thresholded.
	Signal int64 `json:"signal_permille"`
	// Congested is Signal > theta_permille.
	Congested bool `json:"congested"`
	// Garbage says why the window was rejected ("" if it was used).
	Garbage string `json:"garbage,omitempty"`
}

// Decide is one decision: the demand before and after.
type Decide struct {
	Base
	Seq       uint64 `json:"seq"`        // decision number, 1, 2, ...
	SampleSeq uint64 `json:"sample_seq"` // window used (the last consumed one for a blind hold)
	Newest    uint64 `json:"newest_seq"` // newest window visible when deciding
	Delay     uint64 `json:"delay"`      // newest_seq - sample_seq
	Congested bool   `json:"congested"`
	DBefore   int    `json:"d_before"`
	DAfter    int    `json:"d_after"`
	Branch    Branch `json:"branch"`
	// Reason explains a hold: "garbage" (d unchanged), "garbage-run" or
	// "silence" (d := safe).
	Reason string `json:"reason,omitempty"`
}

// Actuate is the pause the kernel reports in force after a write.
type Actuate struct {
	Base
	DecideSeq uint64 `json:"decide_seq"` // the decision this enforces (0: initial)
	D         int    `json:"d"`
	Want      int    `json:"want_pause_permille"`
	Pause     int    `json:"pause_permille"` // read back; -1 if unreadable
	OK        bool   `json:"ok"`
	Error     string `json:"error,omitempty"`
}

// Gap reports windows the controller never consumed.
type Gap struct {
	Base
	From   uint64 `json:"from_seq"`
	To     uint64 `json:"to_seq"`
	Count  uint64 `json:"count"`
	Reason string `json:"reason"` // "overflow" (ring lost them), "late" (older than D) or "missing"
}

// End closes a trace.
type End struct {
	Base
	Clean  bool   `json:"clean"`
	Reason string `json:"reason"`
	Counters
}

// Counters summarise what a controller saw.
type Counters struct {
	Windows    uint64 `json:"windows"`    // windows consumed (incl. garbage)
	Garbage    uint64 `json:"garbage"`    // of which garbage
	Duplicates uint64 `json:"duplicates"` // stale or repeated windows ignored
	Gaps       uint64 `json:"gaps"`       // gap events
	GapWindows uint64 `json:"gap_windows"`
	Decisions  uint64 `json:"decisions"`
	Holds      uint64 `json:"holds"` // holds that set the safe demand
	Actuations uint64 `json:"actuations"`
	ActErrors  uint64 `json:"actuate_errors"`
}
