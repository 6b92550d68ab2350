package streaming

import (
	"bytes"
	"encoding"
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"sync"

	"github.com/cerebras-go/cerebras/internal/jsonscan"
)

// An event may take at most decodedFactor times its size, plus
// decodedSlack, of memory once decoded. Real events stay far below: text
// decodes into as many bytes, and the densest real data, logprobs and
// tool-call fragments, into less than twice. Empty elements do not: `{},`
// is 3 bytes and becomes a 40- to 72-byte struct in a slice, so a 16 MiB
// event of them asked for a quarter of a gigabyte (and, with the slice's
// growth, 50 to 80 times its size in allocations).
const (
	decodedFactor = 4
	decodedSlack  = 64 << 10
	// measureFrom is the size from which events are measured before they
	// are decoded: smaller ones cannot reach the slack with the SDK's types,
	// so the hot path of small chunks pays nothing.
	measureFrom = 512
)

// decodedLimit is the most memory an event of n bytes may take decoded.
func decodedLimit(n int) int { return decodedFactor*n + decodedSlack }

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
	case s.Null():
		return nil
	case si.opaque:
		n, err := z.skip()
		if err != nil {
			return err
		}
		return z.add(n)
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
