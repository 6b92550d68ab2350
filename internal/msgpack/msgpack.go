// Package msgpack transcodes between JSON and MessagePack
// (https://github.com/msgpack/msgpack/blob/master/spec.md) without an
// intermediate Go value: the client already has the JSON bytes of a request,
// and the API reads a msgpack body as the same JSON value.
//
// FromJSON writes exactly the value a JSON reader sees:
//   - null, true and false are nil, true and false;
//   - a string is a str of its decoded UTF-8 (escapes resolved; an invalid
//     byte or a lone surrogate becomes U+FFFD, as encoding/json reads it);
//   - a number written without a fraction or an exponent is an integer, as
//     Python's json module reads it, and is sent as the smallest msgpack int
//     that holds it (-0 is 0); an integer outside the range of int64 and
//     uint64 has no msgpack form and is refused with ErrRange, rather than
//     rounded to a float64 the server would read as another type;
//   - any other number is a float64, the nearest to the decimal (what
//     strconv.ParseFloat and every float64 JSON reader return), so a number
//     Go wrote from a float64 comes back bit for bit; one beyond float64's
//     range is refused with ErrRange;
//   - arrays and objects keep their order and length (duplicate keys
//     included: a reader keeps the last, as it would of the JSON).
//
// ToJSON is the reverse, for the fake API: it accepts what a JSON value can
// be (nil, bool, int, float, str, array, and map with str keys) and writes
// floats so that they stay floats (1.0, not 1).
package msgpack

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"unicode/utf16"
	"unicode/utf8"
)

// MaxDepth bounds the nesting of arrays and objects, as encoding/json does.
const MaxDepth = 10000

var (
	// ErrSyntax is the error of input that is not one valid value.
	ErrSyntax = errors.New("msgpack: invalid input")
	// ErrRange is the error of a number that has no exact msgpack form: an
	// integer beyond int64 and uint64, or a number beyond float64.
	ErrRange = errors.New("msgpack: number out of range")
	// ErrDepth is the error of a value nested deeper than MaxDepth.
	ErrDepth = errors.New("msgpack: nested too deep")
	// ErrNotJSON is ToJSON's error for msgpack that no JSON value is: bin,
	// ext, a non-string map key, a str that is not UTF-8, a NaN or infinite
	// float.
	ErrNotJSON = errors.New("msgpack: not a JSON value")
)

// Error is an error at an offset of the input.
type Error struct {
	Offset int
	Err    error // ErrSyntax, ErrRange, ErrDepth or ErrNotJSON
	Detail string
}

func (e *Error) Error() string {
	if e.Detail == "" {
		return fmt.Sprintf("%v at byte %d", e.Err, e.Offset)
	}
	return fmt.Sprintf("%v at byte %d: %s", e.Err, e.Offset, e.Detail)
}

func (e *Error) Unwrap() error { return e.Err }

// FromJSON appends the msgpack encoding of the JSON value in src to dst.
func FromJSON(dst, src []byte) ([]byte, error) {
	if uint64(len(src)) > math.MaxUint32 { // a str or a container longer than msgpack can count
		return dst, &Error{Err: ErrRange, Detail: "input longer than 4 GiB"}
	}
	// Pass one checks the syntax and counts the elements of every array
	// and object, in the order they open, since msgpack writes a count
	// before the elements; pass two writes.
	s := scanner{b: src}
	s.ws()
	if err := s.count(0); err != nil {
		return dst, err
	}
	if s.ws(); s.i < len(s.b) {
		return dst, s.err(ErrSyntax, "after the top-level value")
	}
	w := writer{b: dst, src: src, counts: s.counts}
	if err := w.value(); err != nil {
		return dst, err
	}
	return w.b, nil
}

// scanner is FromJSON's first pass.
type scanner struct {
	b      []byte
	i      int
	counts []int
}

func (s *scanner) err(e error, detail string) error {
	return &Error{Offset: s.i, Err: e, Detail: detail}
}

func (s *scanner) ws() {
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case ' ', '\t', '\n', '\r':
			s.i++
		default:
			return
		}
	}
}

