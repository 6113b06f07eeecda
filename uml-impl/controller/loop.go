package controller

import (
	"context"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/friendly-vm/fvm/trace"
	"github.com/friendly-vm/fvm/vocab"
)

// Sink receives trace events; *trace.Writer is one.
type Sink interface {
	Write(*trace.Event) error
}

// Flusher is a Sink that holds complete lines until Flush; Loop flushes
// at the end of every Start, Poll and Stop.
type Flusher interface {
	Flush() error
}

// TraceFile is a JSONL trace file written with trace.Writer. Lines are
// complete when they reach the file: the events of one poll (a sample, its
// decision and actuation; a few more when several windows arrive at once)
// are written together with a single write(2) at the end of the poll, so
// a killed guest loses at most the poll being written. One write per poll
// instead of one per line matters in a UML guest, where every system call
// is a round trip through the host (ptrace) and a VM paused most of the
// time gets few of them. Sync and Close fsync.
type TraceFile struct {
	*trace.Writer
	f   *os.File
	buf *lineBuffer
}

// lineBuffer collects the trace.Writer's lines.
type lineBuffer struct{ b []byte }

func (l *lineBuffer) Write(p []byte) (int, error) { l.b = append(l.b, p...); return len(p), nil }

// CreateTrace creates (or truncates) a trace file.
func CreateTrace(path string) (*TraceFile, error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_TRUNC|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, fmt.Errorf("create trace: %w", err)
	}
	buf := &lineBuffer{}
	return &TraceFile{Writer: trace.NewWriter(buf), f: f, buf: buf}, nil
}

// Flush writes the lines held so far with one write(2).
func (t *TraceFile) Flush() error {
	if len(t.buf.b) == 0 {
		return nil
	}
	err := rawWrite(int(t.f.Fd()), t.buf.b)
	t.buf.b = t.buf.b[:0]
	if err != nil {
		return fmt.Errorf("trace %s: %w", t.f.Name(), err)
	}
	return nil
}

// Sync flushes and fsyncs.
func (t *TraceFile) Sync() error {
	if err := t.Flush(); err != nil {
		return err
	}
	if err := t.f.Sync(); err != nil {
		return fmt.Errorf("trace %s: fsync: %w", t.f.Name(), err)
	}
	return nil
}

// Close flushes, fsyncs and closes the file.
func (t *TraceFile) Close() error {
	ferr := t.Flush()
	serr := t.f.Sync()
	if err := t.f.Close(); err != nil {
		return fmt.Errorf("trace %s: close: %w", t.f.Name(), err)
	}
	if ferr != nil {
		return ferr
	}
	if serr != nil {
		return fmt.Errorf("trace %s: fsync: %w", t.f.Name(), serr)
	}
	return nil
}

// flush flushes the sink if it holds lines.
func (l *Loop) flush(err error) error {
	if f, ok := l.Sink.(Flusher); ok {
		if ferr := f.Flush(); err == nil {
			err = ferr
		}
	}
	return err
}

// flushDue flushes the sink after a poll when FlushEvery has passed since
// the last flush (every poll when FlushEvery is 0).
func (l *Loop) flushDue(now int64, err error) error {
	if l.FlushEvery > 0 && now-l.flushed < l.FlushEvery.Nanoseconds() {
		return err
	}
	l.flushed = now
	return l.flush(err)
}

// MemSink collects events in memory (tests).
type MemSink struct {
	Events []trace.Event
}

// Write implements Sink.
func (m *MemSink) Write(e *trace.Event) error {
	c := *e
	if e.Header != nil {
		h := *e.Header
		c.Header = &h
	}
	m.Events = append(m.Events, c)
	return nil
}

