package cgroup

import (
	"errors"
	"fmt"
	"os"
	"sort"

	"golang.org/x/sys/unix"
)

// FS is every file system call the package makes. Paths are absolute paths
// of the real system (/sys/fs/cgroup/..., /proc/...); a fake maps them
// into a test directory.
type FS interface {
	ReadFile(path string) ([]byte, error)
	// WriteFile writes b to an existing file with one write(2): a cgroup
	// control file takes one value per write and cannot be created.
	WriteFile(path string, b []byte) error
	// Mkdir makes a cgroup (its control files appear with it).
	Mkdir(path string) error
	// Rmdir removes a cgroup; it fails (EBUSY) while tasks are in it.
	Rmdir(path string) error
	// SubDirs lists the names of the subdirectories of path, sorted.
	SubDirs(path string) ([]string, error)
}

// OS is the real file system.
type OS struct{}

// ReadFile implements FS.
func (OS) ReadFile(path string) ([]byte, error) { return os.ReadFile(path) }

// WriteFile implements FS.
func (OS) WriteFile(path string, b []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		return err
	}
	_, werr := f.Write(b)
	cerr := f.Close()
	if werr != nil {
		return fmt.Errorf("write %q to %s: %w", b, path, werr)
	}
	return cerr
}

// Mkdir implements FS.
func (OS) Mkdir(path string) error { return os.Mkdir(path, 0o755) }

// Rmdir implements FS: rmdir(2), which cgroupfs allows on a directory that
// holds only control files (os.Remove would try unlink first).
func (OS) Rmdir(path string) error {
	if err := unix.Rmdir(path); err != nil {
		return &os.PathError{Op: "rmdir", Path: path, Err: err}
	}
	return nil
}

// SubDirs implements FS.
func (OS) SubDirs(path string) ([]string, error) { return subDirs(path) }

// subDirs lists the subdirectories of a real directory, sorted.
func subDirs(path string) ([]string, error) {
	es, err := os.ReadDir(path)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, e := range es {
		if e.IsDir() {
			out = append(out, e.Name())
		}
	}
	sort.Strings(out)
	return out, nil
}

// SubDirsOf is subDirs for FS implementations backed by a real directory.
func SubDirsOf(dir string) ([]string, error) { return subDirs(dir) }

// IsBusy reports whether err is the kernel's EBUSY (a cgroup that still
// holds tasks cannot be removed).
func IsBusy(err error) bool { return errors.Is(err, unix.EBUSY) }
