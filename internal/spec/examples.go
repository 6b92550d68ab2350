package spec

import (
	"errors"
	"fmt"
	"os"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
	"go.yaml.in/yaml/v3"
)

// An Issue is one problem of the document, at the line of the node it is
// about: `file:line: JSON-path: message`.
type Issue struct {
	File    string
	Line    int
	Path    string // a JSONPath, such as $.paths['/v1/models'].get.responses['200']
	Message string
}

func (i Issue) Error() string {
	return fmt.Sprintf("%s:%d: %s: %s", i.File, i.Line, i.Path, i.Message)
}

// Issues is every problem found, in document order.
type Issues []Issue

func (is Issues) Error() string {
	lines := make([]string, len(is))
	for i, x := range is {
		lines[i] = x.Error()
	}
	return strings.Join(lines, "\n")
}

// example is one example of the document and the schema it must match.
type example struct {
	path   []string // from the document root
	value  any
	schema *openapi3.Schema
	stream string // for a text/event-stream example: the x-event-schema
}

// checkExamples validates every example of doc against its schema, listing
// every mismatch (not just the first) at the line of the offending node.
func checkExamples(file string, doc *openapi3.T) error {
	src, err := os.ReadFile(file)
	if err != nil {
		return err
	}
	var root yaml.Node
	if err := yaml.Unmarshal(src, &root); err != nil {
		return err
	}
	var issues Issues
	report := func(path []string, msg string) {
		line, at := locateNode(&root, path)
		issues = append(issues, Issue{File: file, Line: line, Path: at, Message: msg})
	}
	for _, ex := range collectExamples(doc) {
		if ex.stream != "" {
			checkStreamExample(doc, ex, report)
			continue
		}
		if ex.schema == nil {
			continue
		}
		checkValue(ex.schema, ex.value, ex.path, report)
	}
	sort.SliceStable(issues, func(i, j int) bool { return issues[i].Line < issues[j].Line })
	if len(issues) == 0 {
		return nil
	}
	return issues
}

// checkValue validates v against s and reports each error at its node.
func checkValue(s *openapi3.Schema, v any, path []string, report func([]string, string)) {
	err := s.VisitJSON(v, openapi3.MultiErrors())
	for _, e := range flatten(err) {
		var se *openapi3.SchemaError
		if errors.As(e, &se) {
			report(append(append([]string{}, path...), se.JSONPointer()...), se.Reason)
		} else {
			report(path, e.Error())
		}
	}
}

func flatten(err error) []error {
	if err == nil {
		return nil
	}
	var me openapi3.MultiError
	if errors.As(err, &me) {
		var out []error
		for _, e := range me {
			out = append(out, flatten(e)...)
		}
		return out
	}
	return []error{err}
}

// checkStreamExample checks a text/event-stream example: a list of
// {data: …} events, each matching the event schema (or StreamError when it
// reports an error), ending with data [DONE].
func checkStreamExample(doc *openapi3.T, ex example, report func([]string, string)) {
	events, ok := ex.value.([]any)
	if !ok || len(events) == 0 {
		report(ex.path, "the example must be a list of {data: …} events")
		return
	}
	for i, ev := range events {
		at := append(append([]string{}, ex.path...), strconv.Itoa(i))
		m, _ := ev.(map[string]any)
		data, ok := m["data"]
		if !ok {
			report(at, "an event without data")
			continue
		}
		if data == "[DONE]" {
			if i != len(events)-1 {
				report(at, "[DONE] must come last")
			}
			continue
		}
		name := ex.stream
		if obj, ok := data.(map[string]any); ok && obj["error"] != nil || m["event"] == "error" {
			name = "StreamError"
		}
		s, err := Schema(doc, name)
		if err != nil {
			report(at, err.Error())
			continue
		}
		checkValue(s, data, append(at, "data"), report)
	}
	if last, _ := events[len(events)-1].(map[string]any); last["data"] != "[DONE]" {
		report(append(append([]string{}, ex.path...), strconv.Itoa(len(events)-1)), "the example must end with data [DONE]")
	}
}

