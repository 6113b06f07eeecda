package ref

import (
	"fmt"
	"strings"

	"github.com/friendly-vm/fvm/vocab"
)

// FIFO is an FVM's queue of pending congestion bits: bit k of Bits is the
// k-th oldest sample (bit 0 is consumed next), Len is how many are queued.
type FIFO struct {
	Bits uint16
	Len  uint8
}

// Push appends a sample bit.
func (q FIFO) Push(congested bool) FIFO {
	if congested {
		q.Bits |= 1 << q.Len
	}
	q.Len++
	return q
}

// Pop removes the oldest sample bit.
func (q FIFO) Pop() (FIFO, bool) {
	c := q.Bits&1 == 1
	q.Bits >>= 1
	q.Len--
	return q, c
}

// At returns the k-th oldest sample bit.
func (q FIFO) At(k int) bool { return q.Bits>>k&1 == 1 }

// The same for samples of w bits each (vocab.Rule.SampleBits): sample k is
// bits w*k .. w*k+w-1 of Bits. With w = 1 they are Push, Pop and At.

// PushSym appends a sample of w bits.
func (q FIFO) PushSym(x vocab.Symbol, w int) FIFO {
	q.Bits |= uint16(x) << (w * int(q.Len))
	q.Len++
	return q
}

// PopSym removes the oldest sample of w bits.
func (q FIFO) PopSym(w int) (FIFO, vocab.Symbol) {
	x := vocab.Symbol(q.Bits & (1<<w - 1))
	q.Bits >>= w
	q.Len--
	return q, x
}

// SymAt returns the k-th oldest sample of w bits.
func (q FIFO) SymAt(k, w int) vocab.Symbol { return vocab.Symbol(q.Bits >> (w * k) & (1<<w - 1)) }

// State is a state of the reference model. It is comparable and holds no
// pointers; only the first N entries of each array are meaningful and the
// rest are always zero, so == is state equality.
type State struct {
	D [MaxN]uint16 // demands
	Q [MaxN]FIFO   // pending samples per FVM
	// Ph is the phase of the next tick, 0..PhaseCount-1 (always 0 but
	// under aimd-phase).
	Ph uint8
}

// Demands returns the first n demands as ints.
func (s State) Demands(n int) []int {
	d := make([]int, n)
	for i := range d {
		d[i] = int(s.D[i])
	}
	return d
}

// Format renders s for counterexamples, e.g. "d=[3 5 4] q=[cn n -]" where
// each FIFO is listed oldest first with c for congested and n for not (one-
// bit samples; FormatRule prints symbols), and a non-zero phase last.
func (s State) Format(n int) string { return s.FormatRule(n, vocab.AIMD) }

// FormatRule is Format with the samples of rule r: c congested, n not,
// m mild (aimd-prop), w deferred (aimd-phase, waiting for its phase).
func (s State) FormatRule(n int, r vocab.Rule) string {
	w := r.SampleBits()
	var b strings.Builder
	b.WriteString("d=[")
	for i := 0; i < n; i++ {
		if i > 0 {
			b.WriteByte(' ')
		}
		fmt.Fprint(&b, s.D[i])
	}
	b.WriteString("] q=[")
	for i := 0; i < n; i++ {
		if i > 0 {
			b.WriteByte(' ')
		}
		q := s.Q[i]
		if q.Len == 0 {
			b.WriteByte('-')
		}
		for k := 0; k < int(q.Len); k++ {
			b.WriteByte("ncmw"[q.SymAt(k, w)])
		}
	}
	b.WriteByte(']')
	if s.Ph != 0 {
		fmt.Fprintf(&b, " ph=%d", s.Ph)
	}
	return b.String()
}

// Kind distinguishes the two actions of the model.
type Kind uint8

// Action kinds.
const (
	HostTick Kind = iota // the host samples every FVM
	Act                  // one FVM consumes its oldest sample
	// Hold is an open-mode action of the environment: FVM i's demand is set
	// to Input (within [Dmin, Dmax]) without consuming a sample. It models
	// what a real controller does outside the rule: fall back to a safe
	// duty when samples stop coming or are garbage, or restart with a reset
	// demand. It is never enabled in closed mode, so it adds no states to
	// the checked model.
	Hold
)

// Action is a labelled transition. For Act, VM is the FVM's index. For an
// open-mode HostTick (Open set), Input holds the sample bits taken from the
// environment, bit i for FVM i.
type Action struct {
	Kind  Kind
	VM    int
	Open  bool
	Input uint16
}

// Tick is the closed-mode HostTick action.
func Tick() Action { return Action{Kind: HostTick} }

// OpenTick is a HostTick whose sample bits come from the environment.
func OpenTick(congested uint16) Action { return Action{Kind: HostTick, Open: true, Input: congested} }

// HoldOf is the open-mode action setting FVM i's demand to d.
func HoldOf(i, d int) Action { return Action{Kind: Hold, VM: i, Open: true, Input: uint16(d)} }

// ActOf is FVM i's Act action.
func ActOf(i int) Action { return Action{Kind: Act, VM: i} }

func (a Action) String() string {
	switch {
	case a.Kind == Act:
		return fmt.Sprintf("Act(%d)", a.VM)
	case a.Kind == Hold:
		return fmt.Sprintf("Hold(%d, d=%d)", a.VM, a.Input)
	case a.Open:
		return fmt.Sprintf("HostTick(open %b)", a.Input)
	default:
		return "HostTick"
	}
}
