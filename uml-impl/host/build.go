package host

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"sort"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/friendly-vm/fvm/internal/cachedir"
)

// SourcePackage is the Debian package that provides the kernel source.
const SourcePackage = "linux-source-6.1"

// DefaultTarball is where SourcePackage installs the source tarball.
const DefaultTarball = "/usr/src/linux-source-6.1.tar.xz"

// BuildPackages returns the Debian packages a kernel build needs.
func BuildPackages() []string {
	return []string{SourcePackage, "bc", "flex", "bison", "libelf-dev", "build-essential", "patch", "xz-utils"}
}

// configRecipe trims defconfig: no networking, modules, block layer or
// swap. The guests need none of them (hostfs root, console on fds), and the
// build takes about 3 instead of 5 minutes on 2 cores. Part of the cache key.
func configRecipe() []string {
	return []string{"-e", "EXPERT", "-d", "NET", "-d", "MODULES", "-d", "BLOCK", "-d", "SWAP"}
}

// fullBuildSteps is about how many build steps (CC, LD, ...) a full build
// of the trimmed configuration prints; only for the progress display.
const fullBuildSteps = 990

// buildRecipeVersion changes whenever the build steps change in a way that
// changes the kernel; it is part of the cache key.
const buildRecipeVersion = "fvm-uml-build 1"

// BuildConfig says which kernel to build and where to cache it.
type BuildConfig struct {
	// PatchDir holds the *.patch files applied in name order. Empty builds
	// the unpatched kernel from the same source (for the overhead benchmark).
	PatchDir string
	// CacheDir is the cache root; empty means DefaultCacheDir().
	CacheDir string
	// Tarball is the kernel source tarball; empty means DefaultTarball.
	Tarball string
	// Jobs is make's -j; 0 means the number of CPUs.
	Jobs int
	// InstallPackages installs missing BuildPackages with apt-get (as root).
	InstallPackages bool
	// Progress receives human-readable progress lines; nil discards them.
	Progress io.Writer
}

// DefaultCacheDir is the uml directory of the project's cache
// (cachedir.Root: $FVM_CACHE, else $XDG_CACHE_HOME/friendly-vm, else
// ~/.cache/friendly-vm).
func DefaultCacheDir() (string, error) {
	d, err := cachedir.Root()
	if err != nil {
		return "", err
	}
	return filepath.Join(d, "uml"), nil
}

// Build builds the kernel described by cfg, or reuses the cached one, and
// returns the path of the kernel binary.
func Build(ctx context.Context, cfg BuildConfig) (string, error) {
	prog := cfg.Progress
	if prog == nil {
		prog = io.Discard
	}
	if cfg.Tarball == "" {
		cfg.Tarball = DefaultTarball
	}
	if cfg.Jobs <= 0 {
		cfg.Jobs = runtime.NumCPU()
	}
	if cfg.CacheDir == "" {
		d, err := DefaultCacheDir()
		if err != nil {
			return "", err
		}
		cfg.CacheDir = d
	}
	if cfg.InstallPackages {
		if err := EnsurePackages(ctx, BuildPackages(), prog); err != nil {
			return "", err
		}
	}
	patches, err := listPatches(cfg.PatchDir)
	if err != nil {
		return "", err
	}
	version, err := sourceVersion(ctx, cfg.Tarball)
	if err != nil {
		return "", err
	}
	key, err := cacheKey(version, cfg.Tarball, patches)
	if err != nil {
		return "", err
	}
	flavor := "patched"
	if len(patches) == 0 {
		flavor = "vanilla"
	}
	dir := filepath.Join(cfg.CacheDir, fmt.Sprintf("linux-%s-%s-%s", sanitize(version), flavor, key[:12]))
	kernel := filepath.Join(dir, "linux")
	if err := os.MkdirAll(cfg.CacheDir, 0o755); err != nil {
		return "", fmt.Errorf("kernel cache: %w", err)
	}
	unlock, err := lockFile(ctx, dir+".lock", prog)
	if err != nil {
		return "", err
	}
	defer unlock()

	if b, err := os.ReadFile(filepath.Join(dir, ".fvm-built")); err == nil && string(b) == key {
		if _, err := os.Stat(kernel); err == nil {
			fmt.Fprintf(prog, "uml build: reusing cached %s kernel %s\n", flavor, kernel)
			return kernel, nil
		}
	}
	if b, err := os.ReadFile(filepath.Join(dir, ".fvm-configured")); err != nil || string(b) != key {
		if err := prepareTree(ctx, dir, cfg.Tarball, version, patches, prog); err != nil {
			return "", err
		}
		if err := os.WriteFile(filepath.Join(dir, ".fvm-configured"), []byte(key), 0o644); err != nil {
			return "", fmt.Errorf("kernel cache: %w", err)
		}
	} else {
		fmt.Fprintf(prog, "uml build: resuming the build in %s\n", dir)
	}
	if err := makeKernel(ctx, dir, cfg.Jobs, prog); err != nil {
		return "", err
	}
	if err := os.WriteFile(filepath.Join(dir, ".fvm-built"), []byte(key), 0o644); err != nil {
		return "", fmt.Errorf("kernel cache: %w", err)
	}
	pruneCache(cfg.CacheDir, flavor, dir, prog)
	return kernel, nil
}

