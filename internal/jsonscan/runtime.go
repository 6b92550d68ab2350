package jsonscan

import (
	"bytes"
	"encoding/json"
	"errors"
	"reflect"
	"strconv"
	"unsafe"
)

// Begin starts decoding data, whose top-level value must be an object: it
// returns nil at its '{', else the syntax error of invalid data or
// ErrNotObject.
func (s *Scanner) Begin(data []byte) error {
	s.Reset(data)
	if s.Peek() == '{' {
		return nil
	}
	if s.i < len(s.b) {
		if err := s.SkipValue(); err != nil {
			return err
		}
		if s.ws(); s.i < len(s.b) {
			return s.syntax("after top-level value")
		}
	}
	return ErrNotObject
}

// End finishes decoding after the top-level value: it returns a syntax error
// for anything but white space after it, else the first type mismatch, if
// any (as a *json.UnmarshalTypeError), else nil.
func (s *Scanner) End() error {
	if s.ws(); s.i < len(s.b) {
		return s.syntax("after top-level value")
	}
	return s.Mismatch()
}

// Mismatch returns the first type mismatch recorded so far, or nil.
func (s *Scanner) Mismatch() error {
	if s.mismatch == nil {
		return nil
	}
	return s.mismatch
}

// Close leaves the object or array whose closing byte was consumed.
func (s *Scanner) Close() { s.depth-- }

// Depth is the number of objects and arrays open: 1 inside the top-level
// object.
func (s *Scanner) Depth() int { return s.depth }

// Blamed reports whether the first type mismatch lies in the value of the
// field that the decoder of the object at Depth has just decoded, and that
// field is still to be named: the decoder then calls Blame. Naming the
// fields only on the way out of a mismatch keeps decoding free of any
// bookkeeping per field.
func (s *Scanner) Blamed() bool { return s.mismatch != nil && s.blame >= s.depth }

// Blame names, in the first type mismatch, the field (its JSON name) of the
// struct type t that Blamed reported, as encoding/json names it: the
// innermost struct is the error's Struct, and the field names from the
// outermost on are its Field.
func (s *Scanner) Blame(t reflect.Type, name string) {
	m := s.mismatch
	if !s.named {
		m.Struct, s.named = t.Name(), true
	}
	if m.Field == "" {
		m.Field = name
	} else {
		m.Field = name + "." + m.Field
	}
	s.blame = s.depth - 1 // the enclosing object's field is next
}

// Fold returns the index of the name in names that key matches
// case-insensitively as encoding/json matches it (bytes.EqualFold: "ſ"
// matches "s", the Kelvin sign "k"), or -1. Exact matches are the caller's
// to try first.
func Fold(key []byte, names []string) int {
	for i, n := range names {
		if bytes.EqualFold(key, []byte(n)) {
			return i
		}
	}
	return -1
}

// maxIntern bounds the strings Intern keeps: the repeated values (ids,
// models, fingerprints, roles, names) are short.
const maxIntern = 64

// Intern returns b as a string, reusing *last when it is equal, and
// remembers short values in *last for the next call. A decoder keeps one
// last value per string field: values that repeat in every chunk of a
// stream (id, model, role) are then allocated once.
func Intern(b []byte, last *string) string {
	if len(b) > maxIntern {
		return string(b)
	}
	if string(b) == *last {
		return *last
	}
	*last = string(b)
	return *last
}

// Share makes the strings decoded with Text cost no allocation of their
// own. src holds the bytes given to Begin, in memory that is never written
// again and that the decoded value keeps anyway (for its RawJSON): a string
// without escapes is a slice of src, and keeps all of src alive. An
// unescaped one is appended to *room, within its capacity, or to a new
// room of roomSize bytes when it is full; *room then starts after it.
// Those bytes are never written again either, and a string keeps its room
// alive. Share lasts until the next Begin or Reset.
func (s *Scanner) Share(src string, room *[]byte) {
	if len(src) == len(s.b) {
		s.src, s.room = src, room
	}
}

// roomSize is the size of Share's rooms: a kept string keeps 2 KiB alive at
// most, and strings longer than maxInRoom get allocations of their own.
const (
	roomSize  = 2 << 10
	maxInRoom = roomSize / 8
)

// String decodes a string into *dst; null leaves it alone, as in
// encoding/json. A non-nil last interns the value (see Intern).
func (s *Scanner) String(dst *string, last *string) error {
	b, ok, err := s.StringBytes(StringType)
	if ok {
		*dst = s.str(b, last)
	}
	return err
}