// Loop connects a Core to its I/O: every Poll reads the source once, feeds
// the core, and traces its events; then, if the poll's last decision needs
// a pause other than the one in force, it writes that pause and traces it
// (after a failed write, the pause the kernel reads back).
type Loop struct {
	Core   *Core
	Source SignalSource
	Act    Actuator
	Sink   Sink
	// Now returns host CLOCK_MONOTONIC ns.
	Now func() int64

	// FlushEvery is how long a poll's trace lines may wait in memory
	// before they are written (0: written at the end of every poll).
	// Start and Stop always write: a clean stop loses nothing, and a
	// killed guest loses at most FlushEvery of lines. In a paused guest
	// every write to the host's file system is a costly round trip.
	FlushEvery time.Duration
	// PollLog, if set, receives at Stop one line per poll with its
	// timings (host ns): start, read done, decisions and actuations done,
	// trace written; then the windows read and the newest seq. Kept in
	// memory until then, so that measuring the poll does not add to it.
	PollLog io.Writer

	applied int   // pause confirmed in force; -1 unknown
	polled  int64 // host time of the last poll
	lastErr error
	polls   []pollTiming
	flushed int64 // host time of the last flush
}

// pollTiming is one poll's timings, for PollLog.
type pollTiming struct {
	start, read, emitted, flushed int64
	windows                       int
	newest                        uint64
}

// Start traces the header and enforces the initial demand (actuate seq 0).
func (l *Loop) Start(h trace.Header) error {
	l.applied = -1
	now := l.Now()
	if err := l.Sink.Write(&trace.Event{Kind: trace.KindHeader, VM: l.Core.cfg.VM, TNs: now, Header: &h}); err != nil {
		return err
	}
	l.flushed = now
	return l.flush(l.actuate(now, 0, l.Core.Demand()))
}

// Poll does one iteration. Only trace errors are returned: a failed read
// counts as silence (the core holds the safe demand if it lasts) and a
// failed actuation shows in the trace (the read-back pause differs) and is
// retried at the next decision.
func (l *Loop) Poll() error {
	// The read's windows are stamped with the time the read returned, not
	// the time it started: a guest descheduled in between (a starved or
	// paused VM) would otherwise stamp a window before it ended.
	var start int64
	if l.PollLog != nil {
		start = l.Now()
	}
	ws, err := l.Source.Windows()
	// The trace's time never goes back: a stamp from the guest's clock
	// (after a failed read of a timed source), whose offset to the host
	// clock is measured, can land a little after the kernel's next one.
	now := max(l.readTime(err), l.polled)
	l.polled = now
	var ev []trace.Event
	if err != nil {
		l.Core.cnt.ReadErrors++
		l.lastErr = err
		ev = l.Core.Tick(now)
	} else {
		ev = l.Core.Observe(now, ws)
	}
	err = l.emit(now, ev)
	if l.PollLog == nil {
		return l.flushDue(now, err)
	}
	emitted := l.Now()
	err = l.flushDue(now, err)
	l.polls = append(l.polls, pollTiming{start: start, read: now, emitted: emitted, flushed: l.Now(), windows: len(ws), newest: l.Core.Last()})
	return err
}

// readTime is the host time of the read that just returned: the kernel's
// own when the source gives it, else the clock's.
func (l *Loop) readTime(err error) int64 {
	if ts, ok := l.Source.(TimedSource); ok && err == nil && ts.ReadNs() > 0 {
		return ts.ReadNs()
	}
	return l.Now()
}

// emit traces the core's events in order and then enforces the demand of
// the last decision among them. A read that brings several windows yields
// several decisions in the same instant (they share the poll's time
// stamp); writing each would put every intermediate demand in force for
// no time at all, and in a VM paused most of the time each write is a
// system call that may cost an actuation period, while the next window
// waits. The trace checker accepts decisions of one time stamp sharing the
// actuation of the last (trace/REFINEMENT.md).
func (l *Loop) emit(now int64, ev []trace.Event) error {
	var last *trace.Decide
	for i := range ev {
		if err := l.Sink.Write(&ev[i]); err != nil {
			return err
		}
		if ev[i].Kind == trace.KindDecide {
			last = &ev[i].Decide
		}
	}
	// A demand whose pause is already in force needs no write and no
	// event (the trace format lets its actuate be omitted): one system
	// call fewer per window for a VM held at a clamp, e.g. at dmin beside
	// a busy one.
	if last == nil || l.Core.cfg.Pause(last.DAfter) == l.applied {
		return nil
	}
	return l.actuate(now, last.Seq, last.DAfter)
}

// Reconfigure reloads the configuration (see Core.Reconfigure); a demand
// moved into the new bounds is traced and enforced like any decision.
func (l *Loop) Reconfigure(cfg Config) error {
	now := l.Now()
	ev, err := l.Core.Reconfigure(now, cfg)
	if err != nil {
		return err
	}
	return l.flush(l.emit(now, ev))
}

