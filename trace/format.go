package trace

import (
	"math"

	"github.com/friendly-vm/fvm/vocab"
)

// The trace format, described once: every event kind's fields, in the
// order the Writer writes them, with their JSON name, type, whether they
// are optional, their range, and where they live in Event. The Reader
// (decoding, required fields, ranges), the Writer (encoding) and the
// comparison of headers (Model fields) are all derived from this table.

// valKind is a field's JSON type and Go type.
type valKind uint8

const (
	fInt    valKind = iota + 1 // *int: a JSON integer in 32-bit range
	fInt64                     // *int64
	fUint64                    // *uint64
	fString                    // *string
	fBool                      // *bool
	fRat                       // *vocab.Rat: a string "a/b"
	fInts                      // *[]int: an array of integers
	fHost                      // *vocab.Host: its name
	fSignal                    // *vocab.Signal: its name
	fRule                      // *vocab.Rule: its name
	fBranch                    // *vocab.Branch: its name
)

// field describes one field of an event kind.
type field struct {
	name string
	kind valKind
	// opt: the field may be absent (it is then zero) and is written only
	// when it is not zero. Required fields are always written.
	opt bool
	// min, max bound integer fields (and the elements of fInts); max 0
	// means no upper bound.
	min, max int64
	// model marks the header fields of Model: every header of a VM must
	// agree on them.
	model bool
	// v1 is the field's name in version 1 when it differs ("-": the field
	// does not exist there).
	v1 string
	// ptr returns a pointer to the field in e (of the type kind says).
	ptr func(e *Event) any
}

// format is one event kind: its name and fields.
type format struct {
	name   string
	fields []field
}

const (
	maxInt  = math.MaxInt32
	permill = 1000
)

