package host_test

import (
	"context"
	"fmt"
	"log"
	"os"
	"time"

	"github.com/friendly-vm/fvm/uml-impl/host"
)

// Build the patched kernel (or reuse the cached one), boot a guest pinned
// to host CPU 0 that reads its own contention signal, and report the host
// CPU it used. (Compiled, not run: it needs the kernel source and minutes.)
func Example() {
	ctx := context.Background()
	kernel, err := host.Build(ctx, host.BuildConfig{PatchDir: "uml-impl/patch", InstallPackages: true, Progress: os.Stderr})
	if err != nil {
		log.Fatal(err)
	}
	g, err := host.Start(ctx, host.Config{
		Kernel:  kernel,
		Name:    "A",
		OutDir:  "/tmp/fvm-example",
		CPU:     0,
		Timeout: time.Minute,
		Script:  `cat /proc/fvm/stats > "$FVM_OUT/stats.txt"; cat /proc/fvm/windows > "$FVM_OUT/windows.txt"`,
	})
	if err != nil {
		log.Fatal(err)
	}
	if err := g.Wait(); err != nil {
		log.Fatal(err)
	}
	b, err := os.ReadFile("/tmp/fvm-example/windows.txt")
	if err != nil {
		log.Fatal(err)
	}
	ws, err := host.ParseWindows(string(b))
	if err != nil {
		log.Fatal(err)
	}
	h := g.CPUHistory()
	fmt.Printf("%d windows; host CPU %.3f s\n", len(ws), float64(h[len(h)-1].CPU)/1e9)
}
