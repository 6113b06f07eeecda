package trace

import (
	"github.com/friendly-vm/fvm/vocab"

	"bytes"
	"io"
	"testing"
)

// BenchmarkReader measures the strict Reader alone on a stream of samples
// and decisions; events/s is the figure to compare with the checker's.
func BenchmarkReader(b *testing.B) {
	var buf bytes.Buffer
	w := NewWriter(&buf)
	h := testHeader()
	if err := w.Write(&Event{Kind: KindHeader, Header: &h}); err != nil {
		b.Fatal(err)
	}
	const n = 100_000
	for k := int64(1); k <= n; k++ {
		if err := w.Write(&Event{Kind: KindSample, TNs: k * 100, Sample: Sample{Seq: k, StartNs: k * 100, WallNs: 100_000_000, WantNs: 100_000_000,
			CPUNs: 50_000_000, StealPermille: 500, VCTPermille: 2000, PausePermille: 500, Congested: true}}); err != nil {
			b.Fatal(err)
		}
		if err := w.Write(&Event{Kind: KindDecide, TNs: k*100 + 1, Decide: Decide{Seq: k, SampleSeq: k, NewestSeq: k, DBefore: 10, DAfter: 5, Branch: vocab.Decrease}}); err != nil {
			b.Fatal(err)
		}
	}
	data := buf.Bytes()
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		r := NewReader(bytes.NewReader(data), "bench.jsonl")
		var e Event
		for {
			err := r.Next(&e)
			if err == io.EOF {
				break
			}
			if err != nil {
				b.Fatal(err)
			}
		}
	}
	b.ReportMetric(float64(2*n+1)*float64(b.N)/b.Elapsed().Seconds(), "events/s")
}
