package tla

import (
	"bufio"
	"bytes"
	"context"
	_ "embed"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/friendly-vm/fvm/internal/cachedir"
	"github.com/friendly-vm/fvm/spec"
	"github.com/friendly-vm/fvm/spec/mc"
)

// FVMSource is the text of tla/FVM.tla; runs write it beside the generated
// module, so that `fvm tlc` works from any directory.
//
//go:embed FVM.tla
var fvmSource string

// FVMTraceSource is the text of tla/FVMTrace.tla.
//
//go:embed FVMTrace.tla
var fvmTraceSource string

// SkipHint says how to get the TLA+ tools; it ends the one "SKIP tlc:"
// line printed when they are missing.
const SkipHint = "set TLA2TOOLS to tla2tools.jar (`make setup` fetches the pinned release when the network allows: " +
	"scripts/tla2tools.sh) and install Java (make setup-java)"

// ErrNoTLC is returned when the TLA+ tools or Java cannot be found.
var ErrNoTLC = errors.New("TLC not available")

// Runner runs TLC.
type Runner struct {
	// Jar is the path of tla2tools.jar. CommunityModules.jar beside it is
	// added to the class path when present.
	Jar string
	// Java is the java binary; "" means "java" from PATH.
	Java string
	// Workers is TLC's -workers value; "" means "auto".
	Workers string
	// Log, if set, receives TLC's output as it runs.
	Log io.Writer
	// KeepDir keeps the working directory (for debugging).
	KeepDir bool
}

// FindRunner returns a Runner for the jar named by $TLA2TOOLS, else the
// one scripts/tla2tools.sh keeps in the project's cache
// (cachedir.Root()/tla2tools.jar), or an error wrapping ErrNoTLC that says
// how to get one.
func FindRunner() (*Runner, error) {
	jar := os.Getenv("TLA2TOOLS")
	if jar == "" {
		root, err := cachedir.Root()
		if err != nil {
			return nil, fmt.Errorf("%w: TLA2TOOLS is not set and %v; %s", ErrNoTLC, err, SkipHint)
		}
		jar = filepath.Join(root, "tla2tools.jar")
		if _, err := os.Stat(jar); err != nil {
			return nil, fmt.Errorf("%w: TLA2TOOLS is not set and %s is missing; %s", ErrNoTLC, jar, SkipHint)
		}
	}
	if _, err := os.Stat(jar); err != nil {
		return nil, fmt.Errorf("%w: TLA2TOOLS=%s: %v; %s", ErrNoTLC, jar, err, SkipHint)
	}
	if _, err := exec.LookPath("java"); err != nil {
		return nil, fmt.Errorf("%w: no java on PATH; %s", ErrNoTLC, SkipHint)
	}
	abs, err := filepath.Abs(jar)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrNoTLC, err)
	}
	return &Runner{Jar: abs}, nil
}

// Result is what one TLC run found.
type Result struct {
	// Distinct and Generated are TLC's final state counts; Complete is
	// true when TLC explored the whole state space (no states left on
	// the queue).
	Distinct, Generated int64
	Complete            bool
	// Depth is the depth of the complete state graph search.
	Depth int
	// Violated names the violated property ("" if none), Kind is
	// "invariant", "temporal", "postcondition" or "deadlock".
	Violated, Kind string
	// TraceStates is the number of states in the counterexample (for a
	// lasso, the states printed before "Back to state"), and LoopTo the
	// 1-based state the lasso returns to (0 for an invariant).
	TraceStates, LoopTo int
	// Duration is the wall-clock time of the run, CPU the CPU time (user
	// and system) of the TLC process: on a busy machine the better
	// measure of its work.
	Duration, CPU time.Duration
	// Output is TLC's complete output.
	Output string
}

// Run writes the model module, FVM.tla, FVMTrace.tla and the given cfg
// text into a fresh directory and runs TLC on it. Extra files (name ->
// text) are written too; module names the root module (default: the
// model's).
func (r *Runner) Run(ctx context.Context, m *Model, cfg string, module string, extra map[string]string) (*Result, error) {
	dir, err := os.MkdirTemp("", "fvm-tlc-*")
	if err != nil {
		return nil, fmt.Errorf("tlc: %w", err)
	}
	if !r.KeepDir {
		defer os.RemoveAll(dir)
	}
	files := map[string]string{
		"FVM.tla":                   fvmSource,
		"FVMTrace.tla":              fvmTraceSource,
		m.ModuleName() + ".tla":     m.Module(),
		m.ModuleName() + "_run.cfg": cfg,
	}
	for k, v := range extra {
		files[k] = v
	}
	for name, text := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			return nil, fmt.Errorf("tlc: %w", err)
		}
	}
	if module == "" {
		module = m.ModuleName()
	}
	return r.runIn(ctx, dir, module+".tla", m.ModuleName()+"_run.cfg")
}

