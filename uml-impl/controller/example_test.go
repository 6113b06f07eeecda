package controller_test

import (
	"fmt"

	"github.com/friendly-vm/fvm/trace"
	"github.com/friendly-vm/fvm/uml-impl/controller"
)

// window returns a consistent 100 ms window of a busy VM that lost steal
// permille of its wall time.
func window(seq uint64, steal uint64) controller.Window {
	const wall = 100_000_000
	start := seq * wall
	st := wall * steal / 1000
	return controller.Window{Seq: seq, StartNs: start, EndNs: start + wall, WallNs: wall, WantNs: wall,
		CPUNs: wall - st, StealNs: st, StealPermille: steal, VCTPermille: 1000 * wall / (wall - st), PeriodUs: 10000}
}

// A Core is driven by reads of the kernel's window ring and answers with
// trace events; here a read repeats window 1, brings 2 and 3, and the
// third read shows nothing new for more than a second.
func ExampleCore() {
	cfg := controller.Default() // U=20, AIMD +1 / x1/2, steal > 75‰, safe demand 2
	core, err := controller.NewCore(cfg, 0, 0)
	if err != nil {
		fmt.Println(err)
		return
	}
	reads := []struct {
		t  int64
		ws []controller.Window
	}{
		{100e6, []controller.Window{window(1, 600)}},
		{200e6, []controller.Window{window(1, 600), window(2, 10), window(3, 10)}},
		{1300e6, []controller.Window{window(1, 600), window(2, 10), window(3, 10)}},
	}
	for _, r := range reads {
		for _, e := range core.Observe(r.t, r.ws) {
			switch e.Kind {
			case trace.KindSample:
				fmt.Printf("sample %d steal %d‰ congested %v\n", e.Sample.Seq, e.Sample.StealPermille, e.Sample.Congested)
			case trace.KindDecide:
				d := e.Decide
				fmt.Printf("decide on window %d: d %d -> %d (%v), pause %d‰\n", d.SampleSeq, d.DBefore, d.DAfter, d.Branch, cfg.Pause(d.DAfter))
			}
		}
	}
	// Output:
	// sample 1 steal 600‰ congested true
	// decide on window 1: d 20 -> 10 (decrease), pause 500‰
	// sample 2 steal 10‰ congested false
	// decide on window 2: d 10 -> 11 (increase), pause 450‰
	// sample 3 steal 10‰ congested false
	// decide on window 3: d 11 -> 12 (increase), pause 400‰
	// decide on window 0: d 12 -> 2 (hold), pause 900‰
}
