package refine

import (
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/friendly-vm/fvm/ref"
	"github.com/friendly-vm/fvm/trace"
	"github.com/friendly-vm/fvm/vocab"
)

// Options configures Check.
type Options struct {
	// Context is how many lines before and after the first non-refining
	// event are reported (0: 3).
	Context int
}

// Input is one trace to check: a name for messages and its content.
type Input struct {
	Name string
	R    io.Reader
}

// ContextLine is one line of a trace shown around a failure.
type ContextLine struct {
	File string `json:"file"`
	Line int    `json:"line"`
	Text string `json:"text"`
}

// Failure is the first non-refining event: where, what is wrong, and what
// the reference allowed instead.
type Failure struct {
	File    string        `json:"file"`
	Line    int           `json:"line"` // 0: a whole-run check (no single line)
	VM      int           `json:"vm"`
	Kind    string        `json:"kind"`
	Msg     string        `json:"msg"`
	Allowed string        `json:"allowed"`
	Context []ContextLine `json:"context"`
}

func (f *Failure) Error() string {
	at := f.File
	if f.Line > 0 {
		at = fmt.Sprintf("%s:%d", f.File, f.Line)
	}
	return fmt.Sprintf("%s: vm %d %s: %s (ref allows: %s)", at, f.VM, f.Kind, f.Msg, f.Allowed)
}

// Result is the verdict: Failure is nil when the traces refine ref.
// Summary is filled in either case (up to the failure).
type Result struct {
	Failure *Failure `json:"failure,omitempty"`
	Summary Summary  `json:"summary"`
}

// OK reports whether the traces refine the reference.
func (r *Result) OK() bool { return r.Failure == nil }

// Paths expands run directories to the *.jsonl files they contain (sorted)
// and keeps file arguments as they are.
func Paths(args []string) ([]string, error) {
	var out []string
	for _, a := range args {
		st, err := os.Stat(a)
		if err != nil {
			return nil, fmt.Errorf("trace check: %w", err)
		}
		if !st.IsDir() {
			out = append(out, a)
			continue
		}
		m, err := filepath.Glob(filepath.Join(a, "*.jsonl"))
		if err != nil {
			return nil, fmt.Errorf("trace check: %s: %w", a, err)
		}
		if len(m) == 0 {
			return nil, fmt.Errorf("trace check: %s: no *.jsonl traces in the directory", a)
		}
		sort.Strings(m)
		out = append(out, m...)
	}
	return out, nil
}

// CheckFiles checks trace files and run directories (see Paths). The error
// is non-nil for unreadable or malformed traces (a *trace.Error names the
// file and line); a trace that is well-formed but does not refine ref
// gives a Result with a Failure.
func CheckFiles(args []string, opt Options) (*Result, error) {
	paths, err := Paths(args)
	if err != nil {
		return nil, err
	}
	var inputs []Input
	for _, p := range paths {
		f, err := os.Open(p)
		if err != nil {
			for _, in := range inputs {
				in.R.(*os.File).Close()
			}
			return nil, fmt.Errorf("trace check: %w", err)
		}
		inputs = append(inputs, Input{Name: p, R: f})
	}
	defer func() {
		for _, in := range inputs {
			in.R.(*os.File).Close()
		}
	}()
	return Check(inputs, opt)
}

// Check checks the inputs, in order, as the traces of one run.
func Check(inputs []Input, opt Options) (*Result, error) {
	if opt.Context <= 0 {
		opt.Context = 3
	}
	c := &checker{opt: opt, ring: make([]ringLine, opt.Context+1)}
	res := &Result{}
	for _, in := range inputs {
		c.sum.Files = append(c.sum.Files, in.Name)
		f, err := c.file(in)
		if err != nil {
			return nil, err
		}
		if f != nil {
			res.Failure = f
			c.finish(&res.Summary, false)
			return res, nil
		}
	}
	res.Failure = c.finish(&res.Summary, true)
	return res, nil
}

// pending is a sampled window not yet consumed.
type pending struct {
	seq       int64
	congested bool
	sampled   bool  // false: a window a hold consumed without a sample line
	signal    int64 // the window's signal (windowSignal), permille
	smoothed  int64 // signal_permille as logged
}