// collectExamples lists the examples of the paths, the components'
// responses, request bodies, parameters and headers, and every schema.
func collectExamples(doc *openapi3.T) []example {
	var out []example
	content := func(path []string, c openapi3.Content) {
		for _, name := range sortedKeys(c) {
			mt := c[name]
			if mt == nil || mt.Schema == nil || mt.Schema.Value == nil {
				continue
			}
			at := append(append([]string{}, path...), "content", name)
			stream, _ := mt.Schema.Value.Extensions["x-event-schema"].(string)
			if name == "text/event-stream" && stream == "" {
				continue
			}
			if mt.Example != nil {
				out = append(out, example{path: append(at, "example"), value: mt.Example, schema: mt.Schema.Value, stream: stream})
			}
			for _, en := range sortedKeys(mt.Examples) {
				if e := mt.Examples[en]; e != nil && e.Value != nil && e.Value.Value != nil {
					out = append(out, example{path: append(append([]string{}, at...), "examples", en, "value"), value: e.Value.Value, schema: mt.Schema.Value, stream: stream})
				}
			}
		}
	}
	response := func(path []string, r *openapi3.ResponseRef) {
		if r == nil || r.Ref != "" || r.Value == nil {
			return // a $ref'd response is checked where it is defined
		}
		content(path, r.Value.Content)
		for _, hn := range sortedKeys(r.Value.Headers) {
			if h := r.Value.Headers[hn]; h != nil && h.Ref == "" && h.Value != nil && h.Value.Example != nil && h.Value.Schema != nil {
				out = append(out, example{path: append(append([]string{}, path...), "headers", hn, "example"), value: h.Value.Example, schema: h.Value.Schema.Value})
			}
		}
	}
	for _, p := range doc.Paths.InMatchingOrder() {
		item := doc.Paths.Value(p)
		for _, method := range sortedKeys(item.Operations()) {
			op := item.Operations()[method]
			at := []string{"paths", p, strings.ToLower(method)}
			if op.RequestBody != nil && op.RequestBody.Ref == "" && op.RequestBody.Value != nil {
				content(append(append([]string{}, at...), "requestBody"), op.RequestBody.Value.Content)
			}
			for _, status := range sortedKeys(op.Responses.Map()) {
				response(append(append([]string{}, at...), "responses", status), op.Responses.Value(status))
			}
		}
	}
	if c := doc.Components; c != nil {
		for _, n := range sortedKeys(c.Responses) {
			response([]string{"components", "responses", n}, c.Responses[n])
		}
		for _, n := range sortedKeys(c.RequestBodies) {
			if b := c.RequestBodies[n]; b != nil && b.Value != nil {
				content([]string{"components", "requestBodies", n}, b.Value.Content)
			}
		}
		for _, n := range sortedKeys(c.Parameters) {
			if p := c.Parameters[n]; p != nil && p.Value != nil && p.Value.Example != nil && p.Value.Schema != nil {
				out = append(out, example{path: []string{"components", "parameters", n, "example"}, value: p.Value.Example, schema: p.Value.Schema.Value})
			}
		}
		for _, n := range sortedKeys(c.Headers) {
			if h := c.Headers[n]; h != nil && h.Value != nil && h.Value.Example != nil && h.Value.Schema != nil {
				out = append(out, example{path: []string{"components", "headers", n, "example"}, value: h.Value.Example, schema: h.Value.Schema.Value})
			}
		}
		for _, n := range sortedKeys(c.Schemas) {
			out = schemaExamples(out, []string{"components", "schemas", n}, c.Schemas[n], 0)
		}
	}
	return out
}

// schemaExamples adds the example of an inline schema and of its inline
// subschemas ($ref'd ones are checked where they are defined).
func schemaExamples(out []example, path []string, ref *openapi3.SchemaRef, depth int) []example {
	if ref == nil || ref.Value == nil || depth > 32 {
		return out
	}
	if ref.Ref != "" && depth > 0 {
		return out
	}
	s := ref.Value
	if s.Example != nil {
		out = append(out, example{path: append(append([]string{}, path...), "example"), value: s.Example, schema: s})
	}
	sub := func(p []string, r *openapi3.SchemaRef) {
		out = schemaExamples(out, append(append([]string{}, path...), p...), r, depth+1)
	}
	for _, n := range sortedKeys(s.Properties) {
		sub([]string{"properties", n}, s.Properties[n])
	}
	sub([]string{"items"}, s.Items)
	if s.AdditionalProperties.Schema != nil {
		sub([]string{"additionalProperties"}, s.AdditionalProperties.Schema)
	}
	for kw, list := range map[string]openapi3.SchemaRefs{"oneOf": s.OneOf, "anyOf": s.AnyOf, "allOf": s.AllOf} {
		for i, r := range list {
			sub([]string{kw, strconv.Itoa(i)}, r)
		}
	}
	return out
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// locateNode returns the line of the deepest node of the YAML document on
// path, and path as a JSONPath ($.a.b['/v1/x'][0]).
func locateNode(root *yaml.Node, path []string) (int, string) {
	n := root
	if n.Kind == yaml.DocumentNode && len(n.Content) > 0 {
		n = n.Content[0]
	}
	line := n.Line
	var b strings.Builder
	b.WriteString("$")
	for _, seg := range path {
		var next *yaml.Node
		if n != nil {
			switch n.Kind {
			case yaml.MappingNode:
				for i := 0; i+1 < len(n.Content); i += 2 {
					if n.Content[i].Value == seg {
						line = n.Content[i].Line
						next = n.Content[i+1]
						break
					}
				}
			case yaml.SequenceNode:
				if i, err := strconv.Atoi(seg); err == nil && i >= 0 && i < len(n.Content) {
					next = n.Content[i]
					line = next.Line
				}
			}
		}
		switch {
		case n != nil && n.Kind == yaml.SequenceNode:
			b.WriteString("[" + seg + "]")
		case identRe.MatchString(seg):
			b.WriteString("." + seg)
		default:
			b.WriteString("['" + strings.ReplaceAll(seg, "'", `\'`) + "']")
		}
		n = next
	}
	return line, b.String()
}

var identRe = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
