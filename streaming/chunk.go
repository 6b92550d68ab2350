package streaming

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/cerebras-go/cerebras/gen"
)

// chunkDecoder decodes a chat completion chunk in one pass over its bytes,
// straight into the generated gen.ChatCompletionChunk. It is strict (invalid
// JSON and type mismatches are errors, as with encoding/json, whose results it
// reproduces) and cheap: strings repeated in every chunk of a stream (id,
// model, fingerprint) are interned, and rare, large sub-objects (usage,
// time_info, logprobs) are handed to encoding/json as raw bytes. It also
// reports a non-null top-level "error" in the same pass, so in-band errors cost
// nothing extra.
type chunkDecoder struct {
	s       scanner
	id      string
	object  string
	model   string
	strings [4]string // recently seen optional string values (fingerprint, tier, role)
	next    int
}

const maxDepth = 10000 // encoding/json's nesting limit

var errNotObject = errors.New("event data is not a JSON object")

func (d *chunkDecoder) decode(data []byte, c *gen.ChatCompletionChunk) (isErr bool, err error) {
	d.s = scanner{b: data}
	s := &d.s
	if s.peek() != '{' {
		if s.i < len(s.b) {
			if err := s.skipValue(0); err != nil {
				return false, err
			}
			if s.ws(); s.i < len(s.b) {
				return false, s.syntax("after top-level value")
			}
		}
		return false, errNotObject
	}
	err = s.object("chunk", chunkKeys, 1, func(name string) error {
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
			return s.optString(&c.SystemFingerprint, d.intern)
		case "service_tier":
			return s.optString(&c.ServiceTier, d.intern)
		case "service_tier_used":
			return s.optString(&c.ServiceTierUsed, d.intern)
		case "choices":
			return d.choices(c)
		case "usage":
			return rawInto(s, &c.Usage)
		case "time_info":
			return rawInto(s, &c.TimeInfo)
		default: // "error"
			raw, err := s.raw()
			isErr = isErr || (err == nil && isError(raw))
			return err
		}
	})
	if err != nil {
		return false, err
	}
	if s.ws(); s.i < len(s.b) {
		return false, s.syntax("after top-level value")
	}
	return isErr, nil
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
// case-insensitively as encoding/json does, or "" for an unknown key. It
// never allocates: the names are constants and comparing string(key) is free.
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

func (d *chunkDecoder) choices(c *gen.ChatCompletionChunk) error {
	s := &d.s
	if s.null() {
		c.Choices = nil
		return nil
	}
	c.Choices = make([]gen.ChatCompletionChunkChoice, 0, 1)
	return s.array("choices", func() error {
		c.Choices = append(c.Choices, gen.ChatCompletionChunkChoice{})
		return d.choice(&c.Choices[len(c.Choices)-1])
	})
}

