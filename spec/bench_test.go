package spec

import (
	"testing"

	"github.com/friendly-vm/fvm/configs"
	"github.com/friendly-vm/fvm/spec/mc"
)

// benchConfig checks a configuration's invariants without symmetry and
// reports the engine's throughput and memory per state.
func benchConfig(b *testing.B, name string) {
	c, err := configs.Load(name)
	if err != nil {
		b.Fatal(err)
	}
	expected := c.Check.ExpectedStates
	p := loadParams(b, name)
	m, err := NewModel(p)
	if err != nil {
		b.Fatal(err)
	}
	var st mc.Stats
	for i := 0; i < b.N; i++ {
		res, err := mc.Check(m, m.Invariants(), nil, mc.Options{ExpectedStates: expected})
		if err != nil {
			b.Fatal(err)
		}
		if !res.OK() {
			b.Fatalf("%s: %v", name, res.Violations[0].Property)
		}
		st = res.Stats
	}
	b.ReportMetric(st.StatesPerSec, "states/s")
	b.ReportMetric(st.BytesPerState, "bytes/state")
	b.ReportMetric(float64(st.Distinct), "states")
	b.ReportMetric(0, "ns/op")
}

// BenchmarkLarge is the safety-only benchmark of issue 3 (make bench):
// the large configuration without symmetry, about 349 million states.
func BenchmarkLarge(b *testing.B) { benchConfig(b, "large") }

// BenchmarkMedium is the configuration make bench-mc compares with TLC.
func BenchmarkMedium(b *testing.B) { benchConfig(b, "medium") }
