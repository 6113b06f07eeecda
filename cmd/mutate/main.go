// Command mutate is make mutate: it applies every mutant of
// mutate/mutants.txt, one at a time, to a scratch copy of the repository,
// runs the mutant's tests and prints a table: mutant, caught by (the tests
// that failed; for the rapid lockstep suite, whether its step checks or its
// final refinement check caught it), time. It exits 1 if a mutant survives
// or does not build, 2 on bad input or when the unmutated tests fail.
//
// The mutants of the kernel patch run only with -kernel: each needs a guest
// kernel built from the mutated patch and real guests. The unmutated kernel
// is built once into $FVM_CACHE/mutate (default ~/.cache/friendly-vm/mutate);
// each mutant then changes one source file of that tree and rebuilds
// incrementally. Real-kernel tests measure CPU shares: run them on a quiet
// machine, guests pinned by FVM_GUEST_CPU as for make test-uml.
package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/friendly-vm/fvm/mutate"
	"github.com/friendly-vm/fvm/uml-impl/host"
)

type options struct {
	root    string
	run     *regexp.Regexp
	kernel  bool
	list    bool
	keep    bool
	timeout time.Duration
	goTool  string
	out     io.Writer
}

func main() {
	var o options
	run := flag.String("run", "", "only the mutants whose name matches this regular expression")
	flag.BoolVar(&o.kernel, "kernel", false, "also run the kernel patch's mutants (builds kernels, boots real guests)")
	flag.BoolVar(&o.list, "list", false, "list the mutants and exit")
	flag.BoolVar(&o.keep, "keep", false, "keep the scratch copy (its path is printed)")
	flag.DurationVar(&o.timeout, "timeout", 10*time.Minute, "go test -timeout for each test line")
	flag.Parse()
	if flag.NArg() != 0 {
		fmt.Fprintf(os.Stderr, "mutate: unexpected argument %q (flags only; see -h)\n", flag.Arg(0))
		os.Exit(2)
	}
	var err error
	if o.run, err = regexp.Compile(*run); err != nil {
		fmt.Fprintf(os.Stderr, "mutate: -run %q: %v\n", *run, err)
		os.Exit(2)
	}
	o.out = os.Stdout
	o.goTool = goTool()
	if o.root, err = repoRoot(); err != nil {
		fmt.Fprintf(os.Stderr, "mutate: %v\n", err)
		os.Exit(2)
	}
	code, err := runAll(context.Background(), o)
	if err != nil {
		fmt.Fprintf(os.Stderr, "mutate: %v\n", err)
	}
	os.Exit(code)
}

// goTool is the go command that runs this program's tests: the one of
// GOROOT when set, else go from PATH.
func goTool() string {
	if g := filepath.Join(runtime.GOROOT(), "bin", "go"); fileExists(g) {
		return g
	}
	return "go"
}

func fileExists(p string) bool { _, err := os.Stat(p); return err == nil }

// repoRoot is the directory of go.mod, from the working directory up.
func repoRoot() (string, error) {
	d, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if fileExists(filepath.Join(d, "go.mod")) && fileExists(filepath.Join(d, mutate.ListFile)) {
			return d, nil
		}
		p := filepath.Dir(d)
		if p == d {
			return "", errors.New("no repository root (a directory with go.mod and " + mutate.ListFile + ") at or above the working directory: run make mutate in the checkout")
		}
		d = p
	}
}

// result is one row of the table.
type result struct {
	m        mutate.Mutant
	caughtBy []string // failing tests, with how the lockstep suite caught it
	status   string   // caught, SURVIVED, BUILD FAILED, equivalent, not run
	note     string
	took     time.Duration
}

