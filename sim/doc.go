// Package sim runs the reference model: Simulate takes a seeded random
// behavior of ref (every action chosen uniformly among the enabled ones),
// Recorder replays any behavior (a simulation, a checker's counterexample)
// with the bookkeeping a trace needs, and Trace renders a behavior as the
// trace a perfect implementation would write, so that simulated runs and
// counterexamples go through the same trace tools as real runs.
package sim
