package tla

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/friendly-vm/fvm/spec"
	"github.com/friendly-vm/fvm/spec/mc"
)

// Outputs of a TLCServer (tla2tools.jar v1.8.0, FVMDistributedTLC server),
// shortened: a complete search, a violation found by a worker, a violation
// in an initial state.
const (
	distOK = `TLC2 TLC Server Version 2026.04.29.170100
FVM gate: no states before 2 worker threads have registered
Starting... (2026-11-30 03:16:16)
Computing initial states...
Finished computing initial states: 400 distinct state(s) generated at 2026-11-30 03:16:24.
TLC server at vm is ready (2026-11-30 03:16:24)
Registration for worker at rmi://localhost:34259/0 completed (2026-11-30 03:16:32)
Registration for worker at rmi://localhost:39799/0 completed (2026-11-30 03:16:32)
FVM gate: 2 worker threads registered, the search starts
Progress(21) at 2026-11-30 03:15:33: 36,765 states generated (246,360 s/min), 12,088 distinct states found (64,650 ds/min), 25 states left on queue.
Worker: rmi://localhost:34259/0 Sent: 7464 Rcvd: 7390 CacheRatio: 0.25 (2026-11-30 03:16:37)
Worker: rmi://localhost:39799/0 Sent: 4776 Rcvd: 4508 CacheRatio: 0.31 (2026-11-30 03:16:37)
Model checking completed. No error has been found.
  Estimates of the probability that TLC did not check all reachable states
  because two distinct states had the same fingerprint:
  calculated (optimistic):  val = 0.0
  based on the actual fingerprints:  val = 2.8E-12
37,305 states generated, 12,240 distinct states found, 0 states left on queue.
The depth of the complete state graph search is 22.
Finished in 19s at (2026-11-30 03:16:38)
vm, work completed. Thank you!
`
	distTrace = `FVM gate: no states before 2 worker threads have registered
TLC server at vm is ready (2026-11-30 03:28:34)
Registration for worker at rmi://localhost:33815/0 completed (2026-11-30 03:28:40)
Registration for worker at rmi://localhost:37819/0 completed (2026-11-30 03:28:40)
FVM gate: 2 worker threads registered, the search starts
Error: The behavior up to this point is:
State 1: <Initial predicate>
/\ d = (fvm0 :> 9 @@ fvm1 :> 16)
/\ q = (fvm0 :> <<>> @@ fvm1 :> <<>>)

State 2: <HostTick line 251, col 13 to line 254, col 26 of module FVM>
/\ d = (fvm0 :> 9 @@ fvm1 :> 16)
/\ q = (fvm0 :> <<TRUE>> @@ fvm1 :> <<TRUE>>)

State 3: <HostTick line 251, col 13 to line 254, col 26 of module FVM>
/\ d = (fvm0 :> 9 @@ fvm1 :> 16)
/\ q = (fvm0 :> <<TRUE, TRUE>> @@ fvm1 :> <<TRUE, TRUE>>)

Worker: rmi://localhost:37819/0 Sent: 1 Rcvd: 0 CacheRatio: 0.25 (2026-11-30 03:28:41)
Worker: rmi://localhost:33815/0 Sent: 414 Rcvd: 400 CacheRatio: 0.00 (2026-11-30 03:28:41)
1199 states generated, 800 distinct states found, 385 states left on queue.
Finished in 08s at (2026-11-30 03:28:41)
`
	distInit = `FVM gate: no states before 2 worker threads have registered
Computing initial states...
Error: Error: Invariant Probe is violated.
While working on the initial state:
/\ d = (fvm0 :> 1 @@ fvm1 :> 12)
/\ q = (fvm0 :> <<>> @@ fvm1 :> <<>>)

0 states generated, 400 distinct states found, 400 states left on queue.
Finished in 00s at (2026-11-30 03:17:43)
`
)