func runAll(ctx context.Context, o options) (int, error) {
	ms, err := mutate.Load(o.root)
	if err != nil {
		return 2, err
	}
	var sel []mutate.Mutant
	for _, m := range ms {
		if o.run.MatchString(m.Name) {
			sel = append(sel, m)
		}
	}
	if len(sel) == 0 {
		return 2, fmt.Errorf("no mutant matches -run %q", o.run)
	}
	if o.list {
		for _, m := range sel {
			fmt.Fprintf(o.out, "%-32s %-10s %-15s %s\n", m.Name, m.Area(), m.Kind, m.Why)
		}
		return 0, nil
	}
	start := time.Now()
	scratch, err := os.MkdirTemp("", "fvm-mutate-")
	if err != nil {
		return 2, fmt.Errorf("scratch copy: %w", err)
	}
	if o.keep {
		fmt.Fprintf(o.out, "scratch copy: %s\n", scratch)
	} else {
		defer os.RemoveAll(scratch)
	}
	if err := copyRepo(ctx, o.root, scratch); err != nil {
		return 2, err
	}
	// Every test line must pass on the unmutated copy, or a "caught" means
	// nothing.
	var lines [][]string
	kernelSel := false
	for _, m := range sel {
		if m.Equivalent != "" || m.Kernel && !o.kernel {
			continue
		}
		kernelSel = kernelSel || m.Kernel
		for _, t := range m.Tests {
			if !slices.ContainsFunc(lines, func(l []string) bool { return slices.Equal(l, t) }) {
				lines = append(lines, t)
			}
		}
	}
	var kb *kernelBuilder
	if kernelSel {
		if kb, err = newKernelBuilder(ctx, scratch, o.out); err != nil {
			return 2, err
		}
	}
	fmt.Fprintf(o.out, "mutate: %d mutants; baseline: %d test lines on the unmutated copy\n", len(sel), len(lines))
	for _, l := range lines {
		env := []string(nil)
		if slices.Contains(l, "umlkernel") {
			env = []string{"FVM_KERNEL=" + kb.base}
		}
		tr, err := goTest(ctx, o, scratch, l, env)
		if err != nil {
			return 2, err
		}
		if !tr.ok() {
			return 2, fmt.Errorf("the unmutated copy fails go test %s: %s", strings.Join(l, " "), tr.summary())
		}
		fmt.Fprintf(o.out, "  ok %-70s %s\n", strings.Join(l, " "), tr.took.Round(100*time.Millisecond))
	}
	var rows []result
	for _, m := range sel {
		r := result{m: m}
		switch {
		case m.Equivalent != "":
			r.status, r.note = "equivalent", m.Equivalent
		case m.Kernel && !o.kernel:
			r.status, r.note = "not run", "a kernel mutant: run with -kernel"
		default:
			r, err = runMutant(ctx, o, scratch, m, kb)
			if err != nil {
				return 2, err
			}
		}
		fmt.Fprintf(o.out, "  %-32s %-12s %s\n", r.m.Name, r.status, strings.Join(r.caughtBy, ", "))
		rows = append(rows, r)
	}
	if kb != nil {
		kb.finish()
	}
	return printTable(o.out, rows, time.Since(start)), nil
}

// runMutant applies m to the scratch copy, runs its tests and restores the
// file.
func runMutant(ctx context.Context, o options, scratch string, m mutate.Mutant, kb *kernelBuilder) (result, error) {
	r := result{m: m}
	path := filepath.Join(scratch, m.File)
	orig, err := os.ReadFile(path)
	if err != nil {
		return r, fmt.Errorf("mutant %s: %w", m.Name, err)
	}
	mut, err := m.Apply(orig)
	if err != nil {
		return r, err
	}
	if err := os.WriteFile(path, mut, 0o644); err != nil {
		return r, fmt.Errorf("mutant %s: %w", m.Name, err)
	}
	defer os.WriteFile(path, orig, 0o644)
	start := time.Now()
	var env []string
	if m.Kernel {
		k, err := kb.build(ctx, m)
		if err != nil {
			r.status, r.note, r.took = "BUILD FAILED", err.Error(), time.Since(start)
			return r, nil
		}
		env = []string{"FVM_KERNEL=" + k}
	}
	for _, args := range m.Tests {
		tr, err := goTest(ctx, o, scratch, args, env)
		if err != nil {
			return r, err
		}
		if tr.buildFailed {
			r.status, r.note = "BUILD FAILED", tr.summary()
			break
		}
		r.caughtBy = append(r.caughtBy, tr.failedTests()...)
	}
	r.took = time.Since(start)
	switch {
	case r.status != "":
	case len(r.caughtBy) > 0:
		r.status = "caught"
	default:
		r.status = "SURVIVED"
	}
	return r, nil
}

