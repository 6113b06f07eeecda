package friendly

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"runtime"
	"syscall"

	"golang.org/x/sys/unix"

	"github.com/friendly-vm/fvm/friendly/cgroup"
)

// HelperArgs are the arguments, after the executable, that make fvm run
// Helper (the hidden command `fvm friendly helper`).
var HelperArgs = []string{"friendly", "helper"}

// ExecSpec is what the exec helper does before it execs Argv.
type ExecSpec struct {
	Argv []string `json:"argv"`
	// Wait: read fd 3 until a byte arrives (the controller has moved this
	// process into the group); end-of-file without one means the
	// controller is gone, and the helper exits 125 without running Argv.
	Wait bool `json:"wait,omitempty"`
	// CPU, if >= 0, pins the command to that CPU.
	CPU int `json:"cpu"`
	// Nice, if set, is the command's nice value.
	Nice *int `json:"nice,omitempty"`
	// Idle runs the command under SCHED_IDLE.
	Idle bool `json:"idle,omitempty"`
}

// WatchdogSpec tells the watchdog what to restore.
type WatchdogSpec struct {
	Layout  cgroup.Layout `json:"layout"`
	Group   string        `json:"group"`
	Trace   string        `json:"trace"`
	VM      int           `json:"vm"`
	Summary string        `json:"summary"`
}

// helperCmd builds the command that runs a helper of the given kind.
func helperCmd(exe, kind string, spec any) (*exec.Cmd, error) {
	b, err := json.Marshal(spec)
	if err != nil {
		return nil, fmt.Errorf("%s helper: %w", kind, err)
	}
	args := append(append(append([]string(nil), HelperArgs...), kind), string(b))
	return exec.Command(exe, args...), nil
}

// Exit statuses of the exec helper when it cannot run the command.
const (
	ExitNotStarted = 125 // the controller went away before the command started
	ExitNotFound   = 127 // the command was not found or could not be executed
)

// Helper runs a helper process: args are "exec" or "watchdog" and its
// JSON spec. It returns the process's exit status; the exec helper does
// not return when it runs the command.
func Helper(args []string, stderr io.Writer) int {
	if len(args) != 2 {
		fmt.Fprintf(stderr, "fvm friendly helper: want exec|watchdog and a JSON spec, got %q\n", args)
		return 2
	}
	switch args[0] {
	case "exec":
		var s ExecSpec
		if err := json.Unmarshal([]byte(args[1]), &s); err != nil || len(s.Argv) == 0 {
			fmt.Fprintf(stderr, "fvm friendly helper exec: bad spec %q: %v\n", args[1], err)
			return 2
		}
		return execHelper(s, stderr)
	case "watchdog":
		var s WatchdogSpec
		if err := json.Unmarshal([]byte(args[1]), &s); err != nil {
			fmt.Fprintf(stderr, "fvm friendly helper watchdog: bad spec %q: %v\n", args[1], err)
			return 2
		}
		return watchdog(s, os.NewFile(3, "controller"), stderr)
	}
	fmt.Fprintf(stderr, "fvm friendly helper: unknown helper %q (want exec or watchdog)\n", args[0])
	return 2
}

// execHelper waits for the go-ahead, applies the spec to its own thread
// and execs the command (nice, policy and affinity are per thread in
// Linux, and the thread that calls execve becomes the command's).
func execHelper(s ExecSpec, stderr io.Writer) int {
	if s.Wait {
		f := os.NewFile(3, "go")
		var b [1]byte
		n, _ := io.ReadFull(f, b[:])
		f.Close()
		if n != 1 {
			fmt.Fprintln(stderr, "fvm friendly: the controller went away before the command started")
			return ExitNotStarted
		}
	}
	path, err := exec.LookPath(s.Argv[0])
	if err != nil {
		fmt.Fprintf(stderr, "fvm friendly: %v\n", err)
		return ExitNotFound
	}
	runtime.LockOSThread()
	if s.CPU >= 0 {
		var set unix.CPUSet
		set.Set(s.CPU)
		if err := unix.SchedSetaffinity(0, &set); err != nil {
			fmt.Fprintf(stderr, "fvm friendly: pin to CPU %d: %v\n", s.CPU, err)
			return ExitNotFound
		}
	}
	if s.Nice != nil {
		if err := unix.Setpriority(unix.PRIO_PROCESS, 0, *s.Nice); err != nil {
			fmt.Fprintf(stderr, "fvm friendly: nice %d: %v\n", *s.Nice, err)
			return ExitNotFound
		}
	}
	if s.Idle {
		if err := unix.SchedSetAttr(0, &unix.SchedAttr{Size: unix.SizeofSchedAttr, Policy: unix.SCHED_IDLE}, 0); err != nil {
			fmt.Fprintf(stderr, "fvm friendly: SCHED_IDLE: %v\n", err)
			return ExitNotFound
		}
	}
	err = syscall.Exec(path, s.Argv, os.Environ())
	fmt.Fprintf(stderr, "fvm friendly: exec %s: %v\n", path, err)
	return ExitNotFound
}

// watchdog waits until the controller is gone (end-of-file on r: the
// kernel closes the controller's write end when it dies, however it dies)
// and restores what it left.
func watchdog(s WatchdogSpec, r io.ReadCloser, stderr io.Writer) int {
	signal.Ignore(syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP, syscall.SIGQUIT, syscall.SIGPIPE)
	_, _ = io.Copy(io.Discard, r)
	r.Close()
	did, err := Restore(cgroup.OS{}, s, Now())
	if did {
		fmt.Fprintf(stderr, "fvm friendly watchdog: the controller of group %s died; restored: the quota is lifted, its processes are back in their cgroups, the group is removed; %s has an unclean end\n", s.Group, s.Trace)
	}
	if err != nil {
		fmt.Fprintf(stderr, "fvm friendly watchdog: %v\n", err)
		return 1
	}
	return 0
}
