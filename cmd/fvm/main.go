package main

import (
	"errors"
	"fmt"
	"os"

	"github.com/spf13/cobra"
)

// Exit codes shared by every subcommand.
const (
	exitOK        = 0 // every property holds / the command succeeded
	exitViolation = 1 // a property is violated or a trace does not refine
	exitBadInput  = 2 // bad flags, configuration or input files
)

// badInputError marks errors caused by the user's input (exit code 2).
type badInputError struct{ err error }

func (e badInputError) Error() string { return e.err.Error() }
func (e badInputError) Unwrap() error { return e.err }

// badInput wraps err so that main exits with exitBadInput.
func badInput(err error) error { return badInputError{err} }

// violationError marks a verdict that a property failed (exit code 1); the
// command has already printed the counterexample.
type violationError struct{ msg string }

func (e violationError) Error() string { return e.msg }

func newRootCmd() *cobra.Command {
	root := &cobra.Command{
		Use:           "fvm",
		Short:         "Friendly Virtual Machines: reference model, checkers, proofs and the UML system",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return badInput(err) })
	root.AddCommand(
		newCheckCmd(),
		newVersionCmd(),
		newProveCmd(),
		newSimulateCmd(),
		newTraceCmd(),
		newUMLCmd(),
		newVerifyCmd(),
		newReportCmd(),
		newTLCCmd(),
		newDocsCmd(),
		newFriendlyCmd(),
	)
	return root
}

func main() {
	os.Exit(run(os.Args[1:]))
}

func run(args []string) int {
	root := newRootCmd()
	root.SetArgs(args)
	err := root.Execute()
	if err == nil {
		return exitOK
	}
	var ec exitCodeError
	if errors.As(err, &ec) {
		return ec.code // a command's own status, passed through
	}
	var v violationError
	if errors.As(err, &v) {
		fmt.Fprintln(os.Stderr, "fvm:", v.msg)
		return exitViolation
	}
	fmt.Fprintln(os.Stderr, "fvm:", err)
	var b badInputError
	if errors.As(err, &b) {
		return exitBadInput
	}
	// Cobra reports unknown commands and flags as plain errors; they are bad input too.
	return exitBadInput
}
