// Package gencheck holds tests of the promises the generated core makes to the
// handwritten layer: zero values are sent, unknown values decode, numbers are
// float64, gen/ depends on nothing but the oapi-codegen runtime, and a module
// that imports client gets a small module graph and go.sum (footprint_test.go).
package gencheck

import (
	"encoding/json"
	"os"
	"os/exec"
	"reflect"
	"regexp"
	"strings"
	"testing"

	"github.com/cerebras-go/cerebras/gen"
)

func ptr[T any](v T) *T { return &v }

func TestZeroValuesAreSent(t *testing.T) {
	var msg gen.ChatMessage
	var content gen.MessageContent
	if err := content.FromText("hi"); err != nil {
		t.Fatal(err)
	}
	if err := msg.FromUserMessageParam(gen.UserMessageParam{Content: content}); err != nil {
		t.Fatal(err)
	}
	req := gen.ChatCompletionNewParams{
		Model:            "m",
		Messages:         []gen.ChatMessage{msg},
		Temperature:      ptr(0.0),
		Seed:             ptr(int64(0)),
		TopP:             ptr(0.0),
		FrequencyPenalty: ptr(0.0),
		N:                ptr(0),
		Stream:           ptr(false),
	}
	b, err := json.Marshal(req)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"frequency_penalty":0,"messages":[{"content":"hi","role":"user"}],"model":"m","n":0,"seed":0,"stream":false,"temperature":0,"top_p":0}`
	if string(b) != want {
		t.Errorf("got  %s\nwant %s", b, want)
	}
}

func TestNumbersAreFloat64(t *testing.T) {
	for _, f := range []struct {
		typ   reflect.Type
		field string
	}{
		{reflect.TypeOf(gen.ChatCompletionNewParams{}), "Temperature"},
		{reflect.TypeOf(gen.ChatCompletionNewParams{}), "TopP"},
		{reflect.TypeOf(gen.TimeInfo{}), "QueueTime"},
		{reflect.TypeOf(gen.TokenLogprob{}), "Logprob"},
	} {
		sf, ok := f.typ.FieldByName(f.field)
		if !ok {
			t.Fatalf("%s has no field %s", f.typ, f.field)
		}
		typ := sf.Type
		if typ.Kind() == reflect.Pointer {
			typ = typ.Elem()
		}
		if typ.Kind() != reflect.Float64 {
			t.Errorf("%s.%s is %s, want float64", f.typ, f.field, sf.Type)
		}
	}
}

func TestSeedResponseDecodes(t *testing.T) {
	b, err := os.ReadFile("../../testdata/ChatCompletion/seed-hello.json")
	if err != nil {
		t.Fatal(err)
	}
	var c gen.ChatCompletion
	if err := json.Unmarshal(b, &c); err != nil {
		t.Fatal(err)
	}
	if c.ID != "chatcmpl-292e278f-514e-4186-9010-91ce6a14168b" || c.Created != 1723733419 ||
		c.Choices[0].Message.Content != "Hello! How can I assist you today?" ||
		c.Choices[0].FinishReason != gen.FinishReasonStop ||
		c.Usage.TotalTokens != 22 || c.TimeInfo.QueueTime != 0.000073161 {
		t.Errorf("decoded %+v", c)
	}
}

func TestUnknownValuesDecode(t *testing.T) {
	b, err := os.ReadFile("../../testdata/ChatCompletion/forward-compat.json")
	if err != nil {
		t.Fatal(err)
	}
	var c gen.ChatCompletion
	if err := json.Unmarshal(b, &c); err != nil {
		t.Fatalf("a response with unknown fields and enum values must decode: %v", err)
	}
	fr := c.Choices[0].FinishReason
	if fr != "a_reason_added_later" || fr.Valid() {
		t.Errorf("finish_reason = %q (valid %v), want the unknown value kept and reported invalid", fr, fr.Valid())
	}
}

// TestLibraryDependencies keeps the library light: what users import (client,
// streaming, gen, pricing) may use the standard library and the oapi-codegen
// runtime (with what it needs), nothing else.
func TestLibraryDependencies(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", "-f", "{{if not .Standard}}{{.ImportPath}}{{end}}",
		"github.com/cerebras-go/cerebras/client", "github.com/cerebras-go/cerebras/streaming", "github.com/cerebras-go/cerebras/gen",
		"github.com/cerebras-go/cerebras/pricing").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	allowed := []string{"github.com/cerebras-go/cerebras/gen", "github.com/cerebras-go/cerebras/client", "github.com/cerebras-go/cerebras/streaming",
		"github.com/cerebras-go/cerebras/pricing",
		"github.com/cerebras-go/cerebras/internal/apierror", "github.com/cerebras-go/cerebras/internal/redact",
		"github.com/cerebras-go/cerebras/internal/decode", "github.com/cerebras-go/cerebras/internal/jsonscan",
		"github.com/cerebras-go/cerebras/internal/decodedsize",
		"github.com/cerebras-go/cerebras/internal/check", "github.com/cerebras-go/cerebras/internal/msgpack",
		"github.com/cerebras-go/cerebras/internal/rawjson",
		"github.com/oapi-codegen/runtime", "github.com/google/uuid", "github.com/apapsch/go-jsonmerge/v2"}
	for _, pkg := range strings.Fields(string(out)) {
		ok := false
		for _, a := range allowed {
			if pkg == a || strings.HasPrefix(pkg, a+"/") {
				ok = true
			}
		}
		if !ok {
			t.Errorf("the library depends on %s; only the oapi-codegen runtime is allowed", pkg)
		}
	}
}

// FuzzResponseDecoding: every response type decodes any input without
// panicking, and what decodes re-encodes to something that decodes the same.
func FuzzResponseDecoding(f *testing.F) {
	for _, p := range []string{"ChatCompletion/seed-hello.json", "ChatCompletion/tool-calls-reasoning.json", "ChatCompletion/forward-compat.json",
		"Completion/hello.json", "ModelList/default.json", "ErrorResponse/rate-limit.json", "ErrorChunk/status-500.json"} {
		b, err := os.ReadFile("../../testdata/" + p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte(`{"choices":[{"delta":{"tool_calls":[{"index":null}]}}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		targets := []func() any{
			func() any { return new(gen.ChatCompletion) }, func() any { return new(gen.ChatCompletionChunk) },
			func() any { return new(gen.Completion) }, func() any { return new(gen.ModelList) }, func() any { return new(gen.Model) },
			func() any { return new(gen.ModelListResponse) }, func() any { return new(gen.ModelResponse) },
			func() any { return new(gen.ErrorResponse) }, func() any { return new(gen.ErrorChunk) },
			func() any { return new(gen.UnprocessableEntityResponse) }, func() any { return new(gen.OpenRouterModelList) },
			func() any { return new(gen.HuggingFaceModelList) },
		}
		for _, newV := range targets {
			v := newV()
			if json.Unmarshal(data, v) != nil {
				continue
			}
			b, err := json.Marshal(v)
			if err != nil {
				t.Fatalf("%T decoded but does not encode: %v", v, err)
			}
			w := newV()
			if err := json.Unmarshal(b, w); err != nil {
				t.Fatalf("%T re-encoding does not decode: %v\n%s", v, err, b)
			}
			if b2, _ := json.Marshal(w); string(b2) != string(b) {
				t.Fatalf("%T is not stable:\n%s\n%s", v, b, b2)
			}
		}
	})
}

