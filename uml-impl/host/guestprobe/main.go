package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"math/rand"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"github.com/friendly-vm/fvm/uml-impl/controller"
)

const procDir = "/proc/fvm"

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: guestprobe spin|watch|writes|fuzz|lag [flags]")
		os.Exit(2)
	}
	var err error
	switch os.Args[1] {
	case "spin":
		err = spin(os.Args[2:])
	case "watch":
		err = watch(os.Args[2:])
	case "writes":
		err = writes(os.Args[2:])
	case "fuzz":
		err = fuzz(os.Args[2:])
	case "lag":
		err = lag(os.Args[2:])
	case "next":
		err = next(os.Args[2:])
	default:
		err = fmt.Errorf("unknown subcommand %q", os.Args[1])
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "guestprobe:", err)
		os.Exit(1)
	}
}

// hostNow reads the host CLOCK_MONOTONIC from /proc/fvm/stats (0 on an
// unpatched kernel).
func hostNow() uint64 {
	b, err := os.ReadFile(procDir + "/stats")
	if err != nil {
		return 0
	}
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "now_ns "); ok {
			n, _ := strconv.ParseUint(v, 10, 64)
			return n
		}
	}
	return 0
}

var sink uint64

// SpinResult is what spin prints.
type SpinResult struct {
	Iters       uint64 `json:"iters"` // inner-loop blocks of 1<<16 iterations
	GuestNS     int64  `json:"guest_ns"`
	HostStartNS uint64 `json:"host_start_ns"`
	HostEndNS   uint64 `json:"host_end_ns"`
}

func spin(args []string) error {
	fs := flag.NewFlagSet("spin", flag.ContinueOnError)
	dur := fs.Duration("for", 5*time.Second, "how long to spin (guest time)")
	out := fs.String("out", "", "write the JSON result here instead of stdout")
	ready := fs.String("ready", "", "create this file once spinning")
	if err := fs.Parse(args); err != nil {
		return err
	}
	r := SpinResult{HostStartNS: hostNow()}
	if *ready != "" {
		if err := os.WriteFile(*ready, nil, 0o644); err != nil {
			return err
		}
	}
	t0 := time.Now()
	x := sink
	for time.Since(t0) < *dur {
		for i := 0; i < 1<<16; i++ {
			x = x*6364136223846793005 + 1442695040888963407
		}
		r.Iters++
	}
	sink = x
	r.GuestNS = time.Since(t0).Nanoseconds()
	r.HostEndNS = hostNow()
	return writeJSON(*out, r)
}

func writeJSON(path string, v any) error {
	b, err := json.MarshalIndent(v, "", " ")
	if err != nil {
		return err
	}
	b = append(b, '\n')
	if path == "" {
		_, err = os.Stdout.Write(b)
		return err
	}
	return os.WriteFile(path, b, 0o644)
}

// WatchResult is what watch writes to DIR/watch.json.
type WatchResult struct {
	Windows int      `json:"windows"` // windows consumed
	First   uint64   `json:"first"`
	Last    uint64   `json:"last"`
	Gaps    []string `json:"gaps"` // "a..b" ranges lost to ring overflow
	Reads   int      `json:"reads"`
	Errors  []string `json:"errors"`
}

