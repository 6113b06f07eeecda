package host

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
)

// ProbePackage is the import path of the guest-side test helper.
const ProbePackage = "github.com/friendly-vm/fvm/uml-impl/host/guestprobe"

// BuildProbe builds the guest-side helper (a static Go binary, runnable
// from the guest's hostfs root) into dir and returns its path. It runs the
// go tool, so the working directory must be inside this module.
func BuildProbe(ctx context.Context, dir string) (string, error) {
	out := filepath.Join(dir, "guestprobe")
	goTool := filepath.Join(os.Getenv("GOROOT"), "bin", "go")
	if _, err := os.Stat(goTool); err != nil {
		goTool = "go"
	}
	cmd := exec.CommandContext(ctx, goTool, "build", "-trimpath", "-o", out, ProbePackage)
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if b, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("build guest probe %s (run inside the friendly-vm module): %w: %s", ProbePackage, err, b)
	}
	return out, nil
}
