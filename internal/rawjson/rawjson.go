// Package rawjson keeps on a decoded response the JSON it was decoded from,
// which RawJSON returns: encoding the value again loses what the server sent
// as zero (omitempty) and what no field holds.
//
// The JSON lives in an unexported field of the gen types, named Field, that
// encoding/json never sees (gen/overlay.yaml adds it). Only package gen can
// set it, so gen registers one setter per type at init (gen/rawjson.gen.go,
// written by internal/cmd/genrawjson), and the decoders, in other packages,
// look the setter up by type: once per type where they can (the generated
// decoders, a stream), a map read per call otherwise.
package rawjson

import (
	"bytes"
	"reflect"
	"unsafe"

	"github.com/cerebras-go/cerebras/internal/jsonscan"
)

// Field is the Go name of the field that holds a value's JSON: the overlay's
// x-go-name, which the generators look for in the gen source.
const Field = "rawJSON"

// setters holds a func(*T, string) per type T. It is written by gen's init
// only, before any reader runs, so it needs no lock.
var setters = map[reflect.Type]any{}

// Register makes set the setter of *T's JSON. Package gen calls it from
// init, for every type with the field.
func Register[T any](set func(*T, string)) {
	setters[reflect.TypeFor[T]()] = set
}

// Setter returns the function that records a *T's JSON, or nil when T keeps
// none (it has no such field, or it is a union, which holds its bytes).
func Setter[T any]() func(*T, string) {
	f, _ := setters[reflect.TypeFor[T]()].(func(*T, string))
	return f
}

// Text returns the JSON value in data as a string of its own: the bytes
// from its first to its last, without the white space around it (which
// belongs to the body or the event, not to the value). It copies, so that
// the value owns its JSON and never keeps a larger buffer alive.
func Text(data []byte) string {
	return string(bytes.Trim(data, space))
}

// Kept returns the JSON value in data, a document its caller hands over
// and never writes again, as a string over the same memory (no copy),
// without the white space around it: for a body read whole, which the
// value then keeps alive in its place.
func Kept(data []byte) string {
	return Trim(unsafe.String(unsafe.SliceData(data), len(data)))
}

// Trim returns the JSON value in src, a document a value keeps, without the
// white space around it; it shares src's memory.
func Trim(src string) string {
	i, j := 0, len(src)
	for i < j && isSpace(src[i]) {
		i++
	}
	for j > i && isSpace(src[j-1]) {
		j--
	}
	return src[i:j]
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\r' || c == '\n' }

// space is JSON's white space.
const space = " \t\r\n"

// Items calls set with the JSON of each element of the array that the
// top-level member key of the object raw holds, when it has n elements:
// the items of a list, each given its own copy. The member is found as
// encoding/json finds it (case-insensitively; the last one wins). When raw
// is not such an object, it does nothing: the items then keep no JSON,
// which never fails a decoding that succeeded.
func Items(raw, key string, n int, set func(i int, item string)) {
	var s jsonscan.Scanner
	// The scanner only reads; a view of raw's bytes spares a copy of the
	// whole body.
	if s.Begin(unsafe.Slice(unsafe.StringData(raw), len(raw))) != nil || s.Open() != nil {
		return
	}
	var items [][]byte // views of raw
	found := false
	for first := true; ; {
		k, done, err := s.NextKey(&first)
		if err != nil {
			return
		}
		if done {
			break
		}
		if !bytes.EqualFold(k, []byte(key)) {
			if s.SkipValue() != nil {
				return
			}
			continue
		}
		found, items = true, items[:0]
		if s.Peek() != '[' {
			if s.SkipValue() != nil {
				return
			}
			found = false
			continue
		}
		if s.Open() != nil {
			return
		}
		for first := true; ; {
			more, err := s.NextElem(&first)
			if err != nil {
				return
			}
			if !more {
				s.Close()
				break
			}
			b, err := s.Raw()
			if err != nil {
				return
			}
			items = append(items, b)
		}
	}
	if !found || len(items) != n {
		return
	}
	for i, it := range items {
		set(i, string(it)) // a copy: an item may outlive its list
	}
}