// TestNoNumberedNames: no generated name ends in a position number (the
// oapi-codegen fallback for an inline union arm, AsMessageContent0): every
// arm is a named component in openapi.yaml.
func TestNoNumberedNames(t *testing.T) {
	src, err := os.ReadFile("../../gen/cerebras.gen.go")
	if err != nil {
		t.Fatal(err)
	}
	numbered := regexp.MustCompile(`(?m)^(?:type|func(?: \([^)]*\))?) ([A-Za-z]+[0-9]+)\b`)
	for _, m := range numbered.FindAllStringSubmatch(string(src), -1) {
		t.Errorf("gen declares %s: name the union arm in openapi.yaml", m[1])
	}
}

// TestResponsesHaveNoScalarPointers: response types read like plain Go. Only
// the sub-objects that are sent on some responses only (usage, time_info,
// logprobs) are pointers, so nil says "not sent".
func TestResponsesHaveNoScalarPointers(t *testing.T) {
	allowed := map[string]bool{"Usage": true, "TimeInfo": true, "ChatCompletionLogprobs": true, "CompletionLogprobs": true}
	// A tool call's index: absent on some servers' stream fragments, where
	// nil means "continue the last call", not call 0.
	allowedPaths := map[string]bool{"ToolCall.Index": true}
	seen := map[reflect.Type]bool{}
	var walk func(path, field string, typ reflect.Type)
	walk = func(path, field string, typ reflect.Type) {
		switch typ.Kind() {
		case reflect.Pointer:
			if !allowed[typ.Elem().Name()] && !allowedPaths[field] {
				t.Errorf("%s is %s: a response field must be a value", path, typ)
			}
			walk(path, field, typ.Elem())
		case reflect.Slice:
			walk(path+"[]", field, typ.Elem())
		case reflect.Struct:
			if seen[typ] {
				return
			}
			seen[typ] = true
			for i := range typ.NumField() {
				if f := typ.Field(i); f.IsExported() {
					walk(path+"."+f.Name, typ.Name()+"."+f.Name, f.Type)
				}
			}
		}
	}
	for _, v := range []any{gen.ChatCompletion{}, gen.ChatCompletionChunk{}, gen.Completion{}, gen.ModelList{}, gen.OpenRouterModelList{}, gen.HuggingFaceModelList{},
		gen.PublicModelList{}, gen.FileObject{}, gen.FileList{}, gen.FileDeleted{}, gen.Batch{}, gen.BatchList{}} {
		walk(reflect.TypeOf(v).Name(), "", reflect.TypeOf(v))
	}
}

