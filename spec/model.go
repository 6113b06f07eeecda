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
// the low dbits, then its FIFO as (1<<(w*len))|samples in w(D_i+1)+1 bits,
// w bits a sample (vocab.Rule.SampleBits; the leading one marks the length,
// so an empty FIFO is 1 and a state is never 0). Under aimd-phase the tick
// phase follows in the top phBits.
type Model struct {
	p       *ref.Params
	n       int
	w       uint // bits per sample
	dbits   uint
	off     [ref.MaxN]uint
	qbits   [ref.MaxN]uint
	width   [ref.MaxN]uint // dbits + qbits[i]
	phOff   uint           // the phase field: phBits bits at phOff
	phBits  uint
	phases  int
	actions []string
	// rule[i][x][d] is the rule's result from demand d on sample symbol x.
	rule [ref.MaxN][4][]uint16
	// congested[v] is the sample mask for demand vector index v (fair and
	// duty hosts only; the shared host's bit is a sum comparison); under
	// aimd-prop it holds every FVM's symbol, w bits each.
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
	m := &Model{p: p, n: p.N(), w: uint(p.Rule.SampleBits()), phases: p.PhaseCount()}
	m.dbits = uint(bits.Len(uint(p.Dmax - p.Dmin)))
	var total uint
	for i, f := range p.FVMs {
		m.off[i] = total
		m.qbits[i] = m.w*uint(f.Delay+1) + 1
		m.width[i] = m.dbits + m.qbits[i]
		total += m.width[i]
	}
	m.phOff, m.phBits = total, uint(bits.Len(uint(m.phases-1)))
	total += m.phBits
	if total > 64 {
		return nil, fmt.Errorf("state needs %d bits (n=%d, dmax-dmin=%d, D=%v): the checker packs states into 64 bits; use fewer FVMs, a narrower demand range or shorter delays", total, m.n, p.Dmax-p.Dmin, delays(p))
	}
	m.actions = append(m.actions, "HostTick")
	for i := 0; i < m.n; i++ {
		m.actions = append(m.actions, fmt.Sprintf("Act(%d)", i))
		for x := range m.rule[i] {
			m.rule[i][x] = make([]uint16, p.Dmax+1)
			for d := p.Dmin; d <= p.Dmax; d++ {
				next, _ := p.ApplySym(i, d, vocab.Symbol(x))
				m.rule[i][x][d] = uint16(next)
			}
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
			if p.Rule == vocab.AIMDProp {
				for i, x := range p.Samples(d, 0) {
					m.congested[v] |= uint16(x) << (m.w * uint(i))
				}
			} else {
				m.congested[v] = p.Congested(d)
			}
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

// fifoLen is the number of samples in a packed FIFO.
func (m *Model) fifoLen(q uint64) int { return (bits.Len64(q) - 1) / int(m.w) }

// phase is the tick phase of a packed state.
func (m *Model) phase(s uint64) int { return int(s >> m.phOff & (1<<m.phBits - 1)) }

// Pack encodes a ref.State.
func (m *Model) Pack(s ref.State) uint64 {
	var x uint64
	for i := 0; i < m.n; i++ {
		q := uint64(1)<<(m.w*uint(s.Q[i].Len)) | uint64(s.Q[i].Bits)
		x |= (uint64(int(s.D[i])-m.p.Dmin) | q<<m.dbits) << m.off[i]
	}
	return x | uint64(s.Ph)<<m.phOff
}

// Unpack decodes a packed state.
func (m *Model) Unpack(x uint64) ref.State {
	s := ref.State{Ph: uint8(m.phase(x))}
	for i := 0; i < m.n; i++ {
		s.D[i] = uint16(m.demand(x, i))
		q := m.fifo(x, i)
		l := m.fifoLen(q)
		s.Q[i] = ref.FIFO{Bits: uint16(q &^ (1 << (m.w * uint(l)))), Len: uint8(l)}
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
	w := m.w
	for i := 0; i < m.n; i++ {
		q := m.fifo(s, i)
		if q == 1 {
			continue
		}
		if m.fifoLen(q) > m.p.FVMs[i].Delay {
			full = true
		}
		// Act(i): pop the oldest sample, apply the rule.
		nd := m.rule[i][q&(1<<w-1)][m.demand(s, i)]
		field := uint64(int(nd)-m.p.Dmin) | (q>>w)<<m.dbits
		mask := uint64(1)<<m.width[i] - 1
		emit(1+i, s&^(mask<<m.off[i])|field<<m.off[i])
	}
	if full && !m.p.Loss {
		return
	}
	in := m.sample(s)
	t := s
	for i := 0; i < m.n; i++ {
		q := m.fifo(s, i)
		l := uint(m.fifoLen(q)) * w       // the marker's position
		if int(l/w) > m.p.FVMs[i].Delay { // full (Loss): drop the oldest sample
			q >>= w
			l -= w
		}
		nq := q ^ 1<<l | 1<<(l+w) | uint64(in>>(w*uint(i))&(1<<w-1))<<l
		shift := m.off[i] + m.dbits
		t = t&^((1<<m.qbits[i]-1)<<shift) | nq<<shift
	}
	if m.phBits > 0 {
		next := uint64((m.phase(s) + 1) % m.phases)
		t = t&^((1<<m.phBits-1)<<m.phOff) | next<<m.phOff
	}
	if full && !m.lossForever {
		// A tick that drops a sample: the fairness assumption is that
		// losses end (MODEL.md, "Fairness").
		emit(0|mc.Transient, t)
		return
	}
	emit(0, t)
}

// sample returns the samples a HostTick takes in s, w bits per FVM (the
// congestion mask for the one-bit rules).
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
	c := m.congested[m.vector(s)]
	if m.p.Rule != vocab.AIMDPhase {
		return c
	}
	// Congested in the FVM's phase, Deferred in another.
	var out uint16
	ph := m.phase(s)
	for i := 0; i < m.n; i++ {
		if c>>i&1 == 1 {
			x := vocab.Deferred
			if m.p.PhaseOf(i) == ph {
				x = vocab.Congested
			}
			out |= uint16(x) << (m.w * uint(i))
		}
	}
	return out
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
	x := s & ((1<<m.phBits - 1) << m.phOff) // the phase is no FVM's
	for i := 0; i < m.n; i++ {
		x |= f[i] << m.off[i]
	}
	return x
}

// Format renders a packed state like ref.State.FormatRule.
func (m *Model) Format(s uint64) string { return m.Unpack(s).FormatRule(m.n, m.p.Rule) }
