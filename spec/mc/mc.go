package mc

import (
	"fmt"
	"io"
	"strings"
	"time"
)

// Model is what the checker explores. States are packed into a uint64 by the
// model; the value 2^64-1 is reserved. Init and Next must be deterministic
// (same successors in the same order for the same state) and safe for
// concurrent use.
type Model interface {
	// Init emits every initial state.
	Init(emit func(s uint64))
	// Next emits every successor of s with its action label (an index into
	// Actions), possibly marked Transient. An action may emit several
	// successors; a state with no successors at all is a deadlock.
	Next(s uint64, emit func(action int, t uint64))
	// Actions names the actions; the index is the label. Weak fairness is
	// assumed on each action when liveness is checked.
	Actions() []string
}

// Transient marks an edge a behaviour takes only finitely often (label |
// Transient): the fairness assumption of the liveness check is that from
// some point on no transient edge is taken. Such an edge still counts as
// its action being enabled (weak fairness then demands a non-transient
// edge of the action). Safety checking treats it as any other edge.
const Transient = 1 << 15

// labelMask strips Transient from an emitted label.
const labelMask = Transient - 1

// Canonicalizer is implemented by models with symmetry: Canon returns the
// canonical representative of s's orbit. Next and Init must commute with the
// symmetry. It is used only for safety checking (Options.Symmetry).
type Canonicalizer interface {
	Canon(s uint64) uint64
}

// Invariant is a safety property that must hold in every reachable state.
type Invariant struct {
	Name  string
	Holds func(s uint64) bool
}

// EventuallyAlways is the liveness property <>[]P: every weakly fair
// behaviour eventually reaches a point after which P holds forever.
type EventuallyAlways struct {
	Name string
	P    func(s uint64) bool
}

// LimitSetProperty is a property of the limit sets: Holds must be true of
// every limit set (a weakly fair behaviour's set of states visited forever).
// A violation is reported as a lasso into the first limit set (in BFS
// order) for which Holds is false.
type LimitSetProperty struct {
	Name  string
	Holds func(LimitSet) bool
}

// Options tunes a check. The zero value is a sensible default.
type Options struct {
	// Workers is the number of search goroutines; 0 means GOMAXPROCS.
	Workers int
	// Symmetry stores canonical states (the model must implement
	// Canonicalizer). Liveness is then not checked.
	Symmetry bool
	// ExpectedStates pre-sizes the visited set so that it never has to grow.
	ExpectedStates int64
	// MaxMemory bounds the bytes the checker's tables may use; 0 means 80% of
	// physical memory. Exceeding it is an error, not a crash.
	MaxMemory int64
	// NoDeadlock disables deadlock detection (a deadlock state is then only a
	// limit set where the behaviour stutters forever).
	NoDeadlock bool
	// KeepGoing continues the search after an invariant or deadlock
	// violation, so that every property gets a verdict; each property still
	// gets its shortest counterexample.
	KeepGoing bool
	// Progress, if not nil, receives a progress line every second (only runs
	// longer than a second print anything).
	Progress io.Writer
	// LimitSets, if not nil, is called (after the search, without symmetry)
	// with every limit set of a weakly fair behaviour: the fair strongly
	// connected components of the graph without transient edges and the
	// deadlock states, in BFS order of their first state. The slices are
	// owned by the callee.
	LimitSets func(LimitSet)
	// LimitSetProperties are checked on every limit set (without symmetry,
	// like the eventually-always properties).
	LimitSetProperties []LimitSetProperty
}

// Kind classifies properties and their violations.
type Kind int

// The kinds of properties.
const (
	KindInvariant Kind = iota
	KindDeadlock
	KindLiveness
)

func (k Kind) String() string {
	switch k {
	case KindInvariant:
		return "invariant"
	case KindDeadlock:
		return "deadlock"
	case KindLiveness:
		return "liveness"
	}
	return fmt.Sprintf("Kind(%d)", int(k))
}

// Step is one state of a trace and the action that led to it (Init for the
// first state).
type Step struct {
	Action int
	State  uint64
}