// pruneCache removes the other trees of the same flavor (built from an
// older patch or source; about 1.5 GB each) that no build is using.
func pruneCache(cache, flavor, keep string, prog io.Writer) {
	old, _ := filepath.Glob(filepath.Join(cache, "linux-*-"+flavor+"-*"))
	for _, d := range old {
		if d == keep || strings.HasSuffix(d, ".lock") {
			continue
		}
		f, err := os.OpenFile(d+".lock", os.O_CREATE|os.O_RDWR, 0o644)
		if err != nil {
			continue
		}
		if syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB) == nil {
			fmt.Fprintf(prog, "uml build: removing the outdated tree %s\n", d)
			if os.RemoveAll(d) == nil {
				os.Remove(d + ".lock")
			}
		}
		f.Close()
	}
}

// EnsurePackages installs the Debian packages in pkgs that are missing
// (apt-get update first). Without root it names the command to run.
func EnsurePackages(ctx context.Context, pkgs []string, prog io.Writer) error {
	var missing []string
	for _, p := range pkgs {
		out, err := exec.CommandContext(ctx, "dpkg-query", "-W", "-f=${Status}", p).Output()
		if err != nil || !strings.Contains(string(out), "install ok installed") {
			missing = append(missing, p)
		}
	}
	if len(missing) == 0 {
		return nil
	}
	if os.Geteuid() != 0 {
		return fmt.Errorf("missing Debian packages %s: run as root, or: sudo apt-get install -y %s",
			strings.Join(missing, " "), strings.Join(missing, " "))
	}
	fmt.Fprintf(prog, "uml build: installing %s\n", strings.Join(missing, " "))
	if out, err := exec.CommandContext(ctx, "apt-get", "update", "-qq").CombinedOutput(); err != nil {
		return fmt.Errorf("apt-get update: %w: %s", err, tail(string(out), 10))
	}
	args := append([]string{"install", "-y", "-qq", "--no-install-recommends"}, missing...)
	cmd := exec.CommandContext(ctx, "apt-get", args...)
	cmd.Env = append(os.Environ(), "DEBIAN_FRONTEND=noninteractive")
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("apt-get install %s: %w: %s", strings.Join(missing, " "), err, tail(string(out), 10))
	}
	return nil
}

type patchFile struct {
	name, path string
	data       []byte
}

func listPatches(dir string) ([]patchFile, error) {
	if dir == "" {
		return nil, nil
	}
	dir, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("patch directory: %w", err)
	}
	names, err := filepath.Glob(filepath.Join(dir, "*.patch"))
	if err != nil {
		return nil, fmt.Errorf("patch directory %s: %w", dir, err)
	}
	if len(names) == 0 {
		return nil, fmt.Errorf("patch directory %s has no *.patch files (want uml-impl/patch)", dir)
	}
	sort.Strings(names)
	var ps []patchFile
	for _, n := range names {
		b, err := os.ReadFile(n)
		if err != nil {
			return nil, fmt.Errorf("read patch: %w", err)
		}
		ps = append(ps, patchFile{name: filepath.Base(n), path: n, data: b})
	}
	return ps, nil
}

// sourceVersion is the installed SourcePackage version for the default
// tarball, else "custom".
func sourceVersion(ctx context.Context, tarball string) (string, error) {
	if _, err := os.Stat(tarball); err != nil {
		return "", fmt.Errorf("kernel source %s missing: install it with apt-get install %s (or pass --install-packages): %w",
			tarball, SourcePackage, err)
	}
	if tarball != DefaultTarball {
		return "custom", nil
	}
	out, err := exec.CommandContext(ctx, "dpkg-query", "-W", "-f=${Version}", SourcePackage).Output()
	if err != nil || len(out) == 0 {
		return "unknown", nil
	}
	return strings.TrimSpace(string(out)), nil
}