// TestLayering keeps client thin: client imports only the layers below it
// (streaming, gen, internal/), never a feature, and a feature (toolrunner,
// batchfile, pricing) imports only what a user could, plus the shared internals:
// client, streaming, gen and internal/.
func TestLayering(t *testing.T) {
	const mod = "github.com/cerebras-go/cerebras/"
	features := []string{mod + "toolrunner", mod + "batchfile", mod + "pricing"}
	deps := func(pkg string) []string {
		out, err := exec.Command("go", "list", "-deps", "-f", "{{if not .Standard}}{{.ImportPath}}{{end}}", pkg).CombinedOutput()
		if err != nil {
			t.Fatalf("go list %s: %v\n%s", pkg, err, out)
		}
		return strings.Fields(string(out))
	}
	// A feature that imports client cannot be imported by it (the compiler
	// refuses the cycle), so what keeps client thin is that it imports
	// nothing of this module but the layers below it.
	for _, d := range deps(mod + "client") {
		switch {
		case d == mod+"client", d == mod+"streaming", d == mod+"gen", strings.HasPrefix(d, mod+"internal/"):
		case strings.HasPrefix(d, mod):
			t.Errorf("client imports %s: client imports only streaming, gen and internal/; a feature is built on client", d)
		}
	}
	for _, f := range features {
		for _, d := range deps(f) {
			switch {
			case d == f, d == mod+"client", d == mod+"streaming", d == mod+"gen", strings.HasPrefix(d, mod+"internal/"):
			case !strings.HasPrefix(d, mod): // the library's own dependencies, which TestLibraryDependencies bounds
			default:
				t.Errorf("%s imports %s: a feature imports only client, streaming, gen and internal/", f, d)
			}
		}
	}
}

// TestNoOpenTelemetryInTheLibrary: the OpenTelemetry instrumentation is a
// module of its own (otelcerebras/), so that the library's go.mod, and a
// program that does not import it, gain no go.opentelemetry.io module.
func TestNoOpenTelemetryInTheLibrary(t *testing.T) {
	for _, f := range []string{"../../go.mod", "../../go.sum"} {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for i, line := range strings.Split(string(b), "\n") {
			if strings.Contains(line, "go.opentelemetry.io") {
				t.Errorf("%s:%d: %s: the library must not depend on OpenTelemetry; it belongs in otelcerebras/go.mod", f, i+1, strings.TrimSpace(line))
			}
		}
	}
	out, err := exec.Command("go", "list", "-m", "all").CombinedOutput()
	if err != nil {
		t.Fatalf("go list -m all: %v\n%s", err, out)
	}
	if strings.Contains(string(out), "go.opentelemetry.io") {
		t.Errorf("the root module's build list has OpenTelemetry modules:\n%s", out)
	}
}
