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
	c := controller.Default()
	c.VM, c.N, c.Signal, c.ThetaPermille = 2, 4, vocab.VCT, 1400
	c.Rule, c.Mu, c.Beta, c.EWMA, c.Delay, c.Init = vocab.MIMD, vocab.R(3, 2), vocab.R(7, 8), vocab.R(1, 4), 3, 8
	c.IdlePause = true
	o, err := parseFlags(append([]string{"-trace", "x"}, c.Args()...), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(o.cfg, c) {
		t.Errorf("round trip:\n got %+v\nwant %+v", o.cfg, c)
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

func TestDefaultTheta(t *testing.T) {
	o, err := parseFlags([]string{"-trace", "x", "-signal", "vct"}, io.Discard)
	if err != nil || o.cfg.ThetaPermille != 1500 {
		t.Errorf("vct default theta: %d, %v", o.cfg.ThetaPermille, err)
	}
}
