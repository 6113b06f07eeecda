package host

import (
	"strings"
	"testing"
)

func TestIdlePauseAllowed(t *testing.T) {
	// CapEff lines as /proc/<pid>/status prints them: root's full set, an
	// unprivileged process's, and sets with only one of the two bits.
	for _, tc := range []struct {
		name   string
		status string
		n      int
		want   string // "" for allowed, else a substring of the error
	}{
		{"root", "Name:\tx\nCapEff:\t000001ffffffffff\n", 4, ""},
		{"unprivileged", "CapInh:\t0\nCapEff:\t0000000000000000\n", 1, "CAP_SYS_NICE"},
		{"nice only, one VM", "CapEff:\t0000000000800000\n", 1, ""},
		{"nice only, two VMs", "CapEff:\t0000000000800000\n", 2, "CAP_SYS_ADMIN"},
		{"admin only", "CapEff:\t0000000000200000\n", 2, "CAP_SYS_NICE"},
		{"nice and admin", "CapEff:\t0000000000a00000\n", 8, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			eff, err := effectiveCaps(strings.NewReader(tc.status))
			if err != nil {
				t.Fatal(err)
			}
			err = idlePauseAllowed(eff, tc.n)
			switch {
			case tc.want == "" && err != nil:
				t.Errorf("refused: %v", err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Errorf("got %v, want an error naming %s", err, tc.want)
			case err != nil && !strings.Contains(err.Error(), "--pause-mode sleep"):
				t.Errorf("%v: does not name the fix", err)
			}
		})
	}
}

func TestEffectiveCapsErrors(t *testing.T) {
	for _, s := range []string{"Name:\tx\n", "CapEff:\tzz\n"} {
		if _, err := effectiveCaps(strings.NewReader(s)); err == nil {
			t.Errorf("%q: no error", s)
		}
	}
}