// formats is indexed by Kind. It is never modified.
var formats = [...]format{
	KindInvalid: {name: "invalid"},
	KindHeader: {name: "header", fields: []field{
		{name: "n", kind: fInt, min: 1, max: MaxVM, model: true, ptr: func(e *Event) any { return &e.Header.N }},
		{name: "u", kind: fInt, min: 1, max: maxInt, model: true, ptr: func(e *Event) any { return &e.Header.U }},
		{name: "capacity", kind: fInt, min: 1, max: maxInt, model: true, ptr: func(e *Event) any { return &e.Header.Capacity }},
		{name: "host", kind: fHost, model: true, ptr: func(e *Event) any { return &e.Header.Host }},
		{name: "signal", kind: fSignal, opt: true, model: true, ptr: func(e *Event) any { return &e.Header.Signal }},
		{name: "theta", kind: fRat, opt: true, model: true, ptr: func(e *Event) any { return &e.Header.Theta }},
		{name: "kappa", kind: fRat, opt: true, model: true, ptr: func(e *Event) any { return &e.Header.Kappa }},
		{name: "greedy", kind: fInts, opt: true, max: maxInt, model: true, ptr: func(e *Event) any { return &e.Header.Greedy }},
		{name: "rule", kind: fRule, model: true, ptr: func(e *Event) any { return &e.Header.Rule }},
		{name: "alpha", kind: fInt, opt: true, max: maxInt, model: true, ptr: func(e *Event) any { return &e.Header.Alpha }},
		{name: "beta", kind: fRat, opt: true, model: true, ptr: func(e *Event) any { return &e.Header.Beta }},
		{name: "mu", kind: fRat, opt: true, model: true, ptr: func(e *Event) any { return &e.Header.Mu }},
		{name: "delta", kind: fInt, opt: true, max: maxInt, model: true, ptr: func(e *Event) any { return &e.Header.Delta }},
		{name: "dmin", kind: fInt, min: 1, max: maxInt, model: true, ptr: func(e *Event) any { return &e.Header.Dmin }},
		{name: "dmax", kind: fInt, min: 1, max: maxInt, model: true, ptr: func(e *Event) any { return &e.Header.Dmax }},
		{name: "delay", kind: fInt, max: maxInt, model: true, v1: "d", ptr: func(e *Event) any { return &e.Header.Delay }},
		{name: "loss", kind: fBool, opt: true, model: true, v1: "-", ptr: func(e *Event) any { return &e.Header.Loss }},
		{name: "window_ns", kind: fInt64, min: 1, model: true, ptr: func(e *Event) any { return &e.Header.WindowNs }},
		{name: "period_us", kind: fInt64, min: 1, model: true, ptr: func(e *Event) any { return &e.Header.PeriodUs }},
		{name: "fidelity_tol", kind: fRat, model: true, ptr: func(e *Event) any { return &e.Header.FidelityTol }},
		{name: "ewma", kind: fRat, opt: true, model: true, ptr: func(e *Event) any { return &e.Header.EWMA }},
		{name: "init_d", kind: fInt, opt: true, max: maxInt, ptr: func(e *Event) any { return &e.Header.InitD }},
		{name: "kernel", kind: fString, ptr: func(e *Event) any { return &e.Header.Kernel }},
		{name: "controller", kind: fString, ptr: func(e *Event) any { return &e.Header.Controller }},
		{name: "workload", kind: fString, ptr: func(e *Event) any { return &e.Header.Workload }},
		{name: "clock", kind: fString, opt: true, ptr: func(e *Event) any { return &e.Header.Clock }},
		{name: "clock_offset_ns", kind: fInt64, opt: true, min: math.MinInt64, ptr: func(e *Event) any { return &e.Header.ClockOffsetNs }},
		{name: "seed", kind: fUint64, opt: true, ptr: func(e *Event) any { return &e.Header.Seed }},
	}},
	KindSample: {name: "sample", fields: []field{
		{name: "seq", kind: fInt64, min: 1, ptr: func(e *Event) any { return &e.Sample.Seq }},
		{name: "start_ns", kind: fInt64, opt: true, ptr: func(e *Event) any { return &e.Sample.StartNs }},
		{name: "wall_ns", kind: fInt64, ptr: func(e *Event) any { return &e.Sample.WallNs }},
		{name: "want_ns", kind: fInt64, ptr: func(e *Event) any { return &e.Sample.WantNs }},
		{name: "cpu_ns", kind: fInt64, ptr: func(e *Event) any { return &e.Sample.CPUNs }},
		{name: "idle_ns", kind: fInt64, opt: true, ptr: func(e *Event) any { return &e.Sample.IdleNs }},
		{name: "pause_ns", kind: fInt64, opt: true, ptr: func(e *Event) any { return &e.Sample.PauseNs }},
		{name: "idle_cpu_ns", kind: fInt64, opt: true, ptr: func(e *Event) any { return &e.Sample.IdleCPUNs }},
		{name: "steal_permille", kind: fInt64, max: permill, ptr: func(e *Event) any { return &e.Sample.StealPermille }},
		{name: "vct_permille", kind: fInt64, ptr: func(e *Event) any { return &e.Sample.VCTPermille }},
		{name: "pause_permille", kind: fInt64, opt: true, max: permill, ptr: func(e *Event) any { return &e.Sample.PausePermille }},
		{name: "signal_permille", kind: fInt64, opt: true, ptr: func(e *Event) any { return &e.Sample.SignalPermille }},
		{name: "congested", kind: fBool, ptr: func(e *Event) any { return &e.Sample.Congested }},
	}},
	KindDecide: {name: "decide", fields: []field{
		{name: "seq", kind: fInt64, min: 1, ptr: func(e *Event) any { return &e.Decide.Seq }},
		{name: "sample_seq", kind: fInt64, ptr: func(e *Event) any { return &e.Decide.SampleSeq }},
		{name: "newest_seq", kind: fInt64, ptr: func(e *Event) any { return &e.Decide.NewestSeq }},
		{name: "d_before", kind: fInt, max: maxInt, ptr: func(e *Event) any { return &e.Decide.DBefore }},
		{name: "d_after", kind: fInt, max: maxInt, ptr: func(e *Event) any { return &e.Decide.DAfter }},
		{name: "branch", kind: fBranch, ptr: func(e *Event) any { return &e.Decide.Branch }},
	}},
	KindActuate: {name: "actuate", fields: []field{
		{name: "seq", kind: fInt64, ptr: func(e *Event) any { return &e.Actuate.Seq }},
		{name: "d", kind: fInt, max: maxInt, ptr: func(e *Event) any { return &e.Actuate.D }},
		{name: "pause_permille", kind: fInt64, max: permill, ptr: func(e *Event) any { return &e.Actuate.PausePermille }},
		{name: "period_us", kind: fInt64, opt: true, ptr: func(e *Event) any { return &e.Actuate.PeriodUs }},
	}},
	KindHost: {name: "host", fields: []field{
		{name: "seq", kind: fInt64, min: 1, ptr: func(e *Event) any { return &e.Host.Seq }},
		{name: "wall_ns", kind: fInt64, ptr: func(e *Event) any { return &e.Host.WallNs }},
		{name: "cpu_ns", kind: fInt64, ptr: func(e *Event) any { return &e.Host.CPUNs }},
	}},
	KindGap: {name: "gap", fields: []field{
		{name: "from_seq", kind: fInt64, min: 1, ptr: func(e *Event) any { return &e.Gap.FromSeq }},
		{name: "to_seq", kind: fInt64, min: 1, ptr: func(e *Event) any { return &e.Gap.ToSeq }},
		{name: "newest_seq", kind: fInt64, opt: true, v1: "-", ptr: func(e *Event) any { return &e.Gap.NewestSeq }},
	}},
	KindEnd: {name: "end", fields: []field{
		{name: "clean", kind: fBool, ptr: func(e *Event) any { return &e.End.Clean }},
		{name: "reason", kind: fString, opt: true, ptr: func(e *Event) any { return &e.End.Reason }},
	}},
}

