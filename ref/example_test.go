package ref_test

import (
	"github.com/friendly-vm/fvm/vocab"

	"fmt"

	"github.com/friendly-vm/fvm/ref"
)

// Two vocab.AIMD FVMs on the shared host: a tick samples congestion, each FVM
// then consumes the sample and halves its demand.
func ExampleStep() {
	p := &ref.Params{U: 20, Capacity: 20, Kappa: vocab.R(1, 1), Host: vocab.Shared, Rule: vocab.AIMD, Dmin: 1, Dmax: 20,
		FVMs: []ref.FVM{{Alpha: 1, Beta: vocab.R(1, 2), Delay: 1}, {Alpha: 1, Beta: vocab.R(1, 2), Delay: 1}}}
	s, _ := ref.InitState(p, []int{12, 9})
	for _, a := range []ref.Action{ref.Tick(), ref.ActOf(0), ref.Tick(), ref.ActOf(1), ref.ActOf(1)} {
		s, _ = ref.Step(p, s, a)
		fmt.Printf("%-9v %s\n", a, s.Format(2))
	}
	// Output:
	// HostTick  d=[12 9] q=[c c]
	// Act(0)    d=[6 9] q=[- c]
	// HostTick  d=[6 9] q=[n cn]
	// Act(1)    d=[6 4] q=[n n]
	// Act(1)    d=[6 5] q=[n -]
}

func ExampleParams_Validate() {
	p := &ref.Params{U: 20, Capacity: 20, Kappa: vocab.R(1, 1), Rule: vocab.AIMD, Dmin: 1, Dmax: 20,
		FVMs: []ref.FVM{{Alpha: -1, Beta: vocab.R(1, 2), Delay: 2}}}
	fmt.Println(p.Validate())
	// Output: fvms[0].alpha = -1: must be in [1, u=20]
}
