package experiment

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"runtime"
	"time"

	"golang.org/x/sys/unix"
)

// Probe is the latency-sensitive loop: every period it wakes (an absolute
// clock_nanosleep on host CLOCK_MONOTONIC), does work worth of CPU time
// (measured on its thread's CPU clock, so the work is the same whatever
// the CPU's speed or contention), and writes "t_ns response_ns": the
// intended wake-up time and how long after it the work was done. Alone on
// a core the response is the work plus the wake-up latency; beside other
// work it grows by the time the loop waits for the CPU. A period missed
// entirely is skipped (the next wake-up is the next period after now).
// It runs until ctx is done.
func Probe(ctx context.Context, period, work time.Duration, w io.Writer) error {
	if period <= 0 || work <= 0 || work >= period {
		return fmt.Errorf("probe: period %v, work %v: want 0 < work < period", period, work)
	}
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	bw := bufio.NewWriterSize(w, 64<<10)
	next := monotonic()
	for ctx.Err() == nil {
		next += period.Nanoseconds()
		for now := monotonic(); next < now; {
			next += period.Nanoseconds()
		}
		ts := unix.NsecToTimespec(next)
		for {
			err := unix.ClockNanosleep(unix.CLOCK_MONOTONIC, unix.TIMER_ABSTIME, &ts, nil)
			if err != unix.EINTR {
				break
			}
		}
		start := threadCPU()
		for threadCPU()-start < work.Nanoseconds() {
		}
		done := monotonic()
		if _, err := fmt.Fprintf(bw, "%d %d\n", next, done-next); err != nil {
			return fmt.Errorf("probe: %w", err)
		}
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("probe: %w", err)
	}
	return nil
}

func monotonic() int64 {
	var ts unix.Timespec
	_ = unix.ClockGettime(unix.CLOCK_MONOTONIC, &ts)
	return ts.Nano()
}

func threadCPU() int64 {
	var ts unix.Timespec
	_ = unix.ClockGettime(unix.CLOCK_THREAD_CPUTIME_ID, &ts)
	return ts.Nano()
}
