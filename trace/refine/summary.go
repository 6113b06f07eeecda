package refine

import (
	"math"
	"sort"

	"github.com/friendly-vm/fvm/ref"
)

// VMSummary describes one VM of a checked run.
type VMSummary struct {
	VM          int   `json:"vm"`
	Samples     int   `json:"samples"`   // windows sampled
	Decisions   int   `json:"decisions"` // decide events
	Holds       int   `json:"holds"`     // decisions mapped to ref's Hold
	Actuations  int   `json:"actuations"`
	HostWindows int   `json:"host_windows"`
	Gaps        int   `json:"gaps"`
	LostWindows int64 `json:"lost_windows"`
	FirstSeq    int64 `json:"first_seq"`
	LastSeq     int64 `json:"last_seq"`
	MaxDelay    int64 `json:"max_delay"` // windows
	InitDemand  int   `json:"init_demand"`
	FinalDemand int   `json:"final_demand"`
	// MeanDemand is the mean actuated demand over the sampled windows.
	MeanDemand float64 `json:"mean_demand"`
	// GuestShare is sum(cpu_ns)/sum(wall_ns) of the samples; HostShare the
	// same from host events (NA without them). Share is the host's if
	// present, else the guest's: the ground truth for fairness.
	GuestShare float64 `json:"guest_share"`
	HostShare  float64 `json:"host_share"`
	Share      float64 `json:"share"`
	// PredDuty and PredFair are the shares the duty and fair host models
	// predict for the mean demands (rounded) of all VMs; NA when not
	// computable (not every VM seen, or the duty denominator too large).
	PredDuty float64 `json:"pred_duty"`
	PredFair float64 `json:"pred_fair"`
	End      string  `json:"end"`

	guestCPU, guestWall int64
}

// Summary describes a checked run.
type Summary struct {
	Files  []string    `json:"files"`
	Events int         `json:"events"`
	N      int         `json:"n"` // FVMs according to the headers
	VMs    []VMSummary `json:"vms"`
	// Windows is the largest number of windows any VM sampled (periods).
	Windows int `json:"windows"`
	// Jain is the Jain index of the shares, (sum x)^2/(n sum x^2).
	Jain float64 `json:"jain"`
	// Efficiency is the FVMs' summed share over the host capacity (C/U cores).
	Efficiency float64 `json:"efficiency"`
	// ConvergenceNs is the time from the first sample until the Jain index
	// of the demands (averaged over the last Options.ConvergenceWindows
	// windows) stays at or above the threshold for good; -1 if it does not
	// by the end (or for a single VM: 0).
	ConvergenceNs int64 `json:"convergence_ns"`
	// FidelityDuty and FidelityFair are the largest |share - prediction|
	// over the VMs (NA if not computable); FidelityTol is the header's.
	FidelityDuty float64 `json:"fidelity_duty"`
	FidelityFair float64 `json:"fidelity_fair"`
	FidelityTol  float64 `json:"fidelity_tol"`
	// Flags are notes a reader should see (tolerated gaps, holds, ...).
	Flags []string `json:"flags,omitempty"`
}

// NA marks a figure that is not computable (all figures are >= 0).
const NA = -1.0

func ratio(a, b int64) float64 {
	if b == 0 {
		return NA
	}
	return float64(a) / float64(b)
}

func (c *checker) summarize() Summary {
	s := c.sum
	s.FidelityDuty, s.FidelityFair = NA, NA
	var shares []float64
	var capacity float64
	allSeen := true
	for _, v := range c.vms {
		if v == nil || v.hdr == nil {
			allSeen = false
			continue
		}
		vs := v.sum
		s.N = v.hdr.N
		capacity = float64(v.hdr.Capacity) / float64(v.hdr.U)
		s.FidelityTol = v.hdr.FidelityTol.Float()
		vs.InitDemand = v.initD
		if vs.Decisions == 0 {
			vs.FinalDemand = v.initD
		}
		vs.MeanDemand = ratio(v.dSum, v.dN)
		vs.GuestShare = ratio(vs.guestCPU, vs.guestWall)
		vs.HostShare = v.hostShare()
		vs.Share = vs.HostShare
		if vs.Share < 0 {
			vs.Share = vs.GuestShare
		}
		vs.PredDuty, vs.PredFair = NA, NA
		if vs.End == "" {
			vs.End = "none"
		}
		if vs.Samples > s.Windows {
			s.Windows = vs.Samples
		}
		if vs.Gaps > 0 {
			s.Flags = append(s.Flags, "vm "+itoa(v.vm)+": "+itoa(vs.Gaps)+" tolerated gap(s), "+itoa(int(vs.LostWindows))+" windows lost")
		}
		if vs.Samples == 0 && vs.Decisions == 0 {
			s.Flags = append(s.Flags, "vm "+itoa(v.vm)+": no samples or decisions (no controller ran?)")
		}
		if vs.HostWindows > 0 && vs.Samples > 0 && vs.HostShare < 0 {
			s.Flags = append(s.Flags, "vm "+itoa(v.vm)+": no host measurement overlaps the sampled windows")
		}
		if vs.Holds > 0 {
			s.Flags = append(s.Flags, "vm "+itoa(v.vm)+": "+itoa(vs.Holds)+" hold(s) (ref.Hold steps outside the rule)")
		}
		s.VMs = append(s.VMs, vs)
		if vs.Share >= 0 {
			shares = append(shares, vs.Share)
		}
	}
	if len(s.VMs) == 0 {
		s.Jain, s.Efficiency = NA, NA
		return s
	}
	if len(s.VMs) < s.N {
		s.Flags = append(s.Flags, "only "+itoa(len(s.VMs))+" of n="+itoa(s.N)+" VMs have traces")
		allSeen = false
	}
	s.Jain = ref.Jain(shares)
	if math.IsNaN(s.Jain) {
		s.Jain = NA
	}
	var tot float64
	for _, x := range shares {
		tot += x
	}
	s.Efficiency = tot / capacity
	s.ConvergenceNs = c.convergence()
	if allSeen {
		c.fidelity(&s)
	}
	return s
}

