package spec_test

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/cerebras-go/cerebras/internal/spec"
)

const specPath = "../../openapi.yaml"

func load(t *testing.T) *openapi3.T {
	t.Helper()
	doc, err := spec.Load(specPath)
	if err != nil {
		t.Fatal(err)
	}
	return doc
}

// TestSpecHasEveryField lists every parameter and field the API reference
// names, so a missing one fails with its name.
func TestSpecHasEveryField(t *testing.T) {
	doc := load(t)
	props := map[string][]string{
		"ChatCompletionRequest": {"model", "messages", "clear_thinking", "disable_reasoning", "frequency_penalty",
			"logit_bias", "logprobs", "top_logprobs", "max_completion_tokens", "max_tokens", "min_completion_tokens",
			"min_tokens", "model_parameters", "n", "parallel_tool_calls", "prediction", "presence_penalty",
			"prompt_cache_key", "reasoning_effort", "reasoning_format", "response_format", "seed", "service_tier",
			"stop", "stream", "stream_options", "temperature", "tool_choice", "tools", "top_p", "user"},
		"SystemMessage":            {"role", "content", "name"},
		"DeveloperMessage":         {"role", "content", "name"},
		"UserMessage":              {"role", "content", "name"},
		"AssistantMessage":         {"role", "content", "name", "reasoning", "tool_calls"},
		"ToolMessage":              {"role", "content", "tool_call_id", "name"},
		"TextContentPart":          {"type", "text"},
		"ImageURLContentPart":      {"type", "image_url"},
		"ImageURL":                 {"url", "detail"},
		"ImageContentPart":         {"type", "image"},
		"AssistantToolCall":        {"id", "type", "function", "index"},
		"Tool":                     {"type", "function"},
		"FunctionDefinition":       {"name", "description", "parameters", "strict"},
		"NamedToolChoice":          {"type", "function"},
		"ResponseFormatText":       {"type"},
		"ResponseFormatJSONObject": {"type"},
		"ResponseFormatJSONSchema": {"type", "json_schema"},
		"JSONSchemaFormat":         {"name", "description", "schema", "strict"},
		"StreamOptions":            {"include_usage"},
		"Prediction":               {"type", "content"},
		"ChatCompletion": {"id", "object", "created", "model", "system_fingerprint", "service_tier",
			"service_tier_used", "choices", "usage", "time_info"},
		"ChatCompletionChoice":      {"index", "message", "finish_reason", "logprobs", "reasoning_logprobs"},
		"ChatCompletionMessage":     {"role", "content", "reasoning", "tool_calls"},
		"ToolCall":                  {"index", "id", "type", "function"},
		"ToolCallFunction":          {"name", "arguments"},
		"Usage":                     {"prompt_tokens", "completion_tokens", "total_tokens", "prompt_tokens_details", "completion_tokens_details", "image_tokens"},
		"PromptTokensDetails":       {"cached_tokens"},
		"CompletionTokensDetails":   {"accepted_prediction_tokens", "reasoning_tokens", "rejected_prediction_tokens"},
		"TimeInfo":                  {"queue_time", "prompt_time", "completion_time", "total_time", "created"},
		"ChatCompletionChunk":       {"id", "object", "created", "model", "system_fingerprint", "choices", "usage", "time_info"},
		"ChatCompletionChunkChoice": {"index", "delta", "finish_reason", "logprobs", "reasoning_logprobs"},
		"ChatCompletionChunkDelta":  {"role", "content", "reasoning", "tool_calls"},
		"ChatCompletionLogprobs":    {"content", "refusal"},
		"TokenLogprob":              {"token", "logprob", "bytes", "top_logprobs"},
		"ErrorChunk":                {"error", "status_code"},
		"ErrorDetail":               {"message", "type", "param", "code"},
		"ErrorResponse":             {"error"},
		"HTTPValidationError":       {"detail"},
		"CompletionRequest": {"model", "prompt", "best_of", "echo", "frequency_penalty", "grammar_root",
			"logit_bias", "logprobs", "max_tokens", "min_tokens", "n", "presence_penalty", "prompt_cache_key",
			"reasoning_format", "return_raw_tokens", "seed", "stop", "stream", "stream_options", "suffix",
			"temperature", "top_p", "user"},
		"Completion":       {"id", "object", "created", "model", "choices", "usage", "time_info"},
		"CompletionChoice": {"index", "text", "tokens", "finish_reason", "logprobs"},
		"Model":            {"id", "created", "object", "owned_by"},
		"ModelList":        {"object", "data"},
		"OpenRouterModel":  {"id", "name", "context_length", "pricing"},
		"HuggingFaceModel": {"id", "context_length", "pricing", "capabilities"},
	}
	for schema, names := range props {
		s, err := spec.Schema(doc, schema)
		if err != nil {
			t.Errorf("schema %s: %v", schema, err)
			continue
		}
		for _, name := range names {
			if s.Properties[name] == nil {
				t.Errorf("schema %s has no property %q", schema, name)
			}
		}
	}

	unions := map[string][]string{
		"ChatMessage":    {"SystemMessage", "DeveloperMessage", "UserMessage", "AssistantMessage", "ToolMessage"},
		"ContentPart":    {"TextContentPart", "ImageURLContentPart", "ImageContentPart"},
		"ResponseFormat": {"ResponseFormatText", "ResponseFormatJSONObject", "ResponseFormatJSONSchema"},
		"ToolChoice":     {"ToolChoiceOption", "NamedToolChoice"},
		// Every arm is a named component: Go union members get names, not numbers.
		"StopSequences":    {"StopSequence", "StopSequenceList"},
		"MessageContent":   {"Text", "ContentParts"},
		"TextContent":      {"Text", "TextContentParts"},
		"CompletionPrompt": {"PromptText", "PromptTexts", "PromptTokenIDs", "PromptTokenIDLists"},
	}
	for name, want := range unions {
		s, err := spec.Schema(doc, name)
		if err != nil {
			t.Errorf("union %s: %v", name, err)
			continue
		}
		var got []string
		for _, arm := range s.OneOf {
			if arm.Ref != "" {
				got = append(got, filepath.Base(arm.Ref))
			} else {
				got = append(got, arm.Value.Type.Slice()[0])
			}
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("union %s arms = %v, want %v", name, got, want)
		}
	}
	if d := mustSchema(t, doc, "ChatMessage").Discriminator; d == nil || d.PropertyName != "role" || len(d.Mapping) != 5 {
		t.Errorf("ChatMessage must be discriminated on role with 5 mappings, got %+v", d)
	}
	if got := mustSchema(t, doc, "ToolChoiceOption").Enum; len(got) != 3 {
		t.Errorf("ToolChoiceOption enum = %v", got)
	}

	ops := map[string]struct {
		method, path string
		params       []string
		statuses     []string
		content      []string
	}{
		"createChatCompletion": {"POST", "/v1/chat/completions",
			[]string{"CF-RAY", "X-Amz-Cf-Id", "X-delay-time", "queue_threshold", "X-Cerebras-Version-Patch"},
			[]string{"200", "400", "401", "402", "403", "404", "408", "409", "422", "429", "500", "503"},
			[]string{"application/json", "text/event-stream"}},
		"createCompletion": {"POST", "/v1/completions",
			[]string{"CF-RAY", "X-Amz-Cf-Id", "X-delay-time", "X-Cerebras-Version-Patch"},
			[]string{"200", "400", "401", "402", "403", "404", "408", "409", "422", "429", "500", "503"},
			[]string{"application/json", "text/event-stream"}},
		"listModels":    {"GET", "/v1/models", []string{"format", "CF-RAY", "X-Amz-Cf-Id"}, []string{"200", "401", "404", "429", "500"}, []string{"application/json"}},
		"retrieveModel": {"GET", "/v1/models/{model_id}", []string{"model_id", "format", "CF-RAY", "X-Amz-Cf-Id"}, []string{"200", "401", "404", "429", "500"}, []string{"application/json"}},
		"tcpWarming":    {"GET", "/v1/tcp_warming", nil, []string{"200"}, []string{"application/json"}},
	}
	for id, want := range ops {
		item := doc.Paths.Value(want.path)
		if item == nil {
			t.Errorf("no path %s", want.path)
			continue
		}
		op := item.GetOperation(want.method)
		if op == nil || op.OperationID != id {
			t.Errorf("%s %s: want operationId %s, got %+v", want.method, want.path, id, op)
			continue
		}
		for _, p := range want.params {
			found := false
			for _, ref := range op.Parameters {
				if ref.Value.Name == p {
					found = true
				}
			}
			if !found {
				t.Errorf("%s has no parameter %q", id, p)
			}
		}
		for _, st := range want.statuses {
			if op.Responses.Value(st) == nil {
				t.Errorf("%s has no %s response", id, st)
			}
		}
		for _, ct := range want.content {
			if op.Responses.Value("200").Value.Content.Get(ct) == nil {
				t.Errorf("%s 200 has no %s content", id, ct)
			}
		}
	}
	if doc.Components.SecuritySchemes["bearerAuth"] == nil {
		t.Error("no bearerAuth security scheme")
	}
	if len(doc.Servers) != 1 || doc.Servers[0].URL != "https://api.cerebras.ai" {
		t.Errorf("servers = %v", doc.Servers)
	}
	if doc.OpenAPI != "3.0.3" {
		t.Errorf("openapi = %s, want 3.0.3", doc.OpenAPI)
	}
}