// Init is the Action of the first Step of a trace.
const Init = -1

// Violation is a counterexample.
type Violation struct {
	Kind     Kind
	Property string // the property's name ("Deadlock" for deadlocks)
	// Trace is a shortest path from an initial state: to the violating state
	// for invariants and deadlocks, to the first state of the cycle for
	// liveness. len(Trace)-1 is its number of steps.
	Trace []Step
	// Cycle (liveness only) leads from the last state of Trace back to it;
	// its last Step's State equals Trace's last State. It is empty when the
	// behaviour stutters forever in a deadlock state (Stutter).
	Cycle   []Step
	Stutter bool
}

// Status is a property's verdict.
type Status int

// Verdicts.
const (
	NotChecked Status = iota
	Holds
	Violated
)

func (s Status) String() string {
	switch s {
	case Holds:
		return "holds"
	case Violated:
		return "violated"
	}
	return "not checked"
}

// MarshalText writes the verdict's name.
func (s Status) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// UnmarshalText reads "holds" or "violated" (a recorded verdict is never
// "not checked").
func (s *Status) UnmarshalText(b []byte) error {
	switch string(b) {
	case "holds":
		*s = Holds
	case "violated":
		*s = Violated
	default:
		return fmt.Errorf("verdict %q: want holds or violated", b)
	}
	return nil
}

// Verdict is the outcome for one property.
type Verdict struct {
	Name   string
	Kind   Kind
	Status Status
}

// Stats describes a run.
type Stats struct {
	Workers   int
	Symmetry  bool
	Initial   int64 // initial states emitted (before deduplication)
	Distinct  int64 // distinct (canonical, with symmetry) states reached
	Generated int64 // successor edges generated by Next (TLC's "states generated" is Initial+Generated)
	// Depth is the number of BFS levels: 1 + the largest distance from an
	// initial state (TLC's "depth of the complete state graph search").
	Depth        int
	Duration     time.Duration // whole check
	SearchTime   time.Duration // the BFS alone
	StatesPerSec float64       // Distinct / SearchTime
	// Bytes is the peak size of the engine's own arrays (visited set, level
	// lists, and for liveness the graph and SCC arrays); BytesPerState
	// divides the search's share (visited set + level lists) by Distinct.
	Bytes         int64
	SearchBytes   int64
	BytesPerState float64
	Edges         int64 // liveness graph edges (0 if not built)
	SCCs          int64 // strongly connected components (0 if not computed)
	LimitSets     int64 // fair SCCs and deadlock states
}

// Result is the outcome of Check.
type Result struct {
	Stats      Stats
	Verdicts   []Verdict
	Violations []Violation
	// Notes explain what was not checked and why (for example liveness
	// under symmetry reduction).
	Notes []string
}

// OK reports whether no property was violated.
func (r *Result) OK() bool { return len(r.Violations) == 0 }

// LimitSet is a fair strongly connected component (or a deadlock state, with
// Stutter set): the states a weakly fair behaviour may visit forever.
type LimitSet struct {
	first   uint32   // the graph id of States[0]
	States  []uint64 // in BFS order
	Edges   []Edge   // non-transient edges with both ends inside, indices into States
	Stutter bool     // a single deadlock state
	// Contains reports whether a state belongs to this limit set. It is
	// valid only during the callback.
	Contains func(s uint64) bool
}

// Edge is a labelled edge of a LimitSet.
type Edge struct {
	From, To int32
	Action   int
}

// FormatTrace renders steps one per line, using show to print states (nil
// prints the packed value in hex).
func FormatTrace(actions []string, steps []Step, show func(uint64) string) string {
	var b strings.Builder
	for _, st := range steps {
		name := "Init"
		if st.Action >= 0 && st.Action < len(actions) {
			name = actions[st.Action]
		}
		var s string
		if show != nil {
			s = show(st.State)
		} else {
			s = fmt.Sprintf("%#x", st.State)
		}
		fmt.Fprintf(&b, "%-12s %s\n", name, s)
	}
	return b.String()
}