// hostShare is the host-measured share over the time the samples cover
// (each host interval counted in proportion to its overlap with it), or
// over the whole run when the VM has no samples; NA without host data.
func (v *vmCheck) hostShare() float64 {
	var cpu, wall float64
	for _, h := range v.host {
		if h.wall <= 0 {
			continue
		}
		a, b := h.end-h.wall, h.end
		if v.sum.Samples > 0 {
			a, b = max(a, v.spanStart), min(b, v.spanEnd)
		}
		if b <= a {
			continue
		}
		o := float64(b - a)
		cpu += float64(h.cpu) * o / float64(h.wall)
		wall += o
	}
	if wall == 0 {
		return NA
	}
	return cpu / wall
}

func itoa(i int) string {
	neg := i < 0
	if neg {
		i = -i
	}
	var b [20]byte
	k := len(b)
	for {
		k--
		b[k] = byte('0' + i%10)
		i /= 10
		if i == 0 {
			break
		}
	}
	if neg {
		k--
		b[k] = '-'
	}
	return string(b[k:])
}

// convergence returns the time from the first sample until the Jain index
// of the VMs' demands, averaged over the last ConvergenceWindows windows
// (sampled on a grid of one window from the first sample), last rose to
// the threshold and stayed there; -1 if it is below at the end, 0 for
// fewer than two VMs. Averaging makes the figure meaningful for systems
// that settle into limit cycles (AIMD saw-teeth out of phase).
func (c *checker) convergence() int64 {
	n := 0
	var window int64
	var samples int64
	for _, v := range c.vms {
		if v != nil && v.hdr != nil {
			n++
			window = v.hdr.WindowNs
			samples += int64(v.sum.Samples)
		}
	}
	if n < 2 || len(c.vms) != n || !c.t0ok {
		return 0
	}
	d := make([]float64, n)
	for i, v := range c.vms {
		if !v.dKnown {
			return -1
		}
		d[i] = float64(v.initD)
	}
	traj := append([]point(nil), c.traj...)
	sort.SliceStable(traj, func(i, j int) bool { return traj[i].t < traj[j].t })
	span := c.tLast - c.t0
	if span <= 0 {
		return 0
	}
	// Bound the grid by the trace's length, whatever its times say.
	if maxPoints := 4*samples + 1000; span/window > maxPoints {
		window = span / maxPoints
	}
	w := c.opt.ConvergenceWindows
	hist := make([][]float64, w)
	for k := range hist {
		hist[k] = make([]float64, n)
	}
	avg := make([]float64, n)
	conv, ok := int64(-1), false
	next := 0
	for k, last := int64(0), span/window; k <= last; k++ {
		g := c.t0 + k*window
		for next < len(traj) && traj[next].t <= g {
			d[traj[next].vm] = float64(traj[next].d)
			next++
		}
		copy(hist[k%int64(w)], d)
		m := min(k+1, int64(w))
		for i := range avg {
			avg[i] = 0
			for j := int64(0); j < m; j++ {
				avg[i] += hist[j][i]
			}
			avg[i] /= float64(m)
		}
		j := ref.Jain(avg) >= c.opt.ConvergenceJain
		if j && !ok {
			conv = g
		}
		if !j {
			conv = -1
		}
		ok = j
	}
	if conv < 0 {
		return -1
	}
	return conv - c.t0
}

// fidelity compares the shares with the duty and fair host models'
// predictions for the mean demands.
func (c *checker) fidelity(s *Summary) {
	d := make([]int, len(c.vms))
	for i := range d {
		m := s.VMs[i].MeanDemand
		if m < 0 {
			return
		}
		d[i] = int(math.Round(m))
	}
	base := *c.vms[0].p
	base.FVMs = make([]ref.FVM, len(c.vms))
	for i, v := range c.vms {
		base.FVMs[i] = v.p.FVMs[0]
	}
	for _, host := range []ref.Host{ref.Duty, ref.Fair} {
		p := base
		p.Host = host
		if host == ref.Duty && (p.Capacity != p.U || p.DutyDenominator() > 1<<36) {
			continue
		}
		obs := p.Observe(d)
		worst := 0.0
		for i, o := range obs {
			pred := o.Share.Float()
			if host == ref.Duty {
				s.VMs[i].PredDuty = pred
			} else {
				s.VMs[i].PredFair = pred
			}
			worst = math.Max(worst, math.Abs(s.VMs[i].Share-pred))
		}
		if host == ref.Duty {
			s.FidelityDuty = worst
		} else {
			s.FidelityFair = worst
		}
	}
}
