package configs

import (
	"bytes"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"sort"
	"strings"

	"github.com/friendly-vm/fvm/ref"
)

//go:embed *.json
var embedded embed.FS

// Rat is a rational in a configuration file: a JSON number ("0.5", "2") or
// a string "a/b".
type Rat ref.Rat

// UnmarshalJSON accepts 0.875, "7/8" and "1".
func (r *Rat) UnmarshalJSON(b []byte) error {
	s := strings.Trim(string(b), `"`)
	v, err := ref.ParseRat(s)
	if err != nil {
		return err
	}
	*r = Rat(v)
	return nil
}

// MarshalJSON writes the rational as "a/b".
func (r Rat) MarshalJSON() ([]byte, error) { return json.Marshal(ref.Rat(r).String()) }

// FVM overrides the common per-FVM parameters for one FVM.
type FVM struct {
	Alpha *int `json:"alpha,omitempty"`
	Beta  *Rat `json:"beta,omitempty"`
	Mu    *Rat `json:"mu,omitempty"`
	Delta *int `json:"delta,omitempty"`
	D     *int `json:"d,omitempty"`
}

// Verdict is the expected outcome of a property.
type Verdict string

// Verdicts.
const (
	Holds Verdict = "holds"
	Fails Verdict = "fails"
)

// Check says how the model checker treats a configuration.
type Check struct {
	// Symmetry enables symmetry reduction for safety.
	Symmetry bool `json:"symmetry"`
	// Liveness checks the <>[] properties (needs the full state graph).
	Liveness bool `json:"liveness"`
	// Expect records the verdict per property, established by the
	// checker and asserted by tests; properties not listed must hold.
	Expect map[string]Verdict `json:"expect,omitempty"`
	// TLC marks configurations small enough for TLC in CI.
	TLC bool `json:"tlc"`
	// ExpectedStates, if set, pre-sizes the checker's visited set (the
	// distinct states without symmetry, as measured), so that a large
	// benchmark configuration does not pay for growing the table.
	ExpectedStates int64 `json:"expected_states,omitempty"`
}

// Config is one configuration file.
type Config struct {
	Name        string `json:"name"`
	Description string `json:"description"`

	N        int    `json:"n"`
	U        int    `json:"u"`
	Capacity int    `json:"capacity"`
	Kappa    Rat    `json:"kappa"`
	Greedy   []int  `json:"greedy,omitempty"`
	Host     string `json:"host"`
	Signal   string `json:"signal,omitempty"`
	Theta    Rat    `json:"theta,omitempty"`
	Rule     string `json:"rule"`
	Alpha    int    `json:"alpha,omitempty"`
	Beta     Rat    `json:"beta,omitempty"`
	Mu       Rat    `json:"mu,omitempty"`
	Delta    int    `json:"delta,omitempty"`
	Dmin     int    `json:"dmin"`
	Dmax     int    `json:"dmax"`
	D        int    `json:"d"`
	// PerFVM overrides the common values for individual FVMs (index i).
	PerFVM []FVM `json:"per_fvm,omitempty"`

	Check Check `json:"check"`
}

// Names lists the embedded configurations, sorted.
func Names() []string {
	entries, _ := fs.ReadDir(embedded, ".")
	var names []string
	for _, e := range entries {
		names = append(names, strings.TrimSuffix(e.Name(), ".json"))
	}
	sort.Strings(names)
	return names
}

// Load returns the configuration named name (embedded) or, if name
// contains a path separator or ends in .json, read from that file.
func Load(name string) (*Config, error) {
	var data []byte
	var err error
	if strings.ContainsRune(name, '/') || strings.HasSuffix(name, ".json") {
		data, err = os.ReadFile(name)
		if err != nil {
			return nil, fmt.Errorf("config file: %w", err)
		}
	} else {
		data, err = embedded.ReadFile(name + ".json")
		if err != nil {
			return nil, fmt.Errorf("config %q: no such configuration (have: %s; or pass a path to a .json file)", name, strings.Join(Names(), ", "))
		}
	}
	c, err := Parse(data)
	if err != nil {
		return nil, fmt.Errorf("config %s: %w", name, err)
	}
	if c.Name == "" {
		c.Name = strings.TrimSuffix(path.Base(name), ".json")
	}
	return c, nil
}

// Parse decodes a configuration strictly (unknown fields are errors).
func Parse(data []byte) (*Config, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var c Config
	if err := dec.Decode(&c); err != nil {
		return nil, fmt.Errorf("decode: %w", err)
	}
	return &c, nil
}

// Params converts the configuration to validated reference parameters.
func (c *Config) Params() (*ref.Params, error) {
	var errs []error
	p := &ref.Params{
		U: c.U, Capacity: c.Capacity, Kappa: ref.Rat(c.Kappa), Greedy: c.Greedy,
		Theta: ref.Rat(c.Theta), Dmin: c.Dmin, Dmax: c.Dmax,
	}
	var err error
	if p.Host, err = ref.ParseHost(c.Host); err != nil {
		errs = append(errs, err)
	}
	if c.Signal != "" {
		if p.Signal, err = ref.ParseSignal(c.Signal); err != nil {
			errs = append(errs, err)
		}
	}
	if p.Rule, err = ref.ParseRule(c.Rule); err != nil {
		errs = append(errs, err)
	}
	if c.N < 1 || c.N > ref.MaxN {
		errs = append(errs, fmt.Errorf("n = %d: must be in [1, %d]", c.N, ref.MaxN))
	}
	if len(c.PerFVM) > c.N {
		errs = append(errs, fmt.Errorf("per_fvm has %d entries: must be at most n = %d", len(c.PerFVM), c.N))
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	for i := 0; i < c.N; i++ {
		f := ref.FVM{Alpha: c.Alpha, Beta: ref.Rat(c.Beta), Mu: ref.Rat(c.Mu), Delta: c.Delta, D: c.D}
		if i < len(c.PerFVM) {
			o := c.PerFVM[i]
			if o.Alpha != nil {
				f.Alpha = *o.Alpha
			}
			if o.Beta != nil {
				f.Beta = ref.Rat(*o.Beta)
			}
			if o.Mu != nil {
				f.Mu = ref.Rat(*o.Mu)
			}
			if o.Delta != nil {
				f.Delta = *o.Delta
			}
			if o.D != nil {
				f.D = *o.D
			}
		}
		p.FVMs = append(p.FVMs, f)
	}
	if err := p.Validate(); err != nil {
		return nil, err
	}
	return p, nil
}

// LoadParams loads a configuration (see Load) and returns its validated
// reference parameters.
func LoadParams(name string) (*ref.Params, error) {
	c, err := Load(name)
	if err != nil {
		return nil, err
	}
	p, err := c.Params()
	if err != nil {
		return nil, fmt.Errorf("config %s: %w", c.Name, err)
	}
	return p, nil
}
