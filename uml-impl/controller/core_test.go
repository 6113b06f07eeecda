package controller

import (
	"fmt"
	"strings"
	"testing"

	"github.com/friendly-vm/fvm/trace"
	"github.com/friendly-vm/fvm/vocab"
)

const ms = int64(1_000_000)

// win builds a consistent window seq of a busy VM (never idle, not paused)
// that lost steal permille of its wall time.
func win(seq uint64, steal int) Window {
	const wall = uint64(100 * ms)
	start := uint64(1_000_000*ms) + (seq-1)*wall
	st := wall * uint64(steal) / 1000
	w := Window{Seq: seq, StartNs: start, EndNs: start + wall, WallNs: wall, WantNs: wall, StealNs: st, PeriodUs: 10000}
	w.CPUNs = w.WantNs - st
	w.StealPermille = 1000 * st / wall
	if w.CPUNs > 0 {
		w.VCTPermille = 1000 * w.WantNs / w.CPUNs
	}
	return w
}

// wins builds windows from..to all with the same steal.
func wins(from, to uint64, steal int) []Window {
	var out []Window
	for s := from; s <= to; s++ {
		out = append(out, win(s, steal))
	}
	return out
}

func testConfig() Config {
	c := DefaultSleep()
	c.VM, c.N = 1, 2
	c.U, c.Dmin, c.Dmax, c.Init, c.Safe = 20, 1, 20, 10, 1
	c.Alpha, c.Beta = 1, vocab.R(1, 2)
	c.Delay = 2
	return c
}

func TestApply(t *testing.T) {
	aimd := testConfig()
	mimd := testConfig()
	mimd.Rule, mimd.Mu, mimd.Beta = vocab.MIMD, vocab.R(3, 2), vocab.R(7, 8)
	aiad := testConfig()
	aiad.Rule, aiad.Delta = vocab.AIAD, 3
	tests := []struct {
		name      string
		cfg       Config
		d         int
		congested bool
		want      int
		branch    vocab.Branch
	}{
		{"aimd increase", aimd, 10, false, 11, vocab.Increase},
		{"aimd increase to dmax", aimd, 19, false, 20, vocab.Increase},
		{"aimd increase clamped", aimd, 20, false, 20, vocab.Clamp},
		{"aimd decrease even", aimd, 10, true, 5, vocab.Decrease},
		{"aimd decrease floors", aimd, 9, true, 4, vocab.Decrease},
		{"aimd decrease to dmin", aimd, 2, true, 1, vocab.Decrease},
		{"aimd decrease clamped", aimd, 1, true, 1, vocab.Clamp},
		{"mimd increase ceils", mimd, 3, false, 5, vocab.Increase},
		{"mimd increase exact", mimd, 4, false, 6, vocab.Increase},
		{"mimd increase clamped", mimd, 14, false, 20, vocab.Clamp},
		{"mimd decrease floors", mimd, 9, true, 7, vocab.Decrease},
		{"mimd decrease clamped", mimd, 1, true, 1, vocab.Clamp},
		{"aiad increase", aiad, 5, false, 6, vocab.Increase},
		{"aiad decrease", aiad, 5, true, 2, vocab.Decrease},
		{"aiad decrease to dmin", aiad, 4, true, 1, vocab.Decrease},
		{"aiad decrease clamped", aiad, 3, true, 1, vocab.Clamp},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if err := tc.cfg.Validate(); err != nil {
				t.Fatal(err)
			}
			got, br := tc.cfg.Apply(tc.d, tc.congested)
			if got != tc.want || br != tc.branch {
				t.Errorf("Apply(%d, %v) = %d %v, want %d %v", tc.d, tc.congested, got, br, tc.want, tc.branch)
			}
		})
	}
}