// watch consumes /proc/fvm/windows exactly once, in order, as a controller
// would, appending the raw window lines to DIR/windows.txt and every stats
// snapshot as one line to DIR/stats.txt.
func watch(args []string) error {
	fs := flag.NewFlagSet("watch", flag.ContinueOnError)
	dur := fs.Duration("for", 5*time.Second, "how long to watch")
	every := fs.Duration("every", 300*time.Millisecond, "poll interval")
	dir := fs.String("dir", ".", "output directory")
	if err := fs.Parse(args); err != nil {
		return err
	}
	wf, err := os.Create(filepath.Join(*dir, "windows.txt"))
	if err != nil {
		return err
	}
	defer wf.Close()
	sf, err := os.Create(filepath.Join(*dir, "stats.txt"))
	if err != nil {
		return err
	}
	defer sf.Close()
	var res WatchResult
	var last uint64
	started := false
	end := time.Now().Add(*dur)
	for {
		if b, err := os.ReadFile(procDir + "/stats"); err != nil {
			res.Errors = append(res.Errors, err.Error())
		} else {
			fmt.Fprintln(sf, strings.Join(strings.Fields(string(b)), " "))
		}
		b, err := os.ReadFile(procDir + "/windows")
		res.Reads++
		if err != nil {
			res.Errors = append(res.Errors, err.Error())
		} else {
			lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
			for _, l := range lines[1:] {
				f := strings.Fields(l)
				if len(f) == 0 {
					continue
				}
				seq, err := strconv.ParseUint(f[0], 10, 64)
				if err != nil {
					res.Errors = append(res.Errors, fmt.Sprintf("bad line %q", l))
					continue
				}
				if seq <= last && started {
					continue
				}
				if !started {
					started, res.First = true, seq
				} else if seq > last+1 {
					res.Gaps = append(res.Gaps, fmt.Sprintf("%d..%d", last+1, seq-1))
				}
				fmt.Fprintln(wf, l)
				last = seq
				res.Windows++
			}
		}
		if time.Now().After(end) {
			break
		}
		time.Sleep(*every)
	}
	res.Last = last
	return writeJSON(filepath.Join(*dir, "watch.json"), res)
}

// WriteCase is one knob write.
type WriteCase struct {
	Name    string `json:"name"`
	File    string `json:"file"`    // pause_permille or period_us
	Data    string `json:"data"`    // bytes written with one write(2)
	UID     int    `json:"uid"`     // nonzero: write as this user
	Preopen bool   `json:"preopen"` // with UID: open as root, then drop privileges, then write
}

// WriteResult is what happened.
type WriteResult struct {
	Name   string `json:"name"`
	Result string `json:"result"` // "ok" or an errno name such as "EINVAL"
	N      int    `json:"n"`      // bytes the write returned
	After  string `json:"after"`  // the knob read back afterwards
}

func errnoName(err error) string {
	var e unix.Errno
	if errors.As(err, &e) {
		if n := unix.ErrnoName(e); n != "" {
			return n
		}
	}
	return err.Error()
}

func doWrite(fd int, data string) (int, string) {
	n, err := unix.Write(fd, []byte(data))
	if err != nil {
		return n, errnoName(err)
	}
	return n, "ok"
}

func readKnob(name string) string {
	b, err := os.ReadFile(filepath.Join(procDir, name))
	if err != nil {
		return "read error: " + errnoName(err)
	}
	return strings.TrimSpace(string(b))
}

