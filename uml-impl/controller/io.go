package controller

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/friendly-vm/fvm/vocab"
)

// SignalSource delivers reads of the kernel's window ring.
type SignalSource interface {
	// Windows returns the windows currently visible, oldest first.
	Windows() ([]Window, error)
}

// Actuator enforces a pause and reports the pause in force.
type Actuator interface {
	// SetPause writes the pause (permille).
	SetPause(permille int) error
	// Pause reads back the pause in force.
	Pause() (int, error)
}

// DefaultProcDir is where the patched kernel exposes its interface.
const DefaultProcDir = "/proc/fvm"

// TimedSource is a SignalSource whose reads carry the host time at which
// the kernel took the windows, so that the caller needs no clock read of
// its own (in a paused guest each one is a costly host round trip).
type TimedSource interface {
	SignalSource
	// ReadNs is the host CLOCK_MONOTONIC time of the last successful
	// read (0: unknown).
	ReadNs() int64
	// Waits reports whether a read waits for the next window: the caller
	// then reads again at once instead of sleeping first.
	Waits() bool
}

// NextSource reads /proc/fvm/next (interface version 2): each read waits
// for the kernel to complete a window (at most two windows, then it
// returns none) and brings the windows completed since the last read with
// the host time they were taken at, in one system call. Its first call
// also reads the ring ("windows"), so that no window completed before
// "next" was opened is skipped.
type NextSource struct {
	Dir    string // DefaultProcDir unless testing
	f      *os.File
	buf    []byte
	readNs int64
}

// NextAvailable reports whether the kernel in dir offers "next".
func NextAvailable(dir string) bool {
	_, err := os.Stat(filepath.Join(dir, "next"))
	return err == nil
}

// Windows implements SignalSource: one read(2), which may wait.
func (s *NextSource) Windows() ([]Window, error) {
	p := filepath.Join(s.Dir, "next")
	first := s.f == nil
	if first {
		f, err := os.Open(p)
		if err != nil {
			return nil, fmt.Errorf("read next: %w", err)
		}
		s.f = f
		s.buf = make([]byte, 32<<10) // 65 lines of at most 256 bytes
	}
	// A plain (scheduled) system call: while it waits, the Go runtime
	// parks its P and its monitor thread, so nothing else of fvmd runs.
	n, err := unix.Read(int(s.f.Fd()), s.buf)
	for err == unix.EINTR {
		n, err = unix.Read(int(s.f.Fd()), s.buf)
	}
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", p, err)
	}
	b := s.buf[:n]
	line, rest, _ := bytes.Cut(b, []byte("\n"))
	v, ok := bytes.CutPrefix(line, []byte("# now_ns "))
	if !ok {
		return nil, fmt.Errorf("%s: first line %q, want \"# now_ns N\"", p, line)
	}
	t, err := strconv.ParseInt(string(bytes.TrimSpace(v)), 10, 64)
	if err != nil {
		return nil, fmt.Errorf("%s: now_ns: %w", p, err)
	}
	ws, err := ParseWindows(rest)
	if err != nil {
		return ws, fmt.Errorf("%s: %w", p, err)
	}
	s.readNs = t
	if first {
		// A new file of "next" starts after the newest window: the
		// windows completed before the open (since the controller read
		// its start, say) come from the ring, read once, those that had
		// ended by now_ns (so that the read's time stamp holds for all);
		// a later one comes with the next read. Windows both bring are
		// re-reads, which the core ignores.
		ring := ProcSource{Dir: s.Dir}
		defer ring.Close()
		old, err := ring.Windows()
		if err != nil {
			return ws, err
		}
		for _, w := range old {
			if int64(w.EndNs) <= t {
				ws = append(ws, w)
			}
		}
	}
	return ws, nil
}

// ReadNs implements TimedSource.
func (s *NextSource) ReadNs() int64 { return s.readNs }

// Waits implements TimedSource.
func (s *NextSource) Waits() bool { return true }