// TestApplyStaysInBounds checks every demand and bit for every rule.
func TestApplyStaysInBounds(t *testing.T) {
	for _, rule := range []vocab.Rule{vocab.AIMD, vocab.MIMD, vocab.AIAD} {
		c := testConfig()
		c.Rule, c.Dmin, c.Dmax, c.Mu, c.Delta = rule, 3, 17, vocab.R(5, 4), 2
		for d := c.Dmin; d <= c.Dmax; d++ {
			for _, b := range []bool{false, true} {
				got, br := c.Apply(d, b)
				if got < c.Dmin || got > c.Dmax {
					t.Errorf("%v Apply(%d, %v) = %d outside [%d, %d]", rule, d, b, got, c.Dmin, c.Dmax)
				}
				if b && got > d || !b && got < d {
					t.Errorf("%v Apply(%d, %v) = %d %v: wrong direction", rule, d, b, got, br)
				}
			}
		}
	}
}

func TestPause(t *testing.T) {
	c := Default()
	c.U, c.Dmin, c.Dmax, c.Init, c.Safe = 100, 5, 100, 100, 5
	for _, tc := range []struct{ d, want int }{{100, 0}, {5, 950}, {50, 500}, {73, 270}} {
		if got := c.Pause(tc.d); got != tc.want {
			t.Errorf("Pause(%d) = %d, want %d", tc.d, got, tc.want)
		}
	}
	c.U, c.Dmin = 20, 1
	if got := c.Pause(7); got != 650 {
		t.Errorf("u=20: Pause(7) = %d, want 650", got)
	}
}

func TestParsePauseMode(t *testing.T) {
	for _, tc := range []struct {
		in   string
		idle bool
		err  string
	}{
		{"sleep", false, ""},
		{"idle", true, ""},
		{"duty-idle", false, `"duty-idle": want sleep or idle`},
		{"", false, `"": want sleep or idle`},
		{"Idle", false, `"Idle": want sleep or idle`},
	} {
		idle, err := ParsePauseMode(tc.in)
		if tc.err == "" && (err != nil || idle != tc.idle) {
			t.Errorf("%q: %v, %v; want %v", tc.in, idle, err, tc.idle)
		}
		if tc.err != "" && (err == nil || err.Error() != tc.err) {
			t.Errorf("%q: error %v, want %q", tc.in, err, tc.err)
		}
	}
}

func TestValidate(t *testing.T) {
	for _, d := range []Config{Default(), DefaultSleep()} {
		if err := d.Validate(); err != nil {
			t.Fatalf("default config (pause mode %s): %v", d.PauseMode(), err)
		}
	}
	tests := []struct {
		name   string
		mutate func(*Config)
		want   string
	}{
		{"u not dividing 1000", func(c *Config) { c.U = 30 }, "u = 30"},
		{"dmin pause too long", func(c *Config) { c.U, c.Dmin, c.Dmax, c.Init, c.Safe = 100, 4, 100, 100, 5 }, "dmin = 4"},
		{"dmax above u", func(c *Config) { c.Dmax = 21 }, "dmax = 21"},
		{"init outside", func(c *Config) { c.Dmin, c.Init = 2, 1 }, "init = 1"},
		{"beta 1", func(c *Config) { c.Beta = vocab.R(1, 1) }, "beta = 1"},
		{"mu 1 for mimd", func(c *Config) { c.Rule, c.Mu = vocab.MIMD, vocab.R(1, 1) }, "mu = 1"},
		{"steal theta 1000", func(c *Config) { c.ThetaPermille = 1000 }, "theta_permille = 1000"},
		{"vct theta below 1", func(c *Config) { c.Signal, c.ThetaPermille = vocab.VCT, 900 }, "theta_permille = 900"},
		{"ewma 0", func(c *Config) { c.EWMA = vocab.R(0, 1) }, "ewma = 0"},
		{"delay too big", func(c *Config) { c.Delay = 63 }, "delay = 63"},
		{"vm beyond n", func(c *Config) { c.VM, c.N = 2, 2 }, "vm = 2"},
		{"no tolerance", func(c *Config) { c.FidelityTol = vocab.R(0, 1) }, "fidelity_tol"},
		{"model-only rule aimd-prop", func(c *Config) { c.Rule = vocab.AIMDProp }, "rule = aimd-prop"},
		{"model-only rule aimd-phase", func(c *Config) { c.Rule = vocab.AIMDPhase }, "rule = aimd-phase"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := Default()
			tc.mutate(&c)
			err := c.Validate()
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Validate() = %v, want an error mentioning %q", err, tc.want)
			}
		})
	}
}