func mustSchema(t *testing.T, doc *openapi3.T, name string) *openapi3.Schema {
	t.Helper()
	s, err := spec.Schema(doc, name)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestEveryFieldIsDescribed: every schema and every property carries a description.
func TestEveryFieldIsDescribed(t *testing.T) {
	doc := load(t)
	for name, ref := range doc.Components.Schemas {
		if ref.Value.Description == "" {
			t.Errorf("schema %s has no description", name)
		}
		for prop, p := range ref.Value.Properties {
			if p.Ref == "" && p.Value.Description == "" {
				t.Errorf("%s.%s has no description", name, prop)
			}
		}
	}
}

// TestSeedExampleIsTheChatExample: the seed's example response is the chat
// completion example in the spec, byte for byte as JSON values.
func TestSeedExampleIsTheChatExample(t *testing.T) {
	doc := load(t)
	ex := doc.Paths.Value("/v1/chat/completions").Post.Responses.Value("200").Value.Content.Get("application/json").Example
	seed, err := os.ReadFile("../../testdata/ChatCompletion/seed-hello.json")
	if err != nil {
		t.Fatal(err)
	}
	var want any
	if err := json.Unmarshal(seed, &want); err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(ex)
	var got any
	_ = json.Unmarshal(b, &got)
	if !reflect.DeepEqual(got, want) {
		t.Errorf("spec example differs from the seed:\n got %s\nwant %s", b, seed)
	}
}

func TestFixturesMatchSchemas(t *testing.T) {
	doc := load(t)
	n, err := spec.ValidateFixtures(doc, "../../testdata")
	if err != nil {
		t.Fatal(err)
	}
	if n < 10 {
		t.Errorf("validated %d fixtures, want at least 10", n)
	}
}

func TestBadFixturesFail(t *testing.T) {
	doc := load(t)
	cases := []struct {
		name, schema, data, want string
		sse                      bool
	}{
		{"wrong type", "ChatCompletion", `{"id":"x","object":"o","created":"yesterday","model":"m","choices":[]}`, `"/created"`, false},
		{"missing required", "ChatCompletion", `{"id":"x","object":"o","created":1,"model":"m"}`, `choices`, false},
		{"invalid json", "ChatCompletion", `{"id":`, "invalid JSON", false},
		{"bad chunk", "ChatCompletionChunk", "data: {\"id\":1}\n\ndata: [DONE]\n\n", "event 1", true},
		{"data after done", "ChatCompletionChunk", "data: [DONE]\n\ndata: {}\n\n", "after [DONE]", true},
		{"bad error chunk", "ChatCompletionChunk", "data: {\"error\":{\"message\":5}}\n\n", "ErrorChunk", true},
		{"empty stream", "ChatCompletionChunk", ": nothing\n\n", "no data events", true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var err error
			if c.sse {
				err = spec.ValidateEventStream(doc, c.schema, []byte(c.data))
			} else {
				err = spec.ValidateJSON(doc, c.schema, []byte(c.data))
			}
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("err = %v, want it to contain %q", err, c.want)
			}
		})
	}
}