// testRun is the outcome of one go test -json invocation.
type testRun struct {
	failed      []string            // top-level tests that failed, in order
	output      map[string][]string // output lines per test
	pkgFailed   bool
	buildFailed bool
	tail        []string
	took        time.Duration
}

func (t *testRun) ok() bool { return !t.pkgFailed && !t.buildFailed && len(t.failed) == 0 }

func (t *testRun) summary() string {
	if len(t.failed) > 0 {
		return "failing tests " + strings.Join(t.failed, ", ")
	}
	return strings.Join(t.tail, " | ")
}

// failedTests names the failing tests; a rapid lockstep failure says
// whether the suite's step checks ("lockstep:") or its final refinement
// check ("refinement:") caught the mutant.
func (t *testRun) failedTests() []string {
	var out []string
	for _, name := range t.failed {
		how := ""
		for _, l := range t.output[name] {
			for _, tag := range []string{"lockstep:", "refinement:"} {
				if how == "" && strings.Contains(l, tag) {
					how = " [" + strings.TrimSuffix(tag, ":") + "]"
				}
			}
		}
		out = append(out, name+how)
	}
	if len(out) == 0 && t.pkgFailed {
		out = append(out, "(package failed: "+strings.Join(t.tail, " | ")+")")
	}
	return out
}

// testEvent is one line of go test -json.
type testEvent struct {
	Action  string
	Package string
	Test    string
	Output  string
}

func goTest(ctx context.Context, o options, dir string, args, env []string) (*testRun, error) {
	full := append([]string{"test", "-count=1", "-vet=off", "-json", "-timeout", o.timeout.String()}, args...)
	cmd := exec.CommandContext(ctx, o.goTool, full...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("go test: %w", err)
	}
	tr := &testRun{output: map[string][]string{}}
	sc := bufio.NewScanner(stdout)
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	for sc.Scan() {
		var e testEvent
		if json.Unmarshal(sc.Bytes(), &e) != nil {
			tr.tail = appendTail(tr.tail, sc.Text())
			continue
		}
		top, _, _ := strings.Cut(e.Test, "/")
		switch {
		case e.Action == "output" && top != "":
			tr.output[top] = append(tr.output[top], e.Output)
		case e.Action == "output":
			tr.tail = appendTail(tr.tail, strings.TrimSpace(e.Output))
			if strings.Contains(e.Output, "[build failed]") || strings.Contains(e.Output, "[setup failed]") {
				tr.buildFailed = true
			}
		case e.Action == "fail" && e.Test != "" && !strings.Contains(e.Test, "/") && !slices.Contains(tr.failed, e.Test):
			tr.failed = append(tr.failed, e.Test)
		case e.Action == "fail" && e.Test == "":
			tr.pkgFailed = true
		}
	}
	werr := cmd.Wait()
	tr.took = time.Since(start)
	for _, l := range strings.Split(strings.TrimSpace(stderr.String()), "\n") {
		tr.tail = appendTail(tr.tail, l)
		if strings.Contains(l, "build failed") || strings.HasPrefix(l, "# ") {
			tr.buildFailed = true
		}
	}
	var ee *exec.ExitError
	if werr != nil && !errors.As(werr, &ee) {
		return nil, fmt.Errorf("go test %s: %w", strings.Join(args, " "), werr)
	}
	if werr != nil && !tr.pkgFailed && len(tr.failed) == 0 {
		tr.buildFailed = true // go test failed without a failing test or package
	}
	return tr, nil
}

func appendTail(t []string, l string) []string {
	if l == "" {
		return t
	}
	t = append(t, l)
	if len(t) > 6 {
		t = t[1:]
	}
	return t
}