func TestParseDistributedOutput(t *testing.T) {
	res, err := ParseDistributedOutput(distOK)
	if err != nil {
		t.Fatal(err)
	}
	if res.Distinct != 12240 || res.Generated != 37305 || !res.Complete || res.Depth != 22 || res.Violated != "" {
		t.Errorf("complete run: %+v", res.Result)
	}
	if len(res.Registered) != 2 || res.WorkerJVMs != 2 || res.Sent["rmi://localhost:34259/0"] != 7464 || res.Sent["rmi://localhost:39799/0"] != 4776 {
		t.Errorf("workers: registered %v (%d JVMs), sent %v", res.Registered, res.WorkerJVMs, res.Sent)
	}
	if res.GateWants != 2 || res.StartedWith != 2 {
		t.Errorf("gate: wants %d, started with %d; want 2 and 2", res.GateWants, res.StartedWith)
	}
	if _, err := ParseDistributedOutput(strings.Replace(distOK, "FVM gate: no states before 2", "FVM: no states before 2", 1)); err == nil {
		t.Error("a server without the launcher's gate parsed as a verdict")
	}

	res, err = ParseDistributedOutput(distTrace)
	if err != nil {
		t.Fatal(err)
	}
	if res.Violated != "?" || res.Kind != "unnamed" || res.TraceStates != 3 || res.Complete {
		t.Errorf("violation: %+v", res.Result)
	}
	want := "/\\ d = (fvm0 :> 9 @@ fvm1 :> 16)\n/\\ q = (fvm0 :> <<TRUE, TRUE>> @@ fvm1 :> <<TRUE, TRUE>>)"
	if got := lastTraceState(distTrace); got != want {
		t.Errorf("last trace state:\n%s\nwant\n%s", got, want)
	}

	res, err = ParseDistributedOutput(distInit)
	if err != nil {
		t.Fatal(err)
	}
	if res.Violated != "Probe" || res.Kind != "invariant" || res.TraceStates != 1 || res.StartedWith != 0 {
		t.Errorf("initial-state violation: %+v (search started with %d workers)", res.Result, res.StartedWith)
	}

	if _, err := ParseDistributedOutput("Error: Attempted to apply function\n"); err == nil {
		t.Error("an evaluation error parsed as a verdict")
	}
	if _, err := ParseDistributedOutput("FVM gate: no states before 2 worker threads have registered\nTLC server at vm is ready\nProgress(1) at x: 400 states generated\n"); err == nil {
		t.Error("an unfinished run parsed as a verdict")
	}
}

// distRunner returns a TLC runner for distributed runs or skips the test.
func distRunner(t *testing.T) *Runner {
	t.Helper()
	r := tlcRunner(t)
	java := r.Java
	if java == "" {
		java = "java"
	}
	if _, err := findJavac(java); err != nil {
		t.Skip("SKIP tlc distributed: " + err.Error())
	}
	return r
}

// progressLog passes each progress line to t.Log.
type progressLog struct{ t *testing.T }

func (p progressLog) Write(b []byte) (int, error) {
	p.t.Log(strings.TrimRight(string(b), "\n"))
	return len(b), nil
}

