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
	"bytes"
	"errors"
	"fmt"
	"math"
	"strconv"

	"github.com/cerebras-go/cerebras/internal/jsonscan"
)

// MaxDepth bounds the nesting of arrays and objects, as encoding/json does.
const MaxDepth = jsonscan.MaxDepth

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

// Error is an error at an offset of the input. FromJSON's syntax errors
// are jsonscan's, the decoders' (the same offset, and its description as
// the Detail), with the Err ErrSyntax.
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
	// One pass reads src with jsonscan, the decoders' strict scanner, so
	// msgpack accepts and unescapes exactly what they do. msgpack writes
	// a container's count before its elements, which are still to be
	// read: the pass leaves room for the largest header, and compact
	// then writes the smallest one and closes the gap.
	t := transcoder{out: dst, write: true}
	t.s.Reset(src)
	err := t.value()
	if err == nil {
		if err = t.s.End(); err != nil {
			err = scanError(err, ErrSyntax)
		}
	}
	if err == nil {
		err = t.rangeErr // invalid JSON, checked to the end, comes first
	}
	if err != nil {
		return dst, err
	}
	return t.compact(), nil
}

// transcoder is FromJSON's pass.
type transcoder struct {
	s        jsonscan.Scanner
	out      []byte
	write    bool    // until rangeErr: then the pass only checks the syntax
	rangeErr error   // the first number with no msgpack form
	heads    []head  // the containers, in the order they open
	scratch  [5]byte // a header's
}

// head is a container's place in out, where headerRoom bytes wait for its
// header (the first says which: 0xdf a map, 0xdd an array), and its count
// of elements.
type head struct{ at, n int }

const headerRoom = 5 // array 32 and map 32: a byte and a 4-byte count

// scanError is the *Error of an error of jsonscan, a *jsonscan.SyntaxError.
func scanError(err error, kind error) error {
	var se *jsonscan.SyntaxError
	if !errors.As(err, &se) {
		return &Error{Err: kind, Detail: err.Error()}
	}
	if kind == ErrDepth {
		return &Error{Offset: se.Offset, Err: ErrDepth}
	}
	return &Error{Offset: se.Offset, Err: kind, Detail: se.Reason()}
}

func (t *transcoder) value() error {
	switch c := t.s.Peek(); c {
	case '{', '[':
		return t.container(c == '{')
	case '"':
		str, err := t.s.Str()
		if err != nil {
			return scanError(err, ErrSyntax)
		}
		t.str(str)
		return nil
	}
	at := t.s.Offset()
	tok, err := t.s.Raw() // a literal or a number
	if err != nil {
		return scanError(err, ErrSyntax)
	}
	if !t.write {
		return nil
	}
	switch tok[0] {
	case 'n':
		t.out = append(t.out, 0xc0)
	case 't':
		t.out = append(t.out, 0xc3)
	case 'f':
		t.out = append(t.out, 0xc2)
	default:
		t.number(tok, at)
	}
	return nil
}

// container writes the object or array at the scanner: room for its
// header, then its elements.
func (t *transcoder) container(object bool) error {
	k := len(t.heads)
	if t.write {
		kind := byte(0xdd)
		if object {
			kind = 0xdf
		}
		t.heads = append(t.heads, head{at: len(t.out)})
		t.out = append(t.out, kind, 0, 0, 0, 0)
	}
	if err := t.s.Open(); err != nil {
		return scanError(err, ErrDepth)
	}
	n := 0
	for first := true; ; n++ {
		if object {
			key, done, err := t.s.NextKey(&first)
			if err != nil {
				return scanError(err, ErrSyntax)
			}
			if done {
				break
			}
			t.str(key)
		} else {
			more, err := t.s.NextElem(&first)
			if err != nil {
				return scanError(err, ErrSyntax)
			}
			if !more {
				break
			}
		}
		if err := t.value(); err != nil {
			return err
		}
	}
	t.s.Close()
	if t.write {
		t.heads[k].n = n
	}
	return nil
}

// compact writes the smallest header of every container in its room,
// moving what follows down over the room left.
func (t *transcoder) compact() []byte {
	if len(t.heads) == 0 {
		return t.out
	}
	b := t.out
	w := t.heads[0].at // where the bytes go
	r := w             // where they come from
	for _, h := range t.heads {
		w += copy(b[w:], b[r:h.at])
		if b[h.at] == 0xdf {
			w += copy(b[w:], appendMapHeader(t.scratch[:0], h.n))
		} else {
			w += copy(b[w:], appendArrayHeader(t.scratch[:0], h.n))
		}
		r = h.at + headerRoom
	}
	w += copy(b[w:], b[r:])
	return b[:w]
}

// str writes a string of the unescaped bytes b.
func (t *transcoder) str(b []byte) {
	if !t.write {
		return
	}
	t.out = appendStrHeader(t.out, len(b))
	t.out = append(t.out, b...)
}

// number writes the number tok, which is at offset at: an integer as
// the smallest msgpack int, anything else as a float64. One with no such
// form is the pass's rangeErr, and ends its writing.
func (t *transcoder) number(tok []byte, at int) {
	var detail string
	switch {
	case bytes.ContainsAny(tok, ".eE"):
		f, err := strconv.ParseFloat(string(tok), 64)
		if err == nil {
			t.out = AppendFloat64(t.out, f)
			return
		}
		detail = "number " + string(tok) + " is beyond float64"
	case tok[0] == '-':
		v, err := strconv.ParseInt(string(tok), 10, 64)
		if err == nil {
			t.out = AppendInt(t.out, v)
			return
		}
		detail = "integer " + string(tok) + " is below int64"
	default:
		v, err := strconv.ParseUint(string(tok), 10, 64)
		if err == nil {
			t.out = AppendUint(t.out, v)
			return
		}
		detail = "integer " + string(tok) + " is above uint64"
	}
	t.rangeErr = &Error{Offset: at, Err: ErrRange, Detail: detail}
	t.write = false
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
