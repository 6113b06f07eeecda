package tla

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/friendly-vm/fvm/configs"
	"github.com/friendly-vm/fvm/ref"
	"github.com/friendly-vm/fvm/spec"
	"github.com/friendly-vm/fvm/vocab"
)

// tlcMissing is why TLC tests are skipped ("" when TLC is available); set
// once by TestMain, which prints the one SKIP line.
var tlcMissing string

func TestMain(m *testing.M) {
	if _, err := FindRunner(); err != nil {
		tlcMissing = err.Error()
		fmt.Printf("SKIP tlc: %s\n", SkipHint)
	}
	os.Exit(m.Run())
}

// tlcRunner returns a TLC runner or skips the test.
func tlcRunner(t *testing.T) *Runner {
	t.Helper()
	if tlcMissing != "" {
		t.Skip("SKIP tlc: " + tlcMissing)
	}
	r, err := FindRunner()
	if err != nil {
		t.Fatal(err)
	}
	if testing.Verbose() && os.Getenv("FVM_TLC_LOG") != "" {
		r.Log = os.Stderr
	}
	return r
}

// tlcConfigs returns the configurations marked for TLC in CI.
func tlcConfigs(t *testing.T) []*Model {
	t.Helper()
	var ms []*Model
	for _, name := range configs.Names() {
		m, err := Load(name)
		if err != nil {
			t.Fatal(err)
		}
		if m.Config.Check.TLC {
			ms = append(ms, m)
		}
	}
	if len(ms) == 0 {
		t.Fatal("no configuration has check.tlc = true")
	}
	return ms
}

// refSearch is an exhaustive breadth-first search over the reference
// model: ref.Init, ref.Enabled, ref.Step. It is the first, independent
// oracle for TLC's state counts.
type refSearch struct {
	p *ref.Params
	// depth of every reachable state (BFS level, initial states 0)
	depth map[ref.State]int
	// symmetric is the number of orbits under permutations of the FVMs
	// (only meaningful when all FVMs are identical).
	symmetric int
}

func newRefSearch(p *ref.Params) *refSearch {
	s := &refSearch{p: p, depth: map[ref.State]int{}}
	frontier := ref.Init(p)
	for _, st := range frontier {
		s.depth[st] = 0
	}
	for level := 1; len(frontier) > 0; level++ {
		var next []ref.State
		for _, st := range frontier {
			for _, a := range ref.Enabled(p, st) {
				succ, err := ref.Step(p, st, a)
				if err != nil {
					panic(err)
				}
				if _, ok := s.depth[succ]; !ok {
					s.depth[succ] = level
					next = append(next, succ)
				}
			}
		}
		frontier = next
	}
	orbits := map[ref.State]bool{}
	for st := range s.depth {
		orbits[canon(p.N(), st)] = true
	}
	s.symmetric = len(orbits)
	return s
}

// canon sorts the FVMs of a state by (demand, FIFO): the representative of
// its orbit under permutations of identical FVMs.
func canon(n int, s ref.State) ref.State {
	type fvm struct {
		d uint16
		q ref.FIFO
	}
	fs := make([]fvm, n)
	for i := range fs {
		fs[i] = fvm{s.D[i], s.Q[i]}
	}
	slices.SortFunc(fs, func(a, b fvm) int {
		return cmp.Or(cmp.Compare(a.d, b.d), cmp.Compare(a.q.Len, b.q.Len), cmp.Compare(a.q.Bits, b.q.Bits))
	})
	var c ref.State
	for i, f := range fs {
		c.D[i], c.Q[i] = f.d, f.q
	}
	return c
}

func allIdentical(p *ref.Params) bool {
	for i := range p.FVMs {
		if !p.Identical(0, i) {
			return false
		}
	}
	return true
}

