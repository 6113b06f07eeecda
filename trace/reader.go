package trace

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"unicode/utf8"
)

// MaxLine is the longest line the Reader accepts, newline included.
const MaxLine = 64 << 10

// MaxVM bounds the vm field.
const MaxVM = 1 << 10

// Error is a Reader error: the file, the 1-based line and what is wrong.
type Error struct {
	File string
	Line int
	Err  error
}

func (e *Error) Error() string { return fmt.Sprintf("%s:%d: %v", e.File, e.Line, e.Err) }

// Unwrap returns the underlying error.
func (e *Error) Unwrap() error { return e.Err }

// vmState is what the Reader remembers per VM to check ordering.
type vmState struct {
	headerLine int // 0: no header yet
	endLine    int // 0: not ended
	lastSample int64
	lastDecide int64
	lastAct    int64
	lastHost   int64
	lastGapTo  int64
}

// Reader reads and checks a trace, one event per Next call. A Reader is not
// safe for concurrent use.
type Reader struct {
	br    *bufio.Reader
	name  string
	line  int
	pairs []pair
	raw   []byte
	vms   []vmState
	err   error
	// required[k] has the bits of kind k's required fields.
	required [KindEnd + 1]uint64
}

// NewReader returns a Reader on r; name is used in errors (the file name).
func NewReader(r io.Reader, name string) *Reader {
	rd := &Reader{br: bufio.NewReaderSize(r, MaxLine), name: name, pairs: make([]pair, 0, 40)}
	for k := KindHeader; k <= KindEnd; k++ {
		rd.required[k] = requiredMask(k)
	}
	return rd
}

// requiredMask returns the bits of kind k's required fields.
func requiredMask(k Kind) uint64 {
	m := uint64(1<<len(commonFields) - 1)
	for i, f := range kindFields(k) {
		if !optional[k.String()+"."+f] {
			m |= 1 << (i + len(commonFields))
		}
	}
	return m
}

// Raw returns the bytes of the line last read, without its newline. They
// are valid until the next call to Next.
func (r *Reader) Raw() []byte { return r.raw }

// Line returns the line number of the event last returned (or of the error).
func (r *Reader) Line() int { return r.line }

// Next reads the next event into e. It returns io.EOF after the last line,
// and otherwise any error as an *Error naming the file and line; after an
// error every call returns the same error. e is overwritten entirely.
func (r *Reader) Next(e *Event) error {
	if r.err != nil {
		return r.err
	}
	line, err := r.br.ReadSlice('\n')
	r.raw = line
	if len(line) == 0 && err == io.EOF {
		r.err = io.EOF
		return io.EOF
	}
	r.line++
	switch {
	case err == bufio.ErrBufferFull:
		return r.fail(fmt.Errorf("line longer than %d bytes", MaxLine))
	case err == io.EOF:
		return r.fail(errors.New("truncated line: the file does not end with a newline (was the writer killed?)"))
	case err != nil:
		return r.fail(fmt.Errorf("read: %w", err))
	}
	line = line[:len(line)-1]
	r.raw = line
	if len(line) == 0 {
		return r.fail(errors.New("empty line"))
	}
	if err := r.decode(line, e); err != nil {
		return r.fail(err)
	}
	if err := validate(e); err != nil {
		return r.fail(fmt.Errorf("%s event: %w", e.Kind, err))
	}
	if err := r.order(e); err != nil {
		return r.fail(err)
	}
	return nil
}

func (r *Reader) fail(err error) error {
	r.err = &Error{File: r.name, Line: r.line, Err: err}
	return r.err
}

// ReadAll reads every event of r.
func ReadAll(rd io.Reader, name string) ([]Event, error) {
	r := NewReader(rd, name)
	var out []Event
	for {
		var e Event
		err := r.Next(&e)
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return out, err
		}
		out = append(out, e)
	}
}

// ReadFile reads every event of the named file.
func ReadFile(path string) ([]Event, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("trace: %w", err)
	}
	defer f.Close()
	return ReadAll(f, path)
}

