package metrics

import (
	"math"
	"testing"

	"github.com/friendly-vm/fvm/trace"
	"github.com/friendly-vm/fvm/vocab"
)

// Delays: the 99th percentile is the smallest delay at or above which 1%
// of the decisions lie (nearest rank), worked by hand for 100 decisions.
func TestDelays(t *testing.T) {
	var evs []trace.Event
	for k := int64(1); k <= 100; k++ {
		delay := int64(0)
		switch {
		case k == 50:
			delay = 3 // the largest
		case k > 97:
			delay = 1 // decisions 98..100: the 98th smallest and above are >= 1
		}
		evs = append(evs, trace.Event{Kind: trace.KindDecide, TNs: k * 100_000_000,
			Decide: trace.Decide{Seq: k, SampleSeq: k, NewestSeq: k + delay}})
	}
	evs[60].TNs += 1_500_000_000 // one decision 1.6 s after the previous
	for i := 61; i < len(evs); i++ {
		evs[i].TNs += 1_500_000_000
	}
	evs = append(evs, trace.Event{Kind: trace.KindDecide, TNs: 20e9, Decide: trace.Decide{Seq: 101, Branch: vocab.Hold}})
	maxD, p99, silence := Delays(evs)
	if maxD != 3 || p99 != 1 || math.Abs(silence-(20-11.5)) > 1e-9 {
		t.Errorf("delays: max %d, p99 %d, longest silence %v s; want 3, 1, 8.5", maxD, p99, silence)
	}
}
