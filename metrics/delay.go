package metrics

import (
	"math"
	"slices"

	"github.com/friendly-vm/fvm/trace"
)

// Delays returns the feedback-delay figures of a VM's decide events, in
// order: the largest and the 99th percentile (nearest rank) of
// newest_seq - sample_seq over the decisions on a window, in windows, and
// the longest time between two consecutive decisions, in seconds.
func Delays(decides []trace.Event) (maxD, p99 int64, silenceS float64) {
	var ds []int64
	for k, e := range decides {
		if d := e.Decide; d.SampleSeq > 0 {
			ds = append(ds, d.NewestSeq-d.SampleSeq)
		}
		if k > 0 {
			silenceS = math.Max(silenceS, float64(e.TNs-decides[k-1].TNs)/1e9)
		}
	}
	if len(ds) == 0 {
		return 0, 0, silenceS
	}
	slices.Sort(ds)
	return ds[len(ds)-1], ds[(len(ds)*99+99)/100-1], silenceS
}
