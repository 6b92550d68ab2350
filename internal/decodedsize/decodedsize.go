// Package decodedsize bounds the memory that decoding a JSON document into
// a Go type takes, before it is decoded. Every decoder of the SDK that reads
// what a server sent checks with it first: a stream's events (package
// streaming), a call's response body (package client) and the lines of a
// batch result file (package batchfile). Each turns an *Error into its own
// typed error.
//
// The bound is Limit(n), Factor times the document's n bytes plus Slack.
// Real documents stay far below: text decodes into as many bytes, and the
// densest real data, logprobs and tool-call fragments, into less than
// twice. Empty elements do not: `{},` is 3 bytes and becomes a 40- to
// 200-byte struct in a slice (more with the slice's growth), so 2.9 MiB of
// them took 302 MiB, and a 64 MiB body would take about 5 GiB.
package decodedsize

import (
	"bytes"
	"encoding"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"reflect"
	"strings"
	"sync"

	"github.com/cerebras-go/cerebras/internal/jsonscan"
)

const (
	// Factor is how many times its size a document may take decoded.
	Factor = 4
	// Slack is what any document may take decoded on top of Factor times
	// its size: small documents are never measured against less.
	Slack = 64 << 10
)

// Limit is the most memory a document of n bytes may take decoded:
// Factor*n + Slack, or math.MaxInt when that does not fit an int.
func Limit(n int) int {
	if n > (math.MaxInt-Slack)/Factor {
		return math.MaxInt
	}
	return Factor*max(n, 0) + Slack
}

// Error reports a document refused before it was decoded, because its value
// would take more than Limit bytes of memory: only elements that decode
// into much more than their bytes, such as thousands of empty objects, do
// that.
type Error struct {
	// Size is the document's size in bytes.
	Size int
	// Limit is Limit(Size).
	Limit int
}

// Error gives the size and the limit.
func (e *Error) Error() string {
	return fmt.Sprintf("a %d-byte JSON document would take more than %d bytes once decoded (%d times its size plus %d KiB)",
		e.Size, e.Limit, Factor, Slack>>10)
}

// Check returns an *Error when decoding data into a T would take more than
// Limit(len(data)) bytes of memory, else nil. It returns nil too for data
// that is not valid JSON before that much is measured: the decoder then
// says what is wrong.
func Check[T any](data []byte) error { return Of(reflect.TypeFor[T]()).Check(data) }

// Type measures documents for one Go type. Get it from Of.
type Type struct {
	info *sizeInfo
	// unmeasured is the size up to which a document cannot take more than
	// Slack decoded, whatever it holds: Check does not walk it, so that
	// the hot path of small stream chunks pays nothing.
	unmeasured int
}

// types caches Of: a Type is built once per Go type and read from then on
// by every call, concurrently.
var types sync.Map // reflect.Type → *Type

// Of returns the (cached) Type of t.
func Of(t reflect.Type) *Type {
	if ty, ok := types.Load(t); ok {
		return ty.(*Type)
	}
	si := sizeInfoOf(t)
	sizeMu.Lock()
	c := valueCost(si, map[*sizeInfo]bool{})
	sizeMu.Unlock()
	ty, _ := types.LoadOrStore(t, &Type{info: si, unmeasured: unmeasured(c)})
	return ty.(*Type)
}

// Check is the package's Check for the type of t.
func (t *Type) Check(data []byte) error {
	if limit, over := t.Over(data); over {
		return &Error{Size: len(data), Limit: limit}
	}
	return nil
}

// Over reports whether decoding data into the type would take more than
// limit, Limit(len(data)), bytes of memory (limit is 0 when data is too
// small to be measured). Invalid JSON is not over: the decoder says what is
// wrong with it. The check of the size inlines, so that small stream chunks
// pay a comparison.
func (t *Type) Over(data []byte) (limit int, over bool) {
	if len(data) <= t.unmeasured {
		return 0, false
	}
	return t.over(data)
}

func (t *Type) over(data []byte) (limit int, over bool) {
	limit = Limit(len(data))
	n, ok := t.Measure(data, limit)
	return limit, ok && n > limit
}

// Measure returns the memory decoding data into the type takes, or a number
// over limit if it takes more. ok is false when data is not valid JSON.
func (t *Type) Measure(data []byte, limit int) (n int, ok bool) {
	return decodedSize(t.info, data, limit)
}

// unmeasured returns the largest size n for which a document cannot
// measure more than Slack when one JSON value costs at most c bytes besides
// the bytes of its strings. Every value takes at least one byte and all but
// the first follow a byte of their own (',', ':' or '['), so a document of
// n bytes holds at most (n+1)/2 values; its strings decode into at most 3
// times their bytes (an invalid UTF-8 byte becomes U+FFFD). So it measures
// at most c*(n+1)/2 + 3*n.
func unmeasured(c int) int {
	return max((2*Slack-c)/(c+6), 0)
}

