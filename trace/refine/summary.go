package refine

import (
	"math"

	"github.com/friendly-vm/fvm/metrics"
	"github.com/friendly-vm/fvm/ref"
	"github.com/friendly-vm/fvm/vocab"
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
	// Utilisation is the VMs' summed share over the host capacity (C/U
	// cores): metrics.Utilisation.
	Utilisation float64 `json:"utilisation"`
	// ConvergenceNs is metrics.Convergence of the VMs' CPU shares (the
	// host's measurements where the trace has them, else the samples'),
	// from the first sampled window to the last; -1 if they do not
	// converge by the end or the run is shorter than one window, 0 for a
	// single VM.
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
			s.Flags = append(s.Flags, "vm "+itoa(v.vm)+": "+itoa(vs.Gaps)+" gap(s) (windows older than the delay bound, dropped by ref's loss), "+itoa(int(vs.LostWindows))+" windows lost")
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
		s.Jain, s.Utilisation = NA, NA
		return s
	}
	if len(s.VMs) < s.N {
		s.Flags = append(s.Flags, "only "+itoa(len(s.VMs))+" of n="+itoa(s.N)+" VMs have traces")
		allSeen = false
	}
	s.Jain = metrics.Jain(shares)
	if math.IsNaN(s.Jain) {
		s.Jain = NA
	}
	s.Utilisation = metrics.Utilisation(shares, capacity)
	s.ConvergenceNs = c.convergence()
	if allSeen {
		c.fidelity(&s)
	}
	return s
}

// hostShare is the host-measured share over the time the sampled windows
// cover (each host interval counted in proportion to its overlap with
// them; a lost window is not compared), or over the whole run when the VM
// has no samples; NA without host data.
func (v *vmCheck) hostShare() float64 {
	var cpu, wall float64
	add := func(h hostIv, a, b int64) {
		if b > a {
			o := float64(b - a)
			cpu += float64(h.cpu) * o / float64(h.wall)
			wall += o
		}
	}
	k := 0 // spans and host intervals are both in time order
	for _, h := range v.host {
		if h.wall <= 0 {
			continue
		}
		a, b := h.end-h.wall, h.end
		if v.sum.Samples == 0 {
			add(h, a, b)
			continue
		}
		for k > 0 && v.spans[k-1].b > a {
			k-- // an interval may overlap spans the previous one did
		}
		for ; k < len(v.spans) && v.spans[k].a < b; k++ {
			add(h, max(a, v.spans[k].a), min(b, v.spans[k].b))
		}
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

// convergence is metrics.Convergence over the host-clock span of the
// sampled windows, on each VM's CPU share: from its host measurements if
// the trace has them, else from its samples.
func (c *checker) convergence() int64 {
	var vms []*vmCheck
	start, end := int64(math.MaxInt64), int64(math.MinInt64)
	for _, v := range c.vms {
		if v == nil || v.hdr == nil {
			continue
		}
		vms = append(vms, v)
		if len(v.spans) > 0 {
			start, end = min(start, v.spans[0].a), max(end, v.spans[len(v.spans)-1].b)
		}
	}
	if len(vms) < 2 || len(vms) != len(c.vms) {
		return 0
	}
	if start >= end {
		return -1
	}
	cpu := make([]metrics.Series, len(vms))
	for i, v := range vms {
		cpu[i] = v.cpuSeries()
	}
	return metrics.Convergence(len(vms), func(i int, a, b int64) float64 { return cpu[i].Rate(a, b) }, start, end)
}

// cpuSeries is the VM's cumulative CPU ns over host time: from its host
// measurements, else from its sampled windows.
func (v *vmCheck) cpuSeries() metrics.Series {
	var s metrics.Series
	cum := 0.0
	if len(v.host) > 0 {
		for _, h := range v.host {
			if len(s) == 0 {
				s = append(s, metrics.Point{T: h.end - h.wall})
			}
			cum += float64(h.cpu)
			s = append(s, metrics.Point{T: h.end, V: cum})
		}
		return s
	}
	for _, w := range v.windows {
		if len(s) == 0 || s[len(s)-1].T != w.a {
			s = append(s, metrics.Point{T: w.a, V: cum})
		}
		cum += float64(w.cpu)
		s = append(s, metrics.Point{T: w.b, V: cum})
	}
	return s
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
	for _, host := range []vocab.Host{vocab.Duty, vocab.Fair} {
		p := base
		p.Host = host
		if host == vocab.Duty && (p.Capacity != p.U || p.DutyDenominator() > 1<<36) {
			continue
		}
		obs := p.Observe(d)
		worst := 0.0
		for i, o := range obs {
			pred := o.Share.Float()
			if host == vocab.Duty {
				s.VMs[i].PredDuty = pred
			} else {
				s.VMs[i].PredFair = pred
			}
			worst = math.Max(worst, math.Abs(s.VMs[i].Share-pred))
		}
		if host == vocab.Duty {
			s.FidelityDuty = worst
		} else {
			s.FidelityFair = worst
		}
	}
}
