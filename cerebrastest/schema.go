package cerebrastest

import (
	"sort"
	"strings"
)

// fromSchema returns a value valid against a JSON schema, so the fake's tool
// arguments and structured outputs are what a constrained model would send.
// Strings are filled from hint (the last user message).
func fromSchema(schema map[string]any, hint string) any {
	g := schemaValue{root: schema, words: hintWords(hint)}
	return g.value(schema, 0)
}

// hintWords picks the words a model would fill strings with: the names in
// the message (capitalised words after the first), else its last word.
func hintWords(hint string) []string {
	var all, names []string
	for i, w := range strings.Fields(hint) {
		w = strings.Trim(w, ".,!?;:\"'()")
		if w == "" {
			continue
		}
		all = append(all, w)
		if i > 0 && w[0] >= 'A' && w[0] <= 'Z' {
			names = append(names, w)
		}
	}
	if len(names) > 0 {
		return names
	}
	if len(all) > 0 {
		return all[len(all)-1:]
	}
	return nil
}

type schemaValue struct {
	root  map[string]any
	words []string
	next  int
}

func (g *schemaValue) word() string {
	if len(g.words) == 0 {
		return "example"
	}
	w := g.words[g.next%len(g.words)]
	g.next++
	return w
}

func (g *schemaValue) resolve(ref string) map[string]any {
	if ref == "#" {
		return g.root
	}
	name, ok := strings.CutPrefix(ref, "#/$defs/")
	if !ok {
		name, ok = strings.CutPrefix(ref, "#/definitions/")
	}
	if !ok {
		return nil
	}
	for _, key := range []string{"$defs", "definitions"} {
		if defs, ok := g.root[key].(map[string]any); ok {
			if s, ok := defs[name].(map[string]any); ok {
				return s
			}
		}
	}
	return nil
}

func (g *schemaValue) value(s map[string]any, depth int) any {
	if s == nil || depth > 8 {
		return nil
	}
	if ref, ok := s["$ref"].(string); ok {
		return g.value(g.resolve(ref), depth+1)
	}
	if c, ok := s["const"]; ok {
		return c
	}
	if e, ok := s["enum"].([]any); ok && len(e) > 0 {
		return e[0]
	}
	for _, key := range []string{"anyOf", "oneOf", "allOf"} {
		arms, ok := s[key].([]any)
		if !ok || len(arms) == 0 {
			continue
		}
		// The first non-null arm; deep in a recursive type, null if allowed.
		var pick, null map[string]any
		for _, a := range arms {
			m, _ := a.(map[string]any)
			if m["type"] == "null" {
				null = m
			} else if pick == nil {
				pick = m
			}
		}
		if pick == nil || (depth > 3 && null != nil) {
			return nil
		}
		return g.value(pick, depth+1)
	}
	typ := s["type"]
	if list, ok := typ.([]any); ok && len(list) > 0 {
		typ = list[0]
		for _, t := range list {
			if t != "null" {
				typ = t
				break
			}
		}
	}
	switch typ {
	case "string":
		return g.word()
	case "integer":
		return 1
	case "number":
		return 1.5
	case "boolean":
		return true
	case "null":
		return nil
	case "array":
		items, _ := s["items"].(map[string]any)
		n := 1
		if m, ok := s["minItems"].(float64); ok && int(m) > n {
			n = int(m)
		}
		if m, ok := s["minItems"].(int); ok && m > n {
			n = m
		}
		out := make([]any, n)
		for i := range out {
			out[i] = g.value(items, depth+1)
		}
		return out
	default: // "object", or a schema with properties and no type
		props, _ := s["properties"].(map[string]any)
		names := make([]string, 0, len(props))
		for name := range props {
			names = append(names, name)
		}
		sort.Strings(names)
		out := map[string]any{}
		for _, name := range names {
			p, _ := props[name].(map[string]any)
			out[name] = g.value(p, depth+1)
		}
		return out
	}
}
