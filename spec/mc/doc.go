// Package mc is friendly-vm's explicit-state model checker engine. Its one job:
// explore every state reachable in a Model whose states are packed into a
// uint64, and decide invariants (with shortest counterexamples), deadlock
// freedom, and eventually-always properties <>[]P under weak fairness of every
// action (with lasso counterexamples), reporting statistics as it goes.
//
// The engine knows nothing about friendly-vm: package spec instantiates it
// for the reference model.
//
// # Search
//
// Check runs a level-synchronous parallel breadth-first search with
// GOMAXPROCS workers. The visited set is a lock-free open-addressing hash
// table of packed states (linear probing, one compare-and-swap per new state;
// the packed state is its own exact fingerprint, so there are no hash
// collisions to worry about; the value 2^64-1 is reserved and must never be
// emitted by a model). The table is sized from Options.ExpectedStates and
// doubles between work chunks when it is 75% full; if the next size would
// exceed Options.MaxMemory the check fails with an error that says so. On
// Linux it is mapped directly from the kernel with transparent huge pages,
// since it is read at random. Workers expand frontier states in batches,
// software-pipelined: the home slots of one batch's successors are
// prefetched while the next batch is generated, then inserted, so cache
// misses overlap instead of stalling one by one. There is no map, no
// allocation per state, and, when M is a concrete (non-pointer) type, no
// interface call per state.
//
// Every distinct state is also appended, exactly once, to the list of its BFS
// level (the per-level arrays are the engine's parent links). A counterexample
// to an invariant is rebuilt backwards from the violating state: its
// predecessor at the previous level is the smallest state of that level with
// an edge to it. This makes counterexamples deterministic (independent of
// thread scheduling) and shortest (BFS depth), at the price of one scan of the
// earlier levels — paid only when a property fails. The search stops at the end
// of the first level that violates a property unless Options.KeepGoing is set;
// in both cases the reported violation of each property is the smallest state
// at the smallest depth.
//
// # Symmetry
//
// With Options.Symmetry the model must implement Canonicalizer; the visited
// set then stores Canon(s), and invariants are evaluated on canonical states
// (so they must be symmetric). Counterexamples are re-concretised into real
// paths of the model: starting at a concrete initial state, each step picks the
// first successor (in the model's emit order) whose canonical form is the next
// canonical state. Liveness is never checked with symmetry reduction (it can
// hide liveness violations); the Result says so.
//
// # Liveness
//
// For <>[]P properties (and when Options.LimitSets is set) the engine builds
// the explicit state graph after the search (CSR arrays with action labels,
// states numbered by BFS level then value), computes its strongly connected
// components with an iterative Tarjan algorithm (no recursion, so any depth is
// fine), and classifies each component: a component is a limit set of a weakly
// fair behaviour iff it has a cycle (more than one state, or a self-loop) and
// for every action a some edge inside it is labelled a, or a is disabled (no
// outgoing a-edge at all) in some state of it. A deadlock state is a limit set
// too (the behaviour stutters there forever, as in TLA+), and it is reported
// as a deadlock violation of its own unless Options.NoDeadlock is set. <>[]P is
// violated iff some limit set contains a state where P is false. The
// counterexample is a lasso: the shortest prefix from an initial state to the
// first (by BFS order) such state s, then a cycle inside the component from s
// back to s, built by chaining shortest in-component paths, that takes an edge
// of every action or passes a state where it is disabled — so the lasso itself
// is a weakly fair behaviour.
package mc
