package fuzz

import (
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/friendly-vm/fvm/uml-impl/controller"
)

// faultEnv names the controller fault the suites run with. It is set only
// by TestSuitesCatchBrokenControllers, which re-runs this test binary.
const faultEnv = "FVM_FUZZ_FAULT"

var faultNames = map[string]controller.Fault{
	"clamp-off-by-one": controller.FaultClampOffByOne,
	"stale-twice":      controller.FaultStaleTwice,
}

// faultFromEnv is the fault under test, NoFault normally.
func faultFromEnv() controller.Fault { return faultNames[os.Getenv(faultEnv)] }

// A deliberately broken controller must be caught by both state-machine
// suites: each suite is re-run (in a child process of this test binary) with
// each fault and must fail.
func TestSuitesCatchBrokenControllers(t *testing.T) {
	if os.Getenv(faultEnv) != "" {
		t.Skip("running under a fault")
	}
	for fault := range faultNames {
		for _, suite := range []string{"TestControllerRefinesRefLockstep", "TestControllerInterfaceCommands"} {
			t.Run(fault+"/"+suite, func(t *testing.T) {
				cmd := exec.Command(os.Args[0], "-test.run", "^"+suite+"$", "-test.count=1", "-rapid.nofailfile")
				cmd.Env = append(os.Environ(), faultEnv+"="+fault)
				out, err := cmd.CombinedOutput()
				if err == nil {
					t.Fatalf("%s passed with the %s fault: the suite cannot see that bug\n%s", suite, fault, out)
				}
				first := ""
				for _, line := range strings.Split(string(out), "\n") {
					if strings.Contains(line, "lockstep_test.go") || strings.Contains(line, "Labels of failing property") {
						first = strings.TrimSpace(line)
						break
					}
				}
				t.Logf("%s with %s: caught: %s", suite, fault, first)
			})
		}
	}
}