// writes runs the root cases first, then opens the preopen cases, drops to
// the (single) non-root uid and runs the rest.
func writes(args []string) error {
	fs := flag.NewFlagSet("writes", flag.ContinueOnError)
	casesPath := fs.String("cases", "", "JSON list of cases")
	out := fs.String("out", "", "JSON results")
	if err := fs.Parse(args); err != nil {
		return err
	}
	b, err := os.ReadFile(*casesPath)
	if err != nil {
		return err
	}
	var cases []WriteCase
	if err := json.Unmarshal(b, &cases); err != nil {
		return fmt.Errorf("cases: %w", err)
	}
	res := make([]WriteResult, len(cases))
	uid := 0
	for i, c := range cases {
		res[i].Name = c.Name
		if c.UID != 0 {
			if uid != 0 && uid != c.UID {
				return fmt.Errorf("case %s: only one non-root uid is supported", c.Name)
			}
			uid = c.UID
			continue
		}
		fd, err := unix.Open(filepath.Join(procDir, c.File), unix.O_WRONLY, 0)
		if err != nil {
			res[i].Result = "open: " + errnoName(err)
		} else {
			res[i].N, res[i].Result = doWrite(fd, c.Data)
			unix.Close(fd)
		}
		res[i].After = readKnob(c.File)
	}
	if uid == 0 {
		return writeJSON(*out, res)
	}
	pre := map[int]int{}
	for i, c := range cases {
		if c.UID != 0 && c.Preopen {
			fd, err := unix.Open(filepath.Join(procDir, c.File), unix.O_WRONLY, 0)
			if err != nil {
				return fmt.Errorf("case %s: open as root: %w", c.Name, err)
			}
			pre[i] = fd
		}
	}
	// Dropping root is process-wide and final: keep the results file
	// writable by creating it first.
	f, err := os.Create(*out)
	if err != nil {
		return err
	}
	if err := unix.Setgroups(nil); err != nil {
		return fmt.Errorf("setgroups: %w", err)
	}
	if err := unix.Setgid(uid); err != nil {
		return fmt.Errorf("setgid: %w", err)
	}
	if err := unix.Setuid(uid); err != nil {
		return fmt.Errorf("setuid: %w", err)
	}
	for i, c := range cases {
		if c.UID == 0 {
			continue
		}
		if fd, ok := pre[i]; ok {
			res[i].N, res[i].Result = doWrite(fd, c.Data)
			unix.Close(fd)
		} else if fd, err := unix.Open(filepath.Join(procDir, c.File), unix.O_WRONLY, 0); err != nil {
			res[i].Result = errnoName(err)
		} else {
			res[i].N, res[i].Result = doWrite(fd, c.Data)
			unix.Close(fd)
		}
		res[i].After = readKnob(c.File)
	}
	enc, err := json.MarshalIndent(res, "", " ")
	if err != nil {
		return err
	}
	if _, err := f.Write(append(enc, '\n')); err != nil {
		return err
	}
	return f.Close()
}

// FuzzResult summarises a fuzz run.
type FuzzResult struct {
	Seed       int64          `json:"seed"`
	Writes     int            `json:"writes"`
	Results    map[string]int `json:"results"`    // result -> count
	Mismatches []string       `json:"mismatches"` // first few disagreements with the rules
}

var reValid = regexp.MustCompile(`^[0-9]+\n?$`)

// expect is the documented rule: digits with an optional final newline
// (first 63 bytes judged), range-checked.
func expect(data string, lo, hi uint64) string {
	if len(data) > 63 {
		if reValid.MatchString(data[:63]) && !strings.Contains(data[:63], "\n") {
			return "ERANGE"
		}
		return "EINVAL"
	}
	if !reValid.MatchString(data) || strings.TrimSuffix(data, "\n") == "" {
		return "EINVAL"
	}
	v, err := strconv.ParseUint(strings.TrimSuffix(data, "\n"), 10, 64)
	if err != nil || v < lo || v > hi {
		return "ERANGE"
	}
	return "ok"
}

func randomInput(r *rand.Rand) string {
	alphabets := []string{"0123456789", "0123456789\n", "0123456789-+ \t\n x.", "\x00\xff\n -+abcXYZ0123456789%"}
	a := alphabets[r.Intn(len(alphabets))]
	n := r.Intn(8)
	switch r.Intn(10) {
	case 0:
		n = 0
	case 1:
		n = 20 + r.Intn(60)
	}
	b := make([]byte, n)
	for i := range b {
		b[i] = a[r.Intn(len(a))]
	}
	return string(b)
}

