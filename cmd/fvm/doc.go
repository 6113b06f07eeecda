// Command fvm is the one CLI of friendly-vm: it checks the reference model,
// simulates it, runs the analytic proofs, drives TLC, builds and runs the
// User-Mode Linux guests, checks their traces and writes reports.
package main
