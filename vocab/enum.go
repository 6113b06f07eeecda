package vocab

import (
	"fmt"
	"strings"
)

// Host selects the host model: what a sample of the reference model says,
// and which model a real run is compared with (spec/MODEL.md, "Host
// models").
type Host uint8

// Host models.
const (
	// Shared is the Chiu–Jain model: one bit for everyone,
	// congested = sum(d) + greedy > kappa*C.
	Shared Host = iota
	// Fair is a fluid CFS with budget-style demands: max-min fair
	// (water-filling) shares of the capacity.
	Fair
	// Duty is what pause actuation really does: each VM is awake a
	// fraction r_i of every actuation period with independent phases, and
	// awake VMs split the core equally.
	Duty
	// DutyIdle is work-conserving pause actuation: as Duty, but during its
	// pause a VM's host processes run at SCHED_IDLE instead of sleeping,
	// so the paused time is used only when no VM at normal priority wants
	// the core. The awake (normal-priority) fractions r_i share the core
	// as under Duty; the rest of the period goes to the FVMs at SCHED_IDLE,
	// equally. The signal is measured over the normal-priority part of
	// each period, so it equals Duty's.
	DutyIdle
)

// DutyCycle reports whether h models pause actuation (a duty cycle of
// awake fractions r_i): Duty and DutyIdle, which share their signal.
func (h Host) DutyCycle() bool { return h == Duty || h == DutyIdle }

// Signal selects the per-FVM observable a controller thresholds. The zero
// value NoSignal is the shared host's: one capacity bit, no observable.
type Signal uint8

// Signals.
const (
	NoSignal Signal = iota
	// VCT is virtual clock time: real time per unit of CPU progress while
	// the VM wants the CPU, r_i/s_i (>= 1). The paper's signal.
	VCT
	// Steal is the fraction of wall time the VM wanted a CPU and did not
	// get one, r_i - s_i.
	Steal
)

// Rule selects the demand update rule. Increases apply to an uncongested
// sample, decreases to a congested one; every result is clamped to
// [dmin, dmax].
type Rule uint8

// Rules.
const (
	AIMD Rule = iota // d+alpha, floor(beta*d)
	MIMD             // ceil(mu*d), floor(beta*d)
	AIAD             // d+alpha, d-delta
	// AIMDProp is AIMD with a decrease that grows with the signal
	// (DCTCP-style, in two levels): d+alpha; on a Mild sample (theta <
	// signal <= 2 theta) floor(d (1+beta)/2); on a Congested one (signal >
	// 2 theta) floor(beta*d).
	AIMDProp
	// AIMDPhase is AIMD with de-synchronised decreases: FVM i acts on
	// congestion only in the ticks of its phase (tick mod Phases = i mod
	// Phases) and keeps its demand on a congested sample of another tick
	// (a Deferred sample): d+alpha, floor(beta*d), or d.
	AIMDPhase
)

// SampleBits is the width of one sample in the reference model's FIFOs:
// one bit (Clear or Congested) for AIMD, MIMD and AIAD, two for the rules
// that tell more (a Symbol).
func (r Rule) SampleBits() int {
	if r == AIMDProp || r == AIMDPhase {
		return 2
	}
	return 1
}

// Symbol is one sample as the reference model queues it: what a HostTick
// tells one FVM. The one-bit rules use only Clear and Congested.
type Symbol uint8

// Symbols.
const (
	Clear     Symbol = iota // not congested: the rule's increase
	Congested               // congested: the rule's (full) decrease
	Mild                    // AIMDProp: congested, signal at most 2 theta: the mild decrease
	Deferred                // AIMDPhase: congested off the FVM's phase: no change
)

// Branch says which way a decision went. The zero value is not a branch.
type Branch uint8

// Branches, as the reference model computes them and traces record them.
const (
	NoBranch Branch = iota
	Increase        // uncongested: the rule's increase, within dmax
	Decrease        // congested: the rule's decrease, within dmin
	Clamp           // the rule's result was cut to dmin or dmax (or was already there)
	// Hold: the demand was set outside the rule (a fallback, a restart, or
	// ignoring an unusable window).
	Hold
	// Defer: a congested sample the rule does not act on (AIMDPhase, off
	// the FVM's phase); the demand is kept.
	Defer
)