func TestGeneratedUpToDate(t *testing.T) {
	want := map[string]string{}
	for _, name := range configs.Names() {
		m, err := Load(name)
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range m.Files() {
			want[f.Name] = f.Text
		}
	}
	entries, err := os.ReadDir("generated")
	if err != nil {
		t.Fatalf("%v (run: go run ./cmd/fvm tlc gen --all)", err)
	}
	have := map[string]bool{}
	for _, e := range entries {
		have[e.Name()] = true
		text, ok := want[e.Name()]
		if !ok {
			t.Errorf("tla/generated/%s: no configuration generates it (stale; remove it)", e.Name())
			continue
		}
		got, err := os.ReadFile(filepath.Join("generated", e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if string(got) != text {
			t.Errorf("tla/generated/%s is stale: run `go run ./cmd/fvm tlc gen --all`", e.Name())
		}
	}
	for name := range want {
		if !have[name] {
			t.Errorf("tla/generated/%s is missing: run `go run ./cmd/fvm tlc gen --all`", name)
		}
	}
}

// Every configuration keeps every intermediate of FVM.tla inside TLC's
// 32-bit integers.
func TestIntegerRange(t *testing.T) {
	for _, name := range configs.Names() {
		m, err := Load(name)
		if err != nil {
			t.Fatal(err)
		}
		if err := m.CheckIntRange(); err != nil {
			t.Error(err)
		}
		var worst Intermediate
		for _, im := range m.Intermediates() {
			if im.Max > worst.Max {
				worst = im
			}
		}
		t.Logf("%-14s largest intermediate %d (%s)", name, worst.Max, worst.Formula)
	}
}

// The bound is not vacuous: a configuration that overflows is caught.
func TestIntegerRangeCatchesOverflow(t *testing.T) {
	m, err := Load("duty-steal")
	if err != nil {
		t.Fatal(err)
	}
	m.Params.U, m.Params.Capacity, m.Params.Dmax = 1000, 1000, 1000
	m.Params.Theta = vocab.R(1, 1000)
	if err := m.CheckIntRange(); err == nil {
		t.Fatal("u = 1000 under duty with 3 FVMs: want an overflow error")
	}
}

func TestParseOutput(t *testing.T) {
	ok := `Model checking completed. No error has been found.
1059462 states generated, 373556 distinct states found, 0 states left on queue.
The depth of the complete state graph search is 24.
`
	res, err := ParseOutput(ok)
	if err != nil || res.Distinct != 373556 || res.Generated != 1059462 || !res.Complete || res.Depth != 24 || res.Violated != "" {
		t.Fatalf("ok: %+v, %v", res, err)
	}
	lasso := `Error: Temporal property Fair was violated.

Error: The following behavior constitutes a counter-example:

State 1: <Initial predicate>
/\ d = 1

State 2: <HostTick line 248, col 13 to line 251, col 26 of module FVM>
/\ d = 1

State 3: <Act(fvm0) line 254, col 11 to line 256, col 43 of module FVM>
/\ d = 2

Back to state 2: <HostTick line 248, col 13 to line 251, col 26 of module FVM>

18841 states generated, 8716 distinct states found, 0 states left on queue.
`
	res, err = ParseOutput(lasso)
	if err != nil || res.Violated != "Fair" || res.Kind != "temporal" || res.TraceStates != 3 || res.LoopTo != 2 {
		t.Fatalf("lasso: %+v, %v", res, err)
	}
	inv := `Error: Invariant Probe is violated.
Error: The behavior up to this point is:
State 1: <Initial predicate>
State 2: <HostTick line 1>
1,234 states generated, 1,000 distinct states found, 17 states left on queue.
`
	res, err = ParseOutput(inv)
	if err != nil || res.Violated != "Probe" || res.Kind != "invariant" || res.TraceStates != 2 || res.Complete || res.Distinct != 1000 {
		t.Fatalf("invariant: %+v, %v", res, err)
	}
	// TLC's own words for a deadlock (v1.8.0), a bug once renamed away.
	dead := `Error: Deadlock reached.
Error: The behavior up to this point is:
State 1: <Initial predicate>
/\ d = 1

5 states generated, 3 distinct states found, 1 states left on queue.
`
	res, err = ParseOutput(dead)
	if err != nil || res.Violated != spec.Deadlock || res.TraceStates != 1 {
		t.Fatalf("deadlock: %+v, %v", res, err)
	}
	if _, err := ParseOutput("Error: Attempted to apply function\n0 states generated, 0 distinct states found, 0 states left on queue.\n"); err == nil {
		t.Fatal("an evaluation error must not parse as a verdict")
	}
}

// TestTLCCrossCheck runs TLC on every CI-sized configuration and checks
// its distinct-state counts (without and with symmetry) against an
// exhaustive search over the reference model, and its verdicts against the
// configuration's expectations (and the Go checker's; see
// crosscheck_spec_test.go).
func TestTLCCrossCheck(t *testing.T) {
	r := tlcRunner(t)
	// TLC's liveness checking is mostly sequential, so two TLCs with one
	// worker each (go test's -parallel defaults to GOMAXPROCS) finish the
	// set sooner than one TLC at a time with -workers auto.
	r.Workers = "1"
	var mu sync.Mutex
	var total, cpu time.Duration
	var summary bytes.Buffer
	ran := 0
	start := time.Now()
	t.Run("configs", func(t *testing.T) {
		for _, m := range tlcConfigs(t) {
			t.Run(m.Config.Name, func(t *testing.T) {
				t.Parallel()
				crossCheckConfig(t, r, m, func(rep *Report) {
					mu.Lock()
					defer mu.Unlock()
					total += rep.Duration
					cpu += rep.CPU
					ran++
					fmt.Fprintf(&summary, "%-14s distinct %8d  symmetric %7d  runs %d  %6.1fs (CPU %6.1fs)  %v\n",
						m.Config.Name, rep.Distinct, rep.SymDistinct, len(rep.Runs), rep.Duration.Seconds(), rep.CPU.Seconds(), rep.Verdicts)
				})
			})
		}
	})
	t.Logf("TLC on %d configurations: %.1fs wall for the set, runs %.1fs, CPU %.1fs\n%s",
		ran, time.Since(start).Seconds(), total.Seconds(), cpu.Seconds(), summary.String())
}

func crossCheckConfig(t *testing.T, r *Runner, m *Model, record func(*Report)) {
	rs := newRefSearch(m.Params)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Minute)
	defer cancel()
	rep, err := r.Check(ctx, m, CheckOptions{})
	if err != nil {
		t.Fatal(err)
	}
	record(rep)
	if rep.Distinct != int64(len(rs.depth)) {
		t.Errorf("TLC found %d distinct states, the reference model has %d reachable states", rep.Distinct, len(rs.depth))
	}
	if m.Config.Check.Symmetry {
		if !allIdentical(m.Params) {
			t.Fatalf("check.symmetry with non-identical FVMs")
		}
		if rep.SymDistinct != int64(rs.symmetric) {
			t.Errorf("TLC with symmetry found %d distinct states, the reference model has %d orbits", rep.SymDistinct, rs.symmetric)
		}
	}
	props := append(m.Invariants(), m.Temporal()...)
	props = append(props, spec.Deadlock)
	for _, prop := range props {
		want := m.Config.Check.Expected(prop)
		if got := rep.Verdicts[prop]; got != want {
			t.Errorf("%s: TLC says %q, the configuration expects %q", prop, got, want)
		}
	}
	crossCheckSpec(t, m, rep)
}

// TestTLCCounterexampleLength checks that TLC's and the Go checker's
// counterexamples to an invariant are shortest and of equal length. No
// invariant of the model fails in any configuration, so the test uses a
// probe invariant "d is not the demand vector of a deepest reachable
// state": TLC's trace has exactly as many states as the shortest path in
// the reference model, and as the Go checker's.
func TestTLCCounterexampleLength(t *testing.T) {
	r := tlcRunner(t)
	r.Workers = "1" // a single worker makes TLC's BFS strictly level by level
	for _, name := range []string{"default", "hetero-delay", "fair-host", "duty-vct"} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			m, err := Load(name)
			if err != nil {
				t.Fatal(err)
			}
			rs := newRefSearch(m.Params)
			target, want := probeTarget(m.Params, rs)
			mod, cfg := probeModule(m, target)
			res, err := r.Run(context.Background(), m, cfg, "Probe_"+m.ModuleName(), map[string]string{"Probe_" + m.ModuleName() + ".tla": mod})
			if err != nil {
				t.Fatal(err)
			}
			if res.Violated != "Probe" {
				t.Fatalf("probe not violated: %+v", res)
			}
			if res.TraceStates != want+1 {
				t.Errorf("TLC's counterexample has %d states, the shortest path has %d steps (%d states)", res.TraceStates, want, want+1)
			}
			if g := goProbeLength(t, m, target); g != res.TraceStates {
				t.Errorf("TLC's counterexample has %d states, the Go checker's %d", res.TraceStates, g)
			}
		})
	}
}

