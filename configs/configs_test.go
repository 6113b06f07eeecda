package configs

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/friendly-vm/fvm/spec/mc"
)

func TestEveryEmbeddedConfigValidates(t *testing.T) {
	names := Names()
	for _, want := range []string{"default", "fair-host", "duty-vct", "duty-steal", "greedy", "hetero-params", "mimd", "aiad", "hetero-delay", "large", "medium"} {
		found := false
		for _, n := range names {
			found = found || n == want
		}
		if !found {
			t.Errorf("configuration %q missing (have %v)", want, names)
		}
	}
	for _, name := range names {
		c, err := Load(name)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if c.Name != name {
			t.Errorf("%s.json names itself %q", name, c.Name)
		}
		if c.Description == "" {
			t.Errorf("%s: no description", name)
		}
		if _, err := c.Params(); err != nil {
			t.Errorf("%s: %v", name, err)
		}
		for prop, v := range c.Check.Expect {
			if v != mc.Holds && v != mc.Violated {
				t.Errorf("%s: expect[%s] = %v, want holds or violated", name, prop, v)
			}
		}
	}
}

func TestLoadErrors(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	tests := []struct {
		name, arg, want string
	}{
		{"unknown name", "nosuch", `config "nosuch": no such configuration (have: `},
		{"missing file", filepath.Join(dir, "absent.json"), "no such file"},
		{"unknown field", write("typo.json", `{"n": 2, "alhpa": 1}`), `unknown field "alhpa"`},
		{"bad rational", write("rat.json", `{"n": 2, "beta": "1/0"}`), "denominator must be positive"},
		{"bad host", write("host.json", `{"n": 2, "host": "cfs"}`), `host "cfs": want one of shared, fair, duty`},
		{"old delay name", write("old.json", `{"n": 2, "d": 2}`), `unknown field "d" (the delay bound is now "delay")`},
	}
	for _, tc := range tests {
		_, err := Load(tc.arg)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: Load(%q) = %v, want an error containing %q", tc.name, tc.arg, err, tc.want)
		}
	}
	c, err := Load(write("bad.json", `{"n": 2, "u": 20, "capacity": 20, "kappa": "1", "host": "shared", "rule": "aimd", "alpha": -1, "beta": "1/2", "dmin": 1, "dmax": 20, "delay": 2}`))
	if err != nil {
		t.Fatal(err)
	}
	if c.Name != "bad" {
		t.Errorf("file config named %q, want the file's stem", c.Name)
	}
	if _, err := c.Params(); err == nil || !strings.Contains(err.Error(), "fvms[0].alpha = -1: must be in [1, u=20]") {
		t.Errorf("Params() = %v, want the alpha range error", err)
	}
}

func ExampleLoad() {
	c, err := Load("default")
	if err != nil {
		fmt.Println(err)
		return
	}
	p, err := c.Params()
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("%s: %d FVMs, host %v, rule %v, delay bound %d\n", c.Name, p.N(), p.Host, p.Rule, p.FVMs[0].Delay)
	// Output: default: 3 FVMs, host shared, rule aimd, delay bound 2
}

// FromParams inverts Params on every embedded configuration.
func TestFromParamsRoundTrip(t *testing.T) {
	for _, name := range Names() {
		p, err := LoadParams(name)
		if err != nil {
			t.Fatal(err)
		}
		// Through JSON too, as fvm check --result writes it and the
		// report reads it back.
		b, err := json.Marshal(FromParams(name, "round trip", p))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		c, err := Parse(b)
		if err != nil {
			t.Fatalf("%s: %s does not parse back: %v", name, b, err)
		}
		q, err := c.Params()
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if !reflect.DeepEqual(p, q) {
			t.Errorf("%s: FromParams(Params) gives %+v, want %+v", name, q, p)
		}
	}
}