// Close closes the kept file.
func (s *NextSource) Close() error {
	if s.f == nil {
		return nil
	}
	err := s.f.Close()
	s.f = nil
	return err
}

// ProcSource reads /proc/fvm/windows. It keeps the file open and re-reads
// it from offset 0 (pread), so a read costs one or two guest syscalls.
// The zero value with Dir set is ready to use; Close releases the file.
type ProcSource struct {
	Dir string // DefaultProcDir unless testing
	f   *os.File
	buf []byte
}

// Windows implements SignalSource.
func (s *ProcSource) Windows() ([]Window, error) {
	p := filepath.Join(s.Dir, "windows")
	b, err := s.read(p)
	if err != nil {
		return nil, fmt.Errorf("read windows: %w", err)
	}
	ws, err := ParseWindows(b)
	if err != nil {
		return ws, fmt.Errorf("%s: %w", p, err)
	}
	return ws, nil
}

// read returns the whole content of p, read from offset 0 of the kept file
// with pread(2) directly: a read shorter than the buffer is the end (the
// kernel's seq_file hands out the whole snapshot at once when the buffer
// can hold it), so a read is one system call, not the two of os.ReadAt —
// which matters in a UML guest, where every system call is a round trip
// through the host and a VM paused most of the time gets few of them.
func (s *ProcSource) read(p string) ([]byte, error) {
	if s.f == nil {
		f, err := os.Open(p)
		if err != nil {
			return nil, err
		}
		s.f = f
	}
	if s.buf == nil {
		s.buf = make([]byte, 16<<10)
	}
	b, err := preadAll(int(s.f.Fd()), s.buf)
	if err != nil {
		s.Close()
		return nil, err
	}
	s.buf = b[:cap(b)]
	return b, nil
}

// preadAll reads a file from offset 0 into buf (grown as needed) until a
// short read.
func preadAll(fd int, buf []byte) ([]byte, error) {
	n := 0
	for {
		if n == len(buf) {
			buf = append(buf, make([]byte, len(buf))...)
		}
		m, err := rawPread(fd, buf[n:], int64(n))
		if err != nil {
			return nil, err
		}
		n += m
		if m == 0 || n < len(buf) {
			return buf[:n], nil
		}
	}
}

// Close closes the kept file (the next read reopens it).
func (s *ProcSource) Close() error {
	if s.f == nil {
		return nil
	}
	err := s.f.Close()
	s.f = nil
	return err
}

// Stats reads /proc/fvm/stats into a key → value map.
func (s *ProcSource) Stats() (map[string]uint64, error) {
	p := filepath.Join(s.Dir, "stats")
	b, err := os.ReadFile(p)
	if err != nil {
		return nil, fmt.Errorf("read stats: %w", err)
	}
	return ParseStats(b)
}

// ParseStats parses the "key value" lines of /proc/fvm/stats.
func ParseStats(b []byte) (map[string]uint64, error) {
	m := map[string]uint64{}
	for n, line := range bytes.Split(b, []byte("\n")) {
		f := bytes.Fields(line)
		if len(f) == 0 {
			continue
		}
		if len(f) != 2 {
			return m, fmt.Errorf("stats line %d: want \"key value\", got %q", n+1, line)
		}
		v, err := strconv.ParseUint(string(f[1]), 10, 64)
		if err != nil {
			return m, fmt.Errorf("stats line %d: %w", n+1, err)
		}
		m[string(f[0])] = v
	}
	return m, nil
}

// ProcActuator writes /proc/fvm/pause_permille, keeping it open
// read-write: a write is one write(2) of "N\n", a read-back one pread(2).
type ProcActuator struct {
	Dir string
	f   *os.File
}

func (a *ProcActuator) file() (*os.File, error) {
	if a.f == nil {
		f, err := os.OpenFile(filepath.Join(a.Dir, "pause_permille"), os.O_RDWR, 0)
		if err != nil {
			return nil, err
		}
		a.f = f
	}
	return a.f, nil
}

