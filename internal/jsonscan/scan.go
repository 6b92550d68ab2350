// Package jsonscan is the hand-written runtime of the generated single-pass
// JSON decoders (internal/decode): a strict, allocation-free tokenizer that
// reproduces encoding/json's results (what is invalid, how keys match, what
// a type mismatch reports). It knows no schema: everything that names a
// field is generated.
package jsonscan

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math/bits"
	"reflect"
	"unicode/utf16"
	"unicode/utf8"
)

// MaxDepth is encoding/json's nesting limit: open objects and arrays.
const MaxDepth = 10000

// ErrNotObject reports a top-level value that is valid JSON but not an object.
var ErrNotObject = errors.New("not a JSON object")

// The Go types of the scalar fields, as type errors name them.
var (
	// StringType is the type of string fields.
	StringType  = reflect.TypeFor[string]()
	intType     = reflect.TypeFor[int]()
	int64Type   = reflect.TypeFor[int64]()
	float64Type = reflect.TypeFor[float64]()
	boolType    = reflect.TypeFor[bool]()
)

// Scanner is a strict, allocation-free JSON tokenizer over one buffer. The
// zero value is ready to use; Begin (or Reset) starts a document.
type Scanner struct {
	b        []byte
	i        int
	depth    int // objects and arrays open at i
	numStart int // where the last integer began
	scratch  []byte
	// For type errors: the first mismatch, after which decoding goes on, as
	// in encoding/json; the depth of the objects whose field holding it is
	// still to be named (Blame), and whether its struct is.
	mismatch *json.UnmarshalTypeError
	blame    int
	named    bool
	src      string  // Share's: b's bytes, in memory the value keeps
	room     *[]byte // Share's: where unescaped strings go
}

// Reset starts scanning b, keeping the buffers of earlier scans.
func (s *Scanner) Reset(b []byte) {
	scratch := s.scratch
	if cap(scratch) > maxKeptScratch { // one huge escaped string: not kept
		scratch = nil
	}
	*s = Scanner{b: b, scratch: scratch}
}

// maxKeptScratch bounds the unescaping buffer a Scanner keeps across Resets.
const maxKeptScratch = 64 << 10

// SyntaxError reports invalid JSON at a byte offset.
type SyntaxError struct {
	// Offset is the byte offset of the problem in the data.
	Offset int
	msg    string
}

// Error gives the offset and what was found there.
func (e *SyntaxError) Error() string {
	return fmt.Sprintf("invalid JSON at offset %d: %s", e.Offset, e.msg)
}

func (s *Scanner) syntax(what string) error {
	if s.i >= len(s.b) {
		return &SyntaxError{Offset: s.i, msg: "unexpected end of data " + what}
	}
	return &SyntaxError{Offset: s.i, msg: fmt.Sprintf("unexpected %q %s", s.b[s.i], what)}
}

// WrongType skips a value that cannot decode into the Go type t and
// records the mismatch, if it is the first, as encoding/json does: naming
// the field and the value's JSON type, never the value (a server may echo
// the API key in any string). Decoding goes on.
func (s *Scanner) WrongType(t reflect.Type) error {
	what := "number"
	switch s.Peek() {
	case '"':
		what = "string"
	case '{':
		what = "object"
	case '[':
		what = "array"
	case 't', 'f':
		what = "bool"
	}
	if err := s.SkipValue(); err != nil {
		return err
	}
	s.typeMismatch(what, t)
	return nil
}

func (s *Scanner) typeMismatch(what string, t reflect.Type) {
	if s.mismatch != nil {
		return
	}
	s.mismatch = &json.UnmarshalTypeError{Value: what, Type: t, Offset: int64(s.i)}
	s.blame, s.named = s.depth, false // the fields are named on the way out (Blame)
}

// Open enters the object or array at i, within encoding/json's limit.
func (s *Scanner) Open() error {
	s.i++
	if s.depth++; s.depth > MaxDepth {
		return &SyntaxError{Offset: s.i - 1, msg: "exceeded max depth"}
	}
	return nil
}

func (s *Scanner) ws() {
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case ' ', '\t', '\n', '\r':
			s.i++
		default:
			return
		}
	}
}

// Peek skips white space and returns the next byte, or 0 at the end.
func (s *Scanner) Peek() byte {
	s.ws()
	if s.i < len(s.b) {
		return s.b[s.i]
	}
	return 0
}

// Null consumes a null literal if one is next.
func (s *Scanner) Null() bool {
	if s.Peek() == 'n' && bytes.HasPrefix(s.b[s.i:], []byte("null")) {
		s.i += 4
		return true
	}
	return false
}

// NextKey reads the next key of an object whose '{' was consumed, and the
// ':' after it; done reports the closing '}'.
func (s *Scanner) NextKey(first *bool) (key []byte, done bool, err error) {
	c := s.Peek()
	if c == '}' {
		s.i++
		return nil, true, nil
	}
	if !*first {
		if c != ',' {
			return nil, false, s.syntax("after object value")
		}
		s.i++
		c = s.Peek()
	}
	*first = false
	if c != '"' {
		return nil, false, s.syntax("looking for an object key")
	}
	key, err = s.Str()
	if err != nil {
		return nil, false, err
	}
	if s.Peek() != ':' {
		return nil, false, s.syntax("after object key")
	}
	s.i++
	s.ws()
	return key, false, nil
}

