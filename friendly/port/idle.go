package port

import (
	"fmt"
	"sync"
	"time"

	"github.com/friendly-vm/fvm/friendly/cgroup"
	"github.com/friendly-vm/fvm/uml-impl/controller"
	"github.com/friendly-vm/fvm/vocab"
)

// IdleActuator takes a group's pauses at idle priority instead of
// throttling it (the duty-idle host model, work-conserving): in each
// period, for the pause's part of it, the group's cpu.idle is 1, so its
// tasks run only when no sibling at normal priority wants the CPU, and
// then 0 for the rest. Its switches are readings of the group's Source,
// so that the windows measure the signal over the normal-priority part.
type IdleActuator struct {
	g        *cgroup.Group
	src      *Source
	periodUs int64
	// nice is the group's weight at normal priority (cgroup.Group.SetNice;
	// 0: the kernel's default): leaving idle priority resets a group's
	// weight to the default (sched_group_set_idle), so a switch back
	// restores it.
	nice int

	mu    sync.Mutex
	pause int   // permille, the next period's
	err   error // the first failed switch
	stop  chan struct{}
	done  chan struct{}
}

// NewIdleActuator returns the work-conserving actuator of group g, whose
// windows src measures, with the given period, keeping the group's weight
// at that of nice (0: the default) outside its pauses; Start starts its
// switches.
func NewIdleActuator(g *cgroup.Group, src *Source, periodUs int64, nice int) (*IdleActuator, error) {
	if periodUs < 10_000 || periodUs > 1_000_000 {
		return nil, fmt.Errorf("idle period %d us: want 10000..1000000", periodUs)
	}
	if !g.HasIdle() {
		return nil, fmt.Errorf("group %s has no cpu.idle (Linux 5.15 or later): take sleeping pauses instead (--pause-mode sleep)", g.Name())
	}
	if err := g.SetIdle(false); err != nil {
		return nil, err
	}
	if _, err := cgroup.NiceWeight(nice); err != nil {
		return nil, err
	}
	a := &IdleActuator{g: g, src: src, periodUs: periodUs, nice: nice, stop: make(chan struct{}), done: make(chan struct{})}
	src.act = a
	return a, nil
}

// PeriodUs returns the period.
func (a *IdleActuator) PeriodUs() int64 { return a.periodUs }

// inForce is the pause of the current period.
func (a *IdleActuator) inForce() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.pause
}

// SetPause implements controller.Actuator: the pause of the periods that
// start from now, 0..vocab.MaxPausePermille (else controller.ErrRange).
func (a *IdleActuator) SetPause(permille int) error {
	if permille < 0 || permille > vocab.MaxPausePermille {
		return fmt.Errorf("set pause %d: %w", permille, controller.ErrRange)
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.err != nil {
		return a.err
	}
	a.pause = permille
	return nil
}

// Pause implements controller.Actuator: the pause in force, or the error
// of a failed switch (after which the group stays at normal priority).
func (a *IdleActuator) Pause() (int, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.pause, a.err
}

// Start starts the switches, one period after another from now, on host
// time (now, ns); Stop ends them.
func (a *IdleActuator) Start(now func() int64) {
	go a.run(now)
}

// Stop ends the switches and leaves the group at normal priority.
func (a *IdleActuator) Stop() error {
	close(a.stop)
	<-a.done
	return a.setIdle(false)
}

// setIdle sets the group's priority, and back at normal priority its
// weight.
func (a *IdleActuator) setIdle(low bool) error {
	if err := a.g.SetIdle(low); err != nil {
		return err
	}
	if !low && a.nice != 0 {
		return a.g.SetNice(a.nice)
	}
	return nil
}

// switchTo sets the group's priority and records the switch in the source.
func (a *IdleActuator) switchTo(low bool) bool {
	err := a.setIdle(low)
	if err == nil {
		err = a.src.Switch(low)
	}
	if err != nil {
		a.mu.Lock()
		if a.err == nil {
			a.err = fmt.Errorf("group %s: work-conserving pause: %w", a.g.Name(), err)
		}
		a.mu.Unlock()
		_ = a.setIdle(false)
		return false
	}
	return true
}

func (a *IdleActuator) run(now func() int64) {
	defer close(a.done)
	period := a.periodUs * 1000
	next := now()
	// wait sleeps until host time t, or returns false on Stop.
	wait := func(t int64) bool {
		timer := time.NewTimer(time.Duration(max(t-now(), 0)))
		defer timer.Stop()
		select {
		case <-timer.C:
			return true
		case <-a.stop:
			return false
		}
	}
	for {
		low := period * int64(a.inForce()) / 1000
		if low > 0 {
			if !a.switchTo(true) {
				return
			}
			ok := wait(next + low)
			if !a.switchTo(false) || !ok {
				return
			}
		}
		next += period
		if !wait(next) {
			return
		}
	}
}
