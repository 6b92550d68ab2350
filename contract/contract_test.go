// Package contract tests the SDK against Steady, an OpenAPI mock server
// nobody on this team wrote (the official SDKs' own rig): for every
// endpoint, a call with only the required parameters and one with all of
// them must be found valid by the mock, and the SDK must decode the mock's
// response. `make test` installs the pinned Steady with npm ci; the test
// starts it on 127.0.0.1 in a process group of its own (npm's shim and the
// native server it spawns) and ends the whole group, pass or fail.
package contract

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cerebras-go/cerebras/client"
	"github.com/cerebras-go/cerebras/gen"
)

var mockURL string

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	bin, err := filepath.Abs(filepath.Join("node_modules", ".bin", "steady"))
	if err == nil {
		_, err = os.Stat(bin)
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "contract: the Steady mock server is not installed (%v).\n"+
			"contract: `make test` installs it with `npm ci --prefix contract` (needs npm and the npm registry);\n"+
			"contract: these tests are never skipped.\n", err)
		return 1
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Fprintln(os.Stderr, "contract:", err)
		return 1
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()

	logFile, err := os.CreateTemp("", "steady-*.log")
	if err != nil {
		fmt.Fprintln(os.Stderr, "contract:", err)
		return 1
	}
	defer os.Remove(logFile.Name())
	cmd := exec.Command(bin, "--host", "127.0.0.1", "-p", fmt.Sprint(port), "--no-color", "--log-level", "summary",
		"--validator-query-array-format=repeat", "--validator-form-array-format=repeat",
		"--validator-query-object-format=brackets", "--validator-form-object-format=brackets", "../openapi.yaml")
	cmd.Stdout, cmd.Stderr = logFile, logFile
	ownProcessGroup(cmd)
	if err := cmd.Start(); err != nil {
		fmt.Fprintln(os.Stderr, "contract: starting Steady:", err)
		return 1
	}
	defer func() { // end the shim and the server it spawned, pass or fail
		killProcessGroup(cmd)
		_ = cmd.Wait()
	}()
	mockURL = fmt.Sprintf("http://127.0.0.1:%d", port)
	if err := waitHealthy(mockURL, 30*time.Second); err != nil {
		b, _ := os.ReadFile(logFile.Name())
		fmt.Fprintf(os.Stderr, "contract: Steady (pid %d) did not become healthy: %v\n%s\n", cmd.Process.Pid, err, b)
		return 1
	}
	code := m.Run()
	if code != 0 {
		b, _ := os.ReadFile(logFile.Name())
		fmt.Fprintf(os.Stderr, "contract: Steady log:\n%s\n", b)
	}
	return code
}

