package trace

import (
	"errors"
	"fmt"
	"io"
	"strconv"
	"unicode/utf8"

	"github.com/friendly-vm/fvm/vocab"
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

// AppendEvent appends e's JSON line (with its newline) in the current
// Version to b. Fields come in the format table's order and optional
// fields that are zero are omitted, so the encoding is deterministic. It
// does not validate e.
func AppendEvent(b []byte, e *Event) []byte {
	b = append(b, `{"v":`...)
	b = strconv.AppendInt(b, Version, 10)
	b = appendQuoted(appendKey(b, "kind"), e.Kind.String())
	for i := range eventFields {
		b = appendValue(appendKey(b, eventFields[i].name), &eventFields[i], e)
	}
	if int(e.Kind) < len(formats) {
		if e.Kind == KindHeader && e.Header == nil {
			e = &Event{Kind: KindHeader, VM: e.VM, TNs: e.TNs, Header: &Header{}}
		}
		for i := range formats[e.Kind].fields {
			f := &formats[e.Kind].fields[i]
			if f.opt && f.isZero(e) {
				continue
			}
			b = appendValue(appendKey(b, f.name), f, e)
		}
	}
	return append(b, '}', '\n')
}

// appendValue appends the JSON value of field f of e.
func appendValue(b []byte, f *field, e *Event) []byte {
	switch p := f.ptr(e).(type) {
	case *int:
		return strconv.AppendInt(b, int64(*p), 10)
	case *int64:
		return strconv.AppendInt(b, *p, 10)
	case *uint64:
		return strconv.AppendUint(b, *p, 10)
	case *string:
		return appendQuoted(b, *p)
	case *bool:
		return strconv.AppendBool(b, *p)
	case *vocab.Rat:
		return appendQuoted(b, p.String())
	case *[]int:
		b = append(b, '[')
		for i, x := range *p {
			if i > 0 {
				b = append(b, ',')
			}
			b = strconv.AppendInt(b, int64(x), 10)
		}
		return append(b, ']')
	case fmt.Stringer: // the vocab enums
		return appendQuoted(b, p.String())
	}
	panic("trace: field " + f.name + " has an unknown type")
}

func appendKey(b []byte, k string) []byte {
	b = append(b, ',', '"')
	b = append(b, k...)
	return append(b, '"', ':')
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