// eventFields are on every line after "v" and "kind" and before the
// kind's own fields: the reader, the writer and validate take them from
// here like a kind's fields.
var eventFields = [...]field{
	{name: "vm", kind: fInt, max: MaxVM - 1, ptr: func(e *Event) any { return &e.VM }},
	{name: "t_ns", kind: fInt64, min: math.MinInt64, ptr: func(e *Event) any { return &e.TNs }},
}

// nameIn returns f's name in version v ("" if it does not exist there).
func (f *field) nameIn(v int64) string {
	if v == 1 && f.v1 != "" {
		if f.v1 == "-" {
			return ""
		}
		return f.v1
	}
	return f.name
}

// isZero reports whether the field of e holds its zero value.
func (f *field) isZero(e *Event) bool {
	switch p := f.ptr(e).(type) {
	case *int:
		return *p == 0
	case *int64:
		return *p == 0
	case *uint64:
		return *p == 0
	case *string:
		return *p == ""
	case *bool:
		return !*p
	case *vocab.Rat:
		return p.IsZero()
	case *[]int:
		return len(*p) == 0
	case *vocab.Host:
		return false // every host is a value; Shared is not "unset"
	case *vocab.Signal:
		return *p == vocab.NoSignal
	case *vocab.Rule:
		return false
	case *vocab.Branch:
		return *p == vocab.NoBranch
	}
	panic("trace: field " + f.name + " has an unknown type")
}

// ModelDiff names the first Model parameter in which a and b differ
// ("" if none), as "name a vs b".
func ModelDiff(a, b *Header) string {
	ea, eb := &Event{Header: a}, &Event{Header: b}
	for i := range formats[KindHeader].fields {
		f := &formats[KindHeader].fields[i]
		if !f.model {
			continue
		}
		x, y := appendValue(nil, f, ea), appendValue(nil, f, eb)
		if f.kind == fRat {
			if ra, rb := *f.ptr(ea).(*vocab.Rat), *f.ptr(eb).(*vocab.Rat); ra.Equal(rb) {
				continue
			}
		} else if string(x) == string(y) {
			continue
		}
		return f.name + " " + string(x) + " vs " + string(y)
	}
	return ""
}
