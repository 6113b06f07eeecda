package friendly

import (
	"time"

	"github.com/friendly-vm/fvm/friendly/port"
	"github.com/friendly-vm/fvm/trace"
	"github.com/friendly-vm/fvm/uml-impl/controller"
)

// Sink is the trace a control writes: a controller sink that holds lines
// until Flush (controller.TraceFile is one).
type Sink interface {
	controller.Sink
	controller.Flusher
}

// control drives the controller loop over a group's ports, and traces a
// host event for every window: the CPU the group's tasks used over the
// window's interval by their own accounting (port.Reading.RunNs), which
// the trace checker holds against the window's cpu_ns.
type control struct {
	loop     *controller.Loop
	src      *port.Source
	sink     Sink
	interval time.Duration

	hostSeq  int64
	hostPrev port.Reading
	windows  uint64
}

// poll reads the source once, lets the loop decide and actuate, traces
// the host event of a window that closed, and returns how long to wait
// before the next poll: until the next window is due (its expected end
// plus a margin, controller.Core.NextDue) after a window was consumed,
// else a quarter of the interval; never longer than the interval.
func (c *control) poll() (time.Duration, error) {
	before := c.loop.Core.Last()
	if err := c.loop.Poll(); err != nil {
		return 0, err
	}
	r := c.src.Last()
	if c.hostPrev.T == 0 {
		c.hostPrev = r
	}
	if n := c.src.Seq(); n != c.windows && r.T > c.hostPrev.T {
		c.windows = n
		c.hostSeq++
		e := trace.Event{Kind: trace.KindHost, VM: c.loop.Core.Config().VM, TNs: r.T, Host: trace.Host{
			Seq: c.hostSeq, WallNs: r.T - c.hostPrev.T, CPUNs: int64(r.RunNs - c.hostPrev.RunNs)}}
		c.hostPrev = r
		if err := c.sink.Write(&e); err != nil {
			return 0, err
		}
		if err := c.sink.Flush(); err != nil {
			return 0, err
		}
	}
	wait := c.interval / 4
	if c.loop.Core.Last() != before {
		if due := c.loop.Core.NextDue(); due > 0 {
			wait = time.Duration(due - r.T)
		}
	}
	return min(max(wait, time.Millisecond), c.interval), nil
}
