package cgroup

import (
	"errors"
	iofs "io/fs"
	"path"
)

// SweepReport says what Sweep did with the groups whose owner is gone.
type SweepReport struct {
	Removed     []string // empty: removed
	Unthrottled []string // still holding tasks: quota lifted, left in place
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
	roots := []string{path.Join(l.CPU, Parent)}
	if l.Acct != l.CPU {
		roots = append(roots, path.Join(l.Acct, Parent))
	}
	for _, root := range roots {
		names, err := fs.SubDirs(root)
		if err != nil {
			continue // no Parent yet in this hierarchy
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
		removeParent(fs, root)
	}
	return r, errors.Join(errs...)
}

// Leftovers lists the groups below Parent in the cpu hierarchy (every
// group of ours that exists, live or not).
func (l *Layout) Leftovers(fs FS) ([]string, error) {
	names, err := fs.SubDirs(path.Join(l.CPU, Parent))
	if err != nil && !errors.Is(err, iofs.ErrNotExist) {
		return nil, err
	}
	return names, nil
}