// classPath is the jar plus the community modules beside it.
func (r *Runner) classPath() string {
	cp := []string{r.Jar}
	for _, j := range []string{"CommunityModules-deps.jar", "CommunityModules.jar"} {
		p := filepath.Join(filepath.Dir(r.Jar), j)
		if _, err := os.Stat(p); err == nil {
			cp = append(cp, p)
		}
	}
	return strings.Join(cp, string(os.PathListSeparator))
}

func (r *Runner) runIn(ctx context.Context, dir, spec, cfg string) (*Result, error) {
	java := r.Java
	if java == "" {
		java = "java"
	}
	workers := r.Workers
	if workers == "" {
		workers = "auto"
	}
	args := []string{"-XX:+UseParallelGC", "-cp", r.classPath(), "tlc2.TLC",
		"-workers", workers, "-metadir", filepath.Join(dir, "states"), "-cleanup", "-noGenerateSpecTE",
		"-lncheck", "final", "-config", cfg, spec}
	cmd := exec.CommandContext(ctx, java, args...)
	cmd.Dir = dir
	var out bytes.Buffer
	var w io.Writer = &out
	if r.Log != nil {
		w = io.MultiWriter(&out, r.Log)
	}
	cmd.Stdout, cmd.Stderr = w, w
	start := time.Now()
	runErr := cmd.Run()
	res, err := ParseOutput(out.String())
	if err != nil {
		if runErr != nil {
			return nil, fmt.Errorf("tlc %s: %w (%v)\n%s", spec, err, runErr, tail(out.String(), 40))
		}
		return nil, fmt.Errorf("tlc %s: %w\n%s", spec, err, tail(out.String(), 40))
	}
	res.Duration = time.Since(start)
	if ps := cmd.ProcessState; ps != nil {
		res.CPU = ps.UserTime() + ps.SystemTime()
	}
	if ctx.Err() != nil {
		return nil, fmt.Errorf("tlc %s: %w", spec, ctx.Err())
	}
	return res, nil
}

func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// outputPatterns are the lines of TLC's output that ParseOutput reads.
type outputPatterns struct {
	stats, depth, inv, post, temporal, temporalAny, deadlock, state, back, stutter, err *regexp.Regexp
}

func newOutputPatterns() *outputPatterns {
	return &outputPatterns{
		stats:       regexp.MustCompile(`^([\d,]+) states generated, ([\d,]+) distinct states found, ([\d,]+) states left on queue\.`),
		depth:       regexp.MustCompile(`^The depth of the complete state graph search is (\d+)\.`),
		inv:         regexp.MustCompile(`^Error: Invariant (\w+) is violated`),
		post:        regexp.MustCompile(`^Error: Postcondition (\w+) .*is false`),
		temporal:    regexp.MustCompile(`^Error: Temporal property (\w+) was violated`),
		temporalAny: regexp.MustCompile(`^Error: Temporal properties were violated`),
		deadlock:    regexp.MustCompile(`^Error: Deadlock reached`),
		state:       regexp.MustCompile(`^State (\d+): `),
		back:        regexp.MustCompile(`^Back to state (\d+)`),
		stutter:     regexp.MustCompile(`^State (\d+): Stuttering`),
		err:         regexp.MustCompile(`^Error: `),
	}
}

func atoi(s string) int64 {
	n, _ := strconv.ParseInt(strings.ReplaceAll(s, ",", ""), 10, 64)
	return n
}

// ParseOutput extracts the state counts, the verdict and the
// counterexample length from TLC's (non -tool) output. It fails when TLC
// reported an error that is not a property violation (a parse error, a
// failed assumption, an evaluation error).
func ParseOutput(out string) (*Result, error) {
	res := &Result{Output: out}
	pat := newOutputPatterns()
	sawStats, sawDone := false, false
	var otherErr []string
	sc := bufio.NewScanner(strings.NewReader(out))
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	for sc.Scan() {
		line := sc.Text()
		switch {
		case pat.stats.MatchString(line):
			m := pat.stats.FindStringSubmatch(line)
			res.Generated, res.Distinct = atoi(m[1]), atoi(m[2])
			res.Complete = atoi(m[3]) == 0
			sawStats = true
		case pat.depth.MatchString(line):
			res.Depth = int(atoi(pat.depth.FindStringSubmatch(line)[1]))
		case pat.inv.MatchString(line):
			res.Violated, res.Kind = pat.inv.FindStringSubmatch(line)[1], "invariant"
			if strings.Contains(line, "by the initial state") {
				res.TraceStates = 1 // printed without a "State 1:" header
			}
		case pat.post.MatchString(line):
			res.Violated, res.Kind = pat.post.FindStringSubmatch(line)[1], "postcondition"
		case pat.temporal.MatchString(line):
			res.Violated, res.Kind = pat.temporal.FindStringSubmatch(line)[1], "temporal"
		case pat.temporalAny.MatchString(line):
			res.Violated, res.Kind = "?", "temporal"
		case pat.deadlock.MatchString(line):
			res.Violated, res.Kind = spec.Deadlock, "deadlock"
		case pat.stutter.MatchString(line):
			res.TraceStates = int(atoi(pat.stutter.FindStringSubmatch(line)[1])) - 1
			res.LoopTo = res.TraceStates
		case pat.state.MatchString(line):
			res.TraceStates = int(atoi(pat.state.FindStringSubmatch(line)[1]))
		case pat.back.MatchString(line):
			res.LoopTo = int(atoi(pat.back.FindStringSubmatch(line)[1]))
		case strings.HasPrefix(line, "Model checking completed. No error has been found."):
			sawDone = true
		case strings.HasPrefix(line, "Error: The following behavior constitutes a counter-example"),
			strings.HasPrefix(line, "Error: The behavior up to this point is"):
		case pat.err.MatchString(line):
			otherErr = append(otherErr, line)
		}
	}
	if res.Violated == "" && len(otherErr) > 0 {
		return nil, fmt.Errorf("TLC reported: %s", strings.Join(otherErr, "; "))
	}
	if !sawStats && res.Violated == "" {
		return nil, errors.New("no state counts in TLC's output")
	}
	if res.Violated == "" && !sawDone {
		return nil, errors.New("TLC neither completed nor reported a violation")
	}
	return res, nil
}