func waitHealthy(base string, limit time.Duration) error {
	deadline := time.Now().Add(limit)
	for {
		resp, err := http.Get(base + "/_x-steady/health")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
			err = fmt.Errorf("status %d", resp.StatusCode)
		}
		if time.Now().After(deadline) {
			return err
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// verdicts records what the mock said of each request.
type verdicts struct {
	mu   sync.Mutex
	list []string
}

func (v *verdicts) middleware(r *http.Request, next client.Next) (*http.Response, error) {
	resp, err := next(r)
	if err == nil {
		verdict := resp.Header.Get("X-Steady-Request-Valid")
		for i := 1; ; i++ {
			msg := resp.Header.Get(fmt.Sprintf("X-Steady-Error-%d-Message", i))
			if msg == "" {
				break
			}
			verdict += fmt.Sprintf(" [%s: %s]", resp.Header.Get(fmt.Sprintf("X-Steady-Error-%d-Path", i)), msg)
		}
		v.mu.Lock()
		v.list = append(v.list, r.Method+" "+r.URL.Path+": "+verdict)
		v.mu.Unlock()
	}
	return resp, err
}

// newClient returns a client for the mock and the mock's verdicts on what it sends.
func newClient(t *testing.T) (*client.Client, *verdicts) {
	t.Helper()
	v := &verdicts{}
	c, err := client.New(client.WithBaseURL(mockURL), client.WithAPIKey("csk-contract"), client.WithoutEnvironment(),
		client.WithTCPWarming(false), client.WithMaxRetries(0), client.WithMiddleware(v.middleware))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c, v
}

// requireValid checks the mock found every request valid.
func requireValid(t *testing.T, v *verdicts) {
	t.Helper()
	v.mu.Lock()
	defer v.mu.Unlock()
	if len(v.list) == 0 {
		t.Fatal("no request reached the mock")
	}
	for _, s := range v.list {
		if !strings.HasSuffix(s, ": true") {
			t.Errorf("the mock found a request invalid: %s", s)
		}
	}
}

// allHeaderParams sets every header parameter text completions take (chat
// takes queue_threshold too).
var allHeaderParams = []client.Option{
	client.WithCFRay("8f1e2d3c4b5a6978-SJC"), client.WithAmzCfID("amz-cf-id-1"), client.WithDelayTime(0.25),
	client.WithAPIVersion(2),
}

// modelHeaderParams sets every header parameter the model endpoints take:
// a call refuses one its operation does not (X-delay-time).
var modelHeaderParams = []client.Option{
	client.WithCFRay("8f1e2d3c4b5a6978-SJC"), client.WithAmzCfID("amz-cf-id-1"), client.WithAPIVersion(2),
}

func allChatParams() client.ChatCompletionNewParams {
	tool := client.FunctionTool("get_weather", "Weather for a city", map[string]any{
		"type": "object", "properties": map[string]any{"city": map[string]any{"type": "string"}},
		"required": []any{"city"}, "additionalProperties": false,
	})
	tool.Function.Strict = client.Bool(true)
	return client.ChatCompletionNewParams{
		Model: client.ModelGPTOSS120B,
		Messages: []client.ChatMessage{
			client.SystemMessage("be brief"), client.DeveloperMessage("no markdown"),
			client.UserMessageParts(client.TextPart("what is this?"), client.ImageURLPart("https://example.com/cat.png"), client.ImagePart("aGk=")),
			client.AssistantMessageFrom(client.ChatCompletionMessage{Content: "calling", Reasoning: "think",
				ToolCalls: []client.ToolCall{{ID: "call_1", Index: client.Int(0), Function: gen.ToolCallFunction{Name: "get_weather", Arguments: `{"city":"Paris"}`}}}}),
			client.ToolMessage(client.ToolCall{ID: "call_1"}, "sunny"),
		},
		ClearThinking: client.Bool(false), DisableReasoning: client.Bool(false), FrequencyPenalty: client.Float(-2),
		LogitBias: map[string]float64{"42": 0}, Logprobs: client.Bool(true), TopLogprobs: client.Int(0),
		MaxCompletionTokens: client.Int(-1), MaxTokens: client.Int(-1), MinCompletionTokens: client.Int(-1), MinTokens: client.Int(1000),
		ModelParameters: map[string]any{"foo": "bar"}, N: client.Int(1), ParallelToolCalls: client.Bool(true),
		Prediction:      &gen.Prediction{Type: gen.PredictionTypeContent, Content: textContent("predicted")},
		PresencePenalty: client.Float(-2), PromptCacheKey: client.String("cache-key"),
		ReasoningEffort: client.Ptr(gen.ReasoningEffortNone), ReasoningFormat: client.Ptr(gen.ReasoningFormatNone),
		ResponseFormat: client.ResponseFormatJSONSchema("answer", map[string]any{"type": "object"}, true),
		Seed:           client.Int64(0), ServiceTier: client.Ptr(gen.ServiceTierAuto), Stop: client.Stop("a", "b"),
		StreamOptions: &gen.StreamOptions{IncludeUsage: client.Bool(true)}, Temperature: client.Float(0),
		ToolChoice: client.ToolChoiceFunction("get_weather"), Tools: []client.Tool{tool}, TopP: client.Float(1), User: client.String("user-1"),
	}
}

func textContent(s string) gen.TextContent {
	var c gen.TextContent
	_ = c.FromText(s)
	return c
}

func TestChatCompletions(t *testing.T) {
	ctx := context.Background()
	for name, tc := range map[string]struct {
		params client.ChatCompletionNewParams
		opts   []client.Option
	}{
		"only required params": {client.ChatCompletionNewParams{Model: "llama3.1-8b", Messages: []client.ChatMessage{client.UserMessage("Hello!")}}, nil},
		"all params":           {allChatParams(), append(allHeaderParams, client.WithQueueThreshold(500))},
	} {
		t.Run(name, func(t *testing.T) {
			c, v := newClient(t)
			resp, err := c.Chat.Completions.New(ctx, tc.params, tc.opts...)
			if err != nil {
				t.Fatal(err)
			}
			if resp.ID != "chatcmpl-292e278f-514e-4186-9010-91ce6a14168b" || resp.Choices[0].Message.Content != "Hello! How can I assist you today?" ||
				resp.Usage.TotalTokens != 22 || resp.TimeInfo.QueueTime != 0.000073161 {
				t.Errorf("decoded %+v", resp)
			}
			stream, err := c.Chat.Completions.NewStreaming(ctx, tc.params, tc.opts...)
			if err != nil {
				t.Fatal(err)
			}
			var content string
			var usage *gen.Usage
			for chunk, err := range stream.All() {
				if err != nil {
					t.Fatal(err)
				}
				for _, ch := range chunk.Choices {
					if ch.Delta.Content != "" {
						content += ch.Delta.Content
					}
				}
				if chunk.Usage != nil {
					usage = chunk.Usage
				}
			}
			if content != "Hello!" || usage == nil || usage.TotalTokens != 14 {
				t.Errorf("streamed %q, usage %v", content, usage)
			}
			requireValid(t, v)
		})
	}
}

func TestCompletions(t *testing.T) {
	ctx := context.Background()
	all := client.CompletionNewParams{
		Model: "llama3.1-8b", Prompt: client.Prompt("Once upon a time"), BestOf: client.Int(1), Echo: client.Bool(false),
		FrequencyPenalty: client.Float(0), GrammarRoot: client.String("root"), LogitBias: map[string]float64{"42": 0}, Logprobs: client.Int(0),
		MaxTokens: client.Int(-1), MinTokens: client.Int(-1), N: client.Int(1), PresencePenalty: client.Float(0), PromptCacheKey: client.String("k"),
		ReasoningFormat: client.Ptr(gen.ReasoningFormatNone), ReturnRawTokens: client.Bool(true), Seed: client.Int64(0), Stop: client.Stop("\n"),
		StreamOptions: &gen.StreamOptions{IncludeUsage: client.Bool(true)}, Suffix: client.String("The end."), Temperature: client.Float(0),
		TopP: client.Float(1), User: client.String("user-1"),
	}
	for name, tc := range map[string]struct {
		params client.CompletionNewParams
		opts   []client.Option
	}{
		"only required params": {client.CompletionNewParams{Model: "llama3.1-8b", Prompt: client.PromptTokens(1, 2, 3)}, nil},
		"all params":           {all, allHeaderParams},
	} {
		t.Run(name, func(t *testing.T) {
			c, v := newClient(t)
			resp, err := c.Completions.New(ctx, tc.params, tc.opts...)
			if err != nil {
				t.Fatal(err)
			}
			if resp.Object != "text_completion" || resp.Choices[0].Text != ", there was a small village nestled in the hills." {
				t.Errorf("decoded %+v", resp)
			}
			stream, err := c.Completions.NewStreaming(ctx, tc.params, tc.opts...)
			if err != nil {
				t.Fatal(err)
			}
			var text string
			for chunk, err := range stream.All() {
				if err != nil {
					t.Fatal(err)
				}
				for _, ch := range chunk.Choices {
					text += ch.Text
				}
			}
			if text != ", there was a village." {
				t.Errorf("streamed %q", text)
			}
			requireValid(t, v)
		})
	}
}

func TestModels(t *testing.T) {
	ctx := context.Background()
	t.Run("only required params", func(t *testing.T) {
		c, v := newClient(t)
		list, err := c.Models.List(ctx)
		if err != nil || len(list.Data) != 2 || list.Data[0].ID != "llama3.1-8b" {
			t.Fatalf("%+v %v", list, err)
		}
		m, err := c.Models.Get(ctx, "llama3.1-8b")
		if err != nil || m.ID != "llama3.1-8b" || m.OwnedBy != "Meta" {
			t.Fatalf("%+v %v", m, err)
		}
		requireValid(t, v)
	})
	t.Run("all params", func(t *testing.T) {
		c, v := newClient(t)
		list, err := c.Models.ListFormat(ctx, gen.ModelFormatDefault, modelHeaderParams...)
		if err != nil {
			t.Fatal(err)
		}
		if l, err := list.AsModelList(); err != nil || len(l.Data) != 2 {
			t.Errorf("%+v %v", l, err)
		}
		m, err := c.Models.GetFormat(ctx, "llama3.1-8b", gen.ModelFormatHuggingface, modelHeaderParams...)
		if err != nil {
			t.Fatal(err)
		}
		if got, err := m.AsModel(); err != nil || got.ID != "llama3.1-8b" {
			t.Errorf("%+v %v", got, err)
		}
		requireValid(t, v)
	})
}

func TestTCPWarming(t *testing.T) {
	req, _ := http.NewRequest(http.MethodGet, mockURL+"/v1/tcp_warming", nil)
	req.Header.Set("Authorization", "Bearer csk-contract")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	if resp.StatusCode != 200 || resp.Header.Get("X-Steady-Request-Valid") != "true" {
		t.Errorf("status %d, valid %q", resp.StatusCode, resp.Header.Get("X-Steady-Request-Valid"))
	}
}

// TestTheMockRejectsInvalidRequests is the control: the mock must catch a
// request that breaks the spec, or the tests above prove nothing.
func TestTheMockRejectsInvalidRequests(t *testing.T) {
	c, v := newClient(t)
	_, err := c.Chat.Completions.New(context.Background(), client.ChatCompletionNewParams{Model: "m", Messages: []client.ChatMessage{client.UserMessage("hi")}},
		client.WithExtraBody(map[string]any{"temperature": "hot"}))
	var apiErr *client.APIError
	if !errors.As(err, &apiErr) || apiErr.StatusCode != 400 {
		t.Fatalf("err = %v, want the mock's 400", err)
	}
	if len(v.list) != 1 || !strings.Contains(v.list[0], "false") || !strings.Contains(v.list[0], "temperature") {
		t.Errorf("verdicts %v", v.list)
	}
}