// MaxVCTPermille caps the VCT signal: a window in which the VM wanted the
// CPU and got none has an infinite VCT, counted as 1000 times.
const MaxVCTPermille = 1_000_000

// windowSignal is the value of the configured signal for a window, in
// permille: steal_permille, or for vct: vct_permille capped at
// MaxVCTPermille, MaxVCTPermille when cpu_ns is 0 and want_ns is not, and
// 1000 (a VCT of 1) when both are 0.
func windowSignal(sig vocab.Signal, s *trace.Sample) int64 {
	if sig == vocab.Steal {
		return s.StealPermille
	}
	switch {
	case s.CPUNs == 0 && s.WantNs > 0:
		return MaxVCTPermille
	case s.CPUNs == 0:
		return 1000
	}
	return min(s.VCTPermille, MaxVCTPermille)
}

// checkBit checks the congested bit of window w, which the rule is about
// to consume, against the signal and theta (and the EWMA if the header
// has one).
func (c *checker) checkBit(v *vmCheck, w *pending) {
	h, p := v.hdr, v.p
	above := map[bool]string{true: "above", false: "not above"}
	switch {
	case !h.EWMA.IsZero():
		want := w.signal
		if v.ewmaHave {
			want = (h.EWMA.Num*w.signal + (h.EWMA.Den-h.EWMA.Num)*v.ewmaPrev) / h.EWMA.Den
		}
		if d := w.smoothed - want; d < -1 || d > 1 {
			c.fail("window %d: signal_permille %d is not the EWMA (weight %s) of its %s signal %d‰ and the previous %d‰", fmt.Sprintf("signal_permille %d (±1)", want),
				w.seq, w.smoothed, h.EWMA, p.Signal, w.signal, v.ewmaPrev)
			return
		}
		v.ewmaPrev, v.ewmaHave = w.smoothed, true
		if got := p.Theta.Less(vocab.R(w.smoothed, 1000)); got != w.congested {
			c.fail("window %d: congested=%v but the smoothed signal %d‰ is %s theta %s", fmt.Sprintf("congested=%v", got),
				w.seq, w.congested, w.smoothed, above[got], p.Theta)
		}
	case h.Signal != vocab.NoSignal:
		x := vocab.R(w.signal, 1000)
		if got := p.Exceeds(x, x); got != w.congested {
			c.fail("window %d: congested=%v but its %s signal %d‰ is %s theta %s", fmt.Sprintf("congested=%v (ref.Params.Exceeds)", got),
				w.seq, w.congested, p.Signal, w.signal, above[got], p.Theta)
		}
	}
}

// hostIv is one host measurement: cpu ns over the wall ns ending at end.
type hostIv struct{ end, wall, cpu int64 }

// span is a host time interval [a, b).
type span struct{ a, b int64 }

// window is a sampled window: its host time interval and CPU ns.
type window struct{ a, b, cpu int64 }

// ringLine is a recent line kept for a failure's context.
type ringLine struct {
	line int
	buf  []byte
}

// vmCheck is the checker's state for one VM.
type vmCheck struct {
	vm      int
	hdr     *trace.Header
	hdrAt   string
	p       *ref.Params // the N=1 model of this VM
	s       ref.State
	dKnown  bool
	initD   int
	pend    [ref.MaxFIFO]pending // parallel to s.Q[0], oldest at head
	head    int
	npend   int
	nextSeq int64 // next window expected (0: any)
	newest  int64 // newest window sampled (or reported by a gap)
	lostTo  int64 // last window of a gap without newest_seq, to check at the next decision

	decisions   int64 // last decide seq
	lastD       int   // d_after of the last decision
	lastDT      int64 // its time
	actuated    int   // demand in force (-1: unknown)
	needAct     int64 // decision awaiting actuation
	needActFile string
	needActT    int64 // its t_ns: a decision of the same poll may supersede it

	ewmaPrev int64
	ewmaHave bool

	// acts are the latest actuations (host time, pause), oldest first:
	// a window reports the pause in force at its end, which must be one
	// of them.
	acts []pauseAt

	// spans are the host time the sampled windows cover (merged where
	// contiguous; lost windows are holes); host holds the host's
	// measurements.
	spans   []span
	windows []window
	host    []hostIv

	sum VMSummary
	// dSum/dN: demand in force at each sample, for the mean demand.
	dSum, dN int64
}

