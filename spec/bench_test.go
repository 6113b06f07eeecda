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

// BenchmarkDeployed measures the deployed configuration (make bench): the
// invariants alone (no symmetry) and the liveness check (graph, SCCs,
// limit-set properties and figures, as `fvm check` runs it), each with its
// states/s, bytes/state and peak memory of the engine's tables, and the
// liveness-to-safety time ratio. It fails when liveness misses the
// deployed budget (DeployedMaxTime, DeployedMaxMemory).
func BenchmarkDeployed(b *testing.B) {
	p := loadParams(b, "deployed")
	for i := 0; i < b.N; i++ {
		safety, err := Check(p, Options{})
		if err != nil {
			b.Fatal(err)
		}
		live, err := Check(p, Options{Liveness: true, MaxMemory: DeployedMaxMemory})
		if err != nil {
			b.Fatal(err)
		}
		if !safety.OK() || !live.OK() {
			b.Fatalf("deployed: a property is violated: %v %v", safety.Violations(), live.Violations())
		}
		s, l := safety.Safety.Stats, live.Liveness.Stats
		b.ReportMetric(float64(s.Distinct)/s.Duration.Seconds(), "safety-states/s")
		b.ReportMetric(float64(s.Bytes)/float64(s.Distinct), "safety-bytes/state")
		b.ReportMetric(float64(s.Bytes)/(1<<20), "safety-peak-MiB")
		b.ReportMetric(float64(l.Distinct)/l.Duration.Seconds(), "liveness-states/s")
		b.ReportMetric(float64(l.Bytes)/float64(l.Distinct), "liveness-bytes/state")
		b.ReportMetric(float64(l.Bytes)/(1<<20), "liveness-peak-MiB")
		b.ReportMetric(l.Duration.Seconds()/s.Duration.Seconds(), "liveness/safety-time")
		b.ReportMetric(0, "ns/op")
		if l.Duration > DeployedMaxTime || l.Bytes > DeployedMaxMemory {
			b.Fatalf("deployed liveness: %v and %d MiB, over the budget of %v and %d MiB", l.Duration, l.Bytes>>20, DeployedMaxTime, DeployedMaxMemory>>20)
		}
	}
}