// SetPause implements Actuator.
func (a *ProcActuator) SetPause(permille int) error {
	f, err := a.file()
	if err != nil {
		return fmt.Errorf("set pause: %w", err)
	}
	if err := rawWrite(int(f.Fd()), []byte(strconv.Itoa(permille)+"\n")); err != nil {
		return fmt.Errorf("set pause %d: %w", permille, err)
	}
	return nil
}

// Pause implements Actuator.
func (a *ProcActuator) Pause() (int, error) {
	f, err := a.file()
	if err != nil {
		return 0, fmt.Errorf("read pause: %w", err)
	}
	b, err := preadAll(int(f.Fd()), make([]byte, 32))
	if err != nil {
		a.Close()
		return 0, fmt.Errorf("read pause: %w", err)
	}
	v, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		return 0, fmt.Errorf("read pause %q: %w", b, err)
	}
	return v, nil
}

// Close closes the kept file.
func (a *ProcActuator) Close() error {
	if a.f == nil {
		return nil
	}
	err := a.f.Close()
	a.f = nil
	return err
}

// Period reads /proc/fvm/period_us.
func (a *ProcActuator) Period() (int, error) { return readKnob(filepath.Join(a.Dir, "period_us")) }

func readKnob(p string) (int, error) {
	b, err := os.ReadFile(p)
	if err != nil {
		return 0, fmt.Errorf("read knob: %w", err)
	}
	v, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		return 0, fmt.Errorf("%s: %w", p, err)
	}
	return v, nil
}

// MemSource is an in-memory SignalSource for tests: a ring of vocab.RingSize
// windows that the test appends to, plus an optional script of reads that
// override the ring (to deliver duplicates, reordered, late or garbage
// windows exactly as a test wants).
type MemSource struct {
	ring   []Window
	script [][]Window
	err    error
	reads  int
}

// Push appends a window to the ring, dropping the oldest beyond vocab.RingSize.
func (m *MemSource) Push(w Window) {
	m.ring = append(m.ring, w)
	if len(m.ring) > vocab.RingSize {
		m.ring = append(m.ring[:0:0], m.ring[len(m.ring)-vocab.RingSize:]...)
	}
}

// Script queues reads: the next Windows calls return these, in order,
// before the ring is used again.
func (m *MemSource) Script(reads ...[]Window) { m.script = append(m.script, reads...) }

// Fail makes every following read fail with err (nil: succeed again).
func (m *MemSource) Fail(err error) { m.err = err }

// Reads returns how many times Windows was called.
func (m *MemSource) Reads() int { return m.reads }

// Windows implements SignalSource.
func (m *MemSource) Windows() ([]Window, error) {
	m.reads++
	if m.err != nil {
		return nil, m.err
	}
	if len(m.script) > 0 {
		r := m.script[0]
		m.script = m.script[1:]
		return append([]Window(nil), r...), nil
	}
	return append([]Window(nil), m.ring...), nil
}

// MemActuator is an in-memory Actuator that validates writes as the kernel
// does (0..950, else an error) and records them.
type MemActuator struct {
	pause  int
	Writes []int // every accepted write, in order
	// FailWrites and Lie simulate a broken kernel: writes fail, or the
	// read-back differs from what was written by Lie.
	FailWrites error
	Lie        int
}

// ErrRange is the error of a pause outside 0..950 (the kernel's ERANGE).
var ErrRange = errors.New("pause outside 0..950")

// SetPause implements Actuator.
func (a *MemActuator) SetPause(permille int) error {
	if a.FailWrites != nil {
		return a.FailWrites
	}
	if permille < 0 || permille > vocab.MaxPausePermille {
		return fmt.Errorf("set pause %d: %w", permille, ErrRange)
	}
	a.pause = permille
	a.Writes = append(a.Writes, permille)
	return nil
}

// Pause implements Actuator.
func (a *MemActuator) Pause() (int, error) { return a.pause + a.Lie, nil }