// pauseAt is an actuation: the pause traced, and the host time of the poll
// that wrote it (the write lands at or after it).
type pauseAt struct {
	t, pause int64
}

// maxActs bounds vmCheck.acts: a window is read at most the delay bound
// plus a poll after it ends, within a few polls of a few actuations each
// (a poll that catches up on d+1 windows actuates d+1 times).
const maxActs = 64

type checker struct {
	opt Options
	// The event being checked, and the first failure.
	curFile string
	curLine int
	curVM   int
	curKind trace.Kind
	failure *Failure

	vms   []*vmCheck
	ring  []ringLine
	rn    int // lines in ring (ring is circular by line number)
	sum   Summary
	t0    int64
	t0ok  bool
	tLast int64 // latest sample or decision time
}

func (c *checker) vmState(vm int) *vmCheck {
	for vm >= len(c.vms) {
		c.vms = append(c.vms, nil)
	}
	if c.vms[vm] == nil {
		c.vms[vm] = &vmCheck{vm: vm, actuated: -1}
	}
	return c.vms[vm]
}

// fail records the first failure, at the event being checked: msg (a
// format for args) says what is wrong, allowed what ref allows instead.
func (c *checker) fail(msg, allowed string, args ...any) {
	if c.failure != nil {
		return
	}
	c.failure = &Failure{File: c.curFile, Line: c.curLine, VM: c.curVM, Kind: c.curKind.String(),
		Msg: fmt.Sprintf(msg, args...), Allowed: allowed}
}

func (c *checker) file(in Input) (*Failure, error) {
	r := trace.NewReader(in.R, in.Name)
	var e trace.Event
	ended := map[int]bool{}
	headers := map[int]int{}
	c.rn = 0
	for {
		err := r.Next(&e)
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
		line := r.Line()
		slot := &c.ring[line%len(c.ring)]
		slot.line, slot.buf = line, append(slot.buf[:0], r.Raw()...)
		c.rn++
		c.sum.Events++
		v := c.vmState(e.VM)
		c.curFile, c.curLine, c.curVM, c.curKind = in.Name, line, e.VM, e.Kind
		switch e.Kind {
		case trace.KindHeader:
			headers[e.VM] = line
			c.header(v, &e, fmt.Sprintf("%s:%d", in.Name, line))
		case trace.KindSample:
			c.sample(v, &e)
		case trace.KindDecide:
			c.decide(v, &e, in.Name)
		case trace.KindActuate:
			c.actuate(v, &e)
		case trace.KindHost:
			v.sum.HostWindows++
			v.host = append(v.host, hostIv{end: e.TNs, wall: e.Host.WallNs, cpu: e.Host.CPUNs})
		case trace.KindGap:
			c.gap(v, &e)
		case trace.KindEnd:
			ended[e.VM] = true
			if !e.End.Clean {
				c.fail("the run ended incompletely: "+e.End.Reason, "a clean end")
			} else if v.needAct != 0 && v.needActFile == in.Name {
				c.fail(fmt.Sprintf("decision %d (d=%d) was never actuated", v.needAct, v.lastD),
					fmt.Sprintf("an actuate with seq %d, d %d, pause_permille %d before the end", v.needAct, v.lastD, vocab.PausePermille(v.hdr.U, v.lastD)))
			} else {
				v.sum.End = "clean"
			}
		}
		if f := c.failure; f != nil {
			c.context(f, r, line)
			return f, nil
		}
	}
	if r.Line() == 0 {
		return &Failure{File: in.Name, VM: -1, Kind: "header", Msg: "the trace is empty",
			Allowed: "a header for every VM, then its events and an end"}, nil
	}
	vmsInFile := make([]int, 0, len(headers))
	for vm := range headers {
		vmsInFile = append(vmsInFile, vm)
	}
	sort.Ints(vmsInFile)
	for _, vm := range vmsInFile {
		if !ended[vm] {
			f := &Failure{File: in.Name, Line: r.Line(), VM: vm, Kind: "end",
				Msg:     fmt.Sprintf("the trace of vm %d ends without an end event (header at line %d): a truncated or killed run", vm, headers[vm]),
				Allowed: "an end event closing every VM's trace"}
			c.context(f, r, r.Line())
			return f, nil
		}
	}
	return nil, nil
}

