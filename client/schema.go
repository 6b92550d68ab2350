package client

import (
	"encoding"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"time"

	"github.com/cerebras-go/cerebras/streaming"
)

// The schema helpers derive JSON Schemas from Go types in the form
// Cerebras' strict mode requires: every object has additionalProperties
// false and lists all its properties as required; a pointer is nullable
// through anyOf with {"type": "null"} (strict mode rejects type arrays);
// named struct types go to $defs and are referenced with $ref, so recursive
// types work. Field names follow encoding/json (json tags, "-" skipped,
// embedded structs flattened); a `description:"…"` tag becomes the
// property's description.
//
// They are handwritten rather than taken from a schema library: the
// libraries at hand emit type arrays and inline every type, so their output
// would need rewriting anyway, and the SDK stays free of dependencies.

// SchemaFor returns the strict-mode JSON Schema of T. Channels, functions
// and complex numbers have no JSON form and are an error. Maps and
// interfaces are allowed but cannot be strict: the server may reject them in
// strict mode.
func SchemaFor[T any]() (map[string]any, error) {
	return schemaOf(reflect.TypeFor[T]())
}

// ResponseFormatFor returns a strict json_schema response format for T,
// named after T's type name.
//
//	type Weather struct {
//		City  string  `json:"city"`
//		TempC float64 `json:"temp_c" description:"temperature in Celsius"`
//	}
//	params.ResponseFormat, err = client.ResponseFormatFor[Weather]()
//	…
//	w, err := client.DecodeContent[Weather](resp.Choices[0].Message)
func ResponseFormatFor[T any]() (*ResponseFormat, error) {
	s, err := SchemaFor[T]()
	if err != nil {
		return nil, err
	}
	return ResponseFormatJSONSchema(schemaName(reflect.TypeFor[T]()), s, true), nil
}

// FunctionToolFor returns a strict function tool whose parameters are the
// schema of Args, a struct: the usual way to define a tool for a tool loop
// written by hand. Decode a call's arguments with DecodeArguments. (For a
// schema of your own, use FunctionTool; for the tool runner,
// toolrunner.NewTool, which also runs the tool.)
func FunctionToolFor[Args any](name, description string) (Tool, error) {
	t := reflect.TypeFor[Args]()
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t.Kind() != reflect.Struct {
		return Tool{}, paramError("FunctionToolFor", "FunctionToolFor: arguments must be a struct, not %s", t)
	}
	s, err := SchemaFor[Args]()
	if err != nil {
		return Tool{}, err
	}
	tool := FunctionTool(name, description, s)
	tool.Function.Strict = Bool(true)
	return tool, nil
}

// DecodeContent decodes a message's JSON content (structured outputs) into T.
func DecodeContent[T any](msg ChatCompletionMessage) (T, error) {
	var v T
	if strings.TrimSpace(msg.Content) == "" {
		return v, errors.New("cerebras: DecodeContent: the message has no content")
	}
	if err := json.Unmarshal([]byte(msg.Content), &v); err != nil {
		return v, fmt.Errorf("cerebras: decoding the message content into %T: %w (content %.120q)", v, err, msg.Content)
	}
	return v, nil
}

// DecodeArguments decodes a tool call's JSON arguments into T: a ToolCall of
// a response's message, or a streaming.FinishedToolCall of a stream's
// accumulator. Empty arguments decode as {}.
//
//	args, err := client.DecodeArguments[WeatherArgs](call)
func DecodeArguments[T any, C AnyToolCall](call C) (T, error) {
	var v T
	var args string
	switch c := any(call).(type) {
	case ToolCall:
		args = c.Function.Arguments
	case streaming.FinishedToolCall:
		args = c.Arguments
	}
	if strings.TrimSpace(args) == "" {
		args = "{}"
	}
	if err := json.Unmarshal([]byte(args), &v); err != nil {
		return v, fmt.Errorf("cerebras: decoding tool call arguments into %T: %w (arguments %.120q)", v, err, args)
	}
	return v, nil
}

func schemaName(t reflect.Type) string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t.Name() != "" {
		return t.Name()
	}
	return "response"
}

var (
	timeType          = reflect.TypeFor[time.Time]()
	rawMessageType    = reflect.TypeFor[json.RawMessage]()
	jsonMarshalerType = reflect.TypeFor[json.Marshaler]()
	textMarshalerType = reflect.TypeFor[encoding.TextMarshaler]()
)

type schemaGen struct {
	root  reflect.Type
	defs  map[string]any
	names map[reflect.Type]string
}

func schemaOf(t reflect.Type) (map[string]any, error) {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	g := &schemaGen{root: t, defs: map[string]any{}, names: map[reflect.Type]string{}}
	s, err := g.inline(t)
	if err != nil {
		return nil, &ParamError{Param: t.String(), Message: fmt.Sprintf("no JSON schema for %s: %v", t, err), Err: err}
	}
	if len(g.defs) > 0 {
		s["$defs"] = g.defs
	}
	return s, nil
}