func fuzz(args []string) error {
	fs := flag.NewFlagSet("fuzz", flag.ContinueOnError)
	n := fs.Int("n", 2000, "number of writes")
	seed := fs.Int64("seed", 1, "random seed")
	out := fs.String("out", "", "JSON result")
	if err := fs.Parse(args); err != nil {
		return err
	}
	// After a good write the knob is set back to its default, so that the
	// VM never pauses longer than 9.5 ms at a time while it fuzzes: random
	// pause and period values could otherwise stop it for seconds.
	knobs := []struct {
		file, def string
		lo, hi    uint64
	}{{"pause_permille", "0", 0, 950}, {"period_us", "10000", 1000, 1000000}}
	for _, k := range knobs {
		if err := setKnob(k.file, k.def); err != nil {
			return err
		}
	}
	r := rand.New(rand.NewSource(*seed))
	res := FuzzResult{Seed: *seed, Results: map[string]int{}}
	for i := 0; i < *n; i++ {
		k := knobs[r.Intn(len(knobs))]
		data := randomInput(r)
		before := readKnob(k.file)
		fd, err := unix.Open(filepath.Join(procDir, k.file), unix.O_WRONLY, 0)
		if err != nil {
			return fmt.Errorf("open %s: %w", k.file, err)
		}
		nw, got := doWrite(fd, data)
		unix.Close(fd)
		after := readKnob(k.file)
		res.Writes++
		res.Results[got]++
		want := expect(data, k.lo, k.hi)
		bad := ""
		switch {
		case got != want:
			bad = fmt.Sprintf("got %s, want %s", got, want)
		case got == "ok" && nw != len(data):
			bad = fmt.Sprintf("write returned %d of %d bytes", nw, len(data))
		case got == "ok":
			v, _ := strconv.ParseUint(strings.TrimSuffix(data, "\n"), 10, 64)
			if after != strconv.FormatUint(v, 10) {
				bad = fmt.Sprintf("knob reads %q after a good write", after)
			}
		case after != before:
			bad = fmt.Sprintf("knob changed %q -> %q after a failed write", before, after)
		}
		if bad != "" && len(res.Mismatches) < 20 {
			res.Mismatches = append(res.Mismatches, fmt.Sprintf("%s <- %q: %s", k.file, data, bad))
		}
		if got == "ok" {
			if err := setKnob(k.file, k.def); err != nil {
				return err
			}
		}
	}
	return writeJSON(*out, res)
}

func setKnob(name, val string) error {
	fd, err := unix.Open(filepath.Join(procDir, name), unix.O_WRONLY, 0)
	if err != nil {
		return fmt.Errorf("open %s: %w", name, err)
	}
	defer unix.Close(fd)
	if _, r := doWrite(fd, val); r != "ok" {
		return fmt.Errorf("set %s to %s: %s", name, val, r)
	}
	return nil
}

// LagSample is one reading of lag: the guest's CLOCK_MONOTONIC just before
// and just after one read of /proc/fvm/stats, and what that snapshot says:
// the host time (now_ns) and the last completed window (seq).
type LagSample struct {
	GuestBeforeNS int64  `json:"guest_before_ns"`
	GuestAfterNS  int64  `json:"guest_after_ns"`
	HostNowNS     uint64 `json:"host_now_ns"`
	Seq           uint64 `json:"seq"`
}

// lag samples, every interval, the guest's own clock against the host
// time the kernel reports and the newest completed window, and writes the
// samples as JSON. One read of stats per sample: the snapshot is taken
// under one lock, so now_ns and seq are consistent whatever the reader's
// own delays.
func lag(args []string) error {
	fs := flag.NewFlagSet("lag", flag.ContinueOnError)
	dur := fs.Duration("for", 10*time.Second, "how long to sample")
	every := fs.Duration("every", 50*time.Millisecond, "sampling interval")
	out := fs.String("out", "", "write the JSON samples here instead of stdout")
	if err := fs.Parse(args); err != nil {
		return err
	}
	mono := func() int64 {
		var ts unix.Timespec
		if err := unix.ClockGettime(unix.CLOCK_MONOTONIC, &ts); err != nil {
			panic(err)
		}
		return ts.Nano()
	}
	f, err := os.Open(procDir + "/stats")
	if err != nil {
		return err
	}
	defer f.Close()
	buf := make([]byte, 4096)
	var res []LagSample
	end := time.Now().Add(*dur)
	for time.Now().Before(end) {
		s := LagSample{GuestBeforeNS: mono()}
		n, err := f.ReadAt(buf, 0)
		s.GuestAfterNS = mono()
		if err != nil && n == 0 {
			return err
		}
		for _, l := range strings.Split(string(buf[:n]), "\n") {
			if v, ok := strings.CutPrefix(l, "now_ns "); ok {
				s.HostNowNS, _ = strconv.ParseUint(v, 10, 64)
			} else if v, ok := strings.CutPrefix(l, "seq "); ok {
				s.Seq, _ = strconv.ParseUint(v, 10, 64)
			}
		}
		res = append(res, s)
		time.Sleep(*every)
	}
	return writeJSON(*out, res)
}