// context fills f.Context with the lines before (from the ring) and after
// (read on) the failing line.
func (c *checker) context(f *Failure, r *trace.Reader, line int) {
	k := len(c.ring)
	first := max(line-k+1, line-c.rn+1, 1)
	after := c.opt.Context
	for l := first; l <= line; l++ {
		rl := c.ring[l%k]
		f.Context = append(f.Context, ContextLine{File: f.File, Line: rl.line, Text: string(rl.buf)})
	}
	var e trace.Event
	for i := 0; i < after; i++ {
		if err := r.Next(&e); err != nil {
			break
		}
		f.Context = append(f.Context, ContextLine{File: f.File, Line: r.Line(), Text: string(r.Raw())})
	}
}

func (c *checker) header(v *vmCheck, e *trace.Event, at string) {
	h := e.Header
	if v.hdr != nil {
		if diff := trace.ModelDiff(v.hdr, h); diff != "" {
			c.fail("header disagrees with the header at %s: %s", "the same parameters in every header of a VM", v.hdrAt, diff)
		}
		return
	}
	for _, o := range c.vms {
		if o != nil && o.hdr != nil && o.hdr.N != h.N {
			c.fail("header says n=%d but vm %d's header says n=%d", "one n per run", h.N, o.vm, o.hdr.N)
			return
		}
	}
	p, err := Params(h)
	if err != nil {
		c.fail("the header's parameters are not a valid reference model: %v", "parameters that ref.Params.Validate accepts", err)
		return
	}
	v.hdr, v.hdrAt, v.p = h, at, p
	v.sum.VM = e.VM
	if h.InitD != 0 {
		s, err := ref.InitState(p, []int{h.InitD})
		if err != nil {
			c.fail("init_d: %v", "an initial demand in [dmin, dmax]", err)
			return
		}
		v.s, v.dKnown, v.initD, v.actuated = s, true, h.InitD, h.InitD
	}
}

func bitName(c bool) string {
	if c {
		return "congested"
	}
	return "uncongested"
}

// pauseInForce reports whether pause can be the pause in force at host
// time end. The kernel reports the value last written before it took the
// window. A poll stamps all its events with one time (its read's) and then
// writes its actuations one by one, after that time; the next poll reads
// only after those writes returned. So the writes of every poll but the
// last one stamped before end had landed by end, and the pause in force is
// one of the last poll's actuations (any of them: the window may have been
// taken between two of its writes) or, if none of its writes had landed,
// the final actuation of the poll before it. Before the first actuation, or
// when the earlier poll is not remembered, the kernel's earlier value is
// unknown and any pause passes (before the first) or fails (forgotten).
func (v *vmCheck) pauseInForce(end, pause int64) bool {
	j := -1
	for i := len(v.acts) - 1; i >= 0; i-- {
		if v.acts[i].t < end {
			j = i
			break
		}
	}
	if j < 0 {
		return len(v.acts) < maxActs
	}
	k := j // the last poll's actuations are acts[k..j]: one time stamp
	for k > 0 && v.acts[k-1].t == v.acts[j].t {
		k--
	}
	for _, a := range v.acts[k : j+1] {
		if a.pause == pause {
			return true
		}
	}
	if k == 0 {
		return len(v.acts) < maxActs
	}
	return v.acts[k-1].pause == pause
}

// pausesNear describes the actuations around host time end, for a failure.
func (v *vmCheck) pausesNear(end int64) string {
	var parts []string
	for _, a := range v.acts {
		rel := "before"
		if a.t >= end {
			rel = "after"
		}
		parts = append(parts, fmt.Sprintf("%d (%.1f ms %s the end)", a.pause, math.Abs(float64(a.t-end))/1e6, rel))
	}
	return strings.Join(parts, ", ")
}

