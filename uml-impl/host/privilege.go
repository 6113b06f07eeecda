package host

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
)

// Capabilities the work-conserving pause needs on the host, as bits of
// /proc/<pid>/status's CapEff (linux/capability.h).
const (
	capSysAdmin = 21
	capSysNice  = 23
)

// CheckIdlePause says whether guests started by this process can take
// work-conserving pauses (pause_mode idle), n of them on this host. A
// process may drop itself to SCHED_IDLE without privilege, but coming back
// to SCHED_OTHER needs CAP_SYS_NICE (or an RLIMIT_NICE that permits nice
// 0): without it a VM's first pause would leave it at idle priority for
// good. And without CAP_SYS_ADMIN the host allows one change of an
// autogroup's nice per 100 ms for the whole system, so two VMs' pauses
// would refuse each other's switches. Both are checked here, before any
// guest boots, rather than found as an unfair run.
func CheckIdlePause(n int) error {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return fmt.Errorf("pause mode idle: capabilities: %w", err)
	}
	defer f.Close()
	eff, err := effectiveCaps(f)
	if err != nil {
		return fmt.Errorf("pause mode idle: /proc/self/status: %w", err)
	}
	return idlePauseAllowed(eff, n)
}

// idlePauseAllowed is CheckIdlePause's rule on an effective capability set.
func idlePauseAllowed(eff uint64, n int) error {
	const fix = "run as root, or take sleeping pauses (--pause-mode sleep)"
	if eff&(1<<capSysNice) == 0 {
		return fmt.Errorf("pause mode idle needs CAP_SYS_NICE on the host (a guest dropped to SCHED_IDLE could not come back without it): %s", fix)
	}
	if n > 1 && eff&(1<<capSysAdmin) == 0 {
		return fmt.Errorf("pause mode idle for %d VMs needs CAP_SYS_ADMIN on the host (without it the host allows one autogroup nice change per 100 ms for the whole system, so the VMs' pauses would refuse each other's): %s", n, fix)
	}
	return nil
}

// effectiveCaps reads the CapEff line of a /proc/<pid>/status file.
func effectiveCaps(r io.Reader) (uint64, error) {
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		v, ok := strings.CutPrefix(sc.Text(), "CapEff:")
		if !ok {
			continue
		}
		c, err := strconv.ParseUint(strings.TrimSpace(v), 16, 64)
		if err != nil {
			return 0, fmt.Errorf("CapEff %q: %w", strings.TrimSpace(v), err)
		}
		return c, nil
	}
	if err := sc.Err(); err != nil {
		return 0, err
	}
	return 0, errors.New("no CapEff line")
}
