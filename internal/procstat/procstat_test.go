package procstat

import "testing"

// The stat lines are copied from a real /proc (fields counted by hand
// against proc(5)), one with a command name holding ") " to check that
// fields are counted from the last parenthesis.
func TestParseStat(t *testing.T) {
	for _, c := range []struct {
		name string
		in   string
		want Stat
		ok   bool
	}{
		{"cat", "28655 (cat) R 28650 28650 26269 0 -1 4194304 97 0 0 0 0 0 0 0 20 0 1 0 3607455 3133440 414 18446744073709551615 0\n",
			Stat{State: 'R', Pgrp: 28650, Session: 26269, Start: 3607455}, true},
		{"odd comm", "7 (a) b (c) S 1 7 7 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 99 0 0\n",
			Stat{State: 'S', Pgrp: 7, Session: 7, Start: 99}, true},
		{"zombie", "9 (sh) Z 1 9 3 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 5 0 0\n",
			Stat{State: 'Z', Pgrp: 9, Session: 3, Start: 5}, true},
		{"no comm", "9 sh Z 1 9 3", Stat{}, false},
		{"short", "9 (sh) Z 1 9 3 0 -1\n", Stat{}, false},
		{"bad start", "9 (sh) Z 1 9 3 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 x 0 0\n", Stat{}, false},
		{"empty", "", Stat{}, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, err := ParseStat([]byte(c.in))
			if (err == nil) != c.ok || got != c.want {
				t.Errorf("ParseStat(%q) = %+v, %v; want %+v, ok %v", c.in, got, err, c.want, c.ok)
			}
		})
	}
}

func TestParseSchedstat(t *testing.T) {
	for _, c := range []struct {
		in   string
		want Schedstat
		ok   bool
	}{
		{"4224322 6242104 3\n", Schedstat{RunNs: 4224322, DelayNs: 6242104}, true},
		{"0 0 0\n", Schedstat{}, true},
		{"5\n", Schedstat{}, false},
		{"a b c\n", Schedstat{}, false},
		{"-1 2 3\n", Schedstat{}, false},
		{"", Schedstat{}, false},
	} {
		got, err := ParseSchedstat([]byte(c.in))
		if (err == nil) != c.ok || got != c.want {
			t.Errorf("ParseSchedstat(%q) = %+v, %v; want %+v, ok %v", c.in, got, err, c.want, c.ok)
		}
	}
}