// hostTime is an event time of v's trace on the host clock (the kernel's
// windows' time base): a trace on the guest's clock declares its offset.
func (c *checker) hostTime(v *vmCheck, tNs int64) int64 {
	if v.hdr.Clock == "guest" {
		return tNs + v.hdr.ClockOffsetNs
	}
	return tNs
}

func (c *checker) sample(v *vmCheck, e *trace.Event) {
	s := &e.Sample
	h, p := v.hdr, v.p
	if !c.t0ok {
		c.t0, c.t0ok = e.TNs, true
	}
	c.tLast = max(c.tLast, e.TNs)
	if v.nextSeq != 0 && s.Seq != v.nextSeq {
		missing := fmt.Sprintf("windows %d..%d were", v.nextSeq, s.Seq-1)
		if s.Seq-1 == v.nextSeq {
			missing = fmt.Sprintf("window %d was", v.nextSeq)
		}
		c.fail("window %d follows window %d: %s skipped without a gap event", fmt.Sprintf("the next HostTick brings window %d", v.nextSeq),
			s.Seq, v.nextSeq-1, missing)
		return
	}
	// A sample is read after its window ended: one stamped earlier comes
	// from a clock that fell behind the host's (a guest clock charged with
	// paused time, say), and its delays and shares cannot be trusted.
	if end := s.StartNs + s.WallNs; s.StartNs != 0 && c.hostTime(v, e.TNs) < end {
		c.fail("window %d is sampled at %d ns, before the window ended at %d ns (start_ns + wall_ns): a stale timestamp",
			"a sample stamped at or after its window's end", s.Seq, c.hostTime(v, e.TNs), end)
		return
	}
	if s.StartNs != 0 && !v.pauseInForce(s.StartNs+s.WallNs, s.PausePermille) {
		c.fail("window %d reports pause_permille %d in force at its end, but the controller's actuations say %s",
			"a pause of the last poll before the window's end, whose writes may land after the end, or the final one of the poll before", s.Seq, s.PausePermille, v.pausesNear(s.StartNs+s.WallNs))
		return
	}
	if v.npend > h.Delay {
		old := v.pend[v.head]
		allowed := fmt.Sprintf("no HostTick until Act consumes window %d", old.seq)
		if h.Loss {
			allowed = fmt.Sprintf("a gap event for window %d before the HostTick that drops it", old.seq)
		}
		c.fail("window %d is sampled while windows %d..%d (D+1 = %d) are still pending: the oldest would wait more than D = %d windows",
			allowed, s.Seq, old.seq, v.newest, h.Delay+1, h.Delay)
		return
	}
	var bit uint16
	if s.Congested {
		bit = 1
	}
	next, err := ref.Step(p, v.s, ref.OpenTick(bit))
	if err != nil {
		c.fail("ref rejects the tick of window %d: %v", "an enabled HostTick", s.Seq, err)
		return
	}
	v.s = next
	v.pend[(v.head+v.npend)%len(v.pend)] = pending{seq: s.Seq, congested: s.Congested, sampled: true,
		signal: windowSignal(p.Signal, s), smoothed: s.SignalPermille}
	v.npend++
	v.nextSeq, v.newest = s.Seq+1, s.Seq
	v.sum.Samples++
	if v.sum.FirstSeq == 0 {
		v.sum.FirstSeq = s.Seq
	}
	v.sum.LastSeq = s.Seq
	// The VM's CPU includes what it got at idle priority (duty-idle):
	// the host measures both.
	v.sum.guestCPU += s.CPUNs + s.IdleCPUNs
	v.sum.guestWall += s.WallNs
	start := s.StartNs
	if start == 0 {
		start = c.hostTime(v, e.TNs) - s.WallNs
	}
	v.windows = append(v.windows, window{a: start, b: start + s.WallNs, cpu: s.CPUNs + s.IdleCPUNs})
	if n := len(v.spans); n > 0 && v.spans[n-1].b == start {
		v.spans[n-1].b = start + s.WallNs // contiguous with the last window
	} else {
		v.spans = append(v.spans, span{start, start + s.WallNs})
	}
	if v.actuated >= 0 {
		v.dSum += int64(v.actuated)
		v.dN++
	}
}

