package trace_test

import (
	"github.com/friendly-vm/fvm/vocab"

	"bytes"
	"fmt"
	"io"
	"strings"

	"github.com/friendly-vm/fvm/trace"
)

// A controller writes its header, then one line per sample, decision and
// actuation; every line reaches the file as soon as it is written.
func ExampleWriter() {
	var buf bytes.Buffer // an *os.File in the guest, so that Sync fsyncs
	w := trace.NewWriter(&buf)
	h := trace.NewHeader(trace.Model{
		N: 1, U: 20, Capacity: 20, Host: vocab.Duty, Signal: vocab.Steal, Theta: vocab.R(1, 4),
		Rule: vocab.AIMD, Alpha: 1, Beta: vocab.R(1, 2), Dmin: 1, Dmax: 20, Delay: 2,
		FidelityTol: vocab.R(1, 10),
	})
	h.Kernel, h.Controller, h.Workload = "6.1-fvm1", "v0", "spin"
	for _, e := range []trace.Event{
		{Kind: trace.KindHeader, TNs: 1000, Header: &h},
		{Kind: trace.KindSample, TNs: 2000, Sample: trace.Sample{Seq: 1, WallNs: 100_000_000, WantNs: 100_000_000, CPUNs: 50_000_000,
			StealPermille: 500, VCTPermille: 2000, Congested: true}},
		{Kind: trace.KindDecide, TNs: 2100, Decide: trace.Decide{Seq: 1, SampleSeq: 1, NewestSeq: 1, DBefore: 20, DAfter: 10, Branch: vocab.Decrease}},
		{Kind: trace.KindActuate, TNs: 2200, Actuate: trace.Actuate{Seq: 1, D: 10, PausePermille: 500}},
		{Kind: trace.KindEnd, TNs: 3000, End: trace.End{Clean: true}},
	} {
		if err := w.Write(&e); err != nil {
			fmt.Println(err)
		}
	}
	if err := w.Sync(); err != nil {
		fmt.Println(err)
	}
	fmt.Print(buf.String())
	// Output:
	// {"v":2,"kind":"header","vm":0,"t_ns":1000,"n":1,"u":20,"capacity":20,"host":"duty","signal":"steal","theta":"1/4","rule":"aimd","alpha":1,"beta":"1/2","dmin":1,"dmax":20,"delay":2,"window_ns":100000000,"period_us":10000,"fidelity_tol":"1/10","kernel":"6.1-fvm1","controller":"v0","workload":"spin"}
	// {"v":2,"kind":"sample","vm":0,"t_ns":2000,"seq":1,"wall_ns":100000000,"want_ns":100000000,"cpu_ns":50000000,"steal_permille":500,"vct_permille":2000,"congested":true}
	// {"v":2,"kind":"decide","vm":0,"t_ns":2100,"seq":1,"sample_seq":1,"newest_seq":1,"d_before":20,"d_after":10,"branch":"decrease"}
	// {"v":2,"kind":"actuate","vm":0,"t_ns":2200,"seq":1,"d":10,"pause_permille":500}
	// {"v":2,"kind":"end","vm":0,"t_ns":3000,"clean":true}
}

// The Reader checks every line and names the file and line of the first
// problem.
func ExampleReader() {
	in := `{"v":2,"kind":"header","vm":0,"t_ns":1,"n":1,"u":20,"capacity":20,"host":"shared","kappa":"1","rule":"aimd","alpha":1,"beta":"1/2","dmin":1,"dmax":20,"delay":2,"window_ns":100000000,"period_us":10000,"fidelity_tol":"1/10","kernel":"k","controller":"c","workload":"w"}
{"v":2,"kind":"sample","vm":0,"t_ns":2,"seq":1,"wall_ns":100,"want_ns":100,"cpu_ns":100,"steal_permille":0,"vct_permille":1000,"congested":false}
{"v":2,"kind":"sample","vm":0,"t_ns":3,"seq":1,"wall_ns":100,"want_ns":100,"cpu_ns":100,"steal_permille":0,"vct_permille":1000,"congested":false}
`
	r := trace.NewReader(strings.NewReader(in), "vm0.jsonl")
	for {
		var e trace.Event
		err := r.Next(&e)
		if err == io.EOF {
			break
		}
		if err != nil {
			fmt.Println(err)
			break
		}
		fmt.Println(e.Kind, e.Seq())
	}
	// Output:
	// header 0
	// sample 1
	// vm0.jsonl:3: duplicate sample seq 1 for vm 0
}
