package main

import (
	"io"
	"reflect"
	"strings"
	"testing"

	"github.com/friendly-vm/fvm/uml-impl/controller"
	"github.com/friendly-vm/fvm/vocab"
)

// TestFlagsRoundTrip checks that Config.Args, which the host runner uses to
// start fvmd, gives back exactly the configuration.
func TestFlagsRoundTrip(t *testing.T) {
	for _, idle := range []bool{true, false} {
		c := controller.DefaultFor(!idle) // the other mode's bounds, so no default hides a lost flag
		c.VM, c.N, c.Signal, c.ThetaPermille = 2, 4, vocab.VCT, 1400
		c.Rule, c.Mu, c.Beta, c.EWMA, c.Delay, c.Init = vocab.MIMD, vocab.R(3, 2), vocab.R(7, 8), vocab.R(1, 4), 3, 8
		c.IdlePause = idle
		o, err := parseFlags(append([]string{"-trace", "x"}, c.Args()...), io.Discard)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(o.cfg, c) {
			t.Errorf("round trip (idle %v):\n got %+v\nwant %+v", idle, o.cfg, c)
		}
	}
}

func TestFlagErrors(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{nil, "-trace is required"},
		{[]string{"-trace", "x", "-signal", "rtt"}, `signal "rtt"`},
		{[]string{"-trace", "x", "-beta", "a/b"}, "-beta"},
		{[]string{"-trace", "x", "-u", "30"}, "u = 30"},
		{[]string{"-trace", "x", "extra"}, "unexpected arguments"},
		{[]string{"-trace", "x", "-pause-mode", "duty-idle"}, `-pause-mode "duty-idle": want sleep or idle`},
	} {
		_, err := parseFlags(tc.args, io.Discard)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("parseFlags(%q) = %v, want an error containing %q", tc.args, err, tc.want)
		}
	}
}

// TestDefaults: the defaults of each pause mode, as configs/deployed.json
// (idle) and configs/deployed-sleep.json state them (threshold, lowest and safe
// demand), and a flag given explicitly wins over the pause mode's default.
func TestDefaults(t *testing.T) {
	for _, tc := range []struct {
		args              []string
		theta, dmin, safe int
	}{
		{nil, 75, 2, 2},
		{[]string{"-pause-mode", "idle"}, 75, 2, 2},
		{[]string{"-signal", "vct"}, 1500, 2, 2},
		{[]string{"-pause-mode", "sleep"}, 200, 1, 1},
		{[]string{"-pause-mode", "sleep", "-signal", "vct"}, 1500, 1, 1},
		{[]string{"-pause-mode", "idle", "-theta", "150", "-dmin", "1", "-safe", "3"}, 150, 1, 3},
		{[]string{"-pause-mode", "sleep", "-theta", "150", "-dmin", "3", "-safe", "3"}, 150, 3, 3},
	} {
		o, err := parseFlags(append([]string{"-trace", "x"}, tc.args...), io.Discard)
		if err != nil {
			t.Errorf("%q: %v", tc.args, err)
			continue
		}
		if c := o.cfg; c.ThetaPermille != tc.theta || c.Dmin != tc.dmin || c.Safe != tc.safe {
			t.Errorf("%q: theta %d, dmin %d, safe %d; want %d, %d, %d", tc.args, c.ThetaPermille, c.Dmin, c.Safe, tc.theta, tc.dmin, tc.safe)
		}
	}
}
