package vocab_test

import (
	"fmt"

	"github.com/friendly-vm/fvm/vocab"
)

func ExampleParseRat() {
	for _, s := range []string{"1/2", "0.875", "200/1000"} {
		r, _ := vocab.ParseRat(s)
		fmt.Println(r, r.FloorMul(10))
	}
	// Output:
	// 1/2 5
	// 7/8 8
	// 1/5 2
}

func ExampleParseSignal() {
	s, _ := vocab.ParseSignal("steal")
	_, err := vocab.ParseSignal("load")
	fmt.Println(s, s.Valid())
	fmt.Println(err)
	// Output:
	// steal true
	// signal "load": want one of vct, steal
}