// summary renders events compactly for table tests.
func summary(ev []trace.Event) []string {
	var out []string
	for _, e := range ev {
		if e.VM != 1 {
			out = append(out, fmt.Sprintf("vm %d", e.VM))
		}
		switch e.Kind {
		case trace.KindSample:
			s := fmt.Sprintf("sample %d", e.Sample.Seq)
			if e.Sample.Congested {
				s += " c"
			}
			out = append(out, s)
		case trace.KindDecide:
			d := e.Decide
			out = append(out, fmt.Sprintf("decide %d %d->%d %v", d.SampleSeq, d.DBefore, d.DAfter, d.Branch))
		case trace.KindGap:
			out = append(out, fmt.Sprintf("gap %d-%d", e.Gap.FromSeq, e.Gap.ToSeq))
		default:
			out = append(out, e.Kind.String())
		}
	}
	return out
}

// read is one Observe call at time t (ms after start).
type read struct {
	t  int64
	ws []Window
}

func TestObserve(t *testing.T) {
	garbage := win(3, 0)
	garbage.CPUNs = 5 * garbage.WallNs // impossible
	tests := []struct {
		name  string
		mut   func(*Config)
		reads []read
		want  []string
		d     int
	}{
		{
			name:  "increase then decrease",
			reads: []read{{100, wins(1, 1, 0)}, {200, wins(1, 2, 600)}},
			want:  []string{"sample 1", "decide 1 10->11 increase", "sample 2 c", "decide 2 11->5 decrease"},
			d:     5,
		},
		{
			name:  "threshold is strict",
			mut:   func(c *Config) { c.ThetaPermille = 250 },
			reads: []read{{100, wins(1, 1, 250)}, {200, wins(2, 2, 251)}},
			want:  []string{"sample 1", "decide 1 10->11 increase", "sample 2 c", "decide 2 11->5 decrease"},
			d:     5,
		},
		{
			name:  "vct signal",
			mut:   func(c *Config) { c.Signal, c.ThetaPermille = vocab.VCT, 1500 },
			reads: []read{{100, wins(1, 1, 300)}, {200, wins(2, 2, 400)}},
			// steal 300 -> vct 1428, steal 400 -> vct 1666
			want: []string{"sample 1", "decide 1 10->11 increase", "sample 2 c", "decide 2 11->5 decrease"},
			d:    5,
		},
		{
			name:  "duplicates and repeats are ignored",
			reads: []read{{100, wins(1, 2, 0)}, {200, wins(1, 2, 0)}, {300, append(wins(2, 3, 0), win(3, 900), win(1, 900))}},
			want:  []string{"sample 1", "decide 1 10->11 increase", "sample 2", "decide 2 11->12 increase", "sample 3", "decide 3 12->13 increase"},
			d:     13,
		},
		{
			name:  "out of order within a read",
			reads: []read{{100, []Window{win(2, 900), win(1, 0)}}},
			want:  []string{"sample 1", "decide 1 10->11 increase", "sample 2 c", "decide 2 11->5 decrease"},
			d:     5,
		},
		{
			// D=2: the second read's newest is 6, so the missing windows 2
			// and 3 are older than D and lost; 4 (delay 2) is waited for,
			// and the third read brings it.
			name:  "missing windows older than D are lost, a newer one is waited for",
			reads: []read{{100, wins(1, 1, 0)}, {200, wins(5, 6, 0)}, {300, wins(4, 6, 0)}},
			want:  []string{"sample 1", "decide 1 10->11 increase", "gap 2-3", "sample 4", "decide 4 11->12 increase", "sample 5", "decide 5 12->13 increase", "sample 6", "decide 6 13->14 increase"},
			d:     14,
		},
		{
			// D=2: window 2 is missing from the first read but only one
			// window older than the newest (3): the model cannot have lost
			// it, so the controller waits instead of consuming 3 first.
			name:  "a hole within the delay bound is waited for, not lost",
			reads: []read{{100, []Window{win(1, 0), win(3, 0)}}, {200, wins(2, 2, 900)}},
			want:  []string{"sample 1", "decide 1 10->11 increase", "sample 2 c", "decide 2 11->5 decrease"},
			d:     5,
		},
		{
			name:  "windows older than D are late: lost",
			reads: []read{{100, wins(1, 1, 0)}, {200, wins(2, 7, 900)}},
			// D=2: newest 7, so 2..4 are late, 5..7 consumed with delays 2, 1, 0.
			want: []string{"sample 1", "decide 1 10->11 increase", "gap 2-4", "sample 5 c", "decide 5 11->5 decrease", "sample 6 c", "decide 6 5->2 decrease", "sample 7 c", "decide 7 2->1 decrease"},
			d:    1,
		},
		{
			name:  "windows older than D at the first read predate the controller: skipped, not lost",
			reads: []read{{100, wins(1, 6, 900)}},
			// D=2: newest 6, so 1..3 are skipped, 4..6 consumed with delays 2, 1, 0.
			want: []string{"sample 4 c", "decide 4 10->5 decrease", "sample 5 c", "decide 5 5->2 decrease", "sample 6 c", "decide 6 2->1 decrease"},
			d:    1,
		},
		{
			name:  "a garbage window holds the demand",
			reads: []read{{100, wins(1, 2, 0)}, {200, []Window{garbage}}, {300, wins(4, 4, 0)}},
			want:  []string{"sample 1", "decide 1 10->11 increase", "sample 2", "decide 2 11->12 increase", "sample 3", "decide 3 12->12 hold", "sample 4", "decide 4 12->13 increase"},
			d:     13,
		},
		{
			name: "a garbage run holds the safe demand",
			mut:  func(c *Config) { c.HoldGarbage = 2 },
			reads: []read{{100, wins(1, 1, 0)}, {200, []Window{bad(win(2, 0)), bad(win(3, 0)), bad(win(4, 0))}},
				{300, wins(5, 5, 0)}},
			want: []string{"sample 1", "decide 1 10->11 increase", "sample 2", "decide 2 11->11 hold",
				"sample 3", "decide 3 11->1 hold", "sample 4", "decide 4 1->1 hold",
				"sample 5", "decide 5 1->2 increase"},
			d: 2,
		},
		{
			name:  "silence holds the safe demand once",
			reads: []read{{100, wins(1, 1, 0)}, {600, nil}, {1099, wins(1, 1, 0)}, {1100, nil}, {1500, nil}, {1600, wins(2, 2, 0)}},
			want:  []string{"sample 1", "decide 1 10->11 increase", "decide 0 11->1 hold", "sample 2", "decide 2 1->2 increase"},
			d:     2,
		},
		{
			name:  "silence from the start",
			reads: []read{{999, nil}, {1000, nil}},
			want:  []string{"decide 0 10->1 hold"},
			d:     1,
		},
		{
			name:  "ewma smooths the signal",
			mut:   func(c *Config) { c.EWMA = vocab.R(1, 2) },
			reads: []read{{100, wins(1, 1, 0)}, {200, wins(2, 2, 600)}, {300, wins(3, 3, 300)}},
			// s = 0, then (600+0)/2 = 300 > 200, then (300+300)/2 = 300.
			want: []string{"sample 1", "decide 1 10->11 increase", "sample 2 c", "decide 2 11->5 decrease", "sample 3 c", "decide 3 5->2 decrease"},
			d:    2,
		},
		{
			name:  "time going backwards is garbage",
			reads: []read{{100, wins(1, 1, 0)}, {200, []Window{shift(win(2, 0), -ms)}}},
			want:  []string{"sample 1", "decide 1 10->11 increase", "sample 2", "decide 2 11->11 hold"},
			d:     11,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg := testConfig()
			if tc.mut != nil {
				tc.mut(&cfg)
			}
			c, err := NewCore(cfg, 0, 0)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, r := range tc.reads {
				got = append(got, summary(c.Observe(r.t*ms, r.ws))...)
			}
			if strings.Join(got, "\n") != strings.Join(tc.want, "\n") {
				t.Errorf("events:\n  %s\nwant:\n  %s", strings.Join(got, "\n  "), strings.Join(tc.want, "\n  "))
			}
			if c.Demand() != tc.d {
				t.Errorf("final demand %d, want %d", c.Demand(), tc.d)
			}
		})
	}
}

