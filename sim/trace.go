package sim

import (
	"fmt"

	"github.com/friendly-vm/fvm/ref"
	"github.com/friendly-vm/fvm/trace"
	"github.com/friendly-vm/fvm/vocab"
)

// TraceOptions configures Trace.
type TraceOptions struct {
	Seed     uint64 // recorded in the headers
	WindowNs int64  // 0: vocab.WindowNs
	Workload string // recorded in the headers; "" means "simulated"
}

// Model is what a trace header declares for FVM i of p, with the real
// system's window and period and a fidelity tolerance of 1/20.
func Model(p *ref.Params, i int) trace.Model {
	f := p.FVMs[i]
	return trace.Model{
		N: p.N(), U: p.U, Capacity: p.Capacity, Host: p.Host, Signal: p.Signal, Theta: p.Theta,
		Kappa: p.Kappa, Greedy: append([]int(nil), p.Greedy...), Rule: p.Rule,
		Alpha: f.Alpha, Beta: f.Beta, Mu: f.Mu, Delta: f.Delta,
		Dmin: p.Dmin, Dmax: p.Dmax, Delay: f.Delay, Loss: p.Loss, FidelityTol: vocab.R(1, 20),
	}
}

// Trace converts a behavior of the reference model to the trace a perfect
// controller would write: one header per FVM, an initial actuation, one
// host event per FVM per HostTick (window seq = the tick's sequence number
// + 1), and for each Act(i) the sample of the window FVM i consumes, its
// decide and its actuate, logged together as the real controller logs a
// window it reads and uses; a sample that a tick drops (Loss: it became
// older than the delay bound) is logged as a one-window gap with the newest
// window at that moment. Finally a clean end per FVM. Times advance by one
// window per tick (plus one nanosecond per step, so that every event has
// its own time).
//
// Measurements are derived exactly from the observations at the tick:
// wall = window, want = d/U of it, cpu = the share of it (floor). The
// thresholded signal is rounded towards the side of theta that the exact
// value is on (up when congested, down otherwise), so that thresholding
// the permille value gives the bit ref used.
func Trace(p *ref.Params, run Run, opt TraceOptions) ([]trace.Event, error) {
	if err := p.Validate(); err != nil {
		return nil, fmt.Errorf("trace of a run: %w", err)
	}
	if p.Rule.SampleBits() > 1 {
		return nil, fmt.Errorf("trace of a run: rule %v: the trace format records one congestion bit per window, not the rule's samples; simulate it without --trace", p.Rule)
	}
	window := opt.WindowNs
	if window <= 0 {
		window = vocab.WindowNs
	}
	workload := opt.Workload
	if workload == "" {
		workload = "simulated"
	}
	n := p.N()
	evs := make([]trace.Event, 0, 3*n+3*len(run.Steps)*max(1, n))
	// Times start one window after 0, so that no window starts at time 0
	// (0 is the trace format's "not set").
	origin := window
	d := run.Init.Demands(n)
	for i := 0; i < n; i++ {
		m := Model(p, i)
		m.WindowNs = window
		h := trace.NewHeader(m)
		h.Kernel, h.Controller, h.Workload = "ref", "sim.Simulate", workload
		h.Seed, h.InitD = opt.Seed, d[i]
		evs = append(evs, trace.Event{Kind: trace.KindHeader, VM: i, TNs: origin, Header: &h})
	}
	for i := 0; i < n; i++ {
		evs = append(evs, trace.Event{Kind: trace.KindActuate, VM: i, TNs: origin,
			Actuate: trace.Actuate{Seq: 0, D: d[i], PausePermille: vocab.PausePermille(p.U, d[i]), PeriodUs: vocab.PeriodUs}})
	}
	// pending[i] holds the samples FVM i has not consumed or dropped yet,
	// oldest first: they are logged when it consumes them.
	pending := make([][]trace.Sample, n)
	decisions := make([]int64, n)
	var ticks int64
	for k, st := range run.Steps {
		t := origin + ticks*window + int64(k) + 1
		switch st.Action.Kind {
		case ref.HostTick:
			ticks++
			t = origin + ticks*window + int64(k) + 1
			for i := 0; i < n; i++ {
				if st.Dropped>>i&1 == 1 {
					lost := pending[i][0].Seq
					pending[i] = pending[i][1:]
					evs = append(evs, trace.Event{Kind: trace.KindGap, VM: i, TNs: t,
						Gap: trace.Gap{FromSeq: lost, ToSeq: lost, NewestSeq: ticks}})
				}
				s := sampleOf(p, d[i], st.Obs[i], window)
				s.Seq = int64(st.Seq) + 1
				s.StartNs = origin + (ticks-1)*window
				pending[i] = append(pending[i], s)
				evs = append(evs, trace.Event{Kind: trace.KindHost, VM: i, TNs: t,
					Host: trace.Host{Seq: int64(st.Seq) + 1, WallNs: window, CPUNs: st.Obs[i].Share.FloorMul(window)}})
			}
		case ref.Act:
			i := st.Action.VM
			if len(pending[i]) == 0 || pending[i][0].Seq != int64(st.Seq)+1 {
				return nil, fmt.Errorf("trace of a run: step %d: Act(%d) consumes sample %d, which is not its oldest pending one", k, i, st.Seq)
			}
			evs = append(evs, trace.Event{Kind: trace.KindSample, VM: i, TNs: t, Sample: pending[i][0]})
			pending[i] = pending[i][1:]
			decisions[i]++
			evs = append(evs, trace.Event{Kind: trace.KindDecide, VM: i, TNs: t, Decide: trace.Decide{
				Seq: decisions[i], SampleSeq: int64(st.Seq) + 1, NewestSeq: int64(st.Newest) + 1,
				DBefore: st.Before, DAfter: st.After, Branch: st.Branch}})
			evs = append(evs, trace.Event{Kind: trace.KindActuate, VM: i, TNs: t, Actuate: trace.Actuate{
				Seq: decisions[i], D: st.After, PausePermille: vocab.PausePermille(p.U, st.After), PeriodUs: vocab.PeriodUs}})
			d[i] = st.After
		default:
			return nil, fmt.Errorf("trace of a run: step %d: unknown action %v", k, st.Action)
		}
	}
	tEnd := origin + (ticks+1)*window + int64(len(run.Steps))
	for i := 0; i < n; i++ {
		evs = append(evs, trace.Event{Kind: trace.KindEnd, VM: i, TNs: tEnd, End: trace.End{Clean: true}})
	}
	return evs, nil
}

// sampleOf derives a window's measurement from an observation.
func sampleOf(p *ref.Params, d int, o ref.Observation, window int64) trace.Sample {
	s := trace.Sample{
		WallNs:        window,
		WantNs:        vocab.R(int64(d), int64(p.U)).FloorMul(window),
		CPUNs:         o.Share.FloorMul(window),
		PausePermille: vocab.PausePermille(p.U, d),
		Congested:     o.Congested,
	}
	s.PauseNs = window - s.WantNs
	steal, vct := o.Steal.FloorMul(1000), o.VCT.FloorMul(1000)
	if p.Host != vocab.Shared && o.Congested {
		// Round the thresholded signal up so that permille/1000 > theta
		// still holds; the exact value exceeds theta.
		if p.Signal == vocab.Steal {
			steal = o.Steal.CeilMul(1000)
		} else {
			vct = o.VCT.CeilMul(1000)
		}
	}
	s.StealPermille, s.VCTPermille = steal, vct
	return s
}