func (c *checker) decide(v *vmCheck, e *trace.Event, file string) {
	d := &e.Decide
	h, p := v.hdr, v.p
	// A poll that brings several windows may actuate only its last
	// decision: the ones before it, stamped with the same time, were
	// superseded in the same instant, and their demands never in force.
	if v.needAct != 0 && e.TNs != v.needActT {
		c.fail("decision %d comes before decision %d (d=%d) was actuated", fmt.Sprintf("an actuate with seq %d, d %d, pause_permille %d first", v.needAct, v.lastD, vocab.PausePermille(h.U, v.lastD)),
			d.Seq, v.needAct, v.lastD)
		return
	}
	if d.NewestSeq < v.newest {
		c.fail("newest_seq %d is older than window %d, already seen", fmt.Sprintf("newest_seq >= %d", v.newest), d.NewestSeq, v.newest)
		return
	}
	if v.lostTo != 0 && d.SampleSeq != 0 {
		if !c.lateEnough(v, v.lostTo, d.NewestSeq, "the next decision's newest_seq") {
			return
		}
		v.lostTo = 0
	}
	if !v.dKnown {
		s, err := ref.InitState(p, []int{d.DBefore})
		if err != nil {
			c.fail("the initial demand: %v", fmt.Sprintf("any initial demand in [dmin=%d, dmax=%d]", h.Dmin, h.Dmax), err)
			return
		}
		s.Q = v.s.Q
		v.s, v.dKnown, v.initD = s, true, d.DBefore
	} else if cur := int(v.s.D[0]); d.DBefore != cur {
		c.fail("d_before=%d but the demand is %d", fmt.Sprintf("d_before=%d", cur), d.DBefore, cur)
		return
	}
	if d.SampleSeq == 0 {
		next, err := ref.Step(p, v.s, ref.HoldOf(0, d.DAfter))
		if err != nil {
			c.fail("hold to d=%d: %v", fmt.Sprintf("Hold(0, d) with d in [dmin=%d, dmax=%d]", h.Dmin, h.Dmax), d.DAfter, err)
			return
		}
		v.s = next
		v.sum.Holds++
	} else {
		if delay := d.NewestSeq - d.SampleSeq; delay > int64(h.Delay) {
			c.fail("window %d is consumed %d windows late (newest %d): more than D = %d", fmt.Sprintf("a delay of at most D = %d windows", h.Delay),
				d.SampleSeq, delay, d.NewestSeq, h.Delay)
			return
		} else if delay > v.sum.MaxDelay {
			v.sum.MaxDelay = delay
		}
		hold := d.Branch == vocab.Hold
		if v.npend == 0 && hold && (v.nextSeq == 0 || d.SampleSeq == v.nextSeq) {
			// A window the controller could not log as a sample (garbage)
			// and consumed by a hold: its tick, with a bit the hold ignores.
			next, err := ref.Step(p, v.s, ref.OpenTick(0))
			if err != nil {
				c.fail("ref rejects the tick of window %d: %v", "an enabled HostTick", d.SampleSeq, err)
				return
			}
			v.s = next
			v.pend[v.head] = pending{seq: d.SampleSeq}
			v.npend = 1
			v.nextSeq, v.newest = d.SampleSeq+1, max(v.newest, d.SampleSeq)
		}
		if v.npend == 0 {
			c.fail("window %d is consumed but no window is pending", fmt.Sprintf("Act is disabled until HostTick brings window %d", max(v.nextSeq, 1)), d.SampleSeq)
			return
		}
		old := &v.pend[v.head]
		if d.SampleSeq != old.seq {
			what := "skips"
			if d.SampleSeq < old.seq {
				what = "consumes again"
			}
			c.fail("decision %d %s window %d (the oldest pending window is %d)", fmt.Sprintf("Act(0) consumes window %d", old.seq), d.Seq, what, d.SampleSeq, old.seq)
			return
		}
		if !hold {
			if c.checkBit(v, old); c.failure != nil {
				return
			}
			want, br := p.Apply(0, d.DBefore, old.congested)
			if d.DAfter != want || d.Branch != br {
				c.fail("d_after=%d (%s) from d_before=%d on the %s window %d", fmt.Sprintf("Act(0): d_after=%d (%s)", want, br),
					d.DAfter, d.Branch, d.DBefore, bitName(old.congested), old.seq)
				return
			}
		}
		next, err := ref.Step(p, v.s, ref.ActOf(0))
		if err != nil {
			c.fail("ref rejects Act(0): %v", "an enabled Act", err)
			return
		}
		if hold {
			if next, err = ref.Step(p, next, ref.HoldOf(0, d.DAfter)); err != nil {
				c.fail("hold to d=%d: %v", fmt.Sprintf("Hold(0, d) with d in [dmin=%d, dmax=%d]", h.Dmin, h.Dmax), d.DAfter, err)
				return
			}
			v.sum.Holds++
		}
		v.s = next
		v.head = (v.head + 1) % len(v.pend)
		v.npend--
	}
	v.decisions, v.lastD, v.lastDT = d.Seq, d.DAfter, e.TNs
	v.sum.Decisions++
	v.sum.FinalDemand = d.DAfter
	v.needAct = 0
	if d.DAfter != v.actuated {
		v.needAct, v.needActFile, v.needActT = d.Seq, file, e.TNs
	}
	c.tLast = max(c.tLast, e.TNs)
}

