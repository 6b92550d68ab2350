package streaming

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/cerebras-go/cerebras/gen"
)

// chunkDecoder decodes a chat completion chunk in one pass over its bytes,
// straight into the generated gen.ChatCompletionChunk. It reproduces
// encoding/json's results exactly: the same inputs are invalid (nesting
// included: at most 10000 open objects and arrays), keys match the same
// fields (exactly, else case-insensitively), a
// repeated key decodes into what the first one left (so the last wins), and
// a value of the wrong type is the same *json.UnmarshalTypeError, naming the
// field and the JSON type (never the value), with decoding going on after
// it. It is cheap: strings repeated in every chunk of a stream (id, model,
// fingerprint) are interned, and rare, large sub-objects (usage, time_info,
// logprobs) are handed to encoding/json as raw bytes. It also reports a
// non-null top-level "error" in the same pass, so in-band errors cost
// nothing extra.
type chunkDecoder struct {
	s       scanner
	id      string
	object  string
	model   string
	strings [4]string // recently seen optional string values (fingerprint, tier, role)
	next    int
}

const maxDepth = 10000 // encoding/json's nesting limit: open objects and arrays

var errNotObject = errors.New("event data is not a JSON object")

// The Go types the decoder fills, as type errors name them.
var (
	chunkType     = reflect.TypeFor[gen.ChatCompletionChunk]()
	choicesType   = reflect.TypeFor[[]gen.ChatCompletionChunkChoice]()
	choiceType    = reflect.TypeFor[gen.ChatCompletionChunkChoice]()
	deltaType     = reflect.TypeFor[gen.ChatCompletionChunkDelta]()
	toolCallsType = reflect.TypeFor[[]gen.ToolCall]()
	toolCallType  = reflect.TypeFor[gen.ToolCall]()
	functionType  = reflect.TypeFor[gen.ToolCallFunction]()
	finishType    = reflect.TypeFor[gen.FinishReason]()
	stringType    = reflect.TypeFor[string]()
	intType       = reflect.TypeFor[int]()
	int64Type     = reflect.TypeFor[int64]()
)

func (d *chunkDecoder) decode(data []byte, c *gen.ChatCompletionChunk) (isErr bool, err error) {
	d.s.reset(data)
	s := &d.s
	if s.peek() != '{' {
		if s.i < len(s.b) {
			if err := s.skipValue(); err != nil {
				return false, err
			}
			if s.ws(); s.i < len(s.b) {
				return false, s.syntax("after top-level value")
			}
		}
		return false, errNotObject
	}
	err = s.object(chunkType, chunkKeys, func(name string) error {
		switch name {
		case "id":
			return d.internString(&c.ID, &d.id)
		case "object":
			return d.internString(&c.Object, &d.object)
		case "model":
			return d.internString(&c.Model, &d.model)
		case "created":
			return s.int64Field(&c.Created)
		case "system_fingerprint":
			return s.strField(&c.SystemFingerprint, d.intern)
		case "service_tier":
			return s.strField(&c.ServiceTier, d.intern)
		case "service_tier_used":
			return s.strField(&c.ServiceTierUsed, d.intern)
		case "choices":
			return decodeSlice(d, &c.Choices, choicesType, (*chunkDecoder).choice)
		case "usage":
			return rawInto(s, &c.Usage)
		case "time_info":
			return rawInto(s, &c.TimeInfo)
		default: // "error"
			raw, err := s.raw()
			isErr = err == nil && isError(raw) // the last "error" wins
			return err
		}
	})
	if err == nil {
		if s.ws(); s.i < len(s.b) {
			err = s.syntax("after top-level value")
		}
	}
	switch {
	case err != nil:
		return false, err
	case isErr:
		return true, nil
	case s.mismatch != nil:
		return false, s.mismatch
	}
	return false, nil
}

// Field names of the objects the decoder knows, in lookup order.
var (
	chunkKeys    = []string{"id", "object", "model", "created", "system_fingerprint", "service_tier", "service_tier_used", "choices", "usage", "time_info", "error"}
	choiceKeys   = []string{"index", "delta", "finish_reason", "logprobs", "reasoning_logprobs"}
	deltaKeys    = []string{"content", "reasoning", "role", "tool_calls"}
	toolCallKeys = []string{"index", "id", "type", "function"}
	functionKeys = []string{"name", "arguments"}
)

// lookup returns the name in names that key matches, exactly or else
// case-insensitively as encoding/json does (its key folding is
// bytes.EqualFold's: "ſ" matches "s", the Kelvin sign "k"), or "" for an
// unknown key. It never allocates: the names are constants and comparing
// string(key) is free.
func lookup(key []byte, names []string) string {
	for _, n := range names {
		if string(key) == n {
			return n
		}
	}
	for _, n := range names {
		if bytes.EqualFold(key, []byte(n)) {
			return n
		}
	}
	return ""
}