// TestBadSpecEditsFailWithLocation mutates a copy of openapi.yaml the way a
// careless edit would and checks the error names the file and the place.
func TestBadSpecEditsFailWithLocation(t *testing.T) {
	orig, err := os.ReadFile(specPath)
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name, old, new string
		want           []string
	}{
		{"misspelt type", "        prompt_tokens:\n          type: integer", "        prompt_tokens:\n          type: intger",
			[]string{"openapi.yaml:", `unsupported 'type' value "intger"`}},
		{"dangling ref", `$ref: "#/components/schemas/ChatCompletionChunkDelta"`, `$ref: "#/components/schemas/ChatCompletionChunkDeltaX"`,
			[]string{"openapi.yaml:", "ChatCompletionChunkDeltaX"}},
		{"example of the wrong type", "          example: 1723733419\n", "          example: yesterday\n",
			[]string{"openapi.yaml:@: $.components.schemas.ChatCompletion.properties.created.example: value must be an integer"}},
		{"broken yaml", "  /v1/models:\n", "  /v1/models\n",
			[]string{"openapi.yaml", "line"}},
		{"bad stream example", `{"index": 0, "delta": {"content": "Hello!"}`, `{"index": "zero", "delta": {"content": "Hello!"}`,
			[]string{"openapi.yaml:@: $.paths['/v1/chat/completions'].post.responses['200'].content['text/event-stream'].example[1].data.choices[0].index: value must be an integer"}},
		{"bad response example", "                    index: 0\n", "                    index: first\n",
			[]string{"openapi.yaml:@: $.paths['/v1/chat/completions'].post.responses['200'].content['application/json'].example.choices[0].index: value must be an integer"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if !strings.Contains(string(orig), c.old) {
				t.Fatalf("the spec no longer contains %q; update this test", c.old)
			}
			p := filepath.Join(t.TempDir(), "openapi.yaml")
			if err := os.WriteFile(p, []byte(strings.Replace(string(orig), c.old, c.new, 1)), 0o644); err != nil {
				t.Fatal(err)
			}
			_, err := spec.Load(p)
			if err == nil {
				t.Fatal("the bad spec loaded without error")
			}
			// @ is the line of the edit: each problem is reported at its own node.
			line := strings.Count(string(orig)[:strings.Index(string(orig), c.old)+len(c.old)-len(strings.TrimLeft(c.old, "\n "))], "\n") + 1
			for _, w := range c.want {
				w = strings.ReplaceAll(w, "@", strconv.Itoa(line))
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
		})
	}
}

// TestEveryBadExampleIsListed: spec-validate reports every bad example, not
// the first one only, each at its own line.
func TestEveryBadExampleIsListed(t *testing.T) {
	orig, err := os.ReadFile(specPath)
	if err != nil {
		t.Fatal(err)
	}
	bad := strings.Replace(string(orig), "          example: 1723733419\n", "          example: yesterday\n", 2)
	bad = strings.Replace(bad, "          example: 0.7\n", "          example: warm\n", 1)
	p := filepath.Join(t.TempDir(), "openapi.yaml")
	if err := os.WriteFile(p, []byte(bad), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err = spec.Load(p)
	var issues spec.Issues
	if !errors.As(err, &issues) || len(issues) != 3 {
		t.Fatalf("err = %v, want 3 issues", err)
	}
	for _, is := range issues {
		if line := strings.Split(bad, "\n")[is.Line-1]; !strings.Contains(line, "yesterday") && !strings.Contains(line, "warm") {
			t.Errorf("%v points at %q", is, line)
		}
	}
}