func (c *checker) actuate(v *vmCheck, e *trace.Event) {
	a := &e.Actuate
	h := v.hdr
	if a.Seq == 0 {
		if v.decisions != 0 {
			c.fail("an initial actuation (seq 0) after decision %d", fmt.Sprintf("an actuate with seq %d", v.decisions), v.decisions)
			return
		}
		if a.D < h.Dmin || a.D > h.Dmax {
			c.fail("initial demand %d", fmt.Sprintf("an initial demand in [dmin=%d, dmax=%d]", h.Dmin, h.Dmax), a.D)
			return
		}
		if v.dKnown && a.D != int(v.s.D[0]) {
			c.fail("initial actuation of d=%d but the initial demand is %d", fmt.Sprintf("d=%d", v.s.D[0]), a.D, v.s.D[0])
			return
		}
		if !v.dKnown {
			v.s.D[0], v.dKnown, v.initD = uint16(a.D), true, a.D
		}
	} else {
		if a.Seq != v.decisions {
			c.fail("actuation for decision %d, but the last decision is %d", fmt.Sprintf("an actuate with seq %d", v.decisions), a.Seq, v.decisions)
			return
		}
		if a.D != v.lastD {
			c.fail("actuation of d=%d for decision %d, which decided d=%d", fmt.Sprintf("d=%d", v.lastD), a.D, a.Seq, v.lastD)
			return
		}
		if dt := e.TNs - v.lastDT; dt > h.PeriodUs*1000 {
			c.fail("actuation read back %d ns after decision %d: later than one actuation period (%d us)", "the pause in force within one period of the decision", dt, a.Seq, h.PeriodUs)
			return
		}
	}
	if want := vocab.PausePermille(h.U, a.D); a.PausePermille != want {
		c.fail("pause_permille read back %d for d=%d", fmt.Sprintf("pause_permille %d = floor((u-d)*1000/u)", want), a.PausePermille, a.D)
		return
	}
	v.acts = append(v.acts, pauseAt{t: c.hostTime(v, e.TNs), pause: a.PausePermille})
	if len(v.acts) > maxActs {
		v.acts = v.acts[1:]
	}
	if a.PeriodUs != 0 && a.PeriodUs != h.PeriodUs {
		c.fail("period_us read back %d", fmt.Sprintf("the header's period_us %d", h.PeriodUs), a.PeriodUs)
		return
	}
	v.actuated, v.needAct = a.D, 0
	v.sum.Actuations++
}