// TestDistributed runs TLC's distributed mode (a TLCServer and two
// TLCWorker JVMs on 127.0.0.1) on a configuration and compares the
// distinct-state count and the verdicts with the Go checker's safety run
// without symmetry. The second worker starts 3 s after the first (about a
// fifth of the search on an idle core): the server must wait for it before
// it hands out any state (the launcher's gate; without it the worker joins
// the running search, which once ended a CI run with TLC's
// NullPointerException).
func TestDistributed(t *testing.T) {
	r := distRunner(t)
	m, err := Load("aiad")
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	res, err := r.CheckDistributed(context.Background(), m, DistributedOptions{
		Workers: 2, Threads: 1, Report: 5 * time.Second, Timeout: 5 * time.Minute, Progress: progressLog{t},
		Stagger: 3 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	wall := time.Since(start)
	// The gate's count is the server's own (its map of worker threads,
	// filled before a thread starts); TLC prints "Registration ...
	// completed" after starting the thread, so that line may follow the
	// gate's. Two threads registered when the search started and there
	// are only two: none joined the running search.
	if res.GateWants != 2 || res.StartedWith != 2 || len(res.Registered) != 2 {
		t.Errorf("the server waited for %d worker threads and started with %d (%d registered in all), want 2, 2 and 2",
			res.GateWants, res.StartedWith, len(res.Registered))
	}
	gres, err := spec.Check(m.Params, spec.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if gres.Safety.Stats.Symmetry {
		t.Fatal("the Go checker used symmetry")
	}
	goVerdicts := map[string]mc.Status{}
	for _, v := range gres.Verdicts() {
		switch v.Status {
		case mc.Holds:
			goVerdicts[v.Name] = mc.Holds
		case mc.Violated:
			goVerdicts[v.Name] = mc.Violated
		}
	}
	for _, d := range res.CompareGo(gres.Safety.Stats.Distinct, goVerdicts) {
		t.Error(d)
	}
	if res.Violated != "" || !res.Complete {
		t.Errorf("distributed TLC: violated %q, complete %v", res.Violated, res.Complete)
	}
	for _, p := range append(m.Invariants(), spec.Deadlock) {
		if res.Verdicts[p] != mc.Holds {
			t.Errorf("%s: distributed TLC says %q, want holds", p, res.Verdicts[p])
		}
	}
	if res.WorkerJVMs != 2 {
		t.Errorf("%d worker JVMs registered with the server (%v), want 2", res.WorkerJVMs, res.Registered)
	}
	for _, uri := range res.Registered {
		if res.Sent[uri] == 0 {
			t.Errorf("worker %s got no states", uri)
		}
	}
	t.Logf("distributed TLC (server + 2 workers): %d distinct states, depth %d, %.1fs (TLC %.1fs, CPU %.1fs, states sent %v); Go checker: %d distinct states",
		res.Distinct, res.Depth, wall.Seconds(), res.Duration.Seconds(), res.CPU.Seconds(), res.Sent, gres.Safety.Stats.Distinct)
}

// TestDistributedViolation checks that a violation found by a worker is
// reported and named: distributed TLC prints only its trace.
func TestDistributedViolation(t *testing.T) {
	r := distRunner(t)
	m, err := Load("aiad")
	if err != nil {
		t.Fatal(err)
	}
	// Two pending samples are first reached in the third state.
	probe := "---- MODULE MC_aiad_probe ----\nEXTENDS MC_aiad\nProbe == \\A i \\in const_FVMs : Len(q[i]) < 2\n====\n"
	cfg := m.Cfg(CfgOptions{Invariants: []string{spec.TypeOK, "Probe"}})
	res, err := r.RunDistributed(context.Background(), m, cfg, "MC_aiad_probe", map[string]string{"MC_aiad_probe.tla": probe},
		DistributedOptions{Report: 5 * time.Second, Timeout: 5 * time.Minute, Progress: progressLog{t}})
	if err != nil {
		t.Fatal(err)
	}
	if res.Violated != "Probe" || res.Kind != "invariant" || res.NamedBy == "" || res.Verdicts["Probe"] != mc.Violated {
		t.Errorf("violation: %q (%s, named by %q), verdicts %v", res.Violated, res.Kind, res.NamedBy, res.Verdicts)
	}
	if res.TraceStates < 3 {
		t.Errorf("counterexample of %d states, the shortest has 3", res.TraceStates)
	}
}

func TestDistributedRejectsLiveness(t *testing.T) {
	r := &Runner{Jar: "/nonexistent/tla2tools.jar"}
	m, err := Load("aiad")
	if err != nil {
		t.Fatal(err)
	}
	_, err = r.RunDistributed(context.Background(), m, m.FullCfg(), "", nil, DistributedOptions{})
	if err == nil || errors.Is(err, ErrNoJavac) || !strings.Contains(err.Error(), "PROPERTIES") {
		t.Errorf("a cfg with PROPERTIES: %v", err)
	}
}