// NextElem advances to the next element of an array whose '[' was consumed;
// it reports false at the closing ']'.
func (s *Scanner) NextElem(first *bool) (bool, error) {
	c := s.Peek()
	if c == ']' {
		s.i++
		return false, nil
	}
	if !*first {
		if c != ',' {
			return false, s.syntax("after array element")
		}
		s.i++
		s.ws()
	}
	*first = false
	return true, nil
}

// Str reads a string and returns its unescaped bytes, which alias the input
// (no escapes) or the scanner's scratch buffer; valid until the next call.
// Invalid UTF-8 and lone surrogates become U+FFFD, as in encoding/json.
func (s *Scanner) Str() ([]byte, error) {
	if s.Peek() != '"' {
		return nil, s.syntax("looking for a string")
	}
	s.i++
	start := s.i
	var high uint64 // the high bits of the bytes passed 8 at a time
	ascii := true
	for {
		// 8 bytes at a time up to the first that needs a look: '"', '\\'
		// or a control character. A flag of the SWAR tests below can be
		// wrong only above a right one, so the lowest is exact.
		for s.i+8 <= len(s.b) {
			w := binary.LittleEndian.Uint64(s.b[s.i:])
			q, bs := w^(ones*'"'), w^(ones*'\\')
			if stop := ((q-ones)&^q | (bs-ones)&^bs | (w-ones*0x20)&^w) & highs; stop != 0 {
				n := bits.TrailingZeros64(stop) / 8
				high |= w & (1<<(8*n) - 1) & highs
				s.i += n
				break
			}
			high |= w & highs
			s.i += 8
		}
		if s.i >= len(s.b) {
			return nil, s.syntax("in string literal")
		}
		c := s.b[s.i]
		switch {
		case c == '"':
			out := s.b[start:s.i]
			s.i++
			if (!ascii || high != 0) && !utf8.Valid(out) {
				return s.unescape(out), nil
			}
			return out, nil
		case c == '\\':
			return s.escaped(start)
		case c < 0x20:
			return nil, s.syntax("in string literal")
		case c >= utf8.RuneSelf:
			ascii = false
		}
		s.i++
	}
}

// ones and highs are the SWAR masks of Str: 0x01 and 0x80 in every byte.
const (
	ones  = 0x0101010101010101
	highs = 0x8080808080808080
)

// escaped finishes a string that contains escapes, validating them.
func (s *Scanner) escaped(start int) ([]byte, error) {
	for s.i < len(s.b) {
		c := s.b[s.i]
		switch {
		case c == '"':
			out := s.unescape(s.b[start:s.i])
			s.i++
			return out, nil
		case c == '\\':
			s.i++
			if s.i >= len(s.b) {
				return nil, s.syntax("in string escape code")
			}
			switch s.b[s.i] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
			case 'u':
				if s.i+4 >= len(s.b) || hex4(s.b[s.i+1:s.i+5]) < 0 {
					return nil, s.syntax("in \\u hexadecimal character escape")
				}
				s.i += 4
			default:
				return nil, s.syntax("in string escape code")
			}
		case c < 0x20:
			return nil, s.syntax("in string literal")
		}
		s.i++
	}
	return nil, s.syntax("in string literal")
}

func hex4(b []byte) rune {
	var r rune
	for _, c := range b {
		switch {
		case '0' <= c && c <= '9':
			c -= '0'
		case 'a' <= c && c <= 'f':
			c = c - 'a' + 10
		case 'A' <= c && c <= 'F':
			c = c - 'A' + 10
		default:
			return -1
		}
		r = r*16 + rune(c)
	}
	return r
}

// unescape decodes a validated string body into the scratch buffer.
func (s *Scanner) unescape(in []byte) []byte {
	out := s.scratch[:0]
	for r := 0; r < len(in); {
		c := in[r]
		switch {
		case c == '\\':
			r++
			switch in[r] {
			case 'b':
				out = append(out, '\b')
			case 'f':
				out = append(out, '\f')
			case 'n':
				out = append(out, '\n')
			case 'r':
				out = append(out, '\r')
			case 't':
				out = append(out, '\t')
			case 'u':
				rr := hex4(in[r+1 : r+5])
				r += 4
				if utf16.IsSurrogate(rr) {
					if r+6 < len(in) && in[r+1] == '\\' && in[r+2] == 'u' {
						if dec := utf16.DecodeRune(rr, hex4(in[r+3:r+7])); dec != utf8.RuneError {
							out = utf8.AppendRune(out, dec)
							r += 7
							continue
						}
					}
					rr = utf8.RuneError
				}
				out = utf8.AppendRune(out, rr)
			default: // '"', '\\', '/'
				out = append(out, in[r])
			}
			r++
		case c < utf8.RuneSelf:
			out = append(out, c)
			r++
		default:
			rr, size := utf8.DecodeRune(in[r:])
			if rr == utf8.RuneError && size == 1 {
				out = utf8.AppendRune(out, utf8.RuneError)
			} else {
				out = append(out, in[r:r+size]...)
			}
			r += size
		}
	}
	s.scratch = out
	return out
}

