package trace

import (
	"errors"
	"fmt"
	"io"
	"strconv"
	"unicode/utf8"
)

// Syncer is implemented by writers that can commit data to stable storage
// (*os.File).
type Syncer interface{ Sync() error }

// Writer writes trace events, one JSON line each. Each line is written to
// the underlying writer in a single Write call as soon as it is complete,
// so a killed process loses at most the line it was writing. A Writer is
// not safe for concurrent use.
type Writer struct {
	w   io.Writer
	buf []byte
	err error
}

// NewWriter returns a Writer on w. Pass an *os.File to make Sync fsync.
func NewWriter(w io.Writer) *Writer { return &Writer{w: w, buf: make([]byte, 0, 512)} }

// Write encodes e as one line and writes it. Events are validated field by
// field (the same rules as the Reader, except the ordering rules, which
// need the whole stream): an invalid event is not written.
func (w *Writer) Write(e *Event) error {
	if w.err != nil {
		return w.err
	}
	if err := validate(e); err != nil {
		return fmt.Errorf("trace: write %s event: %w", e.Kind, err)
	}
	w.buf = AppendEvent(w.buf[:0], e)
	if _, err := w.w.Write(w.buf); err != nil {
		w.err = fmt.Errorf("trace: write %s event: %w", e.Kind, err)
		return w.err
	}
	return nil
}

// WriteHeader writes a header for vm.
func (w *Writer) WriteHeader(vm int, tNs int64, h Header) error {
	return w.Write(&Event{Kind: KindHeader, VM: vm, TNs: tNs, Header: &h})
}

// WriteSample writes a sample event.
func (w *Writer) WriteSample(vm int, tNs int64, s Sample) error {
	return w.Write(&Event{Kind: KindSample, VM: vm, TNs: tNs, Sample: s})
}

// WriteDecide writes a decide event.
func (w *Writer) WriteDecide(vm int, tNs int64, d Decide) error {
	return w.Write(&Event{Kind: KindDecide, VM: vm, TNs: tNs, Decide: d})
}

// WriteActuate writes an actuate event.
func (w *Writer) WriteActuate(vm int, tNs int64, a Actuate) error {
	return w.Write(&Event{Kind: KindActuate, VM: vm, TNs: tNs, Actuate: a})
}

// WriteHost writes a host event.
func (w *Writer) WriteHost(vm int, tNs int64, h Host) error {
	return w.Write(&Event{Kind: KindHost, VM: vm, TNs: tNs, Host: h})
}

// WriteGap writes a gap event.
func (w *Writer) WriteGap(vm int, tNs int64, g Gap) error {
	return w.Write(&Event{Kind: KindGap, VM: vm, TNs: tNs, Gap: g})
}

// WriteEnd writes an end event.
func (w *Writer) WriteEnd(vm int, tNs int64, e End) error {
	return w.Write(&Event{Kind: KindEnd, VM: vm, TNs: tNs, End: e})
}

// Sync commits written lines to stable storage if the underlying writer is
// a Syncer (an *os.File); otherwise it does nothing.
func (w *Writer) Sync() error {
	if w.err != nil {
		return w.err
	}
	if s, ok := w.w.(Syncer); ok {
		if err := s.Sync(); err != nil {
			return fmt.Errorf("trace: sync: %w", err)
		}
	}
	return nil
}

// Err returns the first write error, if any.
func (w *Writer) Err() error { return w.err }

// errInvalid is wrapped by validation errors.
var errInvalid = errors.New("invalid value")