// probeTarget picks the smallest state at the largest BFS depth of the
// reference model and returns it with its depth (the length of a shortest
// path to it).
func probeTarget(p *ref.Params, rs *refSearch) (ref.State, int) {
	n := p.N()
	var target ref.State
	maxDepth := -1
	less := func(a, b ref.State) bool { return a.Format(n) < b.Format(n) }
	for s, d := range rs.depth {
		if d > maxDepth || d == maxDepth && less(s, target) {
			maxDepth, target = d, s
		}
	}
	return target, maxDepth
}

// probeModule is a module extending the model with the invariant
// Probe == the state is not target.
func probeModule(m *Model, target ref.State) (mod, cfg string) {
	var conj []string
	for i := range m.Params.N() {
		bits := make([]string, target.Q[i].Len)
		for k := range bits {
			bits[k] = strings.ToUpper(fmt.Sprint(target.Q[i].At(k)))
		}
		conj = append(conj, fmt.Sprintf("d[%s] = %d", FVMID(i), target.D[i]),
			fmt.Sprintf("q[%s] = <<%s>>", FVMID(i), strings.Join(bits, ", ")))
	}
	name := "Probe_" + m.ModuleName()
	mod = fmt.Sprintf("---- MODULE %s ----\nEXTENDS %s\nProbe == ~(%s)\n====\n", name, m.ModuleName(), strings.Join(conj, " /\\ "))
	cfg = m.Cfg(CfgOptions{Invariants: []string{"Probe"}})
	return mod, cfg
}

