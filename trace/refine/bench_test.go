//go:build unix

package refine

import (
	"bytes"
	"fmt"
	"syscall"
	"testing"
	"time"
)

// cpuTime is the process's user+system CPU time.
func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkCheck measures the checker's throughput (parse + refinement +
// summary) on simulated traces of growing length: events/s (wall clock)
// and events/cpu-s (process CPU time, GC included, which is what counts
// on a loaded machine) should be about the same at every size, i.e. the
// checker runs in linear time. The benchmark fails when the largest
// trace's events/cpu-s falls below half the smallest's: that is no longer
// linear.
func BenchmarkCheck(b *testing.B) {
	p := loadParams(b, "default")
	perCPU := map[int]float64{}
	sizes := []int{10_000, 100_000, 300_000}
	for _, steps := range sizes {
		data := encode(b, simulate(b, p, 1, steps))
		events := bytes.Count(data, []byte("\n"))
		b.Run(fmt.Sprintf("events=%d", events), func(b *testing.B) {
			b.SetBytes(int64(len(data)))
			b.ReportAllocs()
			cpu0 := cpuTime(b)
			for b.Loop() {
				res, err := Check([]Input{{Name: "bench.jsonl", R: bytes.NewReader(data)}}, Options{})
				if err != nil || !res.OK() {
					b.Fatalf("%v %v", err, res.Failure)
				}
			}
			total := float64(events) * float64(b.N)
			b.ReportMetric(total/b.Elapsed().Seconds(), "events/s")
			perCPU[steps] = total / (cpuTime(b) - cpu0).Seconds()
			b.ReportMetric(perCPU[steps], "events/cpu-s")
		})
	}
	small, large := perCPU[sizes[0]], perCPU[sizes[len(sizes)-1]]
	if small > 0 && large > 0 && large < small/2 {
		b.Fatalf("not linear: %.0f events/cpu-s on the largest trace, %.0f on the smallest (target: at least half)", large, small)
	}
}
