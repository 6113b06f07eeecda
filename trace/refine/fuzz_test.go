package refine

import (
	"bytes"
	"testing"

	"github.com/friendly-vm/fvm/trace"
	"github.com/friendly-vm/fvm/vocab"
)

// FuzzCheck: the checker never panics or hangs, and a trace it accepts is
// one the Reader accepts. Inputs are whole traces, so minimizing new
// inputs dominates a fuzzing run: use
//
//	go test ./trace/refine -run '^$' -fuzz FuzzCheck -fuzzminimizetime 0
func FuzzCheck(f *testing.F) {
	for _, name := range []string{"default", "duty-steal", "hetero-delay"} {
		p := loadParams(f, name)
		f.Add(encode(f, simulate(f, p, 1, 12)))
	}
	f.Add(encode(f, cat(hdr1(func(h *trace.Header) { h.EWMA = vocab.R(1, 2); h.Loss = true }),
		smp(1, 500), decAct(1, 1, 1, 10, 5, vocab.Decrease), trace.Event{Kind: trace.KindGap, Gap: trace.Gap{FromSeq: 2, ToSeq: 3}},
		dec(2, 0, 3, 5, 1, vocab.Hold), endEv())))
	f.Fuzz(func(t *testing.T, data []byte) {
		res, err := Check([]Input{{Name: "fuzz.jsonl", R: bytes.NewReader(data)}}, Options{})
		if err != nil {
			return
		}
		if res.OK() {
			if _, err := trace.ReadAll(bytes.NewReader(data), "fuzz.jsonl"); err != nil {
				t.Fatalf("checker accepted a trace the reader rejects: %v", err)
			}
		}
	})
}