// schema returns the schema of t, referencing named structs through $defs.
func (g *schemaGen) schema(t reflect.Type) (map[string]any, error) {
	if t.Kind() == reflect.Pointer {
		s, err := g.schema(t.Elem())
		if err != nil {
			return nil, err
		}
		return map[string]any{"anyOf": []any{s, map[string]any{"type": "null"}}}, nil
	}
	if t.Kind() == reflect.Struct && t.Name() != "" && t != timeType && !customJSON(t) {
		if t == g.root {
			return map[string]any{"$ref": "#"}, nil
		}
		name, ok := g.names[t]
		if !ok {
			name = g.defName(t)
			g.names[t] = name
			g.defs[name] = nil // reserve: a recursive reference finds the name
			s, err := g.inline(t)
			if err != nil {
				return nil, err
			}
			g.defs[name] = s
		}
		return map[string]any{"$ref": "#/$defs/" + name}, nil
	}
	return g.inline(t)
}

func (g *schemaGen) defName(t reflect.Type) string {
	name := t.Name()
	if i := strings.IndexByte(name, '['); i >= 0 { // generic instance
		name = name[:i]
	}
	base := name
	for i := 2; ; i++ {
		if _, taken := g.defs[name]; !taken {
			return name
		}
		name = fmt.Sprintf("%s%d", base, i)
	}
}

func customJSON(t reflect.Type) bool {
	return t.Implements(jsonMarshalerType) || reflect.PointerTo(t).Implements(jsonMarshalerType) ||
		t.Implements(textMarshalerType) || reflect.PointerTo(t).Implements(textMarshalerType)
}

// inline returns the schema of t itself.
func (g *schemaGen) inline(t reflect.Type) (map[string]any, error) {
	switch {
	case t == timeType:
		return map[string]any{"type": "string", "format": "date-time"}, nil
	case t == rawMessageType:
		return map[string]any{}, nil
	case t.Kind() != reflect.Pointer && t.Kind() != reflect.Interface && customJSON(t):
		if t.Implements(textMarshalerType) || reflect.PointerTo(t).Implements(textMarshalerType) {
			return map[string]any{"type": "string"}, nil
		}
		return map[string]any{}, nil // its own JSON form: unknown
	}
	switch t.Kind() {
	case reflect.Bool:
		return map[string]any{"type": "boolean"}, nil
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return map[string]any{"type": "integer"}, nil
	case reflect.Float32, reflect.Float64:
		return map[string]any{"type": "number"}, nil
	case reflect.String:
		return map[string]any{"type": "string"}, nil
	case reflect.Interface:
		return map[string]any{}, nil
	case reflect.Pointer:
		return g.schema(t)
	case reflect.Slice, reflect.Array:
		if t.Elem().Kind() == reflect.Uint8 && t.Kind() == reflect.Slice {
			return map[string]any{"type": "string", "contentEncoding": "base64"}, nil
		}
		items, err := g.schema(t.Elem())
		if err != nil {
			return nil, err
		}
		s := map[string]any{"type": "array", "items": items}
		if t.Kind() == reflect.Array {
			s["minItems"], s["maxItems"] = t.Len(), t.Len()
		}
		return s, nil
	case reflect.Map:
		if t.Key().Kind() != reflect.String && !t.Key().Implements(textMarshalerType) {
			return nil, fmt.Errorf("map key type %s has no JSON form", t.Key())
		}
		values, err := g.schema(t.Elem())
		if err != nil {
			return nil, err
		}
		return map[string]any{"type": "object", "additionalProperties": values}, nil
	case reflect.Struct:
		return g.object(t)
	}
	return nil, fmt.Errorf("%s has no JSON form", t)
}

func (g *schemaGen) object(t reflect.Type) (map[string]any, error) {
	props := map[string]any{}
	required := []any{}
	for _, f := range reflect.VisibleFields(t) {
		if !f.IsExported() {
			continue
		}
		tag := f.Tag.Get("json")
		if tag == "-" {
			continue
		}
		name, opts, _ := strings.Cut(tag, ",")
		if f.Anonymous && name == "" {
			ft := f.Type
			if ft.Kind() == reflect.Pointer {
				ft = ft.Elem()
			}
			if ft.Kind() == reflect.Struct {
				continue // its fields are promoted, and listed by VisibleFields
			}
		}
		if len(f.Index) > 1 && hiddenByTaggedParent(t, f) {
			continue
		}
		if name == "" {
			name = f.Name
		}
		var s map[string]any
		var err error
		if strings.Contains(","+opts+",", ",string,") {
			s = map[string]any{"type": "string"}
		} else if s, err = g.schema(f.Type); err != nil {
			return nil, fmt.Errorf("field %s: %w", f.Name, err)
		}
		if d := f.Tag.Get("description"); d != "" {
			if _, isRef := s["$ref"]; isRef {
				s = map[string]any{"allOf": []any{s}, "description": d}
			} else {
				s["description"] = d
			}
		}
		if _, dup := props[name]; !dup {
			required = append(required, name)
		}
		props[name] = s
	}
	return map[string]any{
		"type":                 "object",
		"properties":           props,
		"required":             required,
		"additionalProperties": false,
	}, nil
}

// hiddenByTaggedParent reports whether a promoted field sits inside an
// embedded struct that has its own json name (and so is not flattened).
func hiddenByTaggedParent(t reflect.Type, f reflect.StructField) bool {
	for i := 1; i < len(f.Index); i++ {
		parent := t.FieldByIndex(f.Index[:i])
		if name, _, _ := strings.Cut(parent.Tag.Get("json"), ","); name != "" || !parent.Anonymous {
			return true
		}
	}
	return false
}