// valueCost returns the most the sizer adds for one JSON value decoded
// anywhere within si, its strings' bytes aside: a slice's slot, a map's
// entry, the pointees of a chain of pointers, an interface's boxes.
func valueCost(si *sizeInfo, seen map[*sizeInfo]bool) int {
	if si == nil || seen[si] {
		return 0
	}
	seen[si] = true
	c := ownCost(si, 0)
	switch {
	case si.opaque:
	case si.kind == reflect.Interface:
		c = max(c, anyObject+anyEntry)
	case si.kind == reflect.Slice:
		c = max(c, si.elem.size+ownCost(si.elem, 0), valueCost(si.elem, seen))
	case si.kind == reflect.Map:
		c = max(c, si.key.size+si.elem.size+mapOverhead+ownCost(si.elem, 0), valueCost(si.elem, seen))
	case si.kind == reflect.Pointer, si.kind == reflect.Array:
		c = max(c, valueCost(si.elem, seen))
	case si.kind == reflect.Struct:
		for _, f := range si.fields {
			c = max(c, valueCost(f.info, seen))
		}
	}
	return c
}

// ownCost is what the sizer adds for a value of si itself: the pointees of
// a chain of pointers (depth guards a type that points to itself).
func ownCost(si *sizeInfo, depth int) int {
	if si == nil || si.kind != reflect.Pointer || si.opaque || depth > 16 {
		if si != nil && si.kind == reflect.Interface {
			return anyObject + anyEntry
		}
		return 0
	}
	return si.elem.size + ownCost(si.elem, depth+1)
}

// sizeInfo is what measuring a decoded value needs to know of its Go type.
type sizeInfo struct {
	kind   reflect.Kind
	size   int       // bytes one value takes inline
	elem   *sizeInfo // of a pointer, slice, array or map
	key    *sizeInfo // of a map
	fields []sizeField
	opaque bool // decodes itself (json.Unmarshaler, json.RawMessage, TextUnmarshaler): holds about its bytes
}

type sizeField struct {
	name string
	info *sizeInfo
}

var (
	sizeMu    sync.Mutex
	sizeInfos = map[reflect.Type]*sizeInfo{}
)

var (
	jsonUnmarshaler = reflect.TypeFor[json.Unmarshaler]()
	textUnmarshaler = reflect.TypeFor[encoding.TextUnmarshaler]()
)

// sizeInfoOf returns the (cached) sizeInfo of t.
func sizeInfoOf(t reflect.Type) *sizeInfo {
	sizeMu.Lock()
	defer sizeMu.Unlock()
	return buildSizeInfo(t)
}

func buildSizeInfo(t reflect.Type) *sizeInfo {
	if si := sizeInfos[t]; si != nil {
		return si
	}
	si := &sizeInfo{kind: t.Kind(), size: int(t.Size())}
	sizeInfos[t] = si // before the parts: types may refer to themselves
	if t.Kind() != reflect.Pointer {
		for _, u := range []reflect.Type{jsonUnmarshaler, textUnmarshaler} {
			if t.Implements(u) || reflect.PointerTo(t).Implements(u) {
				si.opaque = true
				return si
			}
		}
	}
	switch t.Kind() {
	case reflect.Pointer, reflect.Slice, reflect.Array:
		si.elem = buildSizeInfo(t.Elem())
	case reflect.Map:
		si.key, si.elem = buildSizeInfo(t.Key()), buildSizeInfo(t.Elem())
	case reflect.Struct:
		si.fields = sizeFields(t, map[reflect.Type]bool{t: true})
	}
	return si
}

// sizeFields lists the fields encoding/json decodes into, by JSON name,
// those of embedded structs included.
func sizeFields(t reflect.Type, seen map[reflect.Type]bool) []sizeField {
	var out []sizeField
	for i := range t.NumField() {
		f := t.Field(i)
		tag := f.Tag.Get("json")
		if tag == "-" {
			continue
		}
		name, _, _ := strings.Cut(tag, ",")
		if f.Anonymous && name == "" {
			ft := f.Type
			if ft.Kind() == reflect.Pointer {
				ft = ft.Elem()
			}
			if ft.Kind() == reflect.Struct && !seen[ft] {
				seen[ft] = true
				out = append(out, sizeFields(ft, seen)...)
				continue
			}
		}
		if !f.IsExported() {
			continue
		}
		if name == "" {
			name = f.Name
		}
		out = append(out, sizeField{name, buildSizeInfo(f.Type)})
	}
	return out
}

// field returns the type of the field key decodes into (matched as
// encoding/json matches keys), or nil for an unknown key.
func (si *sizeInfo) field(key []byte) *sizeInfo {
	for _, f := range si.fields {
		if string(key) == f.name {
			return f.info
		}
	}
	for _, f := range si.fields {
		if bytes.EqualFold(key, []byte(f.name)) {
			return f.info
		}
	}
	return nil
}