// printTable prints the results and returns the exit code.
func printTable(w io.Writer, rows []result, total time.Duration) int {
	fmt.Fprintf(w, "\n%-32s %-10s %-15s %-10s %8s  %s\n", "mutant", "area", "kind", "result", "time", "caught by")
	count := map[string]int{}
	var runTime time.Duration
	for _, r := range rows {
		by := strings.Join(r.caughtBy, ", ")
		if r.note != "" {
			by = strings.TrimSpace(by + " (" + r.note + ")")
		}
		t := "-"
		if r.took > 0 {
			t = r.took.Round(100 * time.Millisecond).String()
			runTime += r.took
		}
		fmt.Fprintf(w, "%-32s %-10s %-15s %-10s %8s  %s\n", r.m.Name, r.m.Area(), r.m.Kind, r.status, t, by)
		count[r.status]++
	}
	fmt.Fprintf(w, "\n%d mutants: %d caught, %d survived, %d did not build, %d equivalent, %d not run; mutants %s, total %s\n",
		len(rows), count["caught"], count["SURVIVED"], count["BUILD FAILED"], count["equivalent"], count["not run"],
		runTime.Round(time.Second), total.Round(time.Second))
	if count["SURVIVED"] > 0 || count["BUILD FAILED"] > 0 {
		return 1
	}
	return 0
}

// copyRepo copies the repository's files (tracked and untracked, not
// ignored, as git lists them; without git, every file but .git and out)
// into dir.
func copyRepo(ctx context.Context, root, dir string) error {
	var files []string
	out, err := exec.CommandContext(ctx, "git", "-C", root, "ls-files", "-co", "--exclude-standard", "-z").Output()
	if err == nil {
		for _, f := range strings.Split(string(out), "\x00") {
			if f != "" {
				files = append(files, f)
			}
		}
	} else {
		err = filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
			if err != nil {
				return err
			}
			rel, _ := filepath.Rel(root, p)
			if d.IsDir() && (rel == ".git" || rel == "out") {
				return filepath.SkipDir
			}
			if !d.IsDir() {
				files = append(files, rel)
			}
			return nil
		})
		if err != nil {
			return fmt.Errorf("scratch copy: %w", err)
		}
	}
	for _, f := range files {
		b, err := os.ReadFile(filepath.Join(root, f))
		if errors.Is(err, os.ErrNotExist) {
			continue // deleted in the work tree
		}
		if err != nil {
			return fmt.Errorf("scratch copy: %w", err)
		}
		st, err := os.Stat(filepath.Join(root, f))
		if err != nil {
			return fmt.Errorf("scratch copy: %w", err)
		}
		p := filepath.Join(dir, f)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return fmt.Errorf("scratch copy: %w", err)
		}
		if err := os.WriteFile(p, b, st.Mode().Perm()); err != nil {
			return fmt.Errorf("scratch copy: %w", err)
		}
	}
	return nil
}

// kernelBuilder builds a guest kernel per kernel mutant: one tree of the
// unmutated patch, in which each mutant changes one source file and make
// rebuilds what depends on it.
type kernelBuilder struct {
	scratch string
	tree    string // the kernel build tree
	base    string // the unmutated kernel
	out     io.Writer
}

func newKernelBuilder(ctx context.Context, scratch string, out io.Writer) (*kernelBuilder, error) {
	cache, err := host.DefaultCacheDir()
	if err != nil {
		return nil, err
	}
	cache = filepath.Join(filepath.Dir(cache), "mutate")
	k, err := host.Build(ctx, host.BuildConfig{PatchDir: filepath.Join(scratch, "uml-impl", "patch"), CacheDir: cache, Progress: out})
	if err != nil {
		return nil, fmt.Errorf("the unmutated kernel: %w", err)
	}
	kb := &kernelBuilder{scratch: scratch, tree: filepath.Dir(k), base: filepath.Join(scratch, "kernels", "unmutated")}
	if err := copyFile(k, kb.base); err != nil {
		return nil, err
	}
	kb.out = out
	return kb, nil
}