// Report is the outcome of checking one configuration with TLC.
type Report struct {
	Config string
	// Distinct is the number of distinct states without symmetry.
	Distinct int64
	// SymDistinct is the number with symmetry (safety only); 0 if the
	// configuration does not use symmetry.
	SymDistinct int64
	// Verdicts maps every checked property to its verdict.
	Verdicts map[string]mc.Status
	// Counterexamples maps each violated property to its counterexample
	// length in states (for a temporal property: the states of the lasso).
	Counterexamples map[string]int
	// Runs are the TLC runs, in order.
	Runs []*Result
	// Duration is the total wall-clock time of the runs, CPU their
	// total CPU time.
	Duration, CPU time.Duration
}

// add records one more TLC run.
func (rep *Report) add(res *Result) {
	rep.Runs = append(rep.Runs, res)
	rep.Duration += res.Duration
	rep.CPU += res.CPU
}

// CheckOptions selects what Check runs.
type CheckOptions struct {
	// NoLiveness skips the temporal properties.
	NoLiveness bool
	// NoSymmetry skips the symmetric safety run.
	NoSymmetry bool
}

// Check checks every property of the configuration with TLC: a run with
// every invariant and temporal property and no symmetry. TLC stops at the
// first violation, so after one the violated property is dropped and TLC
// runs again on what is left undecided, until every property has a verdict
// (temporal properties are checked after the complete search, so a
// temporal violation decides every invariant). Finally, where the
// configuration allows it, a safety run with symmetry.
func (r *Runner) Check(ctx context.Context, m *Model, o CheckOptions) (*Report, error) {
	rep := &Report{Config: m.Config.Name, Verdicts: map[string]mc.Status{}, Counterexamples: map[string]int{}}
	invs := m.Invariants()
	var props []string
	if !o.NoLiveness {
		props = m.Temporal()
	}
	complete := false   // a run explored the whole state space
	noDeadlock := false // deadlock found: later runs do not look for it
	for !complete || len(props) > 0 {
		cfg := m.Cfg(CfgOptions{Invariants: invs, Properties: props, NoDeadlock: noDeadlock})
		res, err := r.Run(ctx, m, cfg, "", nil)
		if err != nil {
			return rep, err
		}
		rep.add(res)
		if res.Complete && (res.Violated == "" || res.Kind == "temporal") {
			// With -lncheck final TLC checks the temporal properties
			// after the whole search, so every invariant has held, and
			// there is no deadlock.
			complete = true
			rep.Distinct = res.Distinct
			for _, p := range invs {
				rep.Verdicts[p] = mc.Holds
			}
			invs = nil
			if !noDeadlock {
				rep.Verdicts[spec.Deadlock] = mc.Holds
			}
		}
		if res.Violated == "" {
			for _, p := range props {
				rep.Verdicts[p] = mc.Holds
			}
			break
		}
		rep.Verdicts[res.Violated] = mc.Violated
		rep.Counterexamples[res.Violated] = res.TraceStates
		ni, np := slices.Index(invs, res.Violated), slices.Index(props, res.Violated)
		switch {
		case res.Kind == "deadlock":
			noDeadlock = true
		case ni >= 0:
			invs = slices.Delete(invs, ni, ni+1)
		case np >= 0:
			props = slices.Delete(props, np, np+1)
		default:
			return rep, fmt.Errorf("tlc: %s violated (%s), which was not checked", res.Violated, res.Kind)
		}
	}
	if cfg, ok := m.SymmetryCfg(); ok && !o.NoSymmetry {
		res, err := r.Run(ctx, m, cfg, "", nil)
		if err != nil {
			return rep, err
		}
		rep.add(res)
		if res.Violated != "" && rep.Verdicts[res.Violated] != mc.Violated {
			return rep, fmt.Errorf("tlc: %s violated with symmetry but not without", res.Violated)
		}
		rep.SymDistinct = res.Distinct
	}
	return rep, nil
}