// The names, in enum order. "none" names the zero value of the types that
// have one (NoSignal, NoBranch); it is printed, never parsed.
var (
	hostNames   = []string{"shared", "fair", "duty", "duty-idle"}
	signalNames = []string{"none", "vct", "steal"}
	ruleNames   = []string{"aimd", "mimd", "aiad", "aimd-prop", "aimd-phase"}
	branchNames = []string{"none", "increase", "decrease", "clamp", "hold", "defer"}
)

// Hosts, Signals, Rules and Branches list every valid value, in order
// (Signals and Branches without their zero value).
func Hosts() []Host             { return []Host{Shared, Fair, Duty, DutyIdle} }
func Signals() []Signal         { return []Signal{VCT, Steal} }
func Rules() []Rule             { return []Rule{AIMD, MIMD, AIAD, AIMDProp, AIMDPhase} }
func Branches() []Branch        { return []Branch{Increase, Decrease, Clamp, Hold, Defer} }
func (h Host) String() string   { return name(hostNames, int(h)) }
func (s Signal) String() string { return name(signalNames, int(s)) }
func (r Rule) String() string   { return name(ruleNames, int(r)) }
func (b Branch) String() string { return name(branchNames, int(b)) }

// Valid reports whether the value is one of the named constants (for
// Signal and Branch: not the zero value).
func (h Host) Valid() bool   { return int(h) < len(hostNames) }
func (s Signal) Valid() bool { return s != NoSignal && int(s) < len(signalNames) }
func (r Rule) Valid() bool   { return int(r) < len(ruleNames) }
func (b Branch) Valid() bool { return b != NoBranch && int(b) < len(branchNames) }

func name(names []string, i int) string {
	if i >= 0 && i < len(names) {
		return names[i]
	}
	return fmt.Sprintf("invalid(%d)", i)
}

// parse finds s among names[first:] (case-insensitively, ignoring
// surrounding space).
func parse(kind string, names []string, first int, s string) (int, error) {
	t := strings.TrimSpace(s)
	var valid []string
	for i, n := range names {
		if i < first {
			continue
		}
		if strings.EqualFold(n, t) {
			return i, nil
		}
		valid = append(valid, n)
	}
	return 0, fmt.Errorf("%s %q: want one of %s", kind, s, strings.Join(valid, ", "))
}

// ParseHost parses shared, fair, duty or duty-idle.
func ParseHost(s string) (Host, error) { i, err := parse("host", hostNames, 0, s); return Host(i), err }

// ParseSignal parses vct or steal.
func ParseSignal(s string) (Signal, error) {
	i, err := parse("signal", signalNames, 1, s)
	return Signal(i), err
}

// ParseRule parses aimd, mimd, aiad, aimd-prop or aimd-phase.
func ParseRule(s string) (Rule, error) { i, err := parse("rule", ruleNames, 0, s); return Rule(i), err }

// ParseBranch parses increase, decrease, clamp, hold or defer.
func ParseBranch(s string) (Branch, error) {
	i, err := parse("branch", branchNames, 1, s)
	return Branch(i), err
}

// MarshalText and UnmarshalText make the enums read and write their names
// in JSON and flags.
func (h Host) MarshalText() ([]byte, error)   { return []byte(h.String()), nil }
func (s Signal) MarshalText() ([]byte, error) { return []byte(s.String()), nil }
func (r Rule) MarshalText() ([]byte, error)   { return []byte(r.String()), nil }
func (b Branch) MarshalText() ([]byte, error) { return []byte(b.String()), nil }

// UnmarshalText parses a host name.
func (h *Host) UnmarshalText(b []byte) (err error) { *h, err = ParseHost(string(b)); return err }

// UnmarshalText parses a signal name; the empty text is NoSignal.
func (s *Signal) UnmarshalText(b []byte) (err error) {
	if len(b) == 0 {
		*s = NoSignal
		return nil
	}
	*s, err = ParseSignal(string(b))
	return err
}

// UnmarshalText parses a rule name.
func (r *Rule) UnmarshalText(b []byte) (err error) { *r, err = ParseRule(string(b)); return err }

// UnmarshalText parses a branch name.
func (b *Branch) UnmarshalText(t []byte) (err error) { *b, err = ParseBranch(string(t)); return err }
