package refine

import (
	"fmt"

	"github.com/friendly-vm/fvm/ref"
	"github.com/friendly-vm/fvm/trace"
)

// ConvertOptions configures FromRun.
type ConvertOptions struct {
	Seed     uint64 // recorded in the headers
	WindowNs int64  // 0: DefaultWindowNs
	Workload string // recorded in the headers; "" means "simulated"
}

// FromRun converts a simulated reference run to the trace a perfect
// implementation would write: one header per FVM, an initial actuation,
// then for each HostTick one sample and one host event per FVM (window
// seq = the tick's sequence number + 1), and for each Act(i) a decide and
// an actuate of FVM i; finally a clean end per FVM. Times advance by one
// window per tick (plus one nanosecond per step, so that every event has
// its own time).
//
// Measurements are derived exactly from the observations: wall = window,
// want = d/U of it, cpu = the share of it (floor). The thresholded signal
// is rounded towards the side of theta that the exact value is on (up
// when congested, down otherwise), so that thresholding the permille
// value gives the bit ref used.
func FromRun(p *ref.Params, run ref.Run, opt ConvertOptions) ([]trace.Event, error) {
	if err := p.Validate(); err != nil {
		return nil, fmt.Errorf("convert: %w", err)
	}
	window := opt.WindowNs
	if window <= 0 {
		window = DefaultWindowNs
	}
	workload := opt.Workload
	if workload == "" {
		workload = "simulated"
	}
	n := p.N()
	evs := make([]trace.Event, 0, 3*n+2*len(run.Steps)*max(1, n))
	d := run.Init.Demands(n)
	for i := 0; i < n; i++ {
		h := Header(p, i)
		h.Kernel, h.Controller, h.Workload = "ref", "ref.Simulate", workload
		h.Seed, h.InitD = opt.Seed, d[i]
		evs = append(evs, trace.Event{Kind: trace.KindHeader, VM: i, TNs: 0, Header: &h})
	}
	for i := 0; i < n; i++ {
		evs = append(evs, trace.Event{Kind: trace.KindActuate, VM: i, TNs: 0,
			Actuate: trace.Actuate{Seq: 0, D: d[i], PausePermille: PausePermille(p.U, d[i]), PeriodUs: DefaultPeriodUs}})
	}
	decisions := make([]int64, n)
	var ticks int64
	for k, st := range run.Steps {
		t := ticks*window + int64(k) + 1
		switch st.Action.Kind {
		case ref.HostTick:
			ticks++
			t = ticks*window + int64(k) + 1
			for i := 0; i < n; i++ {
				o := st.Obs[i]
				s := sampleOf(p, d[i], o, window)
				s.Seq = int64(st.Seq) + 1
				s.StartNs = (ticks - 1) * window
				evs = append(evs, trace.Event{Kind: trace.KindSample, VM: i, TNs: t, Sample: s})
			}
			for i := 0; i < n; i++ {
				evs = append(evs, trace.Event{Kind: trace.KindHost, VM: i, TNs: t,
					Host: trace.Host{Seq: int64(st.Seq) + 1, WallNs: window, CPUNs: st.Obs[i].Share.FloorMul(window)}})
			}
		case ref.Act:
			i := st.Action.VM
			decisions[i]++
			evs = append(evs, trace.Event{Kind: trace.KindDecide, VM: i, TNs: t, Decide: trace.Decide{
				Seq: decisions[i], SampleSeq: int64(st.Seq) + 1, NewestSeq: int64(st.Newest) + 1,
				DBefore: st.Before, DAfter: st.After, Branch: toTraceBranch(st.Branch)}})
			evs = append(evs, trace.Event{Kind: trace.KindActuate, VM: i, TNs: t, Actuate: trace.Actuate{
				Seq: decisions[i], D: st.After, PausePermille: PausePermille(p.U, st.After), PeriodUs: DefaultPeriodUs}})
			d[i] = st.After
		default:
			return nil, fmt.Errorf("convert: step %d: unknown action %v", k, st.Action)
		}
	}
	tEnd := (ticks+1)*window + int64(len(run.Steps))
	for i := 0; i < n; i++ {
		evs = append(evs, trace.Event{Kind: trace.KindEnd, VM: i, TNs: tEnd, End: trace.End{Clean: true}})
	}
	return evs, nil
}

// sampleOf derives a window's measurement from an observation.
func sampleOf(p *ref.Params, d int, o ref.Observation, window int64) trace.Sample {
	s := trace.Sample{
		WallNs:        window,
		WantNs:        ref.R(int64(d), int64(p.U)).FloorMul(window),
		CPUNs:         o.Share.FloorMul(window),
		PausePermille: PausePermille(p.U, d),
		Congested:     o.Congested,
	}
	s.PauseNs = window - s.WantNs
	steal, vct := o.Steal.FloorMul(1000), o.VCT.FloorMul(1000)
	if p.Host != ref.Shared && o.Congested {
		// Round the thresholded signal up so that permille/1000 > theta
		// still holds; the exact value exceeds theta.
		if p.Signal == ref.Steal {
			steal = o.Steal.CeilMul(1000)
		} else {
			vct = o.VCT.CeilMul(1000)
		}
	}
	s.StealPermille, s.VCTPermille = steal, vct
	return s
}
