package procstat_test

import (
	"fmt"

	"github.com/friendly-vm/fvm/internal/procstat"
)

func ExampleParseSchedstat() {
	s, err := procstat.ParseSchedstat([]byte("4224322 6242104 3\n"))
	fmt.Println(s.RunNs, s.DelayNs, err)
	// Output: 4224322 6242104 <nil>
}

func ExampleParseStat() {
	s, err := procstat.ParseStat([]byte("7 (a) b (c) S 1 7 6 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 99 0 0\n"))
	fmt.Printf("%c %d %d %d %v\n", s.State, s.Pgrp, s.Session, s.Start, err)
	// Output: S 7 6 99 <nil>
}
