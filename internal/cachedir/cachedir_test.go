package cachedir

import (
	"path/filepath"
	"testing"
)

func TestRoot(t *testing.T) {
	for _, tc := range []struct {
		name, fvm, xdg, home, want string
	}{
		{"FVM_CACHE wins", "/c", "/x", "/h", "/c"},
		{"XDG_CACHE_HOME next", "", "/x", "/h", "/x/friendly-vm"},
		{"then ~/.cache", "", "", "/h", "/h/.cache/friendly-vm"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("FVM_CACHE", tc.fvm)
			t.Setenv("XDG_CACHE_HOME", tc.xdg)
			t.Setenv("HOME", tc.home)
			got, err := Root()
			if err != nil {
				t.Fatal(err)
			}
			if got != filepath.FromSlash(tc.want) {
				t.Errorf("Root() = %q, want %q", got, tc.want)
			}
		})
	}
}