// actuate enforces demand d, decided by decision seq, and traces the pause
// in force. A successful write is the read-back: the kernel accepts a
// value only by putting it in force (uml-impl/README.md), and every later
// window reports the pause in force at its end, which the trace checker
// holds to the traced pause; reading the knob back would be one more
// system call per decision, and in a VM paused most of the time each one
// can cost an actuation period. After a failed write the pause is read
// back and traced as it is; if even that fails, no actuate event is
// written (the trace format needs a pause) and the error counts.
func (l *Loop) actuate(now, seq int64, d int) error {
	want := l.Core.cfg.Pause(d)
	l.Core.cnt.Actuations++
	got := want
	if want != l.applied {
		if werr := l.Act.SetPause(want); werr != nil {
			l.Core.cnt.ActErrors++
			l.applied, l.lastErr = -1, werr
			var rerr error
			if got, rerr = l.Act.Pause(); rerr != nil || got < 0 || got > vocab.MaxPausePermille {
				return nil
			}
			l.applied = got
		} else {
			l.applied = want
		}
	}
	return l.Sink.Write(&trace.Event{Kind: trace.KindActuate, VM: l.Core.cfg.VM, TNs: now,
		Actuate: trace.Actuate{Seq: seq, D: d, PausePermille: int64(got)}})
}

// Stop traces the end event: clean, or the reason the run was cut short.
// The reason also carries the counters.
func (l *Loop) Stop(clean bool, reason string) error {
	c := l.Core.Counters()
	r := fmt.Sprintf("%s; windows %d, garbage %d, re-read %d, gaps %d (%d windows, %d late), decisions %d, safe holds %d, actuations %d (%d failed), failed reads %d",
		reason, c.Windows, c.Garbage, c.Duplicates, c.Gaps, c.GapWindows, c.Late, c.Decisions, c.Holds, c.Actuations, c.ActErrors, c.ReadErrors)
	if l.lastErr != nil {
		r += "; last error: " + l.lastErr.Error()
	}
	if g := l.Core.LastGarbage(); g != "" {
		r += "; last garbage: " + g
	}
	err := l.flush(l.Sink.Write(&trace.Event{Kind: trace.KindEnd, VM: l.Core.cfg.VM, TNs: l.Now(), End: trace.End{Clean: clean, Reason: r}}))
	if l.PollLog != nil {
		var b []byte
		for _, p := range l.polls {
			b = fmt.Appendf(b, "%d %d %d %d %d %d\n", p.start, p.read, p.emitted, p.flushed, p.windows, p.newest)
		}
		if _, werr := l.PollLog.Write(b); werr != nil && err == nil {
			err = fmt.Errorf("poll log: %w", werr)
		}
	}
	return err
}

// Run polls until ctx is done (then returns nil) or the trace cannot be
// written. A source that waits for windows is read again as soon as a read
// returns. Otherwise it reads the ring once per window: after consuming window k it
// sleeps until window k+1 is due (its expected end plus a small margin,
// on the host clock), then retries every interval/4 until it comes; it
// never sleeps longer than interval. This keeps both the delay and the
// daemon's own CPU (every read is several guest syscalls) low.
func (l *Loop) Run(ctx context.Context, interval time.Duration) error {
	if ts, ok := l.Source.(TimedSource); ok && ts.Waits() {
		// Each read waits for the next window (or returns none after a
		// while, which the core counts as silence).
		for ctx.Err() == nil {
			failed := l.Core.cnt.ReadErrors
			if err := l.Poll(); err != nil {
				return err
			}
			if l.Core.cnt.ReadErrors != failed {
				// A failed read returns at once: do not spin on it.
				select {
				case <-ctx.Done():
				case <-time.After(interval / 4):
				}
			}
		}
		return nil
	}
	t := time.NewTimer(0)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
		before := l.Core.Last()
		if err := l.Poll(); err != nil {
			return err
		}
		wait := interval / 4
		if l.Core.Last() != before {
			if due := l.Core.NextDue(); due > 0 {
				wait = time.Duration(due - l.polled)
			}
		}
		t.Reset(min(max(wait, time.Millisecond), interval))
	}
}