// AppendEvent appends e's JSON line (with its newline) to b. Field order is
// fixed and optional fields that are zero are omitted, so the encoding is
// deterministic. It does not validate e.
func AppendEvent(b []byte, e *Event) []byte {
	b = append(b, `{"v":`...)
	b = strconv.AppendInt(b, Version, 10)
	b = appendStr(b, "kind", e.Kind.String())
	b = appendInt(b, "vm", int64(e.VM))
	b = appendInt(b, "t_ns", e.TNs)
	switch e.Kind {
	case KindHeader:
		h := e.Header
		if h == nil {
			h = &Header{}
		}
		b = appendInt(b, "n", int64(h.N))
		b = appendInt(b, "u", int64(h.U))
		b = appendInt(b, "capacity", int64(h.Capacity))
		b = appendStr(b, "host", h.Host)
		if h.Signal != "" {
			b = appendStr(b, "signal", h.Signal)
		}
		b = appendRat(b, "theta", h.Theta)
		b = appendRat(b, "kappa", h.Kappa)
		if len(h.Greedy) > 0 {
			b = append(b, `,"greedy":[`...)
			for i, g := range h.Greedy {
				if i > 0 {
					b = append(b, ',')
				}
				b = strconv.AppendInt(b, int64(g), 10)
			}
			b = append(b, ']')
		}
		b = appendStr(b, "rule", h.Rule)
		b = appendOptInt(b, "alpha", int64(h.Alpha))
		b = appendRat(b, "beta", h.Beta)
		b = appendRat(b, "mu", h.Mu)
		b = appendOptInt(b, "delta", int64(h.Delta))
		b = appendInt(b, "dmin", int64(h.Dmin))
		b = appendInt(b, "dmax", int64(h.Dmax))
		b = appendInt(b, "d", int64(h.D))
		b = appendInt(b, "window_ns", h.WindowNs)
		b = appendInt(b, "period_us", h.PeriodUs)
		b = appendRat(b, "fidelity_tol", h.FidelityTol)
		b = appendRat(b, "ewma", h.EWMA)
		if h.GapTolerated {
			b = append(b, `,"gap_tolerated":true`...)
		}
		b = appendOptInt(b, "init_d", int64(h.InitD))
		b = appendStr(b, "kernel", h.Kernel)
		b = appendStr(b, "controller", h.Controller)
		b = appendStr(b, "workload", h.Workload)
		if h.Clock != "" {
			b = appendStr(b, "clock", h.Clock)
		}
		b = appendOptInt(b, "clock_offset_ns", h.ClockOffsetNs)
		if h.Seed != 0 {
			b = append(b, `,"seed":`...)
			b = strconv.AppendUint(b, h.Seed, 10)
		}
	case KindSample:
		s := &e.Sample
		b = appendInt(b, "seq", s.Seq)
		b = appendOptInt(b, "start_ns", s.StartNs)
		b = appendInt(b, "wall_ns", s.WallNs)
		b = appendInt(b, "want_ns", s.WantNs)
		b = appendInt(b, "cpu_ns", s.CPUNs)
		b = appendOptInt(b, "idle_ns", s.IdleNs)
		b = appendOptInt(b, "pause_ns", s.PauseNs)
		b = appendInt(b, "steal_permille", s.StealPermille)
		b = appendInt(b, "vct_permille", s.VCTPermille)
		b = appendOptInt(b, "pause_permille", s.PausePermille)
		b = appendOptInt(b, "signal_permille", s.SignalPermille)
		b = appendBool(b, "congested", s.Congested)
	case KindDecide:
		d := &e.Decide
		b = appendInt(b, "seq", d.Seq)
		b = appendInt(b, "sample_seq", d.SampleSeq)
		b = appendInt(b, "newest_seq", d.NewestSeq)
		b = appendInt(b, "d_before", int64(d.DBefore))
		b = appendInt(b, "d_after", int64(d.DAfter))
		b = appendStr(b, "branch", d.Branch.String())
	case KindActuate:
		a := &e.Actuate
		b = appendInt(b, "seq", a.Seq)
		b = appendInt(b, "d", int64(a.D))
		b = appendInt(b, "pause_permille", a.PausePermille)
		b = appendOptInt(b, "period_us", a.PeriodUs)
	case KindHost:
		h := &e.Host
		b = appendInt(b, "seq", h.Seq)
		b = appendInt(b, "wall_ns", h.WallNs)
		b = appendInt(b, "cpu_ns", h.CPUNs)
	case KindGap:
		b = appendInt(b, "from_seq", e.Gap.FromSeq)
		b = appendInt(b, "to_seq", e.Gap.ToSeq)
	case KindEnd:
		b = appendBool(b, "clean", e.End.Clean)
		if e.End.Reason != "" {
			b = appendStr(b, "reason", e.End.Reason)
		}
	}
	return append(b, '}', '\n')
}

func appendKey(b []byte, k string) []byte {
	b = append(b, ',', '"')
	b = append(b, k...)
	return append(b, '"', ':')
}

func appendInt(b []byte, k string, v int64) []byte {
	return strconv.AppendInt(appendKey(b, k), v, 10)
}

func appendOptInt(b []byte, k string, v int64) []byte {
	if v == 0 {
		return b
	}
	return appendInt(b, k, v)
}

func appendBool(b []byte, k string, v bool) []byte {
	return strconv.AppendBool(appendKey(b, k), v)
}

func appendRat(b []byte, k string, r Rat) []byte {
	if r.IsZero() {
		return b
	}
	b = appendKey(b, k)
	b = append(b, '"')
	b = strconv.AppendInt(b, r.Num, 10)
	if r.Den != 1 {
		b = append(b, '/')
		b = strconv.AppendInt(b, r.Den, 10)
	}
	return append(b, '"')
}

func appendStr(b []byte, k, s string) []byte {
	return appendQuoted(appendKey(b, k), s)
}

const hexDigits = "0123456789abcdef"

// appendQuoted appends s as a JSON string; invalid UTF-8 becomes U+FFFD.
func appendQuoted(b []byte, s string) []byte {
	b = append(b, '"')
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			switch {
			case c == '"' || c == '\\':
				b = append(b, '\\', c)
			case c == '\n':
				b = append(b, '\\', 'n')
			case c == '\t':
				b = append(b, '\\', 't')
			case c == '\r':
				b = append(b, '\\', 'r')
			case c < 0x20 || c == 0x7f:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&15])
			default:
				b = append(b, c)
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, `\ufffd`...)
		} else if r == '\u2028' || r == '\u2029' {
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&15])
		} else {
			b = append(b, s[i:i+size]...)
		}
		i += size
	}
	return append(b, '"')
}
