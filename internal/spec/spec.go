// Package spec loads openapi.yaml with kin-openapi, validates it (including
// every example it contains) and validates wire fixtures against its schemas.
// It backs `make spec-validate` and the spec tests; the SDK never imports it.
package spec

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
)

// Load reads and validates the OpenAPI document at path. Examples are
// validated against their schemas. An error names the file and, where it can,
// the line and the path inside the document of what is wrong.
func Load(path string) (*openapi3.T, error) {
	loader := openapi3.NewLoader()
	loader.IncludeOrigin = true
	loader.IsExternalRefsAllowed = false
	doc, err := loader.LoadFromFile(path)
	if err != nil {
		return nil, fmt.Errorf("%s%s: %w", path, locateRef(path, err.Error()), err)
	}
	if err := doc.Validate(context.Background(), openapi3.DisableExamplesValidation()); err != nil {
		return nil, fmt.Errorf("%s%s: %w", path, locate(doc, err.Error()), err)
	}
	// Examples are checked here, not by kin-openapi, which stops at the
	// first mismatch and names only the enclosing path.
	if err := checkExamples(path, doc); err != nil {
		return nil, err
	}
	return doc, nil
}

var (
	schemaRe  = regexp.MustCompile(`schema "([^"]+)"`)
	pathRe    = regexp.MustCompile(`invalid path (/\S*?):`)
	missingRe = regexp.MustCompile(`map key "([^"]+)" not found`)
)

// locateRef finds the line of a $ref to a component that does not exist.
func locateRef(path, msg string) string {
	m := missingRe.FindStringSubmatch(msg)
	if m == nil {
		return ""
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	for i, line := range strings.Split(string(b), "\n") {
		if strings.Contains(line, "$ref") && strings.Contains(line, "/"+m[1]+`"`) {
			return fmt.Sprintf(":%d", i+1)
		}
	}
	return ""
}

// locate turns the component or path an error message names into ":line"
// using the origins the loader recorded.
func locate(doc *openapi3.T, msg string) string {
	if m := pathRe.FindStringSubmatch(msg); m != nil && doc.Paths != nil {
		if item := doc.Paths.Value(m[1]); item != nil && item.Origin != nil && item.Origin.Key != nil {
			return fmt.Sprintf(":%d", item.Origin.Key.Line)
		}
	}
	if m := schemaRe.FindStringSubmatch(msg); m != nil && doc.Components != nil {
		if ref := doc.Components.Schemas[m[1]]; ref != nil && ref.Value != nil && ref.Value.Origin != nil && ref.Value.Origin.Key != nil {
			return fmt.Sprintf(":%d", ref.Value.Origin.Key.Line)
		}
	}
	return ""
}

// Schema returns the component schema called name.
func Schema(doc *openapi3.T, name string) (*openapi3.Schema, error) {
	if doc.Components == nil {
		return nil, fmt.Errorf("no components")
	}
	ref := doc.Components.Schemas[name]
	if ref == nil || ref.Value == nil {
		return nil, fmt.Errorf("no schema %q in components.schemas", name)
	}
	return ref.Value, nil
}

// ValidateJSON validates one JSON document against the named component schema.
func ValidateJSON(doc *openapi3.T, schemaName string, data []byte) error {
	schema, err := Schema(doc, schemaName)
	if err != nil {
		return err
	}
	var v any
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	if err := dec.Decode(&v); err != nil {
		return fmt.Errorf("invalid JSON: %w", err)
	}
	v = plain(v)
	return schema.VisitJSON(v, openapi3.MultiErrors())
}

// plain converts json.Number values into float64 for the validator, which
// does not accept json.Number.
func plain(v any) any {
	switch t := v.(type) {
	case json.Number:
		f, _ := t.Float64()
		return f
	case map[string]any:
		for k, e := range t {
			t[k] = plain(e)
		}
	case []any:
		for i, e := range t {
			t[i] = plain(e)
		}
	}
	return v
}

// ValidateEventStream validates every data event of a text/event-stream
// fixture: `[DONE]` must come last, an `event: error` or an object with a
// non-null "error" must be a StreamError (an ErrorChunk or a flat error
// body), and every other event must match schemaName.
func ValidateEventStream(doc *openapi3.T, schemaName string, data []byte) error {
	events, err := dataEvents(data)
	if err != nil {
		return err
	}
	if len(events) == 0 {
		return errors.New("no data events")
	}
	var errs []error
	done := false
	for i, ev := range events {
		if done {
			errs = append(errs, fmt.Errorf("event %d: data after [DONE]", i+1))
			break
		}
		if ev.data == "[DONE]" {
			done = true
			continue
		}
		name := schemaName
		var probe struct {
			Error json.RawMessage `json:"error"`
		}
		if ev.typ == "error" || json.Unmarshal([]byte(ev.data), &probe) == nil && len(probe.Error) > 0 && string(probe.Error) != "null" {
			name = "StreamError"
		}
		if err := ValidateJSON(doc, name, []byte(ev.data)); err != nil {
			errs = append(errs, fmt.Errorf("event %d (%s): %w", i+1, name, err))
		}
	}
	return errors.Join(errs...)
}

// event is one event of an SSE body: its type ("" when not named) and data.
type event struct{ typ, data string }

// dataEvents splits an SSE body into its events with data. It is a
// deliberately small reader for fixtures, independent of the SDK's decoder.
func dataEvents(body []byte) ([]event, error) {
	var events []event
	var cur []string
	typ := ""
	flush := func() {
		if cur != nil {
			events = append(events, event{typ, strings.Join(cur, "\n")})
			cur = nil
		}
		typ = ""
	}
	sc := bufio.NewScanner(bytes.NewReader(body))
	sc.Buffer(nil, 64<<20)
	for sc.Scan() {
		line := strings.TrimSuffix(sc.Text(), "\r")
		switch {
		case line == "":
			flush()
		case strings.HasPrefix(line, ":"):
		case strings.HasPrefix(line, "event:"):
			typ = strings.TrimPrefix(strings.TrimPrefix(line, "event:"), " ")
		case strings.HasPrefix(line, "data:"):
			cur = append(cur, strings.TrimPrefix(strings.TrimPrefix(line, "data:"), " "))
		}
	}
	flush()
	return events, sc.Err()
}

// ValidateFixtures validates every fixture under dir. Each subdirectory is
// named after a component schema; its *.json files must match that schema and
// its *.sse files must be event streams of it (see ValidateEventStream).
// It returns how many files it checked.
func ValidateFixtures(doc *openapi3.T, dir string) (int, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return 0, err
	}
	var errs []error
	n := 0
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		name := e.Name()
		if _, err := Schema(doc, name); err != nil {
			errs = append(errs, fmt.Errorf("%s: fixture directory names no schema: %w", filepath.Join(dir, name), err))
			continue
		}
		files, err := filepath.Glob(filepath.Join(dir, name, "*"))
		if err != nil {
			return n, err
		}
		sort.Strings(files)
		for _, f := range files {
			var check func(*openapi3.T, string, []byte) error
			switch filepath.Ext(f) {
			case ".json":
				check = ValidateJSON
			case ".sse":
				check = ValidateEventStream
			default:
				continue
			}
			b, err := os.ReadFile(f)
			if err != nil {
				return n, err
			}
			n++
			if err := check(doc, name, b); err != nil {
				errs = append(errs, fmt.Errorf("%s: does not match schema %s: %w", f, name, err))
			}
		}
	}
	return n, errors.Join(errs...)
}
