package trace

import (
	"github.com/friendly-vm/fvm/vocab"

	"encoding/json"
	"errors"
	"fmt"
	"math"
	"unicode/utf8"
)

// A small strict parser for the flat JSON objects of the trace format:
// values are strings, integers, booleans or arrays of integers. It is much
// faster than encoding/json for this shape (the refinement checker reads
// millions of lines per second). Duplicate keys, which encoding/json
// silently accepts, are rejected by the Reader.

type valType uint8

const (
	valString valType = iota + 1
	valNumber
	valBool
	valNull
	valArray
)

var typeNames = [...]string{"", "string", "number", "boolean", "null", "array"}

type value struct {
	typ     valType
	raw     []byte // string contents without quotes, number text, array text
	escaped bool   // string contains backslash escapes
	b       bool
}

type pair struct {
	key []byte // never escaped: keys with escapes are rejected (no known key has one)
	val value
}

// parseObject splits one line (without its newline) into key/value pairs,
// appended to out.
func parseObject(line []byte, out []pair) ([]pair, error) {
	i := skipWS(line, 0)
	if i >= len(line) || line[i] != '{' {
		return out, errors.New("malformed JSON: line is not an object")
	}
	i = skipWS(line, i+1)
	if i < len(line) && line[i] == '}' {
		i = skipWS(line, i+1)
		if i != len(line) {
			return out, errors.New("malformed JSON: data after the object")
		}
		return out, nil
	}
	for {
		if i >= len(line) || line[i] != '"' {
			return out, fmt.Errorf("malformed JSON at byte %d: want a quoted key", i+1)
		}
		start := i + 1
		end, esc, err := scanString(line, start)
		if err != nil {
			return out, err
		}
		if esc {
			return out, fmt.Errorf("unknown field %q", line[start:end])
		}
		key := line[start:end]
		i = skipWS(line, end+1)
		if i >= len(line) || line[i] != ':' {
			return out, fmt.Errorf("malformed JSON at byte %d: want ':' after key %q", i+1, key)
		}
		i = skipWS(line, i+1)
		var v value
		i, v, err = parseValue(line, i)
		if err != nil {
			return out, fmt.Errorf("field %q: %w", key, err)
		}
		out = append(out, pair{key: key, val: v})
		i = skipWS(line, i)
		if i >= len(line) {
			return out, errors.New("malformed JSON: unterminated object")
		}
		switch line[i] {
		case ',':
			i = skipWS(line, i+1)
		case '}':
			i = skipWS(line, i+1)
			if i != len(line) {
				return out, errors.New("malformed JSON: data after the object")
			}
			return out, nil
		default:
			return out, fmt.Errorf("malformed JSON at byte %d: want ',' or '}'", i+1)
		}
	}
}

func skipWS(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\r') {
		i++
	}
	return i
}

// scanString scans a JSON string whose opening quote precedes b[i]; it
// returns the index of the closing quote.
func scanString(b []byte, i int) (end int, escaped bool, err error) {
	for i < len(b) {
		c := b[i]
		switch {
		case c == '"':
			return i, escaped, nil
		case c == '\\':
			escaped = true
			if i+1 >= len(b) {
				return 0, false, errors.New("malformed JSON: unterminated string")
			}
			switch b[i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				i += 2
			case 'u':
				if i+6 > len(b) {
					return 0, false, errors.New("malformed JSON: bad \\u escape")
				}
				for _, h := range b[i+2 : i+6] {
					if !isHex(h) {
						return 0, false, errors.New("malformed JSON: bad \\u escape")
					}
				}
				i += 6
			default:
				return 0, false, fmt.Errorf("malformed JSON: bad escape \\%c", b[i+1])
			}
		case c < 0x20:
			return 0, false, errors.New("malformed JSON: control character in string")
		case c < utf8.RuneSelf:
			i++
		default:
			r, size := utf8.DecodeRune(b[i:])
			if r == utf8.RuneError && size == 1 {
				return 0, false, errors.New("malformed JSON: invalid UTF-8 in string")
			}
			i += size
		}
	}
	return 0, false, errors.New("malformed JSON: unterminated string")
}

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

func parseValue(b []byte, i int) (int, value, error) {
	if i >= len(b) {
		return i, value{}, errors.New("malformed JSON: missing value")
	}
	switch c := b[i]; {
	case c == '"':
		end, esc, err := scanString(b, i+1)
		if err != nil {
			return i, value{}, err
		}
		return end + 1, value{typ: valString, raw: b[i+1 : end], escaped: esc}, nil
	case c == '-' || c >= '0' && c <= '9':
		j := i
		if b[j] == '-' {
			j++
		}
		k := j
		for j < len(b) && (b[j] >= '0' && b[j] <= '9' || b[j] == '.' || b[j] == 'e' || b[j] == 'E' || b[j] == '+' || b[j] == '-') {
			j++
		}
		if j == k {
			return i, value{}, errors.New("malformed JSON: bad number")
		}
		return j, value{typ: valNumber, raw: b[i:j]}, nil
	case c == 't' && hasPrefix(b[i:], "true"):
		return i + 4, value{typ: valBool, b: true}, nil
	case c == 'f' && hasPrefix(b[i:], "false"):
		return i + 5, value{typ: valBool}, nil
	case c == 'n' && hasPrefix(b[i:], "null"):
		return i + 4, value{typ: valNull}, nil
	case c == '[':
		j := skipWS(b, i+1)
		if j < len(b) && b[j] == ']' {
			return j + 1, value{typ: valArray, raw: b[i : j+1]}, nil
		}
		for {
			var v value
			var err error
			j, v, err = parseValue(b, j)
			if err != nil {
				return i, value{}, err
			}
			if v.typ != valNumber {
				return i, value{}, fmt.Errorf("array of %s: want an array of integers", typeNames[v.typ])
			}
			j = skipWS(b, j)
			if j >= len(b) {
				return i, value{}, errors.New("malformed JSON: unterminated array")
			}
			if b[j] == ']' {
				return j + 1, value{typ: valArray, raw: b[i : j+1]}, nil
			}
			if b[j] != ',' {
				return i, value{}, errors.New("malformed JSON: want ',' or ']' in array")
			}
			j = skipWS(b, j+1)
		}
	case c == '{':
		return i, value{}, errors.New("nested objects are not part of the trace format")
	}
	return i, value{}, fmt.Errorf("malformed JSON at byte %d: unexpected %q", i+1, b[i])
}

