package configs

import (
	"github.com/friendly-vm/fvm/spec/mc"

	"github.com/friendly-vm/fvm/vocab"

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

// FVM overrides the common per-FVM parameters for one FVM.
type FVM struct {
	Alpha *int       `json:"alpha,omitempty"`
	Beta  *vocab.Rat `json:"beta,omitzero"`
	Mu    *vocab.Rat `json:"mu,omitzero"`
	Delta *int       `json:"delta,omitempty"`
	Delay *int       `json:"delay,omitempty"`
}

// Check says how the model checker treats a configuration.
type Check struct {
	// Symmetry enables symmetry reduction for safety.
	Symmetry bool `json:"symmetry"`
	// Liveness checks the <>[] properties (needs the full state graph).
	Liveness bool `json:"liveness"`
	// Expect records the verdict per property, established by the
	// checker and asserted by tests; properties not listed must hold.
	Expect map[string]mc.Status `json:"expect,omitempty"`
	// TLC marks configurations small enough for TLC in CI.
	TLC bool `json:"tlc"`
	// ExpectedStates, if set, pre-sizes the checker's visited set (the
	// distinct states without symmetry, as measured), so that a large
	// benchmark configuration does not pay for growing the table.
	ExpectedStates int64 `json:"expected_states,omitempty"`
}

// Expected is the verdict the configuration expects of property name:
// the one Expect records, else Holds.
func (c Check) Expected(name string) mc.Status {
	if v, ok := c.Expect[name]; ok {
		return v
	}
	return mc.Holds
}

// Config is one configuration file.
type Config struct {
	Name        string `json:"name"`
	Description string `json:"description"`

	N        int          `json:"n"`
	U        int          `json:"u"`
	Capacity int          `json:"capacity"`
	Kappa    vocab.Rat    `json:"kappa,omitzero"`
	Greedy   []int        `json:"greedy,omitempty"`
	Host     vocab.Host   `json:"host"`
	Signal   vocab.Signal `json:"signal,omitempty"`
	Theta    vocab.Rat    `json:"theta,omitzero"`
	Rule     vocab.Rule   `json:"rule"`
	Alpha    int          `json:"alpha,omitempty"`
	Beta     vocab.Rat    `json:"beta,omitzero"`
	Mu       vocab.Rat    `json:"mu,omitzero"`
	Delta    int          `json:"delta,omitempty"`
	Dmin     int          `json:"dmin"`
	Dmax     int          `json:"dmax"`
	// Delay is every FVM's delay bound in windows (per_fvm may override it).
	Delay int `json:"delay"`
	// Loss: a sample older than the delay bound is dropped (ref.Params.Loss).
	Loss bool `json:"loss,omitempty"`
	// Phases is the phase cycle of rule aimd-phase (ref.Params.Phases).
	Phases int `json:"phases,omitempty"`
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
		if strings.Contains(err.Error(), `unknown field "d"`) {
			return nil, fmt.Errorf("decode: %w (the delay bound is now \"delay\")", err)
		}
		return nil, fmt.Errorf("decode: %w", err)
	}
	return &c, nil
}

// Params converts the configuration to validated reference parameters.
func (c *Config) Params() (*ref.Params, error) {
	var errs []error
	p := &ref.Params{
		U: c.U, Capacity: c.Capacity, Kappa: c.Kappa, Greedy: c.Greedy, Host: c.Host,
		Signal: c.Signal, Theta: c.Theta, Rule: c.Rule, Dmin: c.Dmin, Dmax: c.Dmax, Loss: c.Loss, Phases: c.Phases,
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
		f := ref.FVM{Alpha: c.Alpha, Beta: c.Beta, Mu: c.Mu, Delta: c.Delta, Delay: c.Delay}
		if i < len(c.PerFVM) {
			o := c.PerFVM[i]
			if o.Alpha != nil {
				f.Alpha = *o.Alpha
			}
			if o.Beta != nil {
				f.Beta = *o.Beta
			}
			if o.Mu != nil {
				f.Mu = *o.Mu
			}
			if o.Delta != nil {
				f.Delta = *o.Delta
			}
			if o.Delay != nil {
				f.Delay = *o.Delay
			}
		}
		p.FVMs = append(p.FVMs, f)
	}
	if err := p.Validate(); err != nil {
		return nil, err
	}
	return p, nil
}

// FromParams describes validated parameters as a configuration named name:
// the inverse of Params (each FVM's parameters go to per_fvm when they
// differ from FVM 0's).
func FromParams(name, description string, p *ref.Params) *Config {
	f0 := p.FVMs[0]
	c := &Config{Name: name, Description: description, N: p.N(), U: p.U, Capacity: p.Capacity,
		Kappa: p.Kappa, Greedy: append([]int(nil), p.Greedy...), Host: p.Host, Signal: p.Signal, Theta: p.Theta,
		Rule: p.Rule, Alpha: f0.Alpha, Beta: f0.Beta, Mu: f0.Mu, Delta: f0.Delta, Dmin: p.Dmin, Dmax: p.Dmax,
		Delay: f0.Delay, Loss: p.Loss, Phases: p.Phases}
	for i, f := range p.FVMs {
		if f == f0 {
			continue
		}
		for len(c.PerFVM) <= i {
			c.PerFVM = append(c.PerFVM, FVM{})
		}
		alpha, beta, mu, delta, delay := f.Alpha, f.Beta, f.Mu, f.Delta, f.Delay
		c.PerFVM[i] = FVM{Alpha: &alpha, Beta: &beta, Mu: &mu, Delta: &delta, Delay: &delay}
	}
	return c
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
