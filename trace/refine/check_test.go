package refine

import (
	"bytes"
	"math"
	"strings"
	"testing"

	"pgregory.net/rapid"

	"github.com/friendly-vm/fvm/configs"
	"github.com/friendly-vm/fvm/ref"
	"github.com/friendly-vm/fvm/sim"
	"github.com/friendly-vm/fvm/trace"
	"github.com/friendly-vm/fvm/vocab"
)

// tb is what the helpers need of *testing.T, *testing.B and *rapid.T.
type tb interface {
	Helper()
	Fatal(args ...any)
	Fatalf(format string, args ...any)
}

func loadParams(t tb, name string) *ref.Params {
	t.Helper()
	p, err := configs.LoadParams(name)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func simulate(t tb, p *ref.Params, seed uint64, steps int) []trace.Event {
	t.Helper()
	run, err := sim.Simulate(p, sim.Options{Seed: seed, Steps: steps})
	if err != nil {
		t.Fatal(err)
	}
	evs, err := sim.Trace(p, run, sim.TraceOptions{Seed: seed})
	if err != nil {
		t.Fatal(err)
	}
	return evs
}

func encode(t tb, evs []trace.Event) []byte {
	t.Helper()
	buf := bytes.NewBuffer(make([]byte, 0, 160*len(evs)))
	w := trace.NewWriter(buf)
	for i := range evs {
		if err := w.Write(&evs[i]); err != nil {
			t.Fatalf("event %d: %v", i, err)
		}
	}
	return buf.Bytes()
}

func checkBytes(t tb, b []byte) (*Result, error) {
	return Check([]Input{{Name: "sim.jsonl", R: bytes.NewReader(b)}}, Options{})
}

func TestSimulatedAccepted(t *testing.T) {
	for _, name := range configs.Names() {
		if name == "large" {
			continue
		}
		t.Run(name, func(t *testing.T) {
			p := loadParams(t, name)
			if p.Rule.SampleBits() > 1 {
				// No trace format: a trace records one congestion bit
				// per window; sim.Trace and Params refuse the rule.
				if _, err := sim.Trace(p, sim.Run{}, sim.TraceOptions{}); err == nil {
					t.Fatalf("rule %v: sim.Trace accepted it", p.Rule)
				}
				return
			}
			for seed := uint64(1); seed <= 5; seed++ {
				res, err := checkBytes(t, encode(t, simulate(t, p, seed, 300)))
				if err != nil {
					t.Fatal(err)
				}
				if !res.OK() {
					t.Fatalf("seed %d: %v\ncontext: %+v", seed, res.Failure, res.Failure.Context)
				}
			}
		})
	}
}

func TestSummary(t *testing.T) {
	p := loadParams(t, "default")
	res, err := checkBytes(t, encode(t, simulate(t, p, 7, 3000)))
	if err != nil || !res.OK() {
		t.Fatalf("%v %v", err, res.Failure)
	}
	s := res.Summary
	if s.N != 3 || len(s.VMs) != 3 || s.Windows == 0 || s.Events == 0 {
		t.Fatalf("summary %+v", s)
	}
	if s.Jain < 0.9 || s.Jain > 1 {
		t.Errorf("Jain %v, want close to 1 for identical AIMD FVMs", s.Jain)
	}
	if s.ConvergenceNs < 0 {
		t.Errorf("convergence %d: the default configuration converges", s.ConvergenceNs)
	}
	for _, v := range s.VMs {
		if math.Abs(v.HostShare-v.GuestShare) > 1e-6 || v.End != "clean" || v.MaxDelay > 2 {
			t.Errorf("vm %+v", v)
		}
	}
	t.Logf("%+v", s)
}

func TestFailureContext(t *testing.T) {
	p := loadParams(t, "default")
	evs := simulate(t, p, 3, 100)
	for i := range evs {
		if evs[i].Kind == trace.KindDecide && evs[i].Decide.Seq == 3 && evs[i].VM == 1 {
			evs[i].Decide.DAfter++
			break
		}
	}
	res, err := checkBytes(t, encode(t, evs))
	if err != nil {
		t.Fatal(err)
	}
	f := res.Failure
	if f == nil {
		t.Fatal("mutated trace accepted")
	}
	if f.Kind != "decide" || f.VM != 1 || !strings.Contains(f.Allowed, "Act(0): d_after=") || len(f.Context) != 7 {
		t.Fatalf("failure %v with %d context lines", f, len(f.Context))
	}
	if f.Context[3].Line != f.Line {
		t.Errorf("context middle line %d, want the failing line %d", f.Context[3].Line, f.Line)
	}
}

// mutation kinds of the property test.
var mutations = []string{"wrong-decrease", "skipped-sample", "reordered-samples", "delay-over-D", "actuation-mismatch", "truncated-file"}

func indexes(evs []trace.Event, ok func(e *trace.Event) bool) []int {
	var out []int
	for i := range evs {
		if ok(&evs[i]) {
			out = append(out, i)
		}
	}
	return out
}

// site is where a mutation was made: the checker must reject the trace
// there (exact) or at a later line of the same VM, not anywhere else.
type site struct {
	line  int // 1-based line of the mutated event (after the mutation)
	vm    int
	exact bool
	cut   bool // the file was truncated: any malformed-trace error or missing end
}

// detected reports whether the checker's verdict is the detection of the
// mutation at s (not some unrelated failure).
func (s site) detected(res *Result, err error) bool {
	if s.cut {
		return err != nil || res.Failure != nil && (res.Failure.Kind == "end" || res.Failure.Kind == "header")
	}
	if err != nil || res.OK() {
		return false
	}
	f := res.Failure
	return f.VM == s.vm && (f.Line == s.line || !s.exact && f.Line > s.line)
}

// mutate applies mutation kind to a copy of evs (or the encoded bytes) and
// returns the bytes and where the mutation is; ok is false if the trace
// has nothing to mutate.
func mutate(t *rapid.T, kind string, p *ref.Params, evs []trace.Event) (b []byte, at site, ok bool) {
	evs = append([]trace.Event(nil), evs...)
	pick := func(idx []int) (int, bool) {
		if len(idx) == 0 {
			return 0, false
		}
		return idx[rapid.IntRange(0, len(idx)-1).Draw(t, "index")], true
	}
	switch kind {
	case "wrong-decrease":
		idx := indexes(evs, func(e *trace.Event) bool {
			return e.Kind == trace.KindDecide && e.Decide.Branch == vocab.Decrease
		})
		i, ok := pick(idx)
		if !ok {
			return nil, at, false
		}
		at = site{line: i + 1, vm: evs[i].VM, exact: true}
		d := &evs[i].Decide
		choices := []int{}
		for x := p.Dmin; x <= p.Dmax; x++ {
			if x != d.DAfter {
				choices = append(choices, x)
			}
		}
		d.DAfter = rapid.SampledFrom(choices).Draw(t, "d_after")
	case "skipped-sample":
		consumed := map[[2]int64]bool{}
		for _, e := range evs {
			if e.Kind == trace.KindDecide {
				consumed[[2]int64{int64(e.VM), e.Decide.SampleSeq}] = true
			}
		}
		idx := indexes(evs, func(e *trace.Event) bool {
			return e.Kind == trace.KindSample && consumed[[2]int64{int64(e.VM), e.Sample.Seq}]
		})
		i, ok := pick(idx)
		if !ok {
			return nil, at, false
		}
		at = site{line: i + 1, vm: evs[i].VM} // the line of the event after the removed sample, or later
		evs = append(evs[:i], evs[i+1:]...)
	case "reordered-samples":
		var pairs [][2]int
		last := map[int]int{}
		for i, e := range evs {
			if e.Kind == trace.KindSample {
				if j, ok := last[e.VM]; ok {
					pairs = append(pairs, [2]int{j, i})
				}
				last[e.VM] = i
			}
		}
		if len(pairs) == 0 {
			return nil, at, false
		}
		pr := pairs[rapid.IntRange(0, len(pairs)-1).Draw(t, "pair")]
		at = site{line: pr[0] + 1, vm: evs[pr[0]].VM}
		evs[pr[0]], evs[pr[1]] = evs[pr[1]], evs[pr[0]]
	case "delay-over-D":
		i, ok := pick(indexes(evs, func(e *trace.Event) bool { return e.Kind == trace.KindDecide }))
		if !ok {
			return nil, at, false
		}
		at = site{line: i + 1, vm: evs[i].VM, exact: true}
		d := &evs[i].Decide
		d.NewestSeq = d.SampleSeq + int64(p.FVMs[evs[i].VM].Delay) + 1 + rapid.Int64Range(0, 3).Draw(t, "extra")
	case "actuation-mismatch":
		i, ok := pick(indexes(evs, func(e *trace.Event) bool { return e.Kind == trace.KindActuate }))
		if !ok {
			return nil, at, false
		}
		// An initial actuation may define the initial demand: then the
		// next decision of the VM is where the mismatch shows.
		at = site{line: i + 1, vm: evs[i].VM, exact: evs[i].Actuate.Seq != 0}
		a := &evs[i].Actuate
		if rapid.Bool().Draw(t, "pause") {
			if a.PausePermille > 0 {
				a.PausePermille--
			} else {
				a.PausePermille++
			}
		} else if a.D > p.Dmin {
			a.D--
		} else {
			a.D++
		}
	case "truncated-file":
		b := encode(t, evs)
		return b[:rapid.IntRange(0, len(b)-1).Draw(t, "cut")], site{cut: true}, true
	}
	return encode(t, evs), at, true
}

var propConfigs = []string{"default", "fair-host", "duty-steal", "duty-vct", "greedy", "hetero-delay", "hetero-params", "aiad", "mimd"}

// A simulated trace always refines; each mutation kind is always rejected,
// at the mutated event (or, where the damage shows later, at a later event
// of the same VM), not for some other reason.
func TestMutationsRejected(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		p := loadParams(t, rapid.SampledFrom(propConfigs).Draw(t, "config"))
		evs := simulate(t, p, rapid.Uint64().Draw(t, "seed"), rapid.IntRange(1, 200).Draw(t, "steps"))
		res, err := checkBytes(t, encode(t, evs))
		if err != nil || !res.OK() {
			t.Fatalf("unmutated simulation rejected: %v %v", err, res.Failure)
		}
		kind := rapid.SampledFrom(mutations).Draw(t, "mutation")
		b, at, ok := mutate(t, kind, p, evs)
		if !ok {
			return
		}
		res, err = checkBytes(t, b)
		if err == nil && res.OK() {
			t.Fatalf("mutation %s accepted:\n%s", kind, b)
		}
		if !at.detected(res, err) {
			t.Fatalf("mutation %s at %+v: the checker fails elsewhere: %v %v", kind, at, err, res.Failure)
		}
	})
}
