package msgpack

import (
	"encoding/binary"
	"math"
	"strconv"
	"unicode/utf8"
)

// ToJSON appends the JSON text of the msgpack value in src to dst. src must
// hold exactly one value. Strings must be UTF-8, and are escaped as
// encoding/json escapes them; a float is written in the shortest
// form that reads back to it, with ".0" when it would otherwise read as an
// integer.
func ToJSON(dst, src []byte) ([]byte, error) {
	r := reader{b: src, out: dst}
	if err := r.value(0); err != nil {
		return dst, err
	}
	if r.i != len(src) {
		return dst, &Error{Offset: r.i, Err: ErrSyntax, Detail: "bytes after the value"}
	}
	return r.out, nil
}

type reader struct {
	b   []byte
	i   int
	out []byte
}

func (r *reader) err(e error, detail string) error {
	return &Error{Offset: r.i, Err: e, Detail: detail}
}

// take returns the next n bytes.
func (r *reader) take(n int) ([]byte, error) {
	if n < 0 || len(r.b)-r.i < n {
		return nil, r.err(ErrSyntax, "unexpected end")
	}
	p := r.b[r.i : r.i+n]
	r.i += n
	return p, nil
}

// size reads a big-endian length of n bytes.
func (r *reader) size(n int) (int, error) {
	p, err := r.take(n)
	if err != nil {
		return 0, err
	}
	var v uint64
	for _, c := range p {
		v = v<<8 | uint64(c)
	}
	if v > math.MaxInt32 {
		return 0, r.err(ErrSyntax, "length too large")
	}
	return int(v), nil
}

func (r *reader) value(depth int) error {
	if r.i >= len(r.b) {
		return r.err(ErrSyntax, "unexpected end")
	}
	at := r.i
	c := r.b[r.i]
	r.i++
	switch {
	case c <= 0x7f:
		r.out = strconv.AppendUint(r.out, uint64(c), 10)
	case c >= 0xe0:
		r.out = strconv.AppendInt(r.out, int64(int8(c)), 10)
	case c&0xf0 == 0x80:
		return r.container(depth, int(c&0x0f), true)
	case c&0xf0 == 0x90:
		return r.container(depth, int(c&0x0f), false)
	case c&0xe0 == 0xa0:
		return r.str(int(c & 0x1f))
	case c == 0xc0:
		r.out = append(r.out, "null"...)
	case c == 0xc2:
		r.out = append(r.out, "false"...)
	case c == 0xc3:
		r.out = append(r.out, "true"...)
	case c >= 0xcc && c <= 0xcf:
		p, err := r.take(1 << (c - 0xcc))
		if err != nil {
			return err
		}
		var v uint64
		for _, x := range p {
			v = v<<8 | uint64(x)
		}
		r.out = strconv.AppendUint(r.out, v, 10)
	case c >= 0xd0 && c <= 0xd3:
		n := 1 << (c - 0xd0)
		p, err := r.take(n)
		if err != nil {
			return err
		}
		var v uint64
		for _, x := range p {
			v = v<<8 | uint64(x)
		}
		shift := 64 - 8*n
		r.out = strconv.AppendInt(r.out, int64(v<<shift)>>shift, 10)
	case c == 0xca || c == 0xcb:
		var f float64
		if c == 0xca {
			p, err := r.take(4)
			if err != nil {
				return err
			}
			f = float64(math.Float32frombits(binary.BigEndian.Uint32(p)))
		} else {
			p, err := r.take(8)
			if err != nil {
				return err
			}
			f = math.Float64frombits(binary.BigEndian.Uint64(p))
		}
		if math.IsNaN(f) || math.IsInf(f, 0) {
			return &Error{Offset: at, Err: ErrNotJSON, Detail: "NaN or infinite float"}
		}
		r.out = appendJSONFloat(r.out, f)
	case c >= 0xd9 && c <= 0xdb:
		n, err := r.size(1 << (c - 0xd9))
		if err != nil {
			return err
		}
		return r.str(n)
	case c == 0xdc || c == 0xdd:
		n, err := r.size(2 << (c - 0xdc))
		if err != nil {
			return err
		}
		return r.container(depth, n, false)
	case c == 0xde || c == 0xdf:
		n, err := r.size(2 << (c - 0xde))
		if err != nil {
			return err
		}
		return r.container(depth, n, true)
	default: // bin, ext, and 0xc1, which is never used
		return &Error{Offset: at, Err: ErrNotJSON, Detail: "type byte 0x" + strconv.FormatUint(uint64(c), 16)}
	}
	return nil
}

// container writes an array of n elements, or a map of n pairs.
func (r *reader) container(depth, n int, isMap bool) error {
	if depth >= MaxDepth {
		return r.err(ErrDepth, "")
	}
	open, close := byte('['), byte(']')
	if isMap {
		open, close = '{', '}'
	}
	r.out = append(r.out, open)
	for e := 0; e < n; e++ {
		if r.i >= len(r.b) { // every element takes a byte: a count cannot outrun the input
			return r.err(ErrSyntax, "unexpected end")
		}
		if e > 0 {
			r.out = append(r.out, ',')
		}
		if isMap {
			c := r.b[r.i]
			if c&0xe0 != 0xa0 && (c < 0xd9 || c > 0xdb) {
				return r.err(ErrNotJSON, "a map key that is not a string")
			}
			if err := r.value(depth + 1); err != nil {
				return err
			}
			r.out = append(r.out, ':')
		}
		if err := r.value(depth + 1); err != nil {
			return err
		}
	}
	r.out = append(r.out, close)
	return nil
}

// str writes a str of n bytes as a JSON string.
func (r *reader) str(n int) error {
	at := r.i
	p, err := r.take(n)
	if err != nil {
		return err
	}
	if !utf8.Valid(p) { // msgpack's str is UTF-8; a JSON reader would refuse it too
		return &Error{Offset: at, Err: ErrNotJSON, Detail: "a str that is not UTF-8"}
	}
	r.out = AppendJSONString(r.out, p)
	return nil
}

const hexDigits = "0123456789abcdef"

// AppendJSONString appends s as a JSON string, escaped as encoding/json
// escapes it (HTML characters and U+2028/U+2029 too), an invalid UTF-8 byte
// becoming U+FFFD.
func AppendJSONString(dst, s []byte) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&' {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch c {
			case '"', '\\':
				dst = append(dst, '\\', c)
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		rn, size := utf8.DecodeRune(s[i:])
		if rn == utf8.RuneError && size == 1 {
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
			i++
			start = i
			continue
		}
		if rn == '\u2028' || rn == '\u2029' {
			dst = append(dst, s[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', hexDigits[rn&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}

// appendJSONFloat writes f so that it reads back as the same float64, and
// as a float: 1 is written 1.0.
func appendJSONFloat(dst []byte, f float64) []byte {
	start := len(dst)
	dst = strconv.AppendFloat(dst, f, 'g', -1, 64)
	for _, c := range dst[start:] {
		if c == '.' || c == 'e' {
			return dst
		}
	}
	return append(dst, '.', '0')
}
