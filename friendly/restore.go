package friendly

import (
	"bytes"
	"errors"
	"fmt"
	"os"

	"github.com/friendly-vm/fvm/friendly/cgroup"
	"github.com/friendly-vm/fvm/trace"
)

// DiedReason is the end reason the watchdog writes.
const DiedReason = "controller died (killed or crashed): the watchdog lifted the quota, moved the group's processes back to their cgroups and removed the group; the command ran on unthrottled"

// Restore is what the watchdog does once the controller is gone: if the
// group still exists (the controller did not clean up), it releases it,
// ends the trace with an unclean end event stamped now, and writes the
// summary marked incomplete. did says whether there was anything to do.
func Restore(fs cgroup.FS, s WatchdogSpec, now int64) (did bool, err error) {
	g := s.Layout.Group(fs, s.Group)
	if !g.Exists() {
		// Removed by the controller; a directory left in another
		// hierarchy by an interrupted removal goes too.
		return false, g.Release()
	}
	var errs []error
	if err := g.Release(); err != nil {
		errs = append(errs, err)
	}
	if s.Trace != "" {
		if err := AppendEnd(s.Trace, s.VM, now, DiedReason); err != nil {
			errs = append(errs, err)
		}
		if s.Summary != "" {
			sum, err := Summarize(s.Trace)
			if err != nil {
				errs = append(errs, err)
			}
			if sum != nil {
				sum.Complete = false
				sum.Errors = append(sum.Errors, DiedReason)
				if err := WriteJSON(s.Summary, sum); err != nil {
					errs = append(errs, err)
				}
			}
		}
	}
	return true, errors.Join(errs...)
}

// AppendEnd ends VM vm's trace in path with an unclean end event, unless
// it has one already or has no header for vm (nothing to end). A torn
// last line (impossible for the controller's single writes, but cheap to
// handle) is cut off first. The file is fsynced.
func AppendEnd(path string, vm int, now int64, reason string) error {
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("end the trace: %w", err)
	}
	keep := bytes.LastIndexByte(b, '\n') + 1
	evs, _ := trace.ReadAll(bytes.NewReader(b[:keep]), path)
	header := false
	for _, e := range evs {
		if e.VM != vm {
			continue
		}
		switch e.Kind {
		case trace.KindHeader:
			header = true
		case trace.KindEnd:
			return nil
		}
	}
	if !header {
		return nil
	}
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		return fmt.Errorf("end the trace: %w", err)
	}
	defer f.Close()
	line := trace.AppendEvent(nil, &trace.Event{Kind: trace.KindEnd, VM: vm, TNs: now, End: trace.End{Clean: false, Reason: reason}})
	if err := f.Truncate(int64(keep)); err != nil {
		return fmt.Errorf("end the trace: %w", err)
	}
	if _, err := f.WriteAt(line, int64(keep)); err != nil {
		return fmt.Errorf("end the trace: %w", err)
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("end the trace: fsync: %w", err)
	}
	return nil
}