// order checks the per-VM ordering rules.
func (r *Reader) order(e *Event) error {
	for e.VM >= len(r.vms) {
		r.vms = append(r.vms, vmState{lastAct: -1})
	}
	s := &r.vms[e.VM]
	if e.Kind == KindHeader {
		if s.headerLine != 0 {
			return fmt.Errorf("duplicate header for vm %d (first at line %d)", e.VM, s.headerLine)
		}
		s.headerLine = r.line
		return nil
	}
	if s.headerLine == 0 {
		return fmt.Errorf("%s event for vm %d before its header", e.Kind, e.VM)
	}
	if s.endLine != 0 {
		return fmt.Errorf("%s event for vm %d after its end (line %d)", e.Kind, e.VM, s.endLine)
	}
	mono := func(what string, last, seq int64) error {
		if seq == last {
			return fmt.Errorf("duplicate %s seq %d for vm %d", what, seq, e.VM)
		}
		if seq < last {
			return fmt.Errorf("non-monotonic %s seq for vm %d: %d after %d", what, e.VM, seq, last)
		}
		return nil
	}
	switch e.Kind {
	case KindSample:
		if err := mono("sample", s.lastSample, e.Sample.Seq); err != nil {
			return err
		}
		if e.Sample.Seq <= s.lastGapTo {
			return fmt.Errorf("sample seq %d for vm %d inside an earlier gap (up to %d)", e.Sample.Seq, e.VM, s.lastGapTo)
		}
		s.lastSample = e.Sample.Seq
	case KindDecide:
		if err := mono("decide", s.lastDecide, e.Decide.Seq); err != nil {
			return err
		}
		s.lastDecide = e.Decide.Seq
	case KindActuate:
		if err := mono("actuate", s.lastAct, e.Actuate.Seq); err != nil {
			return err
		}
		s.lastAct = e.Actuate.Seq
	case KindHost:
		if err := mono("host", s.lastHost, e.Host.Seq); err != nil {
			return err
		}
		s.lastHost = e.Host.Seq
	case KindGap:
		last := max(s.lastSample, s.lastGapTo)
		if e.Gap.FromSeq <= last {
			return fmt.Errorf("gap %d..%d for vm %d overlaps windows already seen (up to %d)", e.Gap.FromSeq, e.Gap.ToSeq, e.VM, last)
		}
		s.lastGapTo = e.Gap.ToSeq
	case KindEnd:
		s.endLine = r.line
	}
	return nil
}

// Field names per kind, in bit order after the common fields v, kind, vm,
// t_ns (bits 0..3). setField must agree with these tables.
var (
	commonFields  = []string{"v", "kind", "vm", "t_ns"}
	headerFields  = []string{"n", "u", "capacity", "host", "signal", "theta", "kappa", "greedy", "rule", "alpha", "beta", "mu", "delta", "dmin", "dmax", "d", "window_ns", "period_us", "fidelity_tol", "ewma", "gap_tolerated", "init_d", "kernel", "controller", "workload", "clock", "clock_offset_ns", "seed"}
	sampleFields  = []string{"seq", "start_ns", "wall_ns", "want_ns", "cpu_ns", "idle_ns", "pause_ns", "steal_permille", "vct_permille", "pause_permille", "signal_permille", "congested"}
	decideFields  = []string{"seq", "sample_seq", "newest_seq", "d_before", "d_after", "branch"}
	actuateFields = []string{"seq", "d", "pause_permille", "period_us"}
	hostFields    = []string{"seq", "wall_ns", "cpu_ns"}
	gapFields     = []string{"from_seq", "to_seq"}
	endFields     = []string{"clean", "reason"}
)

// optional lists the optional fields; every other field is required.
var optional = map[string]bool{
	"header.signal": true, "header.theta": true, "header.kappa": true, "header.greedy": true,
	"header.alpha": true, "header.beta": true, "header.mu": true, "header.delta": true,
	"header.ewma": true, "header.gap_tolerated": true,
	"header.init_d": true, "header.clock": true, "header.clock_offset_ns": true, "header.seed": true,
	"sample.start_ns": true, "sample.idle_ns": true, "sample.pause_ns": true,
	"sample.pause_permille": true, "sample.signal_permille": true,
	"actuate.period_us": true, "end.reason": true,
}

func kindFields(k Kind) []string {
	switch k {
	case KindHeader:
		return headerFields
	case KindSample:
		return sampleFields
	case KindDecide:
		return decideFields
	case KindActuate:
		return actuateFields
	case KindHost:
		return hostFields
	case KindGap:
		return gapFields
	case KindEnd:
		return endFields
	}
	return nil
}

// missingFields names the required fields not in have.
func missingFields(k Kind, have uint64) []string {
	var miss []string
	for i, f := range commonFields {
		if have&(1<<i) == 0 {
			miss = append(miss, f)
		}
	}
	for i, f := range kindFields(k) {
		if have&(1<<(i+4)) == 0 && !optional[k.String()+"."+f] {
			miss = append(miss, f)
		}
	}
	return miss
}

