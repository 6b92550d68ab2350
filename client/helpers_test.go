package client

import (
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cerebras-go/cerebras/gen"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/golden")

// golden compares v's JSON with testdata/golden/name.json.
func golden(t *testing.T, name string, v any) {
	t.Helper()
	got, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	got = append(got, '\n')
	path := filepath.Join("testdata", "golden", name+".json")
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if string(got) != string(want) {
		t.Errorf("%s:\n got %s\nwant %s", path, got, want)
	}
}

func TestHelpersGolden(t *testing.T) {
	reasoning, content, id, name, args, idx := "thinking", "calling", "call_1", "get_weather", `{"city":"Paris"}`, 0
	fromResponse := AssistantMessageFrom(ChatCompletionMessage{Content: content, Reasoning: reasoning,
		ToolCalls: []ToolCall{{ID: id, Index: Int(idx), Function: gen.ToolCallFunction{Name: name, Arguments: args}}, {ID: "call_2", Function: gen.ToolCallFunction{Name: "noargs"}}}})
	cases := map[string]any{
		"system_message":           SystemMessage("be brief"),
		"developer_message":        DeveloperMessage("dev"),
		"user_message":             UserMessage("hi"),
		"user_message_parts":       UserMessageParts(TextPart("what is this?"), ImageURLPart("https://example.com/cat.png"), ImagePart("aGk=")),
		"assistant_message":        AssistantMessage("hello"),
		"assistant_message_from":   fromResponse,
		"tool_message":             ToolMessage(ToolCall{ID: id}, `{"temp_c":21}`),
		"tool_choice_auto":         ToolChoiceAuto(),
		"tool_choice_none":         ToolChoiceNone(),
		"tool_choice_required":     ToolChoiceRequired(),
		"tool_choice_function":     ToolChoiceFunction("get_weather"),
		"stop_one":                 Stop("\n\n"),
		"stop_many":                Stop("a", "b"),
		"function_tool":            FunctionTool("get_weather", "Weather for a city", map[string]any{"type": "object"}),
		"function_tool_no_params":  FunctionTool("now", "", nil),
		"response_format_text":     ResponseFormatText(),
		"response_format_json":     ResponseFormatJSONObject(),
		"response_format_schema":   ResponseFormatJSONSchema("answer", map[string]any{"type": "object"}, true),
		"prompt_one":               Prompt("Once"),
		"prompt_many":              Prompt("a", "b"),
		"prompt_tokens":            PromptTokens(1, 2, 3),
		"zero_values_are_sent":     ChatCompletionNewParams{Model: "m", Messages: []ChatMessage{UserMessage("x")}, Temperature: Float(0), Seed: Int64(0), TopP: Float(0), FrequencyPenalty: Float(0), PresencePenalty: Float(0), N: Int(0), MaxCompletionTokens: Int(0), Logprobs: Bool(false), Stream: Bool(false)},
		"unset_values_are_omitted": ChatCompletionNewParams{Model: "m", Messages: []ChatMessage{UserMessage("x")}},
	}
	for name, v := range cases {
		t.Run(name, func(t *testing.T) { golden(t, name, v) })
	}
}

type weather struct {
	City    string    `json:"city" description:"the city"`
	TempC   float64   `json:"temp_c"`
	Rain    *bool     `json:"rain,omitempty"`
	Tags    []string  `json:"tags"`
	At      time.Time `json:"at"`
	Station station   `json:"station"`
	Ignored string    `json:"-"`
	private int
}

type station struct {
	ID      int       `json:"id"`
	Nearest *station  `json:"nearest"`
	Meta    metaEmbed `json:"meta"`
}

type metaEmbed struct {
	base
	Note string `json:"note"`
}

type base struct {
	Version int `json:"version"`
}

func TestSchemaHelpers(t *testing.T) {
	rf, err := ResponseFormatFor[weather]()
	if err != nil {
		t.Fatal(err)
	}
	if b, _ := json.Marshal(rf); strings.Contains(string(b), "private") || strings.Contains(string(b), "Ignored") || (weather{private: 1}).private != 1 {
		t.Errorf("unexported or json:\"-\" fields leaked into the schema: %s", b)
	}
	golden(t, "response_format_for", rf)
	tool, err := FunctionToolFor[weather]("report", "Report the weather")
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "function_tool_for", tool)

	if _, err := FunctionToolFor[string]("x", ""); err == nil {
		t.Error("a non-struct tool argument type was accepted")
	}
	if _, err := SchemaFor[struct{ C chan int }](); err == nil || !strings.Contains(err.Error(), "chan") {
		t.Errorf("a channel field: err = %v", err)
	}

	w, err := DecodeContent[weather](ChatCompletionMessage{Content: `{"city":"Paris","temp_c":21.5,"tags":["sunny"],"at":"2026-11-22T10:00:00Z","station":{"id":7}}`})
	if err != nil || w.City != "Paris" || w.TempC != 21.5 || w.Station.ID != 7 {
		t.Errorf("decoded %+v, %v", w, err)
	}
	if _, err := DecodeContent[weather](ChatCompletionMessage{}); err == nil {
		t.Error("no content decoded without error")
	}
	if _, err := DecodeContent[weather](ChatCompletionMessage{Content: `{"city":`}); err == nil || !strings.Contains(err.Error(), `{\"city\":`) {
		t.Errorf("bad content: %v", err)
	}
	type args struct {
		City string `json:"city"`
	}
	a, err := DecodeArguments[args](ToolCall{Function: gen.ToolCallFunction{Arguments: `{"city":"Oslo"}`}})
	if err != nil || a.City != "Oslo" {
		t.Errorf("%+v %v", a, err)
	}
	if _, err := DecodeArguments[args](ToolCall{}); err != nil {
		t.Errorf("empty arguments: %v", err)
	}
}