// count checks one value and counts the elements of its containers.
func (s *scanner) count(depth int) error {
	if s.i >= len(s.b) {
		return s.err(ErrSyntax, "unexpected end")
	}
	switch c := s.b[s.i]; {
	case c == '{' || c == '[':
		if depth >= MaxDepth {
			return s.err(ErrDepth, "")
		}
		end := byte('}')
		if c == '[' {
			end = ']'
		}
		k := len(s.counts)
		s.counts = append(s.counts, 0)
		s.i++
		s.ws()
		if s.i < len(s.b) && s.b[s.i] == end {
			s.i++
			return nil
		}
		for {
			s.ws()
			if c == '{' {
				if s.i >= len(s.b) || s.b[s.i] != '"' {
					return s.err(ErrSyntax, "want an object key")
				}
				if _, err := s.str(); err != nil {
					return err
				}
				if s.ws(); s.i >= len(s.b) || s.b[s.i] != ':' {
					return s.err(ErrSyntax, "want ':'")
				}
				s.i++
				s.ws()
			}
			if err := s.count(depth + 1); err != nil {
				return err
			}
			s.counts[k]++
			s.ws()
			if s.i >= len(s.b) {
				return s.err(ErrSyntax, "unexpected end")
			}
			switch s.b[s.i] {
			case ',':
				s.i++
			case end:
				s.i++
				return nil
			default:
				return s.err(ErrSyntax, "want ',' or the end of the container")
			}
		}
	case c == '"':
		_, err := s.str()
		return err
	case c == '-' || (c >= '0' && c <= '9'):
		_, _, err := s.number()
		return err
	default:
		for _, lit := range [...]string{"null", "true", "false"} {
			if len(s.b)-s.i >= len(lit) && string(s.b[s.i:s.i+len(lit)]) == lit {
				s.i += len(lit)
				return nil
			}
		}
		return s.err(ErrSyntax, "want a value")
	}
}

// str checks the string at s.i and moves past it; escaped reports a
// backslash in it.
func (s *scanner) str() (escaped bool, err error) {
	s.i++ // the opening quote
	for s.i < len(s.b) {
		switch c := s.b[s.i]; {
		case c == '"':
			s.i++
			return escaped, nil
		case c == '\\':
			escaped = true
			if s.i+1 >= len(s.b) {
				return false, s.err(ErrSyntax, "unexpected end")
			}
			switch s.b[s.i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				s.i += 2
			case 'u':
				if s.i+6 > len(s.b) || !isHex4(s.b[s.i+2:s.i+6]) {
					return false, s.err(ErrSyntax, `bad \u escape`)
				}
				s.i += 6
			default:
				return false, s.err(ErrSyntax, "bad escape")
			}
		case c < 0x20:
			return false, s.err(ErrSyntax, "control character in a string")
		default:
			s.i++
		}
	}
	return false, s.err(ErrSyntax, "unterminated string")
}

func isHex4(b []byte) bool {
	for _, c := range b {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
			return false
		}
	}
	return true
}

// number checks the number at s.i and moves past it; integer reports one
// without a fraction or an exponent.
func (s *scanner) number() (tok []byte, integer bool, err error) {
	start := s.i
	digits := func() int {
		n := 0
		for s.i < len(s.b) && s.b[s.i] >= '0' && s.b[s.i] <= '9' {
			s.i++
			n++
		}
		return n
	}
	if s.b[s.i] == '-' {
		s.i++
	}
	switch {
	case s.i < len(s.b) && s.b[s.i] == '0':
		s.i++
	case digits() == 0:
		return nil, false, s.err(ErrSyntax, "bad number")
	}
	integer = true
	if s.i < len(s.b) && s.b[s.i] == '.' {
		s.i++
		integer = false
		if digits() == 0 {
			return nil, false, s.err(ErrSyntax, "bad number")
		}
	}
	if s.i < len(s.b) && (s.b[s.i] == 'e' || s.b[s.i] == 'E') {
		s.i++
		integer = false
		if s.i < len(s.b) && (s.b[s.i] == '+' || s.b[s.i] == '-') {
			s.i++
		}
		if digits() == 0 {
			return nil, false, s.err(ErrSyntax, "bad number")
		}
	}
	return s.b[start:s.i], integer, nil
}