func (d *chunkDecoder) choice(ch *gen.ChatCompletionChunkChoice) error {
	s := &d.s
	if s.null() {
		return nil
	}
	return s.object("choice", choiceKeys, 2, func(name string) error {
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

func (d *chunkDecoder) finishReason(p **gen.FinishReason) error {
	s := &d.s
	if s.null() {
		*p = nil
		return nil
	}
	b, err := s.str()
	if err != nil {
		return err
	}
	if *p == nil {
		*p = new(gen.FinishReason)
	}
	switch string(b) {
	case "stop":
		**p = gen.FinishReasonStop
	case "length":
		**p = gen.FinishReasonLength
	case "tool_calls":
		**p = gen.FinishReasonToolCalls
	case "content_filter":
		**p = gen.FinishReasonContentFilter
	default:
		**p = gen.FinishReason(b)
	}
	return nil
}

func (d *chunkDecoder) delta(p **gen.ChatCompletionChunkDelta) error {
	s := &d.s
	dl, ok := objectTarget(s, p)
	if !ok {
		return nil
	}
	return s.object("delta", deltaKeys, 3, func(name string) error {
		switch name {
		case "content":
			return s.optString(&dl.Content, copyString)
		case "reasoning":
			return s.optString(&dl.Reasoning, copyString)
		case "role":
			return s.optString(&dl.Role, d.intern)
		default: // "tool_calls"
			return d.toolCalls(&dl.ToolCalls)
		}
	})
}

func (d *chunkDecoder) toolCalls(p *[]gen.ToolCall) error {
	s := &d.s
	if s.null() {
		*p = nil
		return nil
	}
	calls := make([]gen.ToolCall, 0, 1)
	err := s.array("tool_calls", func() error {
		calls = append(calls, gen.ToolCall{})
		return d.toolCall(&calls[len(calls)-1])
	})
	*p = calls
	return err
}

func (d *chunkDecoder) toolCall(tc *gen.ToolCall) error {
	s := &d.s
	if s.null() {
		return nil
	}
	return s.object("tool call", toolCallKeys, 5, func(name string) error {
		switch name {
		case "index":
			if s.null() {
				tc.Index = nil
				return nil
			}
			if tc.Index == nil {
				tc.Index = new(int)
			}
			return s.intField(tc.Index)
		case "id":
			return s.optString(&tc.ID, copyString)
		case "type":
			return s.optString(&tc.Type, d.intern)
		default: // "function"
			return d.toolFunction(&tc.Function)
		}
	})
}

func (d *chunkDecoder) toolFunction(p **gen.ToolCallFunction) error {
	s := &d.s
	f, ok := objectTarget(s, p)
	if !ok {
		return nil
	}
	return s.object("function", functionKeys, 6, func(name string) error {
		if name == "name" {
			return s.optString(&f.Name, d.intern)
		}
		return s.optString(&f.Arguments, copyString)
	})
}

// objectTarget prepares a nullable object field: null sets *p to nil and
// reports false; otherwise it returns the struct to decode into, reusing the
// existing one as encoding/json does. A value that is not an object leaves *p
// alone, for scanner.object to report.
func objectTarget[T any](s *scanner, p **T) (*T, bool) {
	if s.null() {
		*p = nil
		return nil, false
	}
	if s.peek() == '{' && *p == nil {
		*p = new(T)
	}
	return *p, true
}

// rawInto hands a rare sub-object to encoding/json, into a fresh or the
// existing pointee (null sets the pointer to nil).
func rawInto[T any](s *scanner, p **T) error {
	if s.null() {
		*p = nil
		return nil
	}
	raw, err := s.raw()
	if err != nil {
		return err
	}
	if *p == nil {
		*p = new(T)
	}
	return json.Unmarshal(raw, *p)
}

// scanner is a strict, allocation-free JSON tokenizer over one buffer.
type scanner struct {
	b       []byte
	i       int
	scratch []byte
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

func (s *scanner) typeErr(field, want string) error {
	start := s.i
	if err := s.skipValue(1); err != nil {
		return err
	}
	return fmt.Errorf("json: cannot unmarshal %.20q into %s of type %s", s.b[start:s.i], field, want)
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

// object walks an object (a value starting with '{'), calling field for
// each known key and skipping the others; depth is its nesting level.
func (s *scanner) object(what string, names []string, depth int, field func(name string) error) error {
	if s.peek() != '{' {
		return s.typeErr(what, "object")
	}
	s.i++
	first := true
	for {
		key, done, err := s.nextKey(&first)
		if err != nil || done {
			return err
		}
		if name := lookup(key, names); name != "" {
			err = field(name)
		} else {
			err = s.skipValue(depth)
		}
		if err != nil {
			return err
		}
	}
}

// array walks an array, calling elem with the scanner at each element.
func (s *scanner) array(what string, elem func() error) error {
	if s.peek() != '[' {
		return s.typeErr(what, "array")
	}
	s.i++
	first := true
	for {
		more, err := s.nextElem(&first)
		if err != nil || !more {
			return err
		}
		if err := elem(); err != nil {
			return err
		}
	}
}

// str reads a string and returns its unescaped bytes, which alias the input
// (no escapes) or the scanner's scratch buffer; valid until the next call.
// Invalid UTF-8 and lone surrogates become U+FFFD, as in encoding/json.
func (s *scanner) str() ([]byte, error) {
	if s.peek() != '"' {
		return nil, s.typeErr("string field", "string")
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

// optString decodes a nullable string into *p, reusing the pointee when
// there is one (as encoding/json does); conv turns the bytes into a string
// (a plain copy, or chunkDecoder.intern for values that repeat).
func (s *scanner) optString(p **string, conv func([]byte) string) error {
	if s.null() {
		*p = nil
		return nil
	}
	b, err := s.str()
	if err != nil {
		return err
	}
	if *p == nil {
		*p = new(string)
	}
	**p = conv(b)
	return nil
}

func copyString(b []byte) string { return string(b) }

func (s *scanner) intField(dst *int) error {
	var v int64
	if err := s.int64Field(&v); err != nil {
		return err
	}
	*dst = int(v)
	return nil
}

// int64Field decodes an integer; null leaves dst unchanged. A fraction, an
// exponent or an out-of-range value is an error, as in encoding/json.
func (s *scanner) int64Field(dst *int64) error {
	if s.null() {
		return nil
	}
	start := s.i
	if err := s.number(); err != nil {
		if s.i == start {
			return s.typeErr("integer field", "int64")
		}
		return err
	}
	num := s.b[start:s.i]
	neg := num[0] == '-'
	if neg {
		num = num[1:]
	}
	var v uint64
	for _, c := range num {
		if c < '0' || c > '9' || v > (1<<63)/10 {
			return fmt.Errorf("json: cannot unmarshal number %s into an integer field", s.b[start:s.i])
		}
		v = v*10 + uint64(c-'0')
	}
	if (!neg && v > 1<<63-1) || v > 1<<63 {
		return fmt.Errorf("json: cannot unmarshal number %s into an integer field", s.b[start:s.i])
	}
	if neg {
		*dst = -int64(v)
	} else {
		*dst = int64(v)
	}
	return nil
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

// raw consumes one value and returns its bytes.
func (s *scanner) raw() ([]byte, error) {
	s.ws()
	start := s.i
	if err := s.skipValue(1); err != nil {
		return nil, err
	}
	return s.b[start:s.i], nil
}

// skipValue consumes and validates one value of any type.
func (s *scanner) skipValue(depth int) error {
	if depth > maxDepth {
		return errors.New("json: exceeded max depth")
	}
	switch c := s.peek(); c {
	case '{':
		s.i++
		first := true
		for {
			_, done, err := s.nextKey(&first)
			if err != nil || done {
				return err
			}
			if err := s.skipValue(depth + 1); err != nil {
				return err
			}
		}
	case '[':
		s.i++
		first := true
		for {
			more, err := s.nextElem(&first)
			if err != nil || !more {
				return err
			}
			if err := s.skipValue(depth + 1); err != nil {
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
