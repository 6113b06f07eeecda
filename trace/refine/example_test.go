package refine_test

import (
	"bytes"
	"fmt"

	"github.com/friendly-vm/fvm/ref"
	"github.com/friendly-vm/fvm/sim"
	"github.com/friendly-vm/fvm/trace"
	"github.com/friendly-vm/fvm/trace/refine"
	"github.com/friendly-vm/fvm/vocab"
)

func twoFVMs() *ref.Params {
	return &ref.Params{U: 20, Capacity: 20, Kappa: vocab.R(1, 1), Host: vocab.Shared, Rule: vocab.AIMD, Dmin: 1, Dmax: 20,
		FVMs: []ref.FVM{{Alpha: 1, Beta: vocab.R(1, 2), Delay: 1}, {Alpha: 1, Beta: vocab.R(1, 2), Delay: 1}}}
}

// A simulated run, converted to a trace, refines the reference; changing
// one decision makes the checker name it and say what ref allowed.
func ExampleCheck() {
	p := twoFVMs()
	run, _ := sim.Simulate(p, sim.Options{Seed: 1, Steps: 200, Init: []int{16, 2}})
	evs, _ := sim.Trace(p, run, sim.TraceOptions{Seed: 1})

	write := func(evs []trace.Event) *bytes.Buffer {
		var buf bytes.Buffer
		w := trace.NewWriter(&buf)
		for i := range evs {
			_ = w.Write(&evs[i])
		}
		return &buf
	}
	res, err := refine.Check([]refine.Input{{Name: "run.jsonl", R: write(evs)}}, refine.Options{})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("refines: %v, %d events, %d windows, Jain %.3f\n", res.OK(), res.Summary.Events, res.Summary.Windows, res.Summary.Jain)

	for i := range evs {
		if evs[i].Kind == trace.KindDecide && evs[i].Decide.Branch == vocab.Decrease {
			evs[i].Decide.DAfter++ // an off-by-one decrease
			break
		}
	}
	res, _ = refine.Check([]refine.Input{{Name: "run.jsonl", R: write(evs)}}, refine.Options{})
	fmt.Println(res.Failure.Msg)
	fmt.Println("ref allows:", res.Failure.Allowed)
	// Output:
	// refines: true, 539 events, 67 windows, Jain 0.994
	// d_after=3 (decrease) from d_before=4 on the congested window 3
	// ref allows: Act(0): d_after=2 (decrease)
}