func (r *Reader) decode(line []byte, e *Event) error {
	pairs, err := parseObject(line, r.pairs[:0])
	r.pairs = pairs[:0]
	if err != nil {
		return err
	}
	*e = Event{}
	var kind, ver *value
	for i := range pairs {
		switch string(pairs[i].key) {
		case "v":
			ver = &pairs[i].val
		case "kind":
			kind = &pairs[i].val
		}
	}
	if ver == nil {
		return errors.New("missing required field v (schema version)")
	}
	v, err := ver.int64()
	if err != nil {
		return fmt.Errorf("field \"v\": %w", err)
	}
	if v != Version {
		return fmt.Errorf("unknown schema version %d (this reader knows version %d)", v, Version)
	}
	if kind == nil {
		return errors.New("missing required field kind")
	}
	if kind.typ != valString || kind.escaped {
		return fmt.Errorf("field \"kind\": got %s, want a kind name", typeNames[kind.typ])
	}
	if e.Kind = kindOf(kind.raw); e.Kind == KindInvalid {
		return fmt.Errorf("unknown kind %q (want one of %s)", kind.raw, strings.Join(kindNames[1:], ", "))
	}
	if e.Kind == KindHeader {
		e.Header = &Header{}
	}
	var have uint64
	for _, p := range pairs {
		bit, err := setField(e, p.key, p.val)
		if err != nil {
			return fmt.Errorf("field %q: %w", p.key, err)
		}
		if bit < 0 {
			return fmt.Errorf("unknown field %q for kind %s", p.key, e.Kind)
		}
		if have&(1<<bit) != 0 {
			return fmt.Errorf("duplicate field %q", p.key)
		}
		have |= 1 << bit
	}
	if have&r.required[e.Kind] != r.required[e.Kind] {
		miss := missingFields(e.Kind, have)
		return fmt.Errorf("%s event: missing required field(s) %s", e.Kind, strings.Join(miss, ", "))
	}
	return nil
}

// kindOf and branchOf parse names without allocating.
func kindOf(b []byte) Kind {
	switch string(b) {
	case "header":
		return KindHeader
	case "sample":
		return KindSample
	case "decide":
		return KindDecide
	case "actuate":
		return KindActuate
	case "host":
		return KindHost
	case "gap":
		return KindGap
	case "end":
		return KindEnd
	}
	return KindInvalid
}

func branchOf(b []byte) Branch {
	switch string(b) {
	case "increase":
		return BranchIncrease
	case "decrease":
		return BranchDecrease
	case "clamp":
		return BranchClamp
	case "hold":
		return BranchHold
	}
	return BranchInvalid
}

