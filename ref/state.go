package ref

import (
	"fmt"
	"strings"
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

// State is a state of the reference model. It is comparable and holds no
// pointers; only the first N entries of each array are meaningful and the
// rest are always zero, so == is state equality.
type State struct {
	D [MaxN]uint16 // demands
	Q [MaxN]FIFO   // pending samples per FVM
}

// Demands returns the first n demands as ints.
func (s State) Demands(n int) []int {
	d := make([]int, n)
	for i := range d {
		d[i] = int(s.D[i])
	}
	return d
}

// Format renders s for counterexamples, e.g. "d=[3 5 4] q=[1c,0,-]" where
// each FIFO is listed oldest first with c for congested and 1 for not.
func (s State) Format(n int) string {
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
			if q.At(k) {
				b.WriteByte('c')
			} else {
				b.WriteByte('n')
			}
		}
	}
	b.WriteByte(']')
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
