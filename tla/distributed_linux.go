package tla

import (
	"os/exec"
	"syscall"
)

// jvmProcAttr puts a JVM in its own process group and has the kernel kill
// it when the process that started it dies (even by SIGKILL), so that no
// TLC server or worker outlives fvm.
func jvmProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}

// killJVM kills the JVM's process group.
func killJVM(cmd *exec.Cmd) {
	_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
}
