package main

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"golang.org/x/sys/unix"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "fvmwork:", err)
		os.Exit(1)
	}
}

func monotonic() int64 {
	var ts unix.Timespec
	if err := unix.ClockGettime(unix.CLOCK_MONOTONIC, &ts); err != nil {
		return 0
	}
	return ts.Nano()
}

// hostOffset returns host CLOCK_MONOTONIC minus the guest's, from the
// now_ns of /proc/fvm/stats (0 if it cannot be read).
func hostOffset() int64 {
	t0 := monotonic()
	b, err := os.ReadFile("/proc/fvm/stats")
	t1 := monotonic()
	if err != nil {
		return 0
	}
	for _, l := range bytes.Split(b, []byte("\n")) {
		if v, ok := bytes.CutPrefix(l, []byte("now_ns ")); ok {
			n, err := strconv.ParseInt(string(bytes.TrimSpace(v)), 10, 64)
			if err == nil {
				return n - (t0+t1)/2
			}
		}
	}
	return 0
}

// reporter appends progress lines.
type reporter struct {
	f     *os.File
	off   int64
	every time.Duration
	next  time.Time
}

func (r *reporter) report(count uint64, force bool) error {
	now := time.Now()
	if !force && now.Before(r.next) {
		return nil
	}
	r.next = now.Add(r.every)
	if r.f == nil {
		return nil
	}
	_, err := r.f.WriteString(strconv.FormatInt(monotonic()+r.off, 10) + " " + strconv.FormatUint(count, 10) + "\n")
	return err
}

func run(args []string) error {
	if len(args) < 1 {
		return fmt.Errorf("usage: fvmwork spin|mem|io -for D -progress FILE")
	}
	kind := args[0]
	fs := flag.NewFlagSet(kind, flag.ContinueOnError)
	dur := fs.Duration("for", 10*time.Second, "how long to work (guest time)")
	progress := fs.String("progress", "", "append progress lines here")
	every := fs.Duration("every", 250*time.Millisecond, "progress interval")
	// 48 MiB: a guest has 128 MiB, of which 106-122 MiB were available
	// in the 112 boots of two recordings (the kernel's "Memory:" line;
	// the spread comes from UML's memory layout at boot), and fvmd may
	// hold tens of MiB more; 64 MiB was killed by the guest's OOM killer
	// in both pressure-mem runs of one recording.
	memMiB := fs.Int("mem", 48, "mem: MiB to touch")
	dir := fs.String("dir", ".", "io: directory for the scratch file")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	r := &reporter{off: hostOffset(), every: *every}
	if *progress != "" {
		f, err := os.OpenFile(*progress, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
		if err != nil {
			return fmt.Errorf("progress file: %w", err)
		}
		defer f.Close()
		r.f = f
	}
	if err := r.report(0, true); err != nil {
		return err
	}
	end := time.Now().Add(*dur)
	var count uint64
	var err error
	switch kind {
	case "spin":
		count, err = spin(end, r)
	case "mem":
		count, err = mem(end, r, *memMiB)
	case "io":
		count, err = ioWork(end, r, *dir)
	default:
		return fmt.Errorf("unknown workload %q (want spin, mem or io)", kind)
	}
	if err != nil {
		return err
	}
	if err := r.report(count, true); err != nil {
		return err
	}
	if r.f != nil {
		return r.f.Sync()
	}
	return nil
}

var sink uint64

func spin(end time.Time, r *reporter) (uint64, error) {
	var n uint64
	x := sink
	for time.Now().Before(end) {
		for i := 0; i < 1<<16; i++ {
			x = x*6364136223846793005 + 1442695040888963407
		}
		n++
		if err := r.report(n, false); err != nil {
			return n, err
		}
	}
	sink = x
	return n, nil
}

func mem(end time.Time, r *reporter, mib int) (uint64, error) {
	const page = 4096
	buf := make([]byte, mib<<20)
	pages := uint64(len(buf) / page)
	var n uint64
	idx := uint64(1)
	for time.Now().Before(end) {
		for i := 0; i < 256; i++ {
			// A full-period LCG over the pages: scattered, no locality.
			idx = (idx*2862933555777941757 + 3037000493) % pages
			buf[idx*page]++
			n++
		}
		if err := r.report(n, false); err != nil {
			return n, err
		}
	}
	return n, nil
}

func ioWork(end time.Time, r *reporter, dir string) (uint64, error) {
	p := filepath.Join(dir, fmt.Sprintf("fvmwork-io-%d.tmp", os.Getpid()))
	f, err := os.OpenFile(p, os.O_CREATE|os.O_RDWR|os.O_TRUNC, 0o644)
	if err != nil {
		return 0, fmt.Errorf("io scratch file: %w", err)
	}
	defer os.Remove(p)
	defer f.Close()
	block := bytes.Repeat([]byte("fvm-io-"), 64<<10/7+1)[:64<<10]
	var kib uint64
	var off int64
	for time.Now().Before(end) {
		if _, err := f.WriteAt(block, off); err != nil {
			return kib, fmt.Errorf("io write: %w", err)
		}
		off += int64(len(block))
		kib += 64
		if off >= 16<<20 {
			off = 0
		}
		if kib%1024 == 0 {
			if err := f.Sync(); err != nil {
				return kib, fmt.Errorf("io fsync: %w", err)
			}
		}
		if err := r.report(kib, false); err != nil {
			return kib, err
		}
	}
	return kib, nil
}