// Int decodes a number into an int field; null leaves it alone.
func (s *Scanner) Int(dst *int) error {
	v, ok, err := s.integer(intType)
	if ok && int64(int(v)) == v {
		*dst = int(v)
	} else if ok {
		s.typeMismatch("number "+string(s.b[s.numStart:s.i]), intType)
	}
	return err
}

// Int64 decodes a number into an int64 field; null leaves it alone.
func (s *Scanner) Int64(dst *int64) error {
	v, ok, err := s.integer(int64Type)
	if ok {
		*dst = v
	}
	return err
}

// integer decodes an integer for a field of type t; null and type
// mismatches (recorded) report !ok. A fraction, an exponent or an
// out-of-range value is a mismatch too, as in encoding/json.
func (s *Scanner) integer(t reflect.Type) (v int64, ok bool, err error) {
	if s.Null() {
		return 0, false, nil
	}
	if c := s.Peek(); c != '-' && (c < '0' || c > '9') {
		return 0, false, s.WrongType(t)
	}
	s.numStart = s.i
	if err := s.number(); err != nil {
		return 0, false, err
	}
	num := s.b[s.numStart:s.i]
	neg := num[0] == '-'
	if neg {
		num = num[1:]
	}
	var u uint64
	for _, c := range num {
		if c < '0' || c > '9' || u > (1<<63)/10 {
			s.typeMismatch("number "+string(s.b[s.numStart:s.i]), t)
			return 0, false, nil
		}
		u = u*10 + uint64(c-'0')
	}
	if (!neg && u > 1<<63-1) || u > 1<<63 {
		s.typeMismatch("number "+string(s.b[s.numStart:s.i]), t)
		return 0, false, nil
	}
	if neg {
		return -int64(u), true, nil
	}
	return int64(u), true, nil
}

// number consumes a JSON number.
func (s *Scanner) number() error {
	b, i := s.b, s.i
	if i < len(b) && b[i] == '-' {
		i++
	}
	switch {
	case i < len(b) && b[i] == '0':
		i++
	case i < len(b) && b[i] >= '1' && b[i] <= '9':
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
	default:
		if i == s.i {
			return s.syntax("looking for beginning of value")
		}
		s.i = i
		return s.syntax("in numeric literal")
	}
	if i < len(b) && b[i] == '.' {
		i++
		if i >= len(b) || b[i] < '0' || b[i] > '9' {
			s.i = i
			return s.syntax("after decimal point in numeric literal")
		}
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		if i >= len(b) || b[i] < '0' || b[i] > '9' {
			s.i = i
			return s.syntax("in exponent of numeric literal")
		}
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
	}
	s.i = i
	return nil
}

// CountElems counts the elements from the one at the scanner to the end
// of its array, without moving the scanner; at least 1.
func (s *Scanner) CountElems() int {
	i, depth := s.i, s.depth
	defer func() { s.i, s.depth = i, depth }()
	n := 0
	for first := false; ; n++ {
		if s.SkipValue() != nil {
			return max(n, 1)
		}
		more, err := s.NextElem(&first)
		if err != nil || !more {
			return n + 1
		}
	}
}

// Raw consumes one value and returns its bytes.
func (s *Scanner) Raw() ([]byte, error) {
	s.ws()
	start := s.i
	if err := s.SkipValue(); err != nil {
		return nil, err
	}
	return s.b[start:s.i], nil
}

// SkipValue consumes and validates one value of any type.
func (s *Scanner) SkipValue() error {
	switch c := s.Peek(); c {
	case '{':
		if err := s.Open(); err != nil {
			return err
		}
		for first := true; ; {
			_, done, err := s.NextKey(&first)
			if err != nil {
				return err
			}
			if done {
				s.depth--
				return nil
			}
			if err := s.SkipValue(); err != nil {
				return err
			}
		}
	case '[':
		if err := s.Open(); err != nil {
			return err
		}
		for first := true; ; {
			more, err := s.NextElem(&first)
			if err != nil {
				return err
			}
			if !more {
				s.depth--
				return nil
			}
			if err := s.SkipValue(); err != nil {
				return err
			}
		}
	case '"':
		_, err := s.Str()
		return err
	case 't':
		return s.literal("true")
	case 'f':
		return s.literal("false")
	case 'n':
		return s.literal("null")
	default:
		return s.number()
	}
}

func (s *Scanner) literal(lit string) error {
	if !bytes.HasPrefix(s.b[s.i:], []byte(lit)) {
		for j := 0; j < len(lit) && s.i < len(s.b) && s.b[s.i] == lit[j]; j++ {
			s.i++
		}
		return s.syntax("in literal " + lit)
	}
	s.i += len(lit)
	return nil
}
