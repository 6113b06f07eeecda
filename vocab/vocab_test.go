package vocab

import (
	"encoding/json"
	"testing"
)

func TestParseRat(t *testing.T) {
	tests := []struct {
		in   string
		want Rat
		err  bool
	}{
		{"1/2", R(1, 2), false}, {"0.875", R(7, 8), false}, {"2", R(2, 1), false}, {"6/4", R(3, 2), false},
		{" 1 / 5 ", R(1, 5), false}, {".5", R(1, 2), false}, {"0", R(0, 1), false}, {"200/1000", R(1, 5), false},
		{"1/0", Rat{}, true}, {"x", Rat{}, true}, {"", Rat{}, true}, {"1.0000000001", Rat{}, true},
		{"-1/2", Rat{}, true}, {"-3", Rat{}, true}, {"1.", Rat{}, true}, {"1234567890123456789/1", Rat{}, true},
	}
	for _, tc := range tests {
		got, err := ParseRat(tc.in)
		if (err != nil) != tc.err || (!tc.err && got != tc.want) {
			t.Errorf("ParseRat(%q) = %v, %v; want %v, err=%v", tc.in, got, err, tc.want, tc.err)
		}
	}
}

func TestRatArithmetic(t *testing.T) {
	// Hand-derived: floor(7*1/2) = 3, ceil(7*1/2) = 4, floor(9*2/3) = 6.
	tests := []struct {
		r           Rat
		x           int64
		floor, ceil int64
	}{{R(1, 2), 7, 3, 4}, {R(2, 3), 9, 6, 6}, {R(3, 2), 5, 7, 8}, {R(1, 5), 0, 0, 0}}
	for _, tc := range tests {
		if f, c := tc.r.FloorMul(tc.x), tc.r.CeilMul(tc.x); f != tc.floor || c != tc.ceil {
			t.Errorf("%v * %d: floor %d ceil %d, want %d %d", tc.r, tc.x, f, c, tc.floor, tc.ceil)
		}
	}
	if !R(1, 3).Less(R(1, 2)) || R(1, 2).Less(R(2, 4)) || !R(2, 4).Equal(R(1, 2)) || R(0, 0).Equal(R(0, 1)) {
		t.Error("Less/Equal disagree with exact comparison")
	}
}

func TestRatJSON(t *testing.T) {
	var v struct {
		A, B, C Rat
	}
	if err := json.Unmarshal([]byte(`{"A":"7/8","B":0.5,"C":2}`), &v); err != nil {
		t.Fatal(err)
	}
	if v.A != R(7, 8) || v.B != R(1, 2) || v.C != R(2, 1) {
		t.Fatalf("got %+v", v)
	}
	b, err := json.Marshal(struct{ X Rat }{R(3, 4)})
	if err != nil || string(b) != `{"X":"3/4"}` {
		t.Fatalf("marshal: %s %v", b, err)
	}
}

func TestEnumNames(t *testing.T) {
	for _, h := range Hosts() {
		if g, err := ParseHost(h.String()); err != nil || g != h {
			t.Errorf("host %v round trip: %v %v", h, g, err)
		}
	}
	for _, s := range Signals() {
		if g, err := ParseSignal(s.String()); err != nil || g != s {
			t.Errorf("signal %v round trip: %v %v", s, g, err)
		}
	}
	for _, r := range Rules() {
		if g, err := ParseRule(r.String()); err != nil || g != r {
			t.Errorf("rule %v round trip: %v %v", r, g, err)
		}
	}
	for _, b := range Branches() {
		if g, err := ParseBranch(b.String()); err != nil || g != b {
			t.Errorf("branch %v round trip: %v %v", b, g, err)
		}
	}
	for _, s := range []string{"", "none"} {
		if _, err := ParseSignal(s); err == nil {
			t.Errorf("signal name %q parsed", s)
		}
	}
	if _, err := ParseHost("cfs"); err == nil || err.Error() != `host "cfs": want one of shared, fair, duty, duty-idle` {
		t.Errorf("ParseHost(cfs): %v", err)
	}
	if NoSignal.Valid() || NoBranch.Valid() || !Steal.Valid() || Host(4).Valid() {
		t.Error("Valid is wrong")
	}
}

func TestPausePermille(t *testing.T) {
	// floor((u-d)*1000/u), derived by hand.
	tests := []struct {
		u, d int
		want int64
	}{{100, 5, 950}, {100, 100, 0}, {20, 1, 950}, {20, 7, 650}, {3, 1, 666}, {7, 2, 714}}
	for _, tc := range tests {
		if got := PausePermille(tc.u, tc.d); got != tc.want {
			t.Errorf("PausePermille(%d, %d) = %d, want %d", tc.u, tc.d, got, tc.want)
		}
	}
}
