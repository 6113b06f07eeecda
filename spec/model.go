package spec

import (
	"fmt"
	"math/big"
	"math/bits"

	"github.com/friendly-vm/fvm/ref"
	"github.com/friendly-vm/fvm/spec/mc"
	"github.com/friendly-vm/fvm/vocab"
)

// Model is the reference model with states packed into a uint64, for the
// checker. It is cross-checked against ref.Step for every reachable state of
// the small configurations (model_test.go): ref stays the oracle, Model is
// the fast path.
//
// Layout: FVM i owns the bit field starting at off[i]: its demand d-dmin in
// the low dbits, then its FIFO as (1<<len)|bits in D_i+2 bits (the leading
// one marks the length, so an empty FIFO is 1 and a state is never 0).
type Model struct {
	p       *ref.Params
	n       int
	dbits   uint
	off     [ref.MaxN]uint
	qbits   [ref.MaxN]uint
	width   [ref.MaxN]uint // dbits + qbits[i]
	actions []string
	// inc[i][d], dec[i][d]: the rule's result from demand d.
	inc, dec [ref.MaxN][]uint16
	// congested[v] is the sample mask for demand vector index v (fair and
	// duty hosts only; the shared host's bit is a sum comparison).
	congested []uint16
	// conserving[v] (duty-idle only) says whether the shares of every VM
	// sum to one core at demand vector index v (WorkConserving).
	conserving []bool
	threshold  int // shared: congested iff sum(d) > threshold
	// groups lists the index sets of identical FVMs (two or more each).
	groups [][]int
	// symmetric reports whether any two FVMs are identical.
	symmetric bool
	// lossForever: lossy ticks are not transient (spec.Options.LossForever).
	lossForever bool
}

// NewModel packs p's state space; it fails if a state needs more than 64
// bits.
func NewModel(p *ref.Params) (*Model, error) {
	if err := p.Validate(); err != nil {
		return nil, err
	}
	m := &Model{p: p, n: p.N()}
	m.dbits = uint(bits.Len(uint(p.Dmax - p.Dmin)))
	var total uint
	for i, f := range p.FVMs {
		m.off[i] = total
		m.qbits[i] = uint(f.Delay + 2)
		m.width[i] = m.dbits + m.qbits[i]
		total += m.width[i]
	}
	if total > 64 {
		return nil, fmt.Errorf("state needs %d bits (n=%d, dmax-dmin=%d, D=%v): the checker packs states into 64 bits; use fewer FVMs, a narrower demand range or shorter delays", total, m.n, p.Dmax-p.Dmin, delays(p))
	}
	m.actions = append(m.actions, "HostTick")
	for i := 0; i < m.n; i++ {
		m.actions = append(m.actions, fmt.Sprintf("Act(%d)", i))
		m.inc[i] = make([]uint16, p.Dmax+1)
		m.dec[i] = make([]uint16, p.Dmax+1)
		for d := p.Dmin; d <= p.Dmax; d++ {
			up, _ := p.Apply(i, d, false)
			down, _ := p.Apply(i, d, true)
			m.inc[i][d], m.dec[i][d] = uint16(up), uint16(down)
		}
	}
	taken := make([]bool, m.n)
	for i := 0; i < m.n; i++ {
		if taken[i] {
			continue
		}
		g := []int{i}
		for j := i + 1; j < m.n; j++ {
			if !taken[j] && p.Identical(i, j) {
				g = append(g, j)
				taken[j] = true
			}
		}
		if len(g) > 1 {
			m.groups = append(m.groups, g)
			m.symmetric = true
		}
	}
	if p.Host == vocab.Shared {
		m.threshold = int(p.Kappa.FloorMul(int64(p.Capacity))) - p.GreedyTotal()
	} else {
		m.congested = make([]uint16, m.vectors())
		d := make([]int, m.n)
		for v := range m.congested {
			m.vectorDemands(v, d)
			m.congested[v] = p.Congested(d)
		}
	}
	if p.Host == vocab.DutyIdle {
		m.conserving = make([]bool, m.vectors())
		d := make([]int, m.n)
		for v := range m.conserving {
			m.vectorDemands(v, d)
			m.conserving[v] = sharesSumToOne(p, d)
		}
	}
	return m, nil
}

// sharesSumToOne reports whether the FVMs' shares (ref.Observe) and the
// greedy VMs' (ref.GreedyShares) add up to exactly one core at demands d.
func sharesSumToOne(p *ref.Params, d []int) bool {
	sum := new(big.Rat)
	add := func(r vocab.Rat) { sum.Add(sum, new(big.Rat).SetFrac64(r.Num, r.Den)) }
	for _, o := range p.Observe(d) {
		add(o.Share)
	}
	for _, g := range p.GreedyShares(d) {
		add(g)
	}
	return sum.Cmp(big.NewRat(1, 1)) == 0
}

// vector returns the demand-vector index of packed state s (mixed radix,
// FVM 0 most significant; see vectorDemands).
func (m *Model) vector(s uint64) int {
	v, r := 0, m.p.Dmax-m.p.Dmin+1
	for i := 0; i < m.n; i++ {
		v = v*r + m.demand(s, i) - m.p.Dmin
	}
	return v
}

func delays(p *ref.Params) []int {
	d := make([]int, p.N())
	for i, f := range p.FVMs {
		d[i] = f.Delay
	}
	return d
}