func cacheKey(version, tarball string, patches []patchFile) (string, error) {
	st, err := os.Stat(tarball)
	if err != nil {
		return "", fmt.Errorf("kernel source: %w", err)
	}
	h := sha256.New()
	fmt.Fprintf(h, "%s\n%s\n%s %d %d\n%q\n", buildRecipeVersion, version, tarball, st.Size(), st.ModTime().UnixNano(), configRecipe())
	for _, p := range patches {
		fmt.Fprintf(h, "%s %d\n", p.name, len(p.data))
		h.Write(p.data)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

func sanitize(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.' || r == '-' {
			return r
		}
		return '_'
	}, s)
}

// prepareTree extracts the source into a fresh dir, checks and applies the
// patches, and configures it.
func prepareTree(ctx context.Context, dir, tarball, version string, patches []patchFile, prog io.Writer) error {
	if _, err := os.Stat(dir); err == nil {
		fmt.Fprintf(prog, "uml build: removing the unfinished tree %s\n", dir)
	}
	if err := os.RemoveAll(dir); err != nil {
		return fmt.Errorf("kernel cache: %w", err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("kernel cache: %w", err)
	}
	start := time.Now()
	fmt.Fprintf(prog, "uml build: extracting %s (%s) into %s\n", tarball, version, dir)
	if out, err := exec.CommandContext(ctx, "tar", "-xf", tarball, "-C", dir, "--strip-components=1").CombinedOutput(); err != nil {
		return fmt.Errorf("extract %s: %w: %s", tarball, err, tail(string(out), 10))
	}
	fmt.Fprintf(prog, "uml build: extracted in %s\n", time.Since(start).Round(time.Second))
	for _, p := range patches {
		if err := ApplyPatch(ctx, dir, p.path, fmt.Sprintf("%s %s", SourcePackage, version)); err != nil {
			return err
		}
		fmt.Fprintf(prog, "uml build: applied %s\n", p.name)
	}
	steps := [][]string{
		{"make", "ARCH=um", "defconfig"},
		append([]string{"./scripts/config"}, configRecipe()...),
		{"make", "ARCH=um", "olddefconfig"},
	}
	for _, s := range steps {
		cmd := exec.CommandContext(ctx, s[0], s[1:]...)
		cmd.Dir = dir
		if out, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("configure kernel (%s) in %s: %w: %s", strings.Join(s, " "), dir, err, tail(string(out), 10))
		}
	}
	return nil
}

// ApplyPatch checks with patch --dry-run that the patch applies cleanly to
// the tree in dir and then applies it. A patch that does not apply gives an
// error naming the patch, the files and the rejected hunks; what names the
// source for the message.
func ApplyPatch(ctx context.Context, dir, patchPath, what string) error {
	dry := exec.CommandContext(ctx, "patch", "-p1", "--dry-run", "--batch", "--forward", "-i", patchPath)
	dry.Dir = dir
	out, err := dry.CombinedOutput()
	if err != nil {
		rej := rejectedHunks(string(out))
		if len(rej) == 0 {
			rej = []string{tail(string(out), 5)}
		}
		return fmt.Errorf("PATCH DOES NOT APPLY: %s to %s: %s; rebase the patch on this source (see uml-impl/README.md)",
			filepath.Base(patchPath), what, strings.Join(rej, "; "))
	}
	app := exec.CommandContext(ctx, "patch", "-p1", "--batch", "--forward", "-i", patchPath)
	app.Dir = dir
	if out, err := app.CombinedOutput(); err != nil {
		return fmt.Errorf("apply %s in %s: %w: %s", filepath.Base(patchPath), dir, err, tail(string(out), 10))
	}
	return nil
}

var (
	reCheckingFile = regexp.MustCompile(`^(?:checking|patching) file '?([^']+?)'?$`)
	reHunkFailed   = regexp.MustCompile(`^Hunk #(\d+) FAILED at (\d+)`)
	reMissingFile  = regexp.MustCompile(`^can't find file to patch`)
)