// Rough costs of values decoded into an interface{} (encoding/json makes
// map[string]any, []any, string, float64 and bool) and of a map entry.
const (
	anyObject   = 48 // the map
	anyEntry    = 48 // a key's string header, the interface, the bucket slot
	anyElem     = 16 // an interface in a []any
	anyString   = 16 // a string boxed into an interface
	anyNumber   = 8  // a float64 boxed into an interface
	mapOverhead = 16 // per entry of a typed map, beyond its key and value
)

var errOverLimit = errors.New("over the limit")

// sizer measures the memory that decoding JSON into a Go type takes beyond
// the value itself, by walking the bytes along the type. It errs on the
// high side (every value of a repeated key counts), allocates nothing and
// stops as soon as it passes its limit.
type sizer struct {
	s     jsonscan.Scanner
	n     int
	limit int
}

// decodedSize returns the memory decoding data into a value of si's type
// takes, or a number over limit if it takes more. ok is false when data is
// not valid JSON: the decoder says why.
func decodedSize(si *sizeInfo, data []byte, limit int) (n int, ok bool) {
	z := sizer{limit: limit}
	z.s.Reset(data)
	err := z.value(si)
	return z.n, err == nil || err == errOverLimit
}

func (z *sizer) add(n int) error {
	if z.n += n; z.n > z.limit {
		return errOverLimit
	}
	return nil
}

// str consumes a string and adds its decoded length (an invalid UTF-8 byte
// becomes a 3-byte U+FFFD), plus extra.
func (z *sizer) str(extra int) error {
	b, err := z.s.Str()
	if err != nil {
		return err
	}
	return z.add(len(b) + extra)
}

// skip consumes a value and returns its length.
func (z *sizer) skip() (int, error) {
	raw, err := z.s.Raw()
	return len(raw), err
}

func (z *sizer) value(si *sizeInfo) error {
	s := &z.s
	switch {
	case si == nil: // an unknown field: skipped
		return s.SkipValue()
	case si.opaque: // null too: a json.RawMessage keeps it
		n, err := z.skip()
		if err != nil {
			return err
		}
		return z.add(n)
	case s.Null():
		return nil
	}
	c := s.Peek()
	switch {
	case si.kind == reflect.Pointer:
		if err := z.add(si.elem.size); err != nil {
			return err
		}
		return z.value(si.elem)
	case si.kind == reflect.Interface:
		return z.anyValue()
	case si.kind == reflect.String && c == '"',
		si.kind == reflect.Slice && si.elem.kind == reflect.Uint8 && c == '"': // base64
		return z.str(0)
	case (si.kind == reflect.Slice || si.kind == reflect.Array) && c == '[':
		per := 0
		if si.kind == reflect.Slice {
			per = si.elem.size
		}
		return z.elems(func() error {
			if err := z.add(per); err != nil {
				return err
			}
			return z.value(si.elem)
		})
	case si.kind == reflect.Map && c == '{':
		return z.members(func(key []byte) error {
			if err := z.add(si.key.size + si.elem.size + mapOverhead + len(key)); err != nil {
				return err
			}
			return z.value(si.elem)
		})
	case si.kind == reflect.Struct && c == '{':
		return z.members(func(key []byte) error { return z.value(si.field(key)) })
	}
	return s.SkipValue() // a number or a bool, or a type mismatch: nothing allocated
}

func (z *sizer) anyValue() error {
	switch z.s.Peek() {
	case '{':
		if err := z.add(anyObject); err != nil {
			return err
		}
		return z.members(func(key []byte) error {
			if err := z.add(anyEntry + len(key)); err != nil {
				return err
			}
			return z.anyValue()
		})
	case '[':
		return z.elems(func() error {
			if err := z.add(anyElem); err != nil {
				return err
			}
			return z.anyValue()
		})
	case '"':
		return z.str(anyString)
	case 't', 'f':
		return z.s.SkipValue()
	default:
		if err := z.s.SkipValue(); err != nil {
			return err
		}
		return z.add(anyNumber)
	}
}

// elems calls elem at each element of the array at the scanner.
func (z *sizer) elems(elem func() error) error {
	s := &z.s
	if err := s.Open(); err != nil {
		return err
	}
	for first := true; ; {
		more, err := s.NextElem(&first)
		if err != nil {
			return err
		}
		if !more {
			s.Close()
			return nil
		}
		if err := elem(); err != nil {
			return err
		}
	}
}

// members calls member with each key of the object at the scanner, which
// is then at the key's value.
func (z *sizer) members(member func(key []byte) error) error {
	s := &z.s
	if err := s.Open(); err != nil {
		return err
	}
	for first := true; ; {
		key, done, err := s.NextKey(&first)
		if err != nil {
			return err
		}
		if done {
			s.Close()
			return nil
		}
		if err := member(key); err != nil {
			return err
		}
	}
}