// vectors is the number of demand vectors, (dmax-dmin+1)^n.
func (m *Model) vectors() int {
	k := 1
	for range m.n {
		k *= m.p.Dmax - m.p.Dmin + 1
	}
	return k
}

// vectorDemands decodes demand-vector index v (mixed radix, FVM 0 most
// significant) into d.
func (m *Model) vectorDemands(v int, d []int) {
	r := m.p.Dmax - m.p.Dmin + 1
	for i := m.n - 1; i >= 0; i-- {
		d[i] = m.p.Dmin + v%r
		v /= r
	}
}

// Params returns the model's parameters.
func (m *Model) Params() *ref.Params { return m.p }

// Actions names the actions: HostTick, then Act(i) for each FVM.
func (m *Model) Actions() []string { return m.actions }

func (m *Model) demand(s uint64, i int) int {
	return m.p.Dmin + int(s>>m.off[i]&(1<<m.dbits-1))
}

func (m *Model) fifo(s uint64, i int) uint64 {
	return s >> (m.off[i] + m.dbits) & (1<<m.qbits[i] - 1)
}

// Pack encodes a ref.State.
func (m *Model) Pack(s ref.State) uint64 {
	var x uint64
	for i := 0; i < m.n; i++ {
		q := uint64(1)<<s.Q[i].Len | uint64(s.Q[i].Bits)
		x |= (uint64(int(s.D[i])-m.p.Dmin) | q<<m.dbits) << m.off[i]
	}
	return x
}

// Unpack decodes a packed state.
func (m *Model) Unpack(x uint64) ref.State {
	var s ref.State
	for i := 0; i < m.n; i++ {
		s.D[i] = uint16(m.demand(x, i))
		q := m.fifo(x, i)
		l := bits.Len64(q) - 1
		s.Q[i] = ref.FIFO{Bits: uint16(q &^ (1 << l)), Len: uint8(l)}
	}
	return s
}

// Init emits every initial state.
func (m *Model) Init(emit func(uint64)) {
	for _, s := range ref.Init(m.p) {
		emit(m.Pack(s))
	}
}

// Next emits HostTick's successor (if enabled: always with Loss, where a
// full FIFO drops its oldest sample) and each enabled Act(i)'s.
func (m *Model) Next(s uint64, emit func(int, uint64)) {
	full := false
	for i := 0; i < m.n; i++ {
		q := m.fifo(s, i)
		if q == 1 {
			continue
		}
		if bits.Len64(q)-1 > m.p.FVMs[i].Delay {
			full = true
		}
		// Act(i): pop the oldest bit, apply the rule.
		d := m.demand(s, i)
		var nd uint16
		if q&1 == 1 {
			nd = m.dec[i][d]
		} else {
			nd = m.inc[i][d]
		}
		field := uint64(int(nd)-m.p.Dmin) | (q>>1)<<m.dbits
		mask := uint64(1)<<m.width[i] - 1
		emit(1+i, s&^(mask<<m.off[i])|field<<m.off[i])
	}
	if full && !m.p.Loss {
		return
	}
	bitsIn := m.sample(s)
	t := s
	for i := 0; i < m.n; i++ {
		q := m.fifo(s, i)
		l := uint(bits.Len64(q) - 1)
		if int(l) > m.p.FVMs[i].Delay { // full (Loss): drop the oldest sample
			q >>= 1
			l--
		}
		nq := q ^ 1<<l | 1<<(l+1) | uint64(bitsIn>>i&1)<<l
		shift := m.off[i] + m.dbits
		t = t&^((1<<m.qbits[i]-1)<<shift) | nq<<shift
	}
	if full && !m.lossForever {
		// A tick that drops a sample: the fairness assumption is that
		// losses end (MODEL.md, "Fairness").
		emit(0|mc.Transient, t)
		return
	}
	emit(0, t)
}

// sample returns the congestion mask a HostTick takes in s.
func (m *Model) sample(s uint64) uint16 {
	if m.congested == nil {
		sum := 0
		for i := 0; i < m.n; i++ {
			sum += m.demand(s, i)
		}
		if sum > m.threshold {
			return 1<<m.n - 1
		}
		return 0
	}
	return m.congested[m.vector(s)]
}

// Symmetric reports whether any two FVMs are identical, so that Canon
// reduces the state space.
func (m *Model) Symmetric() bool { return m.symmetric }

// Canon sorts the bit fields of identical FVMs, giving one representative
// per orbit of the permutations of identical FVMs. Identical FVMs have equal
// D, hence equal field widths.
func (m *Model) Canon(s uint64) uint64 {
	if !m.symmetric {
		return s
	}
	var f [ref.MaxN]uint64
	for i := 0; i < m.n; i++ {
		f[i] = s >> m.off[i] & (1<<m.width[i] - 1)
	}
	for _, g := range m.groups {
		// Insertion sort of the group's fields, written back in the
		// group's index order.
		var v [ref.MaxN]uint64
		for k, i := range g {
			v[k] = f[i]
			for j := k; j > 0 && v[j] < v[j-1]; j-- {
				v[j], v[j-1] = v[j-1], v[j]
			}
		}
		for k, i := range g {
			f[i] = v[k]
		}
	}
	var x uint64
	for i := 0; i < m.n; i++ {
		x |= f[i] << m.off[i]
	}
	return x
}

// Format renders a packed state like ref.State.Format.
func (m *Model) Format(s uint64) string { return m.Unpack(s).Format(m.n) }