// writer is FromJSON's second pass, over input the first pass checked.
type writer struct {
	b       []byte
	src     []byte
	i       int
	counts  []int
	k       int    // the next container's index in counts
	scratch []byte // a string's decoded bytes
}

func (w *writer) ws() {
	for w.i < len(w.src) {
		switch w.src[w.i] {
		case ' ', '\t', '\n', '\r':
			w.i++
		default:
			return
		}
	}
}

func (w *writer) value() error {
	w.ws()
	switch c := w.src[w.i]; {
	case c == '{' || c == '[':
		n := w.counts[w.k]
		w.k++
		if c == '{' {
			w.b = appendMapHeader(w.b, n)
		} else {
			w.b = appendArrayHeader(w.b, n)
		}
		w.i++
		for e := 0; e < n; e++ {
			w.ws()
			if w.src[w.i] == ',' {
				w.i++
				w.ws()
			}
			if c == '{' {
				if err := w.str(); err != nil {
					return err
				}
				w.ws()
				w.i++ // ':'
			}
			if err := w.value(); err != nil {
				return err
			}
		}
		w.ws()
		w.i++ // the closing bracket
		return nil
	case c == '"':
		return w.str()
	case c == 'n':
		w.b = append(w.b, 0xc0)
		w.i += 4
	case c == 't':
		w.b = append(w.b, 0xc3)
		w.i += 4
	case c == 'f':
		w.b = append(w.b, 0xc2)
		w.i += 5
	default:
		return w.number()
	}
	return nil
}

func (w *writer) number() error {
	s := scanner{b: w.src, i: w.i}
	tok, integer, _ := s.number()
	at := w.i
	w.i = s.i
	if integer {
		if tok[0] == '-' {
			v, err := strconv.ParseInt(string(tok), 10, 64)
			if err != nil {
				return &Error{Offset: at, Err: ErrRange, Detail: "integer " + string(tok) + " is below int64"}
			}
			w.b = AppendInt(w.b, v)
			return nil
		}
		v, err := strconv.ParseUint(string(tok), 10, 64)
		if err != nil {
			return &Error{Offset: at, Err: ErrRange, Detail: "integer " + string(tok) + " is above uint64"}
		}
		w.b = AppendUint(w.b, v)
		return nil
	}
	f, err := strconv.ParseFloat(string(tok), 64)
	if err != nil {
		return &Error{Offset: at, Err: ErrRange, Detail: "number " + string(tok) + " is beyond float64"}
	}
	w.b = AppendFloat64(w.b, f)
	return nil
}

// str writes the string at w.i.
func (w *writer) str() error {
	start := w.i + 1
	end := start
	plain := true
	for ; w.src[end] != '"'; end++ {
		if c := w.src[end]; c == '\\' {
			plain = false
			end++ // the escaped byte, which may be a quote
		} else if c >= utf8.RuneSelf {
			plain = false
		}
	}
	w.i = end + 1
	raw := w.src[start:end]
	if plain || (!hasBackslash(raw) && utf8.Valid(raw)) {
		w.b = appendStrHeader(w.b, len(raw))
		w.b = append(w.b, raw...)
		return nil
	}
	w.scratch = unquote(w.scratch[:0], raw)
	w.b = appendStrHeader(w.b, len(w.scratch))
	w.b = append(w.b, w.scratch...)
	return nil
}

func hasBackslash(b []byte) bool {
	for _, c := range b {
		if c == '\\' {
			return true
		}
	}
	return false
}

