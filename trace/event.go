package trace

import (
	"fmt"
	"strings"

	"github.com/friendly-vm/fvm/vocab"
)

// Version is the schema version this package writes. The Reader also reads
// OldestVersion..Version: version 1 spelled the delay bound "d" in headers,
// and its header flag gap_tolerated ("gaps may occur") reads as loss.
const (
	Version       = 2
	OldestVersion = 1
)

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
	KindGap          // windows never used: lost before they were read, or older than the delay bound
	KindEnd          // the VM's trace ends: cleanly, or with a reason
)

func (k Kind) String() string {
	if k > KindInvalid && int(k) < len(formats) {
		return formats[k].name
	}
	return fmt.Sprintf("kind(%d)", k)
}

// ParseKind parses a kind name.
func ParseKind(s string) (Kind, error) {
	for k := KindHeader; int(k) < len(formats); k++ {
		if formats[k].name == s {
			return k, nil
		}
	}
	names := make([]string, 0, len(formats)-1)
	for _, f := range formats[1:] {
		names = append(names, f.name)
	}
	return KindInvalid, fmt.Errorf("unknown kind %q (want one of %s)", s, strings.Join(names, ", "))
}

// Model is what a header declares about the model a VM is held to: the
// reference model's parameters for this VM and the run's time base. Every
// header of a VM must declare the same Model.
type Model struct {
	N        int          // FVMs in the run
	U        int          // demand units per core: demand d means awake d/U of the time
	Capacity int          // host capacity in units (U = one core)
	Host     vocab.Host   // host model the run is compared with
	Signal   vocab.Signal // the thresholded observable (NoSignal under the shared host)
	Theta    vocab.Rat    // congested iff signal > theta (signal as a fraction: permille/1000)
	Kappa    vocab.Rat    // the shared host's capacity fraction
	Greedy   []int        // demands of non-adaptive VMs, in units
	Rule     vocab.Rule   //
	Alpha    int          // additive increase, units (aimd, aiad)
	Beta     vocab.Rat    // multiplicative decrease (aimd, mimd)
	Mu       vocab.Rat    // multiplicative increase (mimd)
	Delta    int          // additive decrease, units (aiad)
	Dmin     int          // demand bounds, units
	Dmax     int          //
	Delay    int          // this VM's delay bound: windows a sample may wait
	// Loss says the model drops a sample that has become older than the
	// delay bound (gap events); without it, a gap does not refine.
	Loss     bool
	WindowNs int64 // the signal's sampling interval
	PeriodUs int64 // the actuation period
	// FidelityTol is the tolerance, as a fraction of one core, the run
	// declares for model fidelity (reported beside the measured figure; the
	// checker's host-vs-guest consistency has its own, tighter bound).
	FidelityTol vocab.Rat
	// EWMA, if set, is the weight of the newest window in the controller's
	// smoothed signal; samples then carry SignalPermille.
	EWMA vocab.Rat
}

// Header carries a VM's run parameters and identity. It is the first event
// of every VM in every file.
type Header struct {
	Model
	// InitD is the demand in force before the first decision (0: the first
	// decide's d_before).
	InitD         int
	Kernel        string // kernel (patch) version
	Controller    string // controller version
	Workload      string // workload description
	Clock         string // "host" (default) or "guest"
	ClockOffsetNs int64  // guest clock + offset = host clock
	Seed          uint64 // simulation seed
}

// NewHeader builds the header that declares m, keeping only the parameters
// m's host and rule use (kappa for the shared host, signal and theta for
// the others; alpha, beta, mu, delta as the rule needs them) and filling in
// the real system's window and period when m leaves them zero. The
// simulator and the controller both build their headers with it.
func NewHeader(m Model) Header {
	if m.Host == vocab.Shared {
		m.Signal, m.Theta = vocab.NoSignal, vocab.Rat{}
	} else {
		m.Kappa = vocab.Rat{}
	}
	switch m.Rule {
	case vocab.AIMD:
		m.Mu, m.Delta = vocab.Rat{}, 0
	case vocab.MIMD:
		m.Alpha, m.Delta = 0, 0
	case vocab.AIAD:
		m.Beta, m.Mu = vocab.Rat{}, vocab.Rat{}
	}
	if len(m.Greedy) == 0 {
		m.Greedy = nil
	}
	if m.WindowNs == 0 {
		m.WindowNs = vocab.WindowNs
	}
	if m.PeriodUs == 0 {
		m.PeriodUs = vocab.PeriodUs
	}
	return Header{Model: m}
}

// Sample is one kernel window as the controller read it (uml-impl/README.md,
// "windows"), and the congested bit it derived.
type Sample struct {
	Seq     int64 // the kernel's window number (1, 2, ...)
	StartNs int64 // host time the window started
	WallNs  int64
	WantNs  int64 // wall - idle - pause
	CPUNs   int64 // CPU obtained
	IdleNs  int64
	PauseNs int64
	// IdleCPUNs is the CPU obtained at idle priority, in the pauses of a
	// work-conserving pause (host duty-idle): CPUNs, WantNs and the
	// signal cover the normal-priority part only. 0 otherwise.
	IdleCPUNs     int64
	StealPermille int64
	VCTPermille   int64
	// PausePermille is the pause in force at the end of the window.
	PausePermille int64
	// SignalPermille is the value the controller compared with theta when
	// it smooths (header ewma set).
	SignalPermille int64
	Congested      bool
}

// Decide is one decision of the controller.
type Decide struct {
	Seq       int64        // decision number (1, 2, ...)
	SampleSeq int64        // the window it used; 0: none (a hold only)
	NewestSeq int64        // the newest completed window when deciding
	DBefore   int          // demand before, units
	DAfter    int          // demand after, units
	Branch    vocab.Branch //
}

// Actuate is the pause the kernel reports in force after the controller
// wrote it for decision Seq (0: the initial demand before any decision).
type Actuate struct {
	Seq           int64
	D             int   // the demand being actuated, units
	PausePermille int64 // read back
	PeriodUs      int64 // read back
}

// Host is the runner's host-side view of one VM over one host window:
// CPU time summed over the guest's whole process tree.
type Host struct {
	Seq    int64 // the runner's window number (1, 2, ...)
	WallNs int64
	CPUNs  int64
}

// Gap says windows FromSeq..ToSeq (inclusive) were never used: the kernel's
// ring overflowed before they were read, or they were older than the delay
// bound when read. NewestSeq, when set, is the newest window the controller
// saw when it gave them up.
type Gap struct {
	FromSeq   int64
	ToSeq     int64
	NewestSeq int64
}

// End ends a VM's trace: Clean, or not with a Reason.
type End struct {
	Clean  bool
	Reason string
}

// Event is one line of a trace. Kind says which of the per-kind fields is
// meaningful; the others are zero.
type Event struct {
	Kind Kind
	VM   int
	TNs  int64 // host monotonic ns, or a guest clock (Header.Clock)

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