// NextRead is one read of /proc/fvm/next.
type NextRead struct {
	GuestBeforeNS int64    `json:"guest_before_ns"`
	GuestAfterNS  int64    `json:"guest_after_ns"`
	NowNS         uint64   `json:"now_ns"`
	Lines         []string `json:"lines"` // the window lines, as read
	// ActedNS is when the read's actuation (next -write) was written;
	// 0 without -write.
	ActedNS int64 `json:"acted_ns,omitempty"`
}

// NextResult is what next writes.
type NextResult struct {
	Reads []NextRead `json:"reads"`
	// NonBlock is the error of an O_NONBLOCK read made right after a read
	// ("" if it returned data).
	NonBlock string `json:"nonblock"`
	// Small is the error of a read into a buffer too small for a window.
	Small  string   `json:"small"`
	Errors []string `json:"errors,omitempty"`
}

// next reads /proc/fvm/next for -for, recording each read, then probes
// its O_NONBLOCK and small-buffer behaviour.
func next(args []string) error {
	fs := flag.NewFlagSet("next", flag.ContinueOnError)
	dur := fs.Duration("for", 3*time.Second, "how long to read")
	out := fs.String("out", "", "write the JSON result here instead of stdout")
	write := fs.Int("write", -1, "after each read, write this pause_permille, as a controller's poll does (-1: no)")
	work := fs.Duration("work", 0, "with -write: busy-loop this long after each read before writing, as a controller's decisions and tracing would")
	if err := fs.Parse(args); err != nil {
		return err
	}
	mono := func() int64 {
		var ts unix.Timespec
		if err := unix.ClockGettime(unix.CLOCK_MONOTONIC, &ts); err != nil {
			panic(err)
		}
		return ts.Nano()
	}
	f, err := os.Open(procDir + "/next")
	if err != nil {
		return err
	}
	defer f.Close()
	act := &controller.ProcActuator{Dir: procDir}
	defer act.Close()
	buf := make([]byte, 32<<10)
	var res NextResult
	end := time.Now().Add(*dur)
	for time.Now().Before(end) {
		r := NextRead{GuestBeforeNS: mono()}
		n, err := unix.Read(int(f.Fd()), buf)
		r.GuestAfterNS = mono()
		if err != nil {
			res.Errors = append(res.Errors, err.Error())
			continue
		}
		lines := strings.Split(strings.TrimRight(string(buf[:n]), "\n"), "\n")
		if v, ok := strings.CutPrefix(lines[0], "# now_ns "); ok {
			r.NowNS, _ = strconv.ParseUint(v, 10, 64)
		} else {
			res.Errors = append(res.Errors, fmt.Sprintf("first line %q", lines[0]))
		}
		r.Lines = lines[1:]
		if *write >= 0 {
			for mono() < r.GuestAfterNS+work.Nanoseconds() {
			}
			// The controller's own actuator and what fvmd does after
			// a read: one write (no read-back when it succeeds).
			if err := act.SetPause(*write); err != nil {
				res.Errors = append(res.Errors, err.Error())
			}
			r.ActedNS = mono()
		}
		res.Reads = append(res.Reads, r)
	}
	nb, err := unix.Open(procDir+"/next", unix.O_RDONLY|unix.O_NONBLOCK, 0)
	if err != nil {
		return err
	}
	if _, err := unix.Read(nb, buf); err != nil {
		res.NonBlock = err.Error()
	}
	if _, err := unix.Read(nb, buf[:100]); err != nil {
		res.Small = err.Error()
	}
	unix.Close(nb)
	b, err := json.Marshal(res)
	if err != nil {
		return err
	}
	if *out == "" {
		_, err = os.Stdout.Write(append(b, '\n'))
		return err
	}
	return os.WriteFile(*out, b, 0o644)
}
