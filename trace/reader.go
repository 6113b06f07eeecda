package trace

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"unicode/utf8"

	"github.com/friendly-vm/fvm/vocab"
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

// index maps a kind's field names in one version to their positions in
// the kind's field table.
type index [len(formats)]map[string]int

// indexes has one index per readable version (indexes[v-OldestVersion]).
var indexes = func() (out [Version - OldestVersion + 1]index) {
	for v := range out {
		for k := range formats {
			m := map[string]int{}
			for i := range formats[k].fields {
				if n := formats[k].fields[i].nameIn(int64(v + OldestVersion)); n != "" {
					m[n] = i
				}
			}
			out[v][k] = m
		}
	}
	return out
}()

// Reader reads and checks a trace, one event per Next call. A Reader is not
// safe for concurrent use.
type Reader struct {
	br      *bufio.Reader
	name    string
	line    int
	pairs   []pair
	raw     []byte
	vms     []vmState
	err     error
	version int64 // of the first line; every line must have the same
}

// NewReader returns a Reader on r; name is used in errors (the file name).
func NewReader(r io.Reader, name string) *Reader {
	return &Reader{br: bufio.NewReaderSize(r, MaxLine), name: name, pairs: make([]pair, 0, 40)}
}

// Raw returns the bytes of the line last read, without its newline. They
// are valid until the next call to Next.
func (r *Reader) Raw() []byte { return r.raw }

// Line returns the line number of the event last returned (or of the error).
func (r *Reader) Line() int { return r.line }

// Version returns the schema version of the lines read so far (0 before
// the first).
func (r *Reader) Version() int { return int(r.version) }

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
	case KindDecide, KindActuate, KindHost:
		// Each kind's own sequence numbers only increase.
		last, seq := &s.lastDecide, e.Decide.Seq
		switch e.Kind {
		case KindActuate:
			last, seq = &s.lastAct, e.Actuate.Seq
		case KindHost:
			last, seq = &s.lastHost, e.Host.Seq
		}
		if err := mono(e.Kind.String(), *last, seq); err != nil {
			return err
		}
		*last = seq
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

