package port

import (
	"fmt"

	"github.com/friendly-vm/fvm/friendly/cgroup"
	"github.com/friendly-vm/fvm/uml-impl/controller"
	"github.com/friendly-vm/fvm/vocab"
)

// MinPeriodUs is the shortest CFS period at which the largest pause,
// vocab.MaxPausePermille, leaves a quota the kernel accepts
// (cgroup.MinQuotaUs): 20 ms.
const MinPeriodUs = cgroup.MinQuotaUs * 1000 / (1000 - vocab.MaxPausePermille)

// DefaultPeriodUs is the period of a friendly group: the UML guests'
// actuation period (vocab.PeriodUs) where the kernel allows it, else
// MinPeriodUs.
const DefaultPeriodUs = max(vocab.PeriodUs, MinPeriodUs)

// QuotaOf is the quota (µs per period) that enforces pause permille:
// floor(period·(1000-pause)/1000).
func QuotaOf(pausePermille int, periodUs int64) int64 {
	return periodUs * int64(1000-pausePermille) / 1000
}

// PauseOf is the pause (permille) that a quota enforces, the inverse of
// QuotaOf: 1000 - ceil(1000·quota/period), within [0, 1000]; 0 for
// cgroup.Unlimited or a quota of a period or more.
func PauseOf(quotaUs, periodUs int64) int64 {
	if quotaUs < 0 || periodUs <= 0 || quotaUs >= periodUs {
		return 0
	}
	return 1000 - (1000*quotaUs+periodUs-1)/periodUs
}

// Actuator enforces a pause on a group as its CFS quota per period.
type Actuator struct {
	g        *cgroup.Group
	periodUs int64
}

// NewActuator returns the actuator of group g with the given period, and
// sets the period with an unlimited quota (the controller's first
// decision sets the quota).
func NewActuator(g *cgroup.Group, periodUs int64) (*Actuator, error) {
	if periodUs < MinPeriodUs || periodUs > cgroup.MaxPeriodUs {
		return nil, fmt.Errorf("period %d us: want %d..%d (a pause of %d permille must leave a quota of at least %d us)",
			periodUs, MinPeriodUs, cgroup.MaxPeriodUs, vocab.MaxPausePermille, cgroup.MinQuotaUs)
	}
	if err := g.SetBandwidth(cgroup.Unlimited, periodUs); err != nil {
		return nil, err
	}
	return &Actuator{g: g, periodUs: periodUs}, nil
}

// PeriodUs returns the period.
func (a *Actuator) PeriodUs() int64 { return a.periodUs }

// SetPause implements controller.Actuator: 0..vocab.MaxPausePermille, as
// the kernel's pause_permille; anything else is controller.ErrRange.
func (a *Actuator) SetPause(permille int) error {
	if permille < 0 || permille > vocab.MaxPausePermille {
		return fmt.Errorf("set pause %d: %w", permille, controller.ErrRange)
	}
	return a.g.SetQuota(QuotaOf(permille, a.periodUs))
}

// Pause implements controller.Actuator: the pause the group's quota
// enforces; an error if the period is no longer the actuator's.
func (a *Actuator) Pause() (int, error) {
	q, p, err := a.g.Bandwidth()
	if err != nil {
		return 0, err
	}
	if p != a.periodUs {
		return 0, fmt.Errorf("group %s: period %d us, set %d us", a.g.Name(), p, a.periodUs)
	}
	return int(PauseOf(q, p)), nil
}