// setField stores one field and returns its bit (-1: unknown field).
func setField(e *Event, key []byte, v value) (bit int, err error) {
	switch string(key) {
	case "v", "kind":
		if string(key) == "v" {
			return 0, nil
		}
		return 1, nil
	case "vm":
		e.VM, err = v.int()
		return 2, err
	case "t_ns":
		e.TNs, err = v.int64()
		return 3, err
	}
	switch e.Kind {
	case KindHeader:
		h := e.Header
		switch string(key) {
		case "n":
			h.N, err = v.int()
			return 4, err
		case "u":
			h.U, err = v.int()
			return 5, err
		case "capacity":
			h.Capacity, err = v.int()
			return 6, err
		case "host":
			h.Host, err = v.str()
			return 7, err
		case "signal":
			h.Signal, err = v.str()
			return 8, err
		case "theta":
			h.Theta, err = v.rat()
			return 9, err
		case "kappa":
			h.Kappa, err = v.rat()
			return 10, err
		case "greedy":
			h.Greedy, err = v.ints()
			return 11, err
		case "rule":
			h.Rule, err = v.str()
			return 12, err
		case "alpha":
			h.Alpha, err = v.int()
			return 13, err
		case "beta":
			h.Beta, err = v.rat()
			return 14, err
		case "mu":
			h.Mu, err = v.rat()
			return 15, err
		case "delta":
			h.Delta, err = v.int()
			return 16, err
		case "dmin":
			h.Dmin, err = v.int()
			return 17, err
		case "dmax":
			h.Dmax, err = v.int()
			return 18, err
		case "d":
			h.D, err = v.int()
			return 19, err
		case "window_ns":
			h.WindowNs, err = v.int64()
			return 20, err
		case "period_us":
			h.PeriodUs, err = v.int64()
			return 21, err
		case "fidelity_tol":
			h.FidelityTol, err = v.rat()
			return 22, err
		case "ewma":
			h.EWMA, err = v.rat()
			return 23, err
		case "gap_tolerated":
			h.GapTolerated, err = v.boolean()
			return 24, err
		case "init_d":
			h.InitD, err = v.int()
			return 25, err
		case "kernel":
			h.Kernel, err = v.str()
			return 26, err
		case "controller":
			h.Controller, err = v.str()
			return 27, err
		case "workload":
			h.Workload, err = v.str()
			return 28, err
		case "clock":
			h.Clock, err = v.str()
			return 29, err
		case "clock_offset_ns":
			h.ClockOffsetNs, err = v.int64()
			return 30, err
		case "seed":
			h.Seed, err = v.uint64()
			return 31, err
		}
	case KindSample:
		s := &e.Sample
		switch string(key) {
		case "seq":
			s.Seq, err = v.int64()
			return 4, err
		case "start_ns":
			s.StartNs, err = v.int64()
			return 5, err
		case "wall_ns":
			s.WallNs, err = v.int64()
			return 6, err
		case "want_ns":
			s.WantNs, err = v.int64()
			return 7, err
		case "cpu_ns":
			s.CPUNs, err = v.int64()
			return 8, err
		case "idle_ns":
			s.IdleNs, err = v.int64()
			return 9, err
		case "pause_ns":
			s.PauseNs, err = v.int64()
			return 10, err
		case "steal_permille":
			s.StealPermille, err = v.int64()
			return 11, err
		case "vct_permille":
			s.VCTPermille, err = v.int64()
			return 12, err
		case "pause_permille":
			s.PausePermille, err = v.int64()
			return 13, err
		case "signal_permille":
			s.SignalPermille, err = v.int64()
			return 14, err
		case "congested":
			s.Congested, err = v.boolean()
			return 15, err
		}
	case KindDecide:
		d := &e.Decide
		switch string(key) {
		case "seq":
			d.Seq, err = v.int64()
			return 4, err
		case "sample_seq":
			d.SampleSeq, err = v.int64()
			return 5, err
		case "newest_seq":
			d.NewestSeq, err = v.int64()
			return 6, err
		case "d_before":
			d.DBefore, err = v.int()
			return 7, err
		case "d_after":
			d.DAfter, err = v.int()
			return 8, err
		case "branch":
			if v.typ != valString || v.escaped {
				return 9, fmt.Errorf("got %s, want a branch name", typeNames[v.typ])
			}
			if d.Branch = branchOf(v.raw); d.Branch == BranchInvalid {
				_, err = ParseBranch(string(v.raw))
			}
			return 9, err
		}
	case KindActuate:
		a := &e.Actuate
		switch string(key) {
		case "seq":
			a.Seq, err = v.int64()
			return 4, err
		case "d":
			a.D, err = v.int()
			return 5, err
		case "pause_permille":
			a.PausePermille, err = v.int64()
			return 6, err
		case "period_us":
			a.PeriodUs, err = v.int64()
			return 7, err
		}
	case KindHost:
		h := &e.Host
		switch string(key) {
		case "seq":
			h.Seq, err = v.int64()
			return 4, err
		case "wall_ns":
			h.WallNs, err = v.int64()
			return 5, err
		case "cpu_ns":
			h.CPUNs, err = v.int64()
			return 6, err
		}
	case KindGap:
		switch string(key) {
		case "from_seq":
			e.Gap.FromSeq, err = v.int64()
			return 4, err
		case "to_seq":
			e.Gap.ToSeq, err = v.int64()
			return 5, err
		}
	case KindEnd:
		switch string(key) {
		case "clean":
			e.End.Clean, err = v.boolean()
			return 4, err
		case "reason":
			e.End.Reason, err = v.str()
			return 5, err
		}
	}
	return -1, nil
}