// missingFields names the required fields of kind k (in version v) whose
// bits are not in have (bit i+1 is field i of the kind).
func missingFields(k Kind, v int64, have uint64) []string {
	var miss []string
	for i := range formats[k].fields {
		f := &formats[k].fields[i]
		if n := f.nameIn(v); n != "" && !f.opt && have&(1<<(i+1)) == 0 {
			miss = append(miss, n)
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
	if v < OldestVersion || v > Version {
		return fmt.Errorf("unknown schema version %d (this reader knows versions %d to %d)", v, OldestVersion, Version)
	}
	if r.version == 0 {
		r.version = v
	} else if v != r.version {
		return fmt.Errorf("schema version %d after lines of version %d: one file has one version", v, r.version)
	}
	if kind == nil {
		return errors.New("missing required field kind")
	}
	if kind.typ != valString || kind.escaped {
		return fmt.Errorf("field \"kind\": got %s, want a kind name", typeNames[kind.typ])
	}
	if e.Kind, err = ParseKind(string(kind.raw)); err != nil {
		return err
	}
	if e.Kind == KindHeader {
		e.Header = &Header{}
	}
	idx := indexes[v-OldestVersion][e.Kind]
	fields := formats[e.Kind].fields
	var have uint64  // bit i+1: the kind's field i was read
	var common uint8 // bit j: eventFields[j] was read
	for _, p := range pairs {
		switch string(p.key) {
		case "v", "kind":
			continue
		}
		if j := eventFieldIndex(string(p.key)); j >= 0 {
			if common&(1<<j) != 0 {
				return fmt.Errorf("duplicate field %q", p.key)
			}
			common |= 1 << j
			if err := setValue(&eventFields[j], e, p.val); err != nil {
				return fmt.Errorf("field %q: %w", p.key, err)
			}
			continue
		}
		i, ok := idx[string(p.key)]
		if !ok {
			if v == 1 && e.Kind == KindHeader && string(p.key) == "gap_tolerated" {
				if e.Header.Loss, err = p.val.boolean(); err != nil {
					return fmt.Errorf("field %q: %w", p.key, err)
				}
				continue
			}
			return fmt.Errorf("unknown field %q for kind %s", p.key, e.Kind)
		}
		if have&(1<<(i+1)) != 0 {
			return fmt.Errorf("duplicate field %q", p.key)
		}
		have |= 1 << (i + 1)
		if err := setValue(&fields[i], e, p.val); err != nil {
			return fmt.Errorf("field %q: %w", p.key, err)
		}
	}
	var miss []string
	for j := range eventFields {
		if common&(1<<j) == 0 {
			miss = append(miss, eventFields[j].name)
		}
	}
	if miss = append(miss, missingFields(e.Kind, v, have)...); len(miss) > 0 {
		return fmt.Errorf("%s event: missing required field(s) %s", e.Kind, strings.Join(miss, ", "))
	}
	return nil
}

// setEnum stores in p the enum value named by v (what says what v should
// name, for the error).
func setEnum[T any](p *T, v value, what string, parse func(string) (T, error)) error {
	s, err := v.name(what)
	if err == nil {
		*p, err = parse(s)
	}
	return err
}

// eventFieldIndex returns the index of key in eventFields, or -1.
func eventFieldIndex(key string) int {
	for j := range eventFields {
		if eventFields[j].name == key {
			return j
		}
	}
	return -1
}

// setValue stores v in field f of e.
func setValue(f *field, e *Event, v value) (err error) {
	switch p := f.ptr(e).(type) {
	case *int:
		*p, err = v.int()
	case *int64:
		*p, err = v.int64()
	case *uint64:
		*p, err = v.uint64()
	case *string:
		*p, err = v.str()
	case *bool:
		*p, err = v.boolean()
	case *vocab.Rat:
		*p, err = v.rat()
	case *[]int:
		*p, err = v.ints()
	case *vocab.Host:
		err = setEnum(p, v, "a host model", vocab.ParseHost)
	case *vocab.Signal:
		err = setEnum(p, v, "a signal", vocab.ParseSignal)
	case *vocab.Rule:
		err = setEnum(p, v, "a rule", vocab.ParseRule)
	case *vocab.Branch:
		err = setEnum(p, v, "a branch", vocab.ParseBranch)
	default:
		panic("trace: field " + f.name + " has an unknown type")
	}
	return err
}

// validate checks every field's range (not the ordering across events):
// the table's per-field ranges, then the rules that relate fields.
func validate(e *Event) error {
	if e.Kind <= KindInvalid || int(e.Kind) >= len(formats) {
		return fmt.Errorf("kind %v: %w", e.Kind, errInvalid)
	}
	if e.Kind == KindHeader && e.Header == nil {
		return errors.New("header event without a Header")
	}
	var errs []string
	bad := func(field string, val any, allowed string, args ...any) {
		errs = append(errs, fmt.Sprintf("%s = %v: must be %s", field, val, fmt.Sprintf(allowed, args...)))
	}
	fields := append(eventFields[:len(eventFields):len(eventFields)], formats[e.Kind].fields...)
	for i := range fields {
		f := &fields[i]
		inRange := func(x int64) bool { return x >= f.min && (f.max == 0 || x <= f.max) }
		want := func() string {
			if f.max == 0 {
				return fmt.Sprintf(">= %d", f.min)
			}
			return fmt.Sprintf("in [%d, %d]", f.min, f.max)
		}
		switch p := f.ptr(e).(type) {
		case *int:
			if !inRange(int64(*p)) && !(f.opt && *p == 0) {
				bad(f.name, *p, "%s", want())
			}
		case *int64:
			if !inRange(*p) && !(f.opt && *p == 0) {
				bad(f.name, *p, "%s", want())
			}
		case *[]int:
			for _, x := range *p {
				if !inRange(int64(x)) {
					bad(f.name, *p, "a list of values %s", want())
					break
				}
			}
		case *string:
			if !utf8.ValidString(*p) {
				bad(f.name, fmt.Sprintf("%q", *p), "valid UTF-8")
			}
		case *vocab.Host:
			if !p.Valid() {
				bad(f.name, *p, "one of %s", names(vocab.Hosts()))
			}
		case *vocab.Signal:
			if *p != vocab.NoSignal && !p.Valid() {
				bad(f.name, *p, "one of %s", names(vocab.Signals()))
			}
		case *vocab.Rule:
			if !p.Valid() {
				bad(f.name, *p, "one of %s", names(vocab.Rules()))
			}
		case *vocab.Branch:
			if !p.Valid() {
				bad(f.name, *p, "one of %s", names(vocab.Branches()))
			}
		case *vocab.Rat:
			if !p.IsZero() && (p.Den <= 0 || p.Num < 0) {
				bad(f.name, *p, "a non-negative rational a/b with b > 0")
			}
		}
	}
	switch e.Kind {
	case KindHeader:
		h := e.Header
		if h.N >= 1 && e.VM >= h.N {
			bad("vm", e.VM, "below n = %d", h.N)
		}
		if h.Dmax < h.Dmin || h.Dmax > h.U {
			bad("dmax", h.Dmax, "in [dmin=%d, u=%d]", h.Dmin, h.U)
		}
		if h.FidelityTol.IsZero() {
			bad("fidelity_tol", "unset", "a rational \"a/b\"")
		}
		if h.InitD != 0 && (h.InitD < h.Dmin || h.InitD > h.Dmax) {
			bad("init_d", h.InitD, "0 or in [dmin=%d, dmax=%d]", h.Dmin, h.Dmax)
		}
		if h.Clock != "" && h.Clock != "host" && h.Clock != "guest" {
			bad("clock", fmt.Sprintf("%q", h.Clock), "host or guest")
		}
	case KindDecide:
		d := &e.Decide
		if d.SampleSeq == 0 && d.Branch != vocab.Hold {
			bad("sample_seq", 0, ">= 1 (only a hold may consume no window)")
		}
		if d.NewestSeq < d.SampleSeq {
			bad("newest_seq", d.NewestSeq, ">= sample_seq = %d", d.SampleSeq)
		}
	case KindGap:
		g := &e.Gap
		if g.ToSeq < g.FromSeq {
			bad("to_seq", g.ToSeq, ">= from_seq = %d", g.FromSeq)
		}
		if g.NewestSeq != 0 && g.NewestSeq <= g.ToSeq {
			bad("newest_seq", g.NewestSeq, "0 or above to_seq = %d (the lost windows are older than the newest)", g.ToSeq)
		}
	case KindEnd:
		if !e.End.Clean && e.End.Reason == "" {
			bad("reason", `""`, "non-empty when clean is false")
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("%w: %s", errInvalid, strings.Join(errs, "; "))
	}
	return nil
}

func names[T fmt.Stringer](xs []T) string {
	s := make([]string, len(xs))
	for i, x := range xs {
		s[i] = x.String()
	}
	return strings.Join(s, ", ")
}