// Text decodes, as String, a string that is likely new in every document,
// such as a delta's text: when Share allows, a slice of the document.
func (s *Scanner) Text(dst *string, last *string) error {
	b, ok, err := s.StringBytes(StringType)
	if ok {
		*dst = s.text(b, last)
	}
	return err
}

func (s *Scanner) text(b []byte, last *string) string {
	if s.src == "" || len(b) == 0 {
		return s.str(b, last)
	}
	if off := cap(s.b) - cap(b); off >= 0 && off+len(b) <= len(s.b) && &s.b[off] == &b[0] {
		return s.src[off : off+len(b)] // b is a part of the document: no escapes
	}
	if len(b) > maxInRoom {
		return string(b)
	}
	r := *s.room
	if len(b) > cap(r)-len(r) {
		r = make([]byte, 0, roomSize)
	}
	n := len(r)
	r = append(r, b...) // within its capacity
	*s.room = r[len(r):]
	return unsafe.String(&r[n], len(b))
}

func (s *Scanner) str(b []byte, last *string) string {
	if last != nil {
		return Intern(b, last)
	}
	return string(b)
}

// StringBytes decodes a string for a field of type t and returns its
// unescaped bytes (valid until the next call); null and a value of another
// type (recorded) report !ok.
func (s *Scanner) StringBytes(t reflect.Type) (b []byte, ok bool, err error) {
	if s.Null() {
		return nil, false, nil
	}
	if s.Peek() != '"' {
		return nil, false, s.WrongType(t)
	}
	b, err = s.Str()
	return b, err == nil, err
}

// Float64 decodes a number into a float64 field; null leaves it alone. A
// number out of float64's range is a type mismatch, as in encoding/json.
func (s *Scanner) Float64(dst *float64) error {
	if s.Null() {
		return nil
	}
	if c := s.Peek(); c != '-' && (c < '0' || c > '9') {
		return s.WrongType(float64Type)
	}
	start := s.i
	if err := s.number(); err != nil {
		return err
	}
	f, err := strconv.ParseFloat(string(s.b[start:s.i]), 64)
	if err != nil {
		s.typeMismatch("number "+string(s.b[start:s.i]), float64Type)
		return nil
	}
	*dst = f
	return nil
}

// Bool decodes true or false into a bool field; null leaves it alone.
func (s *Scanner) Bool(dst *bool) error {
	switch s.Peek() {
	case 'n':
		return s.literal("null")
	case 't':
		if err := s.literal("true"); err != nil {
			return err
		}
		*dst = true
		return nil
	case 'f':
		if err := s.literal("false"); err != nil {
			return err
		}
		*dst = false
		return nil
	}
	return s.WrongType(boolType)
}

// Unmarshal hands the next value, as raw bytes, to encoding/json to decode
// into p (a pointer to the field): for the types the generator leaves to it
// (unions, maps, pointers to rare sub-objects). A type mismatch inside it is
// recorded with the context encoding/json gives it in the whole document,
// and decoding goes on.
func (s *Scanner) Unmarshal(p any) error {
	if s.Null() {
		// What encoding/json does with null, without its allocations, where
		// no UnmarshalJSON can see it: a pointer, or an unnamed map or slice,
		// becomes nil.
		v := reflect.ValueOf(p).Elem()
		if k := v.Kind(); k == reflect.Pointer || (k == reflect.Map || k == reflect.Slice) && v.Type().Name() == "" {
			v.SetZero()
			return nil
		}
		s.i -= len("null")
	}
	s.ws()
	start := s.i
	raw, err := s.Raw()
	if err != nil {
		return err
	}
	err = json.Unmarshal(raw, p)
	var te *json.UnmarshalTypeError
	if err == nil || !errors.As(err, &te) {
		return err
	}
	if s.mismatch == nil {
		// The fields around the value are named on the way out (Blame);
		// when the value itself does not fit, its struct too.
		if te.Struct == "" {
			te.Field = ""
		}
		te.Offset += int64(start)
		s.mismatch, s.blame, s.named = te, s.depth, te.Struct != ""
	}
	return nil
}

// Offset is the scanner's byte offset in its input: after Peek, where the
// next value begins.
func (s *Scanner) Offset() int { return s.i }

// Reason is what the error found where, without the offset: "unexpected
// 'x' looking for beginning of value".
func (e *SyntaxError) Reason() string { return e.msg }
