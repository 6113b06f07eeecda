//go:build !linux

package tla

import (
	"os/exec"
	"syscall"
)

// jvmProcAttr: without Linux's parent-death signal a JVM is only killed by
// RunDistributed itself.
func jvmProcAttr() *syscall.SysProcAttr { return nil }

// killJVM kills the JVM.
func killJVM(cmd *exec.Cmd) { _ = cmd.Process.Kill() }
