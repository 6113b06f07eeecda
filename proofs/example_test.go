package proofs_test

import (
	"github.com/friendly-vm/fvm/vocab"

	"fmt"

	"github.com/friendly-vm/fvm/proofs"
	"github.com/friendly-vm/fvm/ref"
)

// Three identical AIMD FVMs on the shared host with feedback delay D = 2:
// equal shares, the gap halves per congestion epoch, and the total demand
// settles in [3, 29] around the threshold 20.
func ExampleAnalyze() {
	f := ref.FVM{Alpha: 1, Beta: vocab.R(1, 2), Delay: 2}
	p := &ref.Params{U: 20, Capacity: 20, Kappa: vocab.R(1, 1), Host: vocab.Shared, Rule: vocab.AIMD,
		Dmin: 1, Dmax: 20, FVMs: []ref.FVM{f, f, f}}
	a, err := proofs.Analyze(p)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("fair point %.4f\n", a.FairPoint)
	fmt.Printf("rate %.4f, 10x closer in %.1f epochs\n", a.Rate, a.PredictedEpochs(10, 1))
	fmt.Printf("band [%d, %d], fair tolerance %d\n", a.Band.Lo, a.Band.Hi, a.FairTolerance)
	fmt.Printf("fluid: critical delay %.2f ticks, margin %.2f\n", a.Fluid.CriticalDelay, a.Fluid.Margin)
	// Output:
	// fair point [0.3333 0.3333 0.3333]
	// rate 0.5000, 10x closer in 3.3 epochs
	// band [3, 29], fair tolerance 1
	// fluid: critical delay 7.02 ticks, margin 4.02
}

// Two FVMs with alpha 1 and 2 and betas 1/2 and 3/4: the fair point is
// proportional to alpha_i/(1-beta_i) = 2 and 8, and the second eigenvalue
// lies between the betas.
func ExampleEpochMatrix() {
	alpha, beta := []float64{1, 2}, []float64{0.5, 0.75}
	a, err := proofs.EpochMatrix(alpha, beta)
	if err != nil {
		fmt.Println(err)
		return
	}
	sp, err := proofs.Eigen(a)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("fair point %.4f (closed form %.4f)\n", sp.Perron, proofs.FairPointClosedForm(alpha, beta))
	fmt.Printf("lambda_2 = %.6f\n", sp.Rate)
	// Output:
	// fair point [0.2000 0.8000] (closed form [0.2000 0.8000])
	// lambda_2 = 0.583333
}

// The number of decreases that shrink a projected gap of 19 units to at
// most 1 with beta = 1/2: the real prediction log(19)/log(2) = 4.2 lies in
// the proved integer bracket.
func ExampleDecreasesToGap() {
	lo, hi := proofs.DecreasesToGap(vocab.R(1, 2), 19, 1)
	fmt.Printf("[%d, %d], predicted %.2f\n", lo, hi, proofs.PredictedDecreases(0.5, 19, 1))
	// Output: [4, 5], predicted 4.25
}