func TestFindRunnerWithoutJar(t *testing.T) {
	t.Setenv("TLA2TOOLS", filepath.Join(t.TempDir(), "missing.jar"))
	if _, err := FindRunner(); !errors.Is(err, ErrNoTLC) {
		t.Fatalf("FindRunner with a missing jar: %v, want ErrNoTLC", err)
	}
}

// Without TLA2TOOLS the runner takes the jar scripts/tla2tools.sh keeps
// in the cache, and says where it looked when there is none.
func TestFindRunnerInCache(t *testing.T) {
	cache := t.TempDir()
	t.Setenv("TLA2TOOLS", "")
	t.Setenv("FVM_CACHE", cache)
	jar := filepath.Join(cache, "tla2tools.jar")
	_, err := FindRunner()
	if !errors.Is(err, ErrNoTLC) || !strings.Contains(err.Error(), jar) {
		t.Fatalf("FindRunner with an empty cache: %v, want ErrNoTLC naming %s", err, jar)
	}
	if _, err := exec.LookPath("java"); err != nil {
		t.Skip("SKIP: no java on PATH: the cached jar cannot be used")
	}
	if err := os.WriteFile(jar, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	r, err := FindRunner()
	if err != nil {
		t.Fatal(err)
	}
	if r.Jar != jar {
		t.Errorf("FindRunner took %s, want the cached %s", r.Jar, jar)
	}
}