func hasPrefix(b []byte, s string) bool { return len(b) >= len(s) && string(b[:len(s)]) == s }

// Typed accessors. Each names what it wanted on error.

func (v value) int64() (int64, error) {
	if v.typ != valNumber {
		return 0, fmt.Errorf("got %s, want an integer", typeNames[v.typ])
	}
	return parseInt(v.raw)
}

func parseInt(raw []byte) (int64, error) {
	neg := false
	d := raw
	if len(d) > 0 && d[0] == '-' {
		neg = true
		d = d[1:]
	}
	if len(d) == 0 || len(d) > 1 && d[0] == '0' {
		return 0, fmt.Errorf("bad integer %q", raw)
	}
	var n uint64
	for _, c := range d {
		if c < '0' || c > '9' {
			return 0, fmt.Errorf("%q is not an integer", raw)
		}
		if n > (math.MaxUint64-9)/10 {
			return 0, fmt.Errorf("integer %s out of range", raw)
		}
		n = n*10 + uint64(c-'0')
	}
	if neg {
		if n > 1<<63 {
			return 0, fmt.Errorf("integer %s out of range", raw)
		}
		return -int64(n), nil
	}
	if n > math.MaxInt64 {
		return 0, fmt.Errorf("integer %s out of range", raw)
	}
	return int64(n), nil
}

func (v value) uint64() (uint64, error) {
	if v.typ != valNumber {
		return 0, fmt.Errorf("got %s, want an integer", typeNames[v.typ])
	}
	d := v.raw
	if len(d) == 0 || len(d) > 1 && d[0] == '0' || len(d) > 20 {
		return 0, fmt.Errorf("bad unsigned integer %q", v.raw)
	}
	var n uint64
	for _, c := range d {
		if c < '0' || c > '9' {
			return 0, fmt.Errorf("%q is not an unsigned integer", v.raw)
		}
		if n > (math.MaxUint64-uint64(c-'0'))/10 {
			return 0, fmt.Errorf("integer %s out of range", v.raw)
		}
		n = n*10 + uint64(c-'0')
	}
	return n, nil
}

func (v value) int() (int, error) {
	n, err := v.int64()
	if err != nil {
		return 0, err
	}
	if n < math.MinInt32 || n > math.MaxInt32 {
		return 0, fmt.Errorf("integer %d out of range", n)
	}
	return int(n), nil
}

func (v value) str() (string, error) {
	if v.typ != valString {
		return "", fmt.Errorf("got %s, want a string", typeNames[v.typ])
	}
	if !v.escaped {
		return string(v.raw), nil
	}
	q := make([]byte, 0, len(v.raw)+2)
	q = append(append(append(q, '"'), v.raw...), '"')
	var s string
	if err := json.Unmarshal(q, &s); err != nil {
		return "", fmt.Errorf("bad string: %w", err)
	}
	if !utf8.ValidString(s) {
		return "", errors.New("string is not valid UTF-8 (lone surrogate escape)")
	}
	return s, nil
}

func (v value) boolean() (bool, error) {
	if v.typ != valBool {
		return false, fmt.Errorf("got %s, want true or false", typeNames[v.typ])
	}
	return v.b, nil
}

func (v value) rat() (vocab.Rat, error) {
	if v.typ != valString || v.escaped {
		return vocab.Rat{}, fmt.Errorf("got %s, want a rational as a string \"a/b\"", typeNames[v.typ])
	}
	return vocab.ParseRat(string(v.raw))
}

// name returns a string holding a name (what says which kind of name).
func (v value) name(what string) (string, error) {
	if v.typ != valString || v.escaped {
		return "", fmt.Errorf("got %s, want %s", typeNames[v.typ], what)
	}
	return string(v.raw), nil
}

func (v value) ints() ([]int, error) {
	if v.typ != valArray {
		return nil, fmt.Errorf("got %s, want an array of integers", typeNames[v.typ])
	}
	var out []int
	b := v.raw
	i := skipWS(b, 1)
	for i < len(b) && b[i] != ']' {
		j := i
		for j < len(b) && b[j] != ',' && b[j] != ']' && b[j] != ' ' && b[j] != '\t' && b[j] != '\r' {
			j++
		}
		n, err := value{typ: valNumber, raw: b[i:j]}.int()
		if err != nil {
			return nil, err
		}
		out = append(out, n)
		i = skipWS(b, j)
		if i < len(b) && b[i] == ',' {
			i = skipWS(b, i+1)
		}
	}
	return out, nil
}