func (d *chunkDecoder) internString(dst *string, last *string) error {
	s := &d.s
	if s.null() {
		return nil
	}
	if s.peek() != '"' {
		return s.wrongType(stringType)
	}
	b, err := s.str()
	if err != nil {
		return err
	}
	if string(b) != *last {
		*last = string(b)
	}
	*dst = *last
	return nil
}

// intern returns b as a string, reusing a recent equal one: short values such
// as the fingerprint and the role repeat in every chunk.
func (d *chunkDecoder) intern(b []byte) string {
	if len(b) > 64 {
		return string(b)
	}
	for _, v := range d.strings {
		if string(b) == v {
			return v
		}
	}
	v := string(b)
	d.strings[d.next] = v
	d.next = (d.next + 1) % len(d.strings)
	return v
}

// decodeSlice decodes an array into *p as encoding/json does: element i
// decodes into the slice's element i where there is one (so a repeated key
// merges into what the first left, stale elements past its length
// included), then the slice is cut to the array's length; an empty array
// gives an empty slice, null a nil one. t is the slice's type.
func decodeSlice[E any](d *chunkDecoder, p *[]E, t reflect.Type, elem func(*chunkDecoder, *E) error) error {
	s := &d.s
	if s.null() {
		*p = nil
		return nil
	}
	if s.peek() != '[' {
		return s.wrongType(t)
	}
	if err := s.open(); err != nil {
		return err
	}
	v, n := *p, 0
	for first := true; ; {
		more, err := s.nextElem(&first)
		if err != nil {
			*p = v
			return err
		}
		if !more {
			break
		}
		if n == len(v) {
			grow := 1
			if n == cap(v) && n > 0 {
				grow = s.countElems() // size a long array once, not by repeated growth
			}
			v = slices.Grow(v, grow)[:n+1]
		}
		n++
		if err := elem(d, &v[n-1]); err != nil {
			*p = v
			return err
		}
	}
	s.depth--
	if *p = v[:n]; n == 0 {
		*p = []E{}
	}
	return nil
}

func (d *chunkDecoder) choice(ch *gen.ChatCompletionChunkChoice) error {
	s := &d.s
	if s.null() {
		return nil
	}
	return s.object(choiceType, choiceKeys, func(name string) error {
		switch name {
		case "index":
			return s.intField(&ch.Index)
		case "delta":
			return d.delta(&ch.Delta)
		case "finish_reason":
			return d.finishReason(&ch.FinishReason)
		case "logprobs":
			return rawInto(s, &ch.Logprobs)
		default: // "reasoning_logprobs"
			return rawInto(s, &ch.ReasoningLogprobs)
		}
	})
}

func (d *chunkDecoder) finishReason(p *gen.FinishReason) error {
	s := &d.s
	if s.null() {
		return nil
	}
	if s.peek() != '"' {
		return s.wrongType(finishType)
	}
	b, err := s.str()
	if err != nil {
		return err
	}
	switch string(b) {
	case "stop":
		*p = gen.FinishReasonStop
	case "length":
		*p = gen.FinishReasonLength
	case "tool_calls":
		*p = gen.FinishReasonToolCalls
	case "content_filter":
		*p = gen.FinishReasonContentFilter
	default:
		*p = gen.FinishReason(b)
	}
	return nil
}

func (d *chunkDecoder) delta(dl *gen.ChatCompletionChunkDelta) error {
	s := &d.s
	if s.null() {
		return nil
	}
	return s.object(deltaType, deltaKeys, func(name string) error {
		switch name {
		case "content":
			return s.strField(&dl.Content, copyString)
		case "reasoning":
			return s.strField(&dl.Reasoning, copyString)
		case "role":
			return s.strField(&dl.Role, d.intern)
		default: // "tool_calls"
			return decodeSlice(d, &dl.ToolCalls, toolCallsType, (*chunkDecoder).toolCall)
		}
	})
}

func (d *chunkDecoder) toolCall(tc *gen.ToolCall) error {
	s := &d.s
	if s.null() {
		return nil
	}
	return s.object(toolCallType, toolCallKeys, func(name string) error {
		switch name {
		case "index":
			return s.intField(&tc.Index)
		case "id":
			return s.strField(&tc.ID, copyString)
		case "type":
			return s.strField(&tc.Type, d.intern)
		default: // "function"
			return d.toolFunction(&tc.Function)
		}
	})
}

func (d *chunkDecoder) toolFunction(f *gen.ToolCallFunction) error {
	s := &d.s
	if s.null() {
		return nil
	}
	return s.object(functionType, functionKeys, func(name string) error {
		if name == "name" {
			return s.strField(&f.Name, d.intern)
		}
		return s.strField(&f.Arguments, copyString)
	})
}