// bad makes a window garbage (steal larger than want).
func bad(w Window) Window {
	w.StealNs = w.WantNs + 1
	return w
}

// shift moves a window in time by dt ns.
func shift(w Window, dt int64) Window {
	w.StartNs = uint64(int64(w.StartNs) + dt)
	w.EndNs = uint64(int64(w.EndNs) + dt)
	return w
}

// TestObserveDelay checks the decide events' delay fields.
func TestObserveDelay(t *testing.T) {
	cfg := testConfig()
	cfg.Delay = 3
	c, err := NewCore(cfg, 10, 0)
	if err != nil {
		t.Fatal(err)
	}
	var delays []int64
	for _, e := range c.Observe(ms, wins(11, 14, 0)) {
		if e.Kind == trace.KindDecide {
			delays = append(delays, e.Decide.NewestSeq-e.Decide.SampleSeq)
			if e.Decide.NewestSeq != 14 {
				t.Errorf("decide %+v: newest_seq is not 14", e.Decide)
			}
		}
	}
	if fmt.Sprint(delays) != "[3 2 1 0]" {
		t.Errorf("delays %v, want [3 2 1 0]", delays)
	}
	cnt := c.Counters()
	if cnt.Windows != 4 || c.Decisions() != 4 || cnt.Gaps != 0 {
		t.Errorf("counters %+v, decisions %d: want 4 windows, 4 decisions, no gap", cnt, c.Decisions())
	}
}

// TestStartSeq checks that windows up to the start seq are never used.
func TestStartSeq(t *testing.T) {
	c, err := NewCore(testConfig(), 5, 0)
	if err != nil {
		t.Fatal(err)
	}
	got := summary(c.Observe(ms, wins(1, 6, 0)))
	want := []string{"sample 6", "decide 6 10->11 increase"}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("events %v, want %v", got, want)
	}
	if n := c.Counters().Duplicates; n != 5 {
		t.Errorf("duplicates %d, want 5", n)
	}
}

func TestReconfigure(t *testing.T) {
	c, err := NewCore(testConfig(), 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	c.Observe(ms, wins(1, 1, 0)) // d = 11
	cfg := testConfig()
	cfg.Dmax, cfg.Init = 8, 8
	ev, err := c.Reconfigure(2*ms, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if got := summary(ev); len(got) != 1 || got[0] != "decide 0 11->8 hold" {
		t.Errorf("events %v", got)
	}
	bad := cfg
	bad.Beta = vocab.R(3, 2)
	if _, err := c.Reconfigure(3*ms, bad); err == nil {
		t.Error("Reconfigure accepted beta 3/2")
	}
	if c.Config().Dmax != 8 {
		t.Error("a rejected config replaced the good one")
	}
}
