package ref

import (
	"fmt"
	"strconv"
	"strings"
)

// Rat is an exact non-negative rational Num/Den. The model never uses
// floating point: every comparison is done by cross-multiplication.
type Rat struct {
	Num int64 `json:"num"`
	Den int64 `json:"den"`
}

// R returns the rational num/den.
func R(num, den int64) Rat { return Rat{Num: num, Den: den} }

// String formats r as "num/den" (or "num" when den is 1).
func (r Rat) String() string {
	if r.Den == 1 {
		return strconv.FormatInt(r.Num, 10)
	}
	return fmt.Sprintf("%d/%d", r.Num, r.Den)
}

// Float returns r as a float64, for reports only.
func (r Rat) Float() float64 { return float64(r.Num) / float64(r.Den) }

// Less reports whether r < s.
func (r Rat) Less(s Rat) bool { return r.Num*s.Den < s.Num*r.Den }

// FloorMul returns floor(x*r) for x >= 0.
func (r Rat) FloorMul(x int64) int64 { return x * r.Num / r.Den }

// CeilMul returns ceil(x*r) for x >= 0.
func (r Rat) CeilMul(x int64) int64 { return (x*r.Num + r.Den - 1) / r.Den }

// ParseRat parses "a/b", "a" or a decimal such as "0.875".
func ParseRat(s string) (Rat, error) {
	s = strings.TrimSpace(s)
	if num, den, ok := strings.Cut(s, "/"); ok {
		n, err1 := strconv.ParseInt(strings.TrimSpace(num), 10, 64)
		d, err2 := strconv.ParseInt(strings.TrimSpace(den), 10, 64)
		if err1 != nil || err2 != nil {
			return Rat{}, fmt.Errorf("rational %q: want a/b with integers a and b", s)
		}
		if d <= 0 {
			return Rat{}, fmt.Errorf("rational %q: denominator must be positive", s)
		}
		return Rat{n, d}.reduce(), nil
	}
	intPart, frac, _ := strings.Cut(s, ".")
	if len(frac) > 9 {
		return Rat{}, fmt.Errorf("rational %q: at most 9 decimal places", s)
	}
	den := int64(1)
	for range frac {
		den *= 10
	}
	n, err := strconv.ParseInt(intPart+frac, 10, 64)
	if err != nil || intPart == "" && frac == "" {
		return Rat{}, fmt.Errorf("rational %q: want a/b, an integer or a decimal", s)
	}
	return Rat{n, den}.reduce(), nil
}

func (r Rat) reduce() Rat {
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
