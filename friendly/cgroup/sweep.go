package cgroup

import (
	"errors"
	"fmt"
	"slices"
	"strings"
)

// SweepReport says what Sweep did with the groups whose owner is gone.
type SweepReport struct {
	Removed     []string // empty: removed
	Unthrottled []string // still holding tasks: quota (and idle priority) lifted, left in place
}

// Sweep tidies the groups left by owners that died without cleaning up
// (an owner and its watchdog both killed): an empty one is removed, one
// that still holds tasks gets its quota lifted so that they are not
// throttled any longer (it is removed by a later sweep once empty).
// Groups of live owners and names that OwnerName does not make are left
// alone.
func (l *Layout) Sweep(fs FS) (SweepReport, error) {
	var r SweepReport
	var errs []error
	seen := map[string]bool{}
	roots := []string{l.CPU}
	if l.Acct != l.CPU {
		roots = append(roots, l.Acct)
	}
	for _, root := range roots {
		names, err := ours(fs, root)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		for _, n := range names {
			if seen[n] {
				continue
			}
			seen[n] = true
			if alive, ok := OwnerAlive(fs, n); !ok || alive {
				continue
			}
			g := l.Group(fs, n)
			empty := true
			for _, d := range g.dirs {
				if ps, err := procs(fs, d); err == nil && len(ps) > 0 {
					empty = false
				}
			}
			if !empty {
				if g.Exists() {
					if err := g.SetQuota(Unlimited); err != nil {
						errs = append(errs, err)
						continue
					}
					// A work-conserving pause's idle priority is lifted too.
					if g.HasIdle() {
						if err := g.SetIdle(false); err != nil {
							errs = append(errs, err)
							continue
						}
					}
				}
				r.Unthrottled = append(r.Unthrottled, n)
				continue
			}
			var rerr error
			for _, d := range g.dirs {
				rerr = errors.Join(rerr, rmdir(fs, d))
			}
			if rerr != nil {
				errs = append(errs, rerr)
				continue
			}
			r.Removed = append(r.Removed, n)
		}
	}
	return r, errors.Join(errs...)
}

// ours lists the names of the groups (directories Prefix+name) at root.
func ours(fs FS, root string) ([]string, error) {
	dirs, err := fs.SubDirs(root)
	if err != nil {
		return nil, fmt.Errorf("cgroup: %w", err)
	}
	var names []string
	for _, d := range dirs {
		if n, ok := strings.CutPrefix(d, Prefix); ok {
			names = append(names, n)
		}
	}
	return names, nil
}

// Leftovers lists the groups of ours that exist, live or not, in every
// hierarchy of the layout (a name once).
func (l *Layout) Leftovers(fs FS) ([]string, error) {
	names, err := ours(fs, l.CPU)
	if err != nil {
		return nil, err
	}
	if l.Acct != l.CPU {
		more, err := ours(fs, l.Acct)
		if err != nil {
			return nil, err
		}
		for _, n := range more {
			if !slices.Contains(names, n) {
				names = append(names, n)
			}
		}
		slices.Sort(names)
	}
	return names, nil
}