// rawInto hands a rare sub-object to encoding/json, into a fresh or the
// existing pointee (null sets the pointer to nil). A type mismatch inside it
// is recorded with the context encoding/json gives it in the whole chunk.
func rawInto[T any](s *scanner, p **T) error {
	if s.null() {
		*p = nil
		return nil
	}
	start := s.i
	raw, err := s.raw()
	if err != nil {
		return err
	}
	if *p == nil {
		*p = new(T)
	}
	err = json.Unmarshal(raw, *p)
	var te *json.UnmarshalTypeError
	if err == nil || !errors.As(err, &te) {
		return err
	}
	if s.mismatch == nil {
		path := strings.Join(s.path, ".")
		if te.Struct == "" { // the value itself is not an object
			te.Struct = s.strct.Name()
			te.Field = path
		} else {
			te.Field = path + "." + te.Field
		}
		te.Offset += int64(start)
		s.mismatch = te
	}
	return nil
}

// scanner is a strict, allocation-free JSON tokenizer over one buffer.
type scanner struct {
	b        []byte
	i        int
	depth    int // objects and arrays open at i
	numStart int // where the last integer began
	scratch  []byte
	// For type errors: the struct whose field is being decoded, the JSON
	// names of the fields being decoded (outermost first), and the first
	// mismatch, after which decoding goes on, as in encoding/json.
	strct    reflect.Type
	path     []string
	mismatch *json.UnmarshalTypeError
}

func (s *scanner) reset(b []byte) {
	*s = scanner{b: b, scratch: s.scratch, path: s.path[:0]}
}

// SyntaxError reports invalid JSON at a byte offset.
type SyntaxError struct {
	// Offset is the byte offset of the problem in the event data.
	Offset int
	msg    string
}

// Error gives the offset and what was found there.
func (e *SyntaxError) Error() string {
	return fmt.Sprintf("invalid JSON at offset %d: %s", e.Offset, e.msg)
}

func (s *scanner) syntax(what string) error {
	if s.i >= len(s.b) {
		return &SyntaxError{Offset: s.i, msg: "unexpected end of data " + what}
	}
	return &SyntaxError{Offset: s.i, msg: fmt.Sprintf("unexpected %q %s", s.b[s.i], what)}
}

// wrongType skips a value that cannot decode into the Go type t and
// records the mismatch, if it is the first, as encoding/json does: naming
// the field and the value's JSON type, never the value (a server may echo
// the API key in any string). Decoding goes on.
func (s *scanner) wrongType(t reflect.Type) error {
	what := "number"
	switch s.peek() {
	case '"':
		what = "string"
	case '{':
		what = "object"
	case '[':
		what = "array"
	case 't', 'f':
		what = "bool"
	}
	if err := s.skipValue(); err != nil {
		return err
	}
	s.typeMismatch(what, t)
	return nil
}

func (s *scanner) typeMismatch(what string, t reflect.Type) {
	if s.mismatch != nil {
		return
	}
	s.mismatch = &json.UnmarshalTypeError{Value: what, Type: t, Offset: int64(s.i)}
	if s.strct != nil {
		s.mismatch.Struct = s.strct.Name()
		s.mismatch.Field = strings.Join(s.path, ".")
	}
}