// rejectedHunks extracts "file: hunk #N FAILED at L" from GNU patch output.
func rejectedHunks(out string) []string {
	var rej []string
	file := "?"
	for _, l := range strings.Split(out, "\n") {
		l = strings.TrimSpace(l)
		if m := reCheckingFile.FindStringSubmatch(l); m != nil {
			file = m[1]
		} else if m := reHunkFailed.FindStringSubmatch(l); m != nil {
			rej = append(rej, fmt.Sprintf("%s: hunk #%s rejected (expected at line %s)", file, m[1], m[2]))
		} else if reMissingFile.MatchString(l) {
			rej = append(rej, "a file to patch is missing from the source")
		}
	}
	return rej
}

// makeKernel runs make ARCH=um linux, printing a progress line every 100
// compiled objects and every 20 s, and keeping the whole log in the tree.
func makeKernel(ctx context.Context, dir string, jobs int, prog io.Writer) error {
	logPath := filepath.Join(dir, "fvm-build.log")
	logf, err := os.Create(logPath)
	if err != nil {
		return fmt.Errorf("kernel build log: %w", err)
	}
	defer logf.Close()
	cmd := exec.CommandContext(ctx, "make", "ARCH=um", fmt.Sprintf("-j%d", jobs), "linux")
	cmd.Dir = dir
	// make's compilers hold the output pipe: on cancel, kill the group.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	pr, pw := io.Pipe()
	cmd.Stdout = pw
	cmd.Stderr = pw
	start := time.Now()
	fmt.Fprintf(prog, "uml build: make ARCH=um -j%d linux in %s (log: %s; ~3 min on 2 cores)\n", jobs, dir, logPath)
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start make: %w", err)
	}
	var (
		mu     sync.Mutex
		steps  int
		last   []string
		done   = make(chan struct{})
		copied = make(chan struct{})
	)
	go func() {
		defer close(copied)
		sc := bufio.NewScanner(pr)
		sc.Buffer(make([]byte, 64*1024), 1024*1024)
		for sc.Scan() {
			l := sc.Text()
			fmt.Fprintln(logf, l)
			mu.Lock()
			if isBuildStep(l) {
				steps++
				if steps%200 == 0 {
					fmt.Fprintf(prog, "uml build: %d/~%d objects, %s\n", steps, fullBuildSteps, time.Since(start).Round(time.Second))
				}
			}
			last = append(last, l)
			if len(last) > 40 {
				last = last[1:]
			}
			mu.Unlock()
		}
	}()
	go func() {
		t := time.NewTicker(30 * time.Second)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				mu.Lock()
				fmt.Fprintf(prog, "uml build: still building: %d/~%d objects, %s\n", steps, fullBuildSteps, time.Since(start).Round(time.Second))
				mu.Unlock()
			}
		}
	}()
	err = cmd.Wait()
	pw.Close()
	<-copied
	close(done)
	if err != nil {
		mu.Lock()
		defer mu.Unlock()
		return fmt.Errorf("kernel build failed in %s after %s: %w; full log %s; last lines:\n%s",
			dir, time.Since(start).Round(time.Second), err, logPath, strings.Join(last, "\n"))
	}
	fmt.Fprintf(prog, "uml build: built %d objects in %s\n", steps, time.Since(start).Round(time.Second))
	return nil
}

func isBuildStep(l string) bool {
	f := strings.Fields(l)
	if len(f) < 2 || !strings.HasPrefix(l, "  ") {
		return false
	}
	switch f[0] {
	case "CC", "AS", "LD", "AR", "HOSTCC", "HOSTLD", "GEN", "CPP", "LDS", "SYSCALL", "WRAP", "UPD":
		return true
	}
	return false
}

// lockFile takes an exclusive flock on path (creating it), waiting while
// another build of the same kernel holds it, until ctx is done.
func lockFile(ctx context.Context, path string, prog io.Writer) (func(), error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, fmt.Errorf("kernel cache lock: %w", err)
	}
	for waited := false; ; waited = true {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if err == nil {
			break
		}
		if !errors.Is(err, syscall.EWOULDBLOCK) {
			f.Close()
			return nil, fmt.Errorf("kernel cache lock %s: %w", path, err)
		}
		if !waited {
			fmt.Fprintf(prog, "uml build: waiting for another build holding %s\n", path)
		}
		select {
		case <-ctx.Done():
			f.Close()
			return nil, fmt.Errorf("waiting for kernel cache lock %s: %w", path, ctx.Err())
		case <-time.After(time.Second):
		}
	}
	return func() {
		syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
		f.Close()
	}, nil
}

// tail returns the last n lines of s.
func tail(s string, n int) string {
	l := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(l) > n {
		l = l[len(l)-n:]
	}
	return strings.Join(l, "\n")
}