// unquote appends the decoded bytes of the inside of a checked JSON string
// to dst, as encoding/json decodes it: an invalid UTF-8 byte and a lone
// surrogate escape each become U+FFFD.
func unquote(dst, s []byte) []byte {
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == '\\':
			e := s[i+1]
			i += 2
			switch e {
			case 'b':
				dst = append(dst, '\b')
			case 'f':
				dst = append(dst, '\f')
			case 'n':
				dst = append(dst, '\n')
			case 'r':
				dst = append(dst, '\r')
			case 't':
				dst = append(dst, '\t')
			case 'u':
				r := rune(hex4(s[i:]))
				i += 4
				if utf16.IsSurrogate(r) {
					r2 := unicodeReplacement
					if i+6 <= len(s) && s[i] == '\\' && s[i+1] == 'u' {
						r2 = rune(hex4(s[i+2:]))
					}
					if dec := utf16.DecodeRune(r, r2); dec != unicodeReplacement {
						i += 6
						r = dec
					} else {
						r = unicodeReplacement
					}
				}
				dst = utf8.AppendRune(dst, r)
			default: // '"', '\\', '/'
				dst = append(dst, e)
			}
		case c < utf8.RuneSelf:
			dst = append(dst, c)
			i++
		default:
			r, size := utf8.DecodeRune(s[i:])
			if r == utf8.RuneError && size == 1 {
				dst = utf8.AppendRune(dst, unicodeReplacement)
			} else {
				dst = append(dst, s[i:i+size]...)
			}
			i += size
		}
	}
	return dst
}

const unicodeReplacement = '\uFFFD'

func hex4(b []byte) uint16 {
	var v uint16
	for _, c := range b[:4] {
		v <<= 4
		switch {
		case c <= '9':
			v |= uint16(c - '0')
		case c >= 'a':
			v |= uint16(c - 'a' + 10)
		default:
			v |= uint16(c - 'A' + 10)
		}
	}
	return v
}

// AppendInt appends v as the smallest msgpack int that holds it.
func AppendInt(b []byte, v int64) []byte {
	switch {
	case v >= 0:
		return AppendUint(b, uint64(v))
	case v >= -32:
		return append(b, byte(v))
	case v >= math.MinInt8:
		return append(b, 0xd0, byte(v))
	case v >= math.MinInt16:
		return append(b, 0xd1, byte(v>>8), byte(v))
	case v >= math.MinInt32:
		return append(b, 0xd2, byte(v>>24), byte(v>>16), byte(v>>8), byte(v))
	}
	return append(b, 0xd3, byte(v>>56), byte(v>>48), byte(v>>40), byte(v>>32), byte(v>>24), byte(v>>16), byte(v>>8), byte(v))
}

// AppendUint appends v as the smallest msgpack int that holds it.
func AppendUint(b []byte, v uint64) []byte {
	switch {
	case v <= 127:
		return append(b, byte(v))
	case v <= math.MaxUint8:
		return append(b, 0xcc, byte(v))
	case v <= math.MaxUint16:
		return append(b, 0xcd, byte(v>>8), byte(v))
	case v <= math.MaxUint32:
		return append(b, 0xce, byte(v>>24), byte(v>>16), byte(v>>8), byte(v))
	}
	return append(b, 0xcf, byte(v>>56), byte(v>>48), byte(v>>40), byte(v>>32), byte(v>>24), byte(v>>16), byte(v>>8), byte(v))
}

// AppendFloat64 appends f as a msgpack float64.
func AppendFloat64(b []byte, f float64) []byte {
	u := math.Float64bits(f)
	return append(b, 0xcb, byte(u>>56), byte(u>>48), byte(u>>40), byte(u>>32), byte(u>>24), byte(u>>16), byte(u>>8), byte(u))
}

func appendStrHeader(b []byte, n int) []byte {
	switch {
	case n <= 31:
		return append(b, 0xa0|byte(n))
	case n <= math.MaxUint8:
		return append(b, 0xd9, byte(n))
	case n <= math.MaxUint16:
		return append(b, 0xda, byte(n>>8), byte(n))
	}
	return append(b, 0xdb, byte(n>>24), byte(n>>16), byte(n>>8), byte(n))
}

func appendArrayHeader(b []byte, n int) []byte {
	switch {
	case n <= 15:
		return append(b, 0x90|byte(n))
	case n <= math.MaxUint16:
		return append(b, 0xdc, byte(n>>8), byte(n))
	}
	return append(b, 0xdd, byte(n>>24), byte(n>>16), byte(n>>8), byte(n))
}

func appendMapHeader(b []byte, n int) []byte {
	switch {
	case n <= 15:
		return append(b, 0x80|byte(n))
	case n <= math.MaxUint16:
		return append(b, 0xde, byte(n>>8), byte(n))
	}
	return append(b, 0xdf, byte(n>>24), byte(n>>16), byte(n>>8), byte(n))
}
