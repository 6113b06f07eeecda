package mc

import (
	"testing"
)

// benchModel has four counters mod k packed in 8 bits each; action i
// advances counter i by 1 or 2 depending on its neighbour's parity, so the
// state space is the full k^4 product with four successors per state, about
// the branching of the reference model.
type benchModel struct{ k uint64 }

func (b benchModel) Init(emit func(uint64)) { emit(0) }
func (b benchModel) Next(s uint64, emit func(int, uint64)) {
	for i := 0; i < 4; i++ {
		sh := uint(8 * i)
		v := s >> sh & 0xff
		nb := s >> (uint(8 * ((i + 1) % 4))) & 1
		nv := (v + 1 + nb) % b.k
		emit(i, s&^(0xff<<sh)|nv<<sh)
	}
}
func (b benchModel) Actions() []string { return []string{"a0", "a1", "a2", "a3"} }

func benchCheck(b *testing.B, k uint64, want int64, opt Options) {
	m := benchModel{k: k}
	var st Stats
	for i := 0; i < b.N; i++ {
		res, err := Check(m, []Invariant{{Name: "T", Holds: func(s uint64) bool { return s != reserved-1 }}}, nil, opt)
		if err != nil {
			b.Fatal(err)
		}
		st = res.Stats
	}
	if st.Distinct != want {
		b.Fatalf("distinct %d, want %d", st.Distinct, want)
	}
	b.ReportMetric(st.StatesPerSec, "states/s")
	b.ReportMetric(st.BytesPerState, "bytes/state")
	b.ReportMetric(float64(st.Distinct), "states")
}

// BenchmarkCheck explores 4.1M states (k=45) without a size hint (the table
// grows) and with one.
func BenchmarkCheck(b *testing.B) {
	b.Run("grow", func(b *testing.B) { benchCheck(b, 45, 45*45*45*45, Options{}) })
	b.Run("sized", func(b *testing.B) { benchCheck(b, 45, 45*45*45*45, Options{ExpectedStates: 45 * 45 * 45 * 45}) })
	b.Run("sized-1worker", func(b *testing.B) {
		benchCheck(b, 45, 45*45*45*45, Options{ExpectedStates: 45 * 45 * 45 * 45, Workers: 1})
	})
}
