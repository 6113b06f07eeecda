package controller

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"time"
)

// Sink receives trace events.
type Sink interface {
	Emit(Event) error
}

// TraceFile is a JSONL trace file: one event per line, each written with a
// single write(2) (no user-space buffering, so a killed guest loses at
// most the line being written), fsynced by Sync and Close.
type TraceFile struct {
	f *os.File
}

// CreateTrace creates (or truncates) a trace file.
func CreateTrace(path string) (*TraceFile, error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_TRUNC|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, fmt.Errorf("create trace: %w", err)
	}
	return &TraceFile{f: f}, nil
}

// Emit implements Sink.
func (t *TraceFile) Emit(e Event) error {
	b, err := json.Marshal(e)
	if err != nil {
		return fmt.Errorf("trace %s: encode %s: %w", t.f.Name(), e.base().Kind, err)
	}
	if _, err := t.f.Write(append(b, '\n')); err != nil {
		return fmt.Errorf("trace %s: %w", t.f.Name(), err)
	}
	return nil
}

// Sync flushes the file to stable storage.
func (t *TraceFile) Sync() error {
	if err := t.f.Sync(); err != nil {
		return fmt.Errorf("trace %s: fsync: %w", t.f.Name(), err)
	}
	return nil
}

// Close fsyncs and closes the file.
func (t *TraceFile) Close() error {
	serr := t.Sync()
	if err := t.f.Close(); err != nil {
		return fmt.Errorf("trace %s: close: %w", t.f.Name(), err)
	}
	return serr
}

// MemSink collects events in memory (tests).
type MemSink struct {
	Events []Event
}

// Emit implements Sink.
func (m *MemSink) Emit(e Event) error { m.Events = append(m.Events, e); return nil }

// Loop connects a Core to its I/O: every Poll reads the source once, feeds
// the core, traces its events and actuates the pause when it changed.
type Loop struct {
	Core   *Core
	Source SignalSource
	// Act enforces the pause; nil (with Observe) for a guest whose
	// controller is off.
	Act Actuator
	// Observe traces samples and gaps only: no decisions, no actuation
	// (a greedy guest's view of the signal).
	Observe bool
	Sink    Sink
	// Now returns host CLOCK_MONOTONIC ns.
	Now func() int64

	applied    int // pause confirmed in force; -1 unknown
	readErrors uint64
	lastErr    error
}

// Start traces the header and enforces the initial pause.
func (l *Loop) Start(h *Header) error {
	l.applied = -1
	if l.Observe {
		h.Role = "observe"
	}
	if err := l.Sink.Emit(h); err != nil {
		return err
	}
	if l.Observe || l.Act == nil {
		return nil
	}
	return l.actuate(l.Now())
}

// Poll does one iteration. Only trace errors are returned: a failed read
// counts as silence (the core holds the safe demand if it lasts) and a
// failed write is traced and retried at the next poll.
func (l *Loop) Poll() error {
	now := l.Now()
	ws, err := l.Source.Windows()
	var ev []Event
	if err != nil {
		l.readErrors++
		l.lastErr = err
		ev = l.Core.Tick(now)
	} else {
		ev = l.Core.Observe(now, ws)
	}
	for _, e := range ev {
		if l.Observe && e.base().Kind == KindDecide {
			continue
		}
		if err := l.Sink.Emit(e); err != nil {
			return err
		}
	}
	if l.Observe || l.Act == nil || l.Core.Pause() == l.applied {
		return nil
	}
	return l.actuate(now)
}

// actuate writes the core's pause, reads it back and traces the outcome.
func (l *Loop) actuate(now int64) error {
	want := l.Core.Pause()
	a := &Actuate{Base: l.Core.at(KindActuate, now), DecideSeq: l.Core.Decisions(), D: l.Core.D(), Want: want, Pause: -1}
	l.Core.cnt.Actuations++
	werr := l.Act.SetPause(want)
	got, rerr := l.Act.Pause()
	if rerr == nil {
		a.Pause = got
	}
	switch {
	case werr != nil:
		a.Error = werr.Error()
	case rerr != nil:
		a.Error = rerr.Error()
	case got != want:
		a.Error = fmt.Sprintf("read back %d after writing %d", got, want)
	default:
		a.OK = true
		l.applied = want
	}
	if !a.OK {
		l.Core.cnt.ActErrors++
		l.applied = -1
	}
	return l.Sink.Emit(a)
}

// Stop traces the end event: clean, or the reason the run was cut short.
func (l *Loop) Stop(clean bool, reason string) error {
	e := &End{Base: l.Core.at(KindEnd, l.Now()), Clean: clean, Reason: reason, Counters: l.Core.Counters()}
	if l.readErrors > 0 && l.lastErr != nil {
		e.Reason = fmt.Sprintf("%s (%d failed reads, last: %v)", reason, l.readErrors, l.lastErr)
	}
	return l.Sink.Emit(e)
}

// Run polls every interval until ctx is done (then returns nil) or the
// trace cannot be written.
func (l *Loop) Run(ctx context.Context, interval time.Duration) error {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		if err := l.Poll(); err != nil {
			return err
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}