// source returns the path in the kernel tree of the file m changes, and m
// as a change of that file (see patchSource).
func (kb *kernelBuilder) source(m mutate.Mutant) (string, mutate.Mutant, error) {
	patch, err := os.ReadFile(filepath.Join(kb.scratch, m.File))
	if err != nil {
		return "", m, err
	}
	c, err := patchSource(patch, m)
	if err != nil {
		return "", m, err
	}
	return filepath.Join(kb.tree, c.File), c, nil
}

// patchSource turns a mutant of a patch's added lines into the same change
// of the patched source file: the file whose section of the (unmutated or
// mutated) patch holds the mutant's lines, and its texts without the
// leading "+" of each line.
func patchSource(patch []byte, m mutate.Mutant) (mutate.Mutant, error) {
	first := func(s string) string { return strings.Split(s, "\n")[0] }
	file, found := "", false
	for _, l := range strings.Split(string(patch), "\n") {
		if f, ok := strings.CutPrefix(l, "+++ b/"); ok {
			file = f
		}
		if l == first(m.Search) || l == first(m.Replace) {
			found = true
			break
		}
	}
	if !found || file == "" {
		return m, fmt.Errorf("mutant %s: no file section of %s holds its lines", m.Name, m.File)
	}
	strip := func(s string) string {
		ls := strings.Split(s, "\n")
		for i, l := range ls {
			ls[i] = strings.TrimPrefix(l, "+")
		}
		return strings.Join(ls, "\n")
	}
	c := m
	c.Search, c.Replace, c.File = strip(m.Search), strip(m.Replace), file
	return c, nil
}

// build makes the kernel with mutant m (its patch already mutated in the
// scratch copy), restores the tree's source and returns the kernel's path.
func (kb *kernelBuilder) build(ctx context.Context, m mutate.Mutant) (string, error) {
	path, c, err := kb.source(m)
	if err != nil {
		return "", err
	}
	orig, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("mutant %s: %w", m.Name, err)
	}
	mut, err := c.Apply(orig)
	if err != nil {
		return "", err
	}
	// The tree is no longer the cached unmutated build until finish.
	os.Remove(filepath.Join(kb.tree, ".fvm-built"))
	if err := os.WriteFile(path, mut, 0o644); err != nil {
		return "", err
	}
	defer os.WriteFile(path, orig, 0o644)
	fmt.Fprintf(kb.out, "  %s: make ARCH=um linux with %s mutated\n", m.Name, c.File)
	cmd := exec.CommandContext(ctx, "make", "ARCH=um", fmt.Sprintf("-j%d", runtime.NumCPU()), "linux")
	cmd.Dir = kb.tree
	if out, err := cmd.CombinedOutput(); err != nil {
		lines := strings.Split(strings.TrimSpace(string(out)), "\n")
		return "", fmt.Errorf("kernel build: %w: %s", err, strings.Join(lines[max(0, len(lines)-5):], " | "))
	}
	k := filepath.Join(kb.scratch, "kernels", m.Name)
	return k, copyFile(filepath.Join(kb.tree, "linux"), k)
}

// finish rebuilds the tree unmutated, so that its cache entry is the
// unmutated kernel again.
func (kb *kernelBuilder) finish() {
	cmd := exec.Command("make", "ARCH=um", fmt.Sprintf("-j%d", runtime.NumCPU()), "linux")
	cmd.Dir = kb.tree
	if out, err := cmd.CombinedOutput(); err != nil {
		fmt.Fprintf(kb.out, "mutate: rebuilding the unmutated kernel in %s: %v (the next build redoes it)\n%s", kb.tree, err, out)
	}
}

func copyFile(from, to string) error {
	b, err := os.ReadFile(from)
	if err != nil {
		return fmt.Errorf("copy kernel: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(to), 0o755); err != nil {
		return fmt.Errorf("copy kernel: %w", err)
	}
	if err := os.WriteFile(to, b, 0o755); err != nil {
		return fmt.Errorf("copy kernel: %w", err)
	}
	return nil
}