// validate checks every field's range (not the ordering across events).
func validate(e *Event) error {
	var errs []error
	bad := func(field string, val any, allowed string, args ...any) {
		errs = append(errs, fmt.Errorf("%s = %v: must be %s", field, val, fmt.Sprintf(allowed, args...)))
	}
	if e.VM < 0 || e.VM >= MaxVM {
		bad("vm", e.VM, "in [0, %d)", MaxVM)
	}
	nonNeg := func(field string, x int64) {
		if x < 0 {
			bad(field, x, ">= 0")
		}
	}
	permille := func(field string, x int64) {
		if x < 0 || x > 1000 {
			bad(field, x, "in [0, 1000]")
		}
	}
	positive := func(field string, x int64) {
		if x < 1 {
			bad(field, x, ">= 1")
		}
	}
	switch e.Kind {
	case KindHeader:
		h := e.Header
		if h == nil {
			return errors.New("header event without a Header")
		}
		positive("n", int64(h.N))
		if h.N >= 1 && e.VM >= h.N {
			bad("vm", e.VM, "below n = %d", h.N)
		}
		positive("u", int64(h.U))
		positive("capacity", int64(h.Capacity))
		oneOf := func(field, val string, names ...string) {
			for _, n := range names {
				if val == n {
					return
				}
			}
			bad(field, fmt.Sprintf("%q", val), "one of %s", strings.Join(names, ", "))
		}
		oneOf("host", h.Host, "shared", "fair", "duty")
		oneOf("signal", h.Signal, "", "vct", "steal")
		oneOf("rule", h.Rule, "aimd", "mimd", "aiad")
		oneOf("clock", h.Clock, "", "host", "guest")
		for _, g := range h.Greedy {
			if g < 0 {
				bad("greedy", h.Greedy, "non-negative demands")
				break
			}
		}
		nonNeg("alpha", int64(h.Alpha))
		nonNeg("delta", int64(h.Delta))
		positive("dmin", int64(h.Dmin))
		if h.Dmax < h.Dmin || h.Dmax > h.U {
			bad("dmax", h.Dmax, "in [dmin=%d, u=%d]", h.Dmin, h.U)
		}
		nonNeg("d", int64(h.D))
		positive("window_ns", h.WindowNs)
		positive("period_us", h.PeriodUs)
		if h.FidelityTol.IsZero() {
			bad("fidelity_tol", "unset", "a rational \"a/b\"")
		}
		if h.InitD != 0 && (h.InitD < h.Dmin || h.InitD > h.Dmax) {
			bad("init_d", h.InitD, "0 or in [dmin=%d, dmax=%d]", h.Dmin, h.Dmax)
		}
		for _, s := range []struct{ f, v string }{{"kernel", h.Kernel}, {"controller", h.Controller}, {"workload", h.Workload}, {"host", h.Host}} {
			if !utf8.ValidString(s.v) {
				bad(s.f, fmt.Sprintf("%q", s.v), "valid UTF-8")
			}
		}
	case KindSample:
		s := &e.Sample
		positive("seq", s.Seq)
		for _, f := range []struct {
			n string
			v int64
		}{{"start_ns", s.StartNs}, {"wall_ns", s.WallNs}, {"want_ns", s.WantNs}, {"cpu_ns", s.CPUNs}, {"idle_ns", s.IdleNs}, {"pause_ns", s.PauseNs}, {"vct_permille", s.VCTPermille}, {"signal_permille", s.SignalPermille}} {
			nonNeg(f.n, f.v)
		}
		permille("steal_permille", s.StealPermille)
		permille("pause_permille", s.PausePermille)
	case KindDecide:
		d := &e.Decide
		positive("seq", d.Seq)
		nonNeg("sample_seq", d.SampleSeq)
		if d.SampleSeq == 0 && d.Branch != BranchHold {
			bad("sample_seq", 0, ">= 1 (only a hold may consume no window)")
		}
		if d.NewestSeq < d.SampleSeq {
			bad("newest_seq", d.NewestSeq, ">= sample_seq = %d", d.SampleSeq)
		}
		nonNeg("d_before", int64(d.DBefore))
		nonNeg("d_after", int64(d.DAfter))
		if d.Branch < BranchIncrease || d.Branch > BranchHold {
			bad("branch", d.Branch, "one of increase, decrease, clamp, hold")
		}
	case KindActuate:
		a := &e.Actuate
		nonNeg("seq", a.Seq)
		nonNeg("d", int64(a.D))
		permille("pause_permille", a.PausePermille)
		nonNeg("period_us", a.PeriodUs)
	case KindHost:
		positive("seq", e.Host.Seq)
		nonNeg("wall_ns", e.Host.WallNs)
		nonNeg("cpu_ns", e.Host.CPUNs)
	case KindGap:
		positive("from_seq", e.Gap.FromSeq)
		if e.Gap.ToSeq < e.Gap.FromSeq {
			bad("to_seq", e.Gap.ToSeq, ">= from_seq = %d", e.Gap.FromSeq)
		}
	case KindEnd:
		if !e.End.Clean && e.End.Reason == "" {
			bad("reason", `""`, "non-empty when clean is false")
		}
		if !utf8.ValidString(e.End.Reason) {
			bad("reason", fmt.Sprintf("%q", e.End.Reason), "valid UTF-8")
		}
	default:
		return fmt.Errorf("kind %v: %w", e.Kind, errInvalid)
	}
	if len(errs) > 0 {
		msgs := make([]string, len(errs))
		for i, err := range errs {
			msgs[i] = err.Error()
		}
		return fmt.Errorf("%w: %s", errInvalid, strings.Join(msgs, "; "))
	}
	return nil
}