// gap maps lost windows to ref's loss: with Loss, a HostTick into a full
// FIFO drops the oldest sample, one that has become older than the delay
// bound. Windows from..to were ticked and then dropped by the ticks of
// newer windows, which refines iff they are the oldest windows not yet used
// (they start at the next window and nothing older is pending: a FIFO drops
// its oldest first) and each was more than Delay windows older than the
// newest window when it was given up: the gap's newest_seq, or else the
// next decision's. Dropped windows leave ref's (d, q) as they were.
func (c *checker) gap(v *vmCheck, e *trace.Event) {
	g := &e.Gap
	h := v.hdr
	if !h.Loss {
		c.fail("windows %d..%d were never used, but the header's model has no loss (loss is false)",
			"every window consumed exactly once: without loss HostTick never drops a sample", g.FromSeq, g.ToSeq)
		return
	}
	if v.nextSeq != 0 && g.FromSeq != v.nextSeq {
		c.fail("gap %d..%d does not start at the next window %d", fmt.Sprintf("a gap from window %d", v.nextSeq), g.FromSeq, g.ToSeq, v.nextSeq)
		return
	}
	if v.npend > 0 {
		old := v.pend[v.head]
		c.fail("windows %d..%d are dropped while window %d, older, is still pending", fmt.Sprintf("Act(0) consumes window %d first (a full FIFO drops its oldest sample)", old.seq),
			g.FromSeq, g.ToSeq, old.seq)
		return
	}
	if g.NewestSeq != 0 {
		if !c.lateEnough(v, g.ToSeq, g.NewestSeq, "its newest_seq") {
			return
		}
	} else {
		v.lostTo = g.ToSeq // checked against the next decision's newest_seq
	}
	v.sum.Gaps++
	v.sum.LostWindows += g.ToSeq - g.FromSeq + 1
	v.nextSeq = g.ToSeq + 1
	v.newest = max(v.newest, g.NewestSeq)
}

// lateEnough checks that window last was more than Delay windows older
// than newest, so that ref's loss could drop it.
func (c *checker) lateEnough(v *vmCheck, last, newest int64, whose string) bool {
	if newest-last > int64(v.hdr.Delay) {
		return true
	}
	c.fail("window %d was dropped as late, but %s %d makes it only %d windows old: within the delay bound %d",
		fmt.Sprintf("windows are dropped only when older than the delay bound: at newest %d, windows up to %d", newest, newest-int64(v.hdr.Delay)-1),
		last, whose, newest, newest-last, v.hdr.Delay)
	return false
}

// HostGuestTolPermille is the largest difference, in permille of one core,
// between a VM's CPU share from its own samples and the host's measurement
// over the same time: five points. Both measure the same CPU time (the
// kernel's accounting of the guest's host processes and the runner's
// schedstat of them), and in the recorded real runs they agree to a tenth
// of this or better (TestHostGuestToleranceMargin prints the minimum,
// median and maximum over every VM of testdata/runs and keeps the margin of
// ten; four points was the tolerance until a work-conserving run differed
// by 0.42). The header's fidelity_tol is for model fidelity, which is
// reported, not asserted.
const HostGuestTolPermille = 50

// finish completes the summary; with final set it also runs the whole-run
// checks (host-vs-guest consistency) and returns their failure.
func (c *checker) finish(s *Summary, final bool) *Failure {
	*s = c.summarize()
	if !final {
		return nil
	}
	for _, vs := range s.VMs {
		v := c.vms[vs.VM]
		if vs.Samples == 0 || vs.HostWindows == 0 || vs.HostShare < 0 {
			continue
		}
		tol := float64(HostGuestTolPermille) / 1000
		if d := vs.GuestShare - vs.HostShare; d > tol || d < -tol {
			return &Failure{File: v.hdrAt, VM: v.vm, Kind: "host",
				Msg:     fmt.Sprintf("the guest's samples give a CPU share of %.4f but the host measured %.4f", vs.GuestShare, vs.HostShare),
				Allowed: fmt.Sprintf("a difference within %d permille of a core", HostGuestTolPermille)}
		}
	}
	return nil
}
