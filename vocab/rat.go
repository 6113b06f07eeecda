package vocab

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
)

// Rat is an exact non-negative rational Num/Den. The model never uses
// floating point: every comparison is done by cross-multiplication, so that
// Go, TLC and the proofs agree to the state. The zero value (0/0) means
// "not set" (IsZero).
type Rat struct {
	Num, Den int64
}

// R returns num/den as given (not reduced).
func R(num, den int64) Rat { return Rat{Num: num, Den: den} }

// IsZero reports whether r is unset (Den == 0).
func (r Rat) IsZero() bool { return r.Den == 0 }

// String formats r as "num/den", or "num" when Den is 1.
func (r Rat) String() string {
	if r.Den == 1 {
		return strconv.FormatInt(r.Num, 10)
	}
	return strconv.FormatInt(r.Num, 10) + "/" + strconv.FormatInt(r.Den, 10)
}

// Float returns r as a float64, for reports only.
func (r Rat) Float() float64 { return float64(r.Num) / float64(r.Den) }

// Less reports whether r < s.
func (r Rat) Less(s Rat) bool { return r.Num*s.Den < s.Num*r.Den }

// Equal reports whether r and s are the same number (2/4 equals 1/2).
func (r Rat) Equal(s Rat) bool {
	if r.IsZero() || s.IsZero() {
		return r.IsZero() && s.IsZero()
	}
	return r.Num*s.Den == s.Num*r.Den
}

// FloorMul returns floor(x*r) for x >= 0.
func (r Rat) FloorMul(x int64) int64 { return x * r.Num / r.Den }

// CeilMul returns ceil(x*r) for x >= 0.
func (r Rat) CeilMul(x int64) int64 { return (x*r.Num + r.Den - 1) / r.Den }

// Reduce returns r in lowest terms (0 as 0/1); an unset r stays unset.
func (r Rat) Reduce() Rat {
	if r.Den == 0 {
		return r
	}
	a, b := r.Num, r.Den
	if a < 0 {
		a = -a
	}
	for b != 0 {
		a, b = b, a%b
	}
	if a == 0 {
		return Rat{0, 1}
	}
	return Rat{r.Num / a, r.Den / a}
}

// maxDigits bounds the digits of each integer in a rational's text, so
// that parsing never overflows int64.
const maxDigits = 18

// ParseRat parses "a/b", an integer "a", or a decimal such as "0.875" (at
// most 9 places) into a non-negative rational in lowest terms.
func ParseRat(s string) (Rat, error) {
	t := strings.TrimSpace(s)
	if num, den, ok := strings.Cut(t, "/"); ok {
		n, err1 := parseDigits(strings.TrimSpace(num))
		d, err2 := parseDigits(strings.TrimSpace(den))
		if err1 != nil || err2 != nil {
			return Rat{}, fmt.Errorf("rational %q: want a/b with non-negative integers a and b", s)
		}
		if d == 0 {
			return Rat{}, fmt.Errorf("rational %q: the denominator must be positive", s)
		}
		return Rat{n, d}.Reduce(), nil
	}
	ip, frac, dot := strings.Cut(t, ".")
	if ip == "" && !dot || dot && frac == "" || len(frac) > 9 {
		return Rat{}, fmt.Errorf("rational %q: want a/b, an integer or a decimal with at most 9 places", s)
	}
	den := int64(1)
	for range frac {
		den *= 10
	}
	if ip == "" {
		ip = "0"
	}
	n, err := parseDigits(ip + frac)
	if err != nil {
		return Rat{}, fmt.Errorf("rational %q: want a/b, a non-negative integer or decimal", s)
	}
	return Rat{n, den}.Reduce(), nil
}

func parseDigits(s string) (int64, error) {
	if s == "" || len(s) > maxDigits {
		return 0, fmt.Errorf("bad integer %q", s)
	}
	var n int64
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, fmt.Errorf("bad integer %q", s)
		}
		n = n*10 + int64(c-'0')
	}
	return n, nil
}

// MarshalText writes r as "a/b" (or "a").
func (r Rat) MarshalText() ([]byte, error) { return []byte(r.String()), nil }

// UnmarshalText parses what ParseRat accepts.
func (r *Rat) UnmarshalText(b []byte) error {
	v, err := ParseRat(string(b))
	if err != nil {
		return err
	}
	*r = v
	return nil
}

// UnmarshalJSON accepts a JSON string ("7/8", "1") or a JSON number (0.875,
// 2), as configuration files write them.
func (r *Rat) UnmarshalJSON(b []byte) error {
	var s string
	if len(b) > 0 && b[0] == '"' {
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
	} else {
		s = string(b)
	}
	return r.UnmarshalText([]byte(s))
}
