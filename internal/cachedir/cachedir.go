package cachedir

import (
	"fmt"
	"os"
	"path/filepath"
)

// Root is $FVM_CACHE if set, else $XDG_CACHE_HOME/friendly-vm, else
// ~/.cache/friendly-vm (scripts/tla2tools.sh derives the same path).
func Root() (string, error) {
	if d := os.Getenv("FVM_CACHE"); d != "" {
		return d, nil
	}
	d, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("no cache directory (set FVM_CACHE): %w", err)
	}
	return filepath.Join(d, "friendly-vm"), nil
}