// open enters the object or array at i, within encoding/json's limit.
func (s *scanner) open() error {
	s.i++
	if s.depth++; s.depth > maxDepth {
		return &SyntaxError{Offset: s.i - 1, msg: "exceeded max depth"}
	}
	return nil
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

func (s *scanner) peek() byte {
	s.ws()
	if s.i < len(s.b) {
		return s.b[s.i]
	}
	return 0
}

func (s *scanner) null() bool {
	if s.peek() == 'n' && bytes.HasPrefix(s.b[s.i:], []byte("null")) {
		s.i += 4
		return true
	}
	return false
}

// nextKey reads the next key of an object whose '{' was consumed, and the
// ':' after it; done reports the closing '}'.
func (s *scanner) nextKey(first *bool) (key []byte, done bool, err error) {
	c := s.peek()
	if c == '}' {
		s.i++
		return nil, true, nil
	}
	if !*first {
		if c != ',' {
			return nil, false, s.syntax("after object value")
		}
		s.i++
		c = s.peek()
	}
	*first = false
	if c != '"' {
		return nil, false, s.syntax("looking for an object key")
	}
	key, err = s.str()
	if err != nil {
		return nil, false, err
	}
	if s.peek() != ':' {
		return nil, false, s.syntax("after object key")
	}
	s.i++
	s.ws()
	return key, false, nil
}

// nextElem advances to the next element of an array whose '[' was consumed;
// it reports false at the closing ']'.
func (s *scanner) nextElem(first *bool) (bool, error) {
	c := s.peek()
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

// object walks an object that decodes into the struct type t, calling
// field for each known key and skipping the others. A value that is not an
// object is a type mismatch.
func (s *scanner) object(t reflect.Type, names []string, field func(name string) error) error {
	if s.peek() != '{' {
		return s.wrongType(t)
	}
	if err := s.open(); err != nil {
		return err
	}
	outer, depth := s.strct, len(s.path)
	for first := true; ; {
		key, done, err := s.nextKey(&first)
		if err != nil {
			return err
		}
		if done {
			s.depth--
			return nil
		}
		if name := lookup(key, names); name != "" {
			s.strct, s.path = t, append(s.path, name)
			err = field(name)
			s.strct, s.path = outer, s.path[:depth]
		} else {
			err = s.skipValue()
		}
		if err != nil {
			return err
		}
	}
}

// str reads a string and returns its unescaped bytes, which alias the input
// (no escapes) or the scanner's scratch buffer; valid until the next call.
// Invalid UTF-8 and lone surrogates become U+FFFD, as in encoding/json.
func (s *scanner) str() ([]byte, error) {
	if s.peek() != '"' {
		return nil, s.syntax("looking for a string")
	}
	s.i++
	start := s.i
	ascii := true
	for s.i < len(s.b) {
		c := s.b[s.i]
		switch {
		case c == '"':
			out := s.b[start:s.i]
			s.i++
			if !ascii && !utf8.Valid(out) {
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
	return nil, s.syntax("in string literal")
}

// escaped finishes a string that contains escapes, validating them.
func (s *scanner) escaped(start int) ([]byte, error) {
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
func (s *scanner) unescape(in []byte) []byte {
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

// strField decodes a string into *p; null leaves it alone, as in
// encoding/json. conv turns the bytes into a string (a plain copy, or
// chunkDecoder.intern for values that repeat).
func (s *scanner) strField(p *string, conv func([]byte) string) error {
	if s.null() {
		return nil
	}
	if s.peek() != '"' {
		return s.wrongType(stringType)
	}
	b, err := s.str()
	if err != nil {
		return err
	}
	*p = conv(b)
	return nil
}

func copyString(b []byte) string { return string(b) }

func (s *scanner) intField(dst *int) error {
	v, ok, err := s.integer(intType)
	if ok && int64(int(v)) == v {
		*dst = int(v)
	} else if ok {
		s.typeMismatch("number "+string(s.b[s.numStart:s.i]), intType)
	}
	return err
}

func (s *scanner) int64Field(dst *int64) error {
	v, ok, err := s.integer(int64Type)
	if ok {
		*dst = v
	}
	return err
}

// integer decodes an integer for a field of type t; null and type
// mismatches (recorded) report !ok. A fraction, an exponent or an
// out-of-range value is a mismatch too, as in encoding/json.
func (s *scanner) integer(t reflect.Type) (v int64, ok bool, err error) {
	if s.null() {
		return 0, false, nil
	}
	if c := s.peek(); c != '-' && (c < '0' || c > '9') {
		return 0, false, s.wrongType(t)
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
func (s *scanner) number() error {
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

// countElems counts the elements from the one at the scanner to the end
// of its array, without moving the scanner; at least 1.
func (s *scanner) countElems() int {
	i, depth := s.i, s.depth
	defer func() { s.i, s.depth = i, depth }()
	n := 0
	for first := false; ; n++ {
		if s.skipValue() != nil {
			return max(n, 1)
		}
		more, err := s.nextElem(&first)
		if err != nil || !more {
			return n + 1
		}
	}
}

// raw consumes one value and returns its bytes.
func (s *scanner) raw() ([]byte, error) {
	s.ws()
	start := s.i
	if err := s.skipValue(); err != nil {
		return nil, err
	}
	return s.b[start:s.i], nil
}

// skipValue consumes and validates one value of any type.
func (s *scanner) skipValue() error {
	switch c := s.peek(); c {
	case '{':
		if err := s.open(); err != nil {
			return err
		}
		for first := true; ; {
			_, done, err := s.nextKey(&first)
			if err != nil {
				return err
			}
			if done {
				s.depth--
				return nil
			}
			if err := s.skipValue(); err != nil {
				return err
			}
		}
	case '[':
		if err := s.open(); err != nil {
			return err
		}
		for first := true; ; {
			more, err := s.nextElem(&first)
			if err != nil {
				return err
			}
			if !more {
				s.depth--
				return nil
			}
			if err := s.skipValue(); err != nil {
				return err
			}
		}
	case '"':
		_, err := s.str()
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

func (s *scanner) literal(lit string) error {
	if !bytes.HasPrefix(s.b[s.i:], []byte(lit)) {
		for j := 0; j < len(lit) && s.i < len(s.b) && s.b[s.i] == lit[j]; j++ {
			s.i++
		}
		return s.syntax("in literal " + lit)
	}
	s.i += len(lit)
	return nil
}
