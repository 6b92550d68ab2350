package batchfile

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"runtime"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/cerebras-go/cerebras/client"
)

func batchParams(model, text string) client.ChatCompletionNewParams {
	return client.ChatCompletionNewParams{Model: model, Messages: []client.ChatMessage{client.UserMessage(text)}}
}

// writeLines adds n lines "id-1" … "id-n" with model m, failing on an error.
func writeLines(t *testing.T, w *Writer, n int, m string) {
	t.Helper()
	for i := 1; i <= n; i++ {
		if err := w.Add(fmt.Sprint("id-", i), batchParams(m, fmt.Sprint("question ", i))); err != nil {
			t.Fatalf("line %d: %v", i, err)
		}
	}
}

func TestBatchInputWriterLines(t *testing.T) {
	var buf bytes.Buffer
	w := NewWriter(&buf)
	p := batchParams(client.ModelGPTOSS120B, "a <b> & \"c\"\r\nd")
	p.Temperature = client.Float(0)
	if err := w.Add("first\nid", p); err != nil {
		t.Fatal(err)
	}
	if err := w.Add("second", batchParams(client.ModelGPTOSS120B, "é U+FFFD: \ufffd, text \\ufffd")); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	want := `{"custom_id":"first\nid","method":"POST","url":"/v1/chat/completions","body":{"messages":[{"content":"a \u003cb\u003e \u0026 \"c\"\r\nd","role":"user"}],"model":"gpt-oss-120b","temperature":0}}` + "\n" +
		`{"custom_id":"second","method":"POST","url":"/v1/chat/completions","body":{"messages":[{"content":"é U+FFFD: ` + "\ufffd" + `, text \\ufffd","role":"user"}],"model":"gpt-oss-120b"}}` + "\n"
	if got := buf.String(); got != want {
		t.Fatalf("wrote\n%s\nwant\n%s", got, want)
	}
	if w.Lines() != 2 {
		t.Errorf("Lines() = %d, want 2", w.Lines())
	}
}

func TestBatchInputWriterRefuses(t *testing.T) {
	ok := func(text string) client.ChatCompletionNewParams { return batchParams(client.ModelGPTOSS120B, text) }
	streaming := ok("hi")
	streaming.Stream = client.Bool(true)
	badModel := batchParams("gpt-\xff", "hi")
	badCache := ok("hi")
	badCache.PromptCacheKey = client.String("key\xc3")
	badTool := ok("hi")
	badTool.Tools = []client.Tool{client.FunctionTool("weather", "", map[string]any{"type": "object", "properties": map[string]any{"c\xffity": map[string]any{"type": "string"}}})}
	tests := []struct {
		name     string
		prepare  func(w *Writer) // the state before the refused line
		id       string
		params   client.ChatCompletionNewParams
		line     int
		sentinel error // nil: a params error without a batch sentinel
		param    string
	}{
		{"empty id", nil, "", ok("hi"), 1, ErrEmptyID, "customID"},
		{"duplicate id", func(w *Writer) { writeLines(t, w, 3, client.ModelGPTOSS120B) }, "id-2", ok("hi"), 4, ErrDuplicateID, "customID"},
		{"second model", func(w *Writer) { writeLines(t, w, 2, client.ModelGPTOSS120B) }, "x", batchParams("zai-glm-4.7", "hi"), 3, ErrModelMismatch, "params.Model"},
		{"invalid UTF-8 id", nil, "id\xff", ok("hi"), 1, ErrInvalidUTF8, "customID"},
		{"invalid UTF-8 model", nil, "x", badModel, 1, ErrInvalidUTF8, "params.Model"},
		{"invalid UTF-8 other field", func(w *Writer) { writeLines(t, w, 1, client.ModelGPTOSS120B) }, "x", badCache, 2, ErrInvalidUTF8, "params.PromptCacheKey"},
		{"invalid UTF-8 tool schema", nil, "x", badTool, 1, ErrInvalidUTF8, `params.Tools[0].Function.Parameters["properties"]["c\xffity"]`},
		{"line over 1 MB", func(w *Writer) { writeLines(t, w, 1, client.ModelGPTOSS120B) }, "big", ok(strings.Repeat("a", MaxLineBytes)), 2, ErrLineTooLarge, "params"},
		{"line count", func(w *Writer) { w.lines = MaxLines }, "x", ok("hi"), MaxLines + 1, ErrTooManyLines, "customID"},
		{"file over 200 MB", func(w *Writer) { w.lines, w.bytes = 7, MaxInputBytes-50 }, "x", ok("hi"), 8, ErrTooLarge, "params"},
		{"stream", nil, "x", streaming, 1, nil, "params.Stream"},
		{"no model", nil, "x", batchParams("", "hi"), 1, nil, "params.Model"},
		{"no messages", nil, "x", client.ChatCompletionNewParams{Model: client.ModelGPTOSS120B}, 1, nil, "params.Messages"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			w := NewWriter(&buf)
			if tt.prepare != nil {
				tt.prepare(w)
			}
			before := buf.Len()
			err := w.Add(tt.id, tt.params)
			var le *LineError
			if !errors.As(err, &le) {
				t.Fatalf("err = %v, want a *LineError", err)
			}
			if le.Line != tt.line || le.CustomID != tt.id {
				t.Errorf("line %d, custom_id %q; want %d, %q", le.Line, le.CustomID, tt.line, tt.id)
			}
			if !strings.Contains(err.Error(), fmt.Sprintf("batch line %d", tt.line)) {
				t.Errorf("Error() = %q does not name line %d", err, tt.line)
			}
			if !errors.Is(err, client.ErrInvalidInput) {
				t.Errorf("errors.Is(err, ErrInvalidInput) = false for %v", err)
			}
			if tt.sentinel != nil && !errors.Is(err, tt.sentinel) {
				t.Errorf("errors.Is(err, %v) = false for %v", tt.sentinel, err)
			}
			var pe *client.ParamError
			if !errors.As(err, &pe) || pe.Param != tt.param {
				t.Errorf("ParamError %+v, want Param %q", pe, tt.param)
			}
			if buf.Len() != before {
				t.Errorf("a refused line wrote %q", buf.Bytes()[before:])
			}
			// A refused line changes nothing: the next good line follows.
			if err := w.Add("after", ok("fine")); tt.prepare != nil && tt.sentinel != ErrTooManyLines && tt.sentinel != ErrTooLarge && err != nil {
				t.Errorf("a good line after the refused one: %v", err)
			}
		})
	}
}

// cyclicNode has a cycle behind its MarshalJSON method, which encoding/json
// calls instead of reading its fields: the request encodes.
type cyclicNode struct {
	Name string
	Next *cyclicNode
}

func (cyclicNode) MarshalJSON() ([]byte, error) { return []byte(`"node"`), nil }

// Params that encoding/json refuses as cyclic give Add the error
// Chat.Completions.New gives for them, an encoding *ParamError, never a
// stack overflow; params it encodes (deep, shared, or a cycle it never
// reaches) are written, as New sends them.
func TestBatchInputWriterCyclicParams(t *testing.T) {
	_, c := newFake(t)
	selfMap := func(k string) map[string]any {
		m := map[string]any{"type": "object"}
		m[k] = m
		return m
	}
	deep := func(n int) any {
		var v any = "leaf"
		for i := range n { // past the 1,000 levels after which encoding/json looks for cycles
			switch i % 3 {
			case 0:
				v = map[string]any{"k": v}
			case 1:
				v = []any{v}
			case 2:
				p := v
				v = &p
			}
		}
		return v
	}
	for _, tt := range []struct {
		name  string
		edit  func(p *client.ChatCompletionNewParams)
		cycle bool // encoding/json refuses it
	}{
		{"map in ModelParameters", func(p *client.ChatCompletionNewParams) { p.ModelParameters = selfMap("self") }, true},
		{"map deep in a tool's parameters", func(p *client.ChatCompletionNewParams) {
			props := map[string]any{}
			schema := map[string]any{"type": "object", "properties": map[string]any{"a": map[string]any{"items": props}}}
			props["again"] = []any{schema}
			p.Tools = []client.Tool{client.FunctionTool("f", "", map[string]any{"type": "object"}), client.FunctionTool("g", "", schema)}
		}, true},
		{"pointer", func(p *client.ChatCompletionNewParams) {
			ptr := new(any)
			*ptr = ptr
			p.ModelParameters = map[string]any{"p": ptr}
		}, true},
		{"slice", func(p *client.ChatCompletionNewParams) {
			s := make([]any, 1)
			s[0] = s
			p.ModelParameters = map[string]any{"s": s}
		}, true},
		{"cyclic and invalid UTF-8", func(p *client.ChatCompletionNewParams) { p.ModelParameters = selfMap("s\xffelf") }, true},
		{"a cycle behind MarshalJSON", func(p *client.ChatCompletionNewParams) {
			n := &cyclicNode{Name: "n"}
			n.Next = n
			p.ModelParameters = map[string]any{"n": n, "m": []any{n, n}}
		}, false},
		{"deep but finite", func(p *client.ChatCompletionNewParams) { p.ModelParameters = map[string]any{"d": deep(3000)} }, false},
		{"shared, not cyclic", func(p *client.ChatCompletionNewParams) {
			schema := map[string]any{"type": "object", "properties": map[string]any{"c": map[string]any{"type": "string"}}}
			p.Tools = []client.Tool{client.FunctionTool("f", "", schema), client.FunctionTool("g", "", schema)}
			p.ModelParameters = map[string]any{"a": schema, "b": []any{schema, schema}}
		}, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			p := batchParams(client.ModelGPTOSS120B, "hi")
			tt.edit(&p)
			_, newErr := c.Chat.Completions.New(context.Background(), p)
			var buf bytes.Buffer
			w := NewWriter(&buf)
			addErr := w.Add("x", p)
			if (newErr == nil) != (addErr == nil) {
				t.Fatalf("Add: %v; New: %v", addErr, newErr)
			}
			if !tt.cycle {
				if addErr != nil {
					t.Fatalf("Add: %v", addErr)
				}
				if _, err := parseBatchInput(1, bytes.TrimSuffix(buf.Bytes(), []byte("\n"))); err != nil {
					t.Errorf("the line does not read back: %v", err)
				}
				return
			}
			var newPE, addPE *client.ParamError
			var le *LineError
			var uv *json.UnsupportedValueError
			if !errors.As(newErr, &newPE) || !strings.Contains(newPE.Message, "encountered a cycle") {
				t.Fatalf("New: %v, want an encoding *ParamError about a cycle", newErr)
			}
			if !errors.As(addErr, &le) || le.Line != 1 || le.CustomID != "x" || !errors.As(addErr, &addPE) ||
				!errors.Is(addErr, client.ErrInvalidInput) || !errors.As(addErr, &uv) {
				t.Fatalf("Add: %v (%T), want a *LineError wrapping an encoding *ParamError", addErr, addErr)
			}
			if addPE.Param != newPE.Param || addPE.Message != newPE.Message {
				t.Errorf("Add: %q %q; New: %q %q", addPE.Param, addPE.Message, newPE.Param, newPE.Message)
			}
			if buf.Len() != 0 || w.Lines() != 0 {
				t.Errorf("a refused line wrote %q", buf.Bytes())
			}
		})
	}
}

// A line just under the limit is written: the limit is not off by one.
func TestBatchInputWriterLineLimitEdge(t *testing.T) {
	var empty bytes.Buffer
	w := NewWriter(&empty)
	_ = w.Add("x", batchParams(client.ModelGPTOSS120B, ""))
	overhead := empty.Len() // the line with an empty message, LF included
	for _, tt := range []struct {
		size int
		ok   bool
	}{{MaxLineBytes, true}, {MaxLineBytes + 1, false}} {
		var buf bytes.Buffer
		w := NewWriter(&buf)
		err := w.Add("x", batchParams(client.ModelGPTOSS120B, strings.Repeat("a", tt.size-overhead)))
		if (err == nil) != tt.ok || (err != nil && !errors.Is(err, ErrLineTooLarge)) {
			t.Errorf("a %d-byte line: err = %v, want ok %v", tt.size, err, tt.ok)
		}
		if tt.ok && buf.Len() != tt.size {
			t.Errorf("wrote %d bytes, want %d", buf.Len(), tt.size)
		}
	}
}

func TestBatchInputWriterClose(t *testing.T) {
	for _, tt := range []struct {
		lines, min int
		wantErr    bool
	}{{9, 10, true}, {10, 10, false}, {0, 10, true}, {1, 0, false}, {0, 0, false}} {
		var buf bytes.Buffer
		w := NewWriter(&buf)
		if w.MinLines != 0 {
			t.Fatalf("default MinLines = %d, want 0: the current batch guide states no minimum", w.MinLines)
		}
		w.MinLines = tt.min
		writeLines(t, w, tt.lines, client.ModelGPTOSS120B)
		err := w.Close()
		if tt.wantErr != (err != nil) || (err != nil && (!errors.Is(err, ErrTooFewLines) || !errors.Is(err, client.ErrInvalidInput))) {
			t.Errorf("%d lines, MinLines %d: Close = %v", tt.lines, tt.min, err)
		}
		if again := w.Close(); fmt.Sprint(again) != fmt.Sprint(err) {
			t.Errorf("second Close = %v, first %v", again, err)
		}
		if err := w.Add("late", batchParams(client.ModelGPTOSS120B, "x")); !errors.Is(err, ErrWriterClosed) {
			t.Errorf("Add after Close = %v", err)
		}
		if n := bytes.Count(buf.Bytes(), []byte("\n")); n != tt.lines {
			t.Errorf("%d lines written, want %d", n, tt.lines)
		}
	}
}

type failingWriter struct{ n int }

func (f *failingWriter) Write(p []byte) (int, error) {
	if f.n == 0 {
		return 0, errors.New("disk full")
	}
	f.n--
	return len(p), nil
}

func TestBatchInputWriterWriteErrorSticks(t *testing.T) {
	w := NewWriter(&failingWriter{n: 1})
	writeLines(t, w, 1, client.ModelGPTOSS120B)
	err := w.Add("b", batchParams(client.ModelGPTOSS120B, "x"))
	if err == nil || !strings.Contains(err.Error(), "line 2") || !strings.Contains(err.Error(), "disk full") || errors.Is(err, client.ErrInvalidInput) {
		t.Fatalf("err = %v", err)
	}
	if err2 := w.Add("c", batchParams(client.ModelGPTOSS120B, "x")); err2 != err {
		t.Errorf("later Add = %v, want the write error", err2)
	}
	if err3 := w.Close(); err3 != err {
		t.Errorf("Close = %v, want the write error", err3)
	}
}

// Every line the writer wrote decodes back to the same request.
func TestBatchInputWriterDecodes(t *testing.T) {
	var buf bytes.Buffer
	w := NewWriter(&buf)
	p := batchParams(client.ModelGPTOSS120B, "line\r\nbreak \u2028 </script>")
	p.Seed = client.Int64(0)
	if err := w.Add("a", p); err != nil {
		t.Fatal(err)
	}
	if bytes.Count(buf.Bytes(), []byte("\n")) != 1 || bytes.Contains(buf.Bytes(), []byte("\r")) {
		t.Fatalf("not one LF-ended line: %q", buf.Bytes())
	}
	var got struct {
		CustomID string                         `json:"custom_id"`
		Method   string                         `json:"method"`
		URL      string                         `json:"url"`
		Body     client.ChatCompletionNewParams `json:"body"`
	}
	if err := json.Unmarshal(buf.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	if got.CustomID != "a" || got.Method != "POST" || got.URL != "/v1/chat/completions" ||
		client.MessageText(got.Body.Messages[0]) != "line\r\nbreak \u2028 </script>" || got.Body.Seed == nil || *got.Body.Seed != 0 {
		t.Errorf("decoded %+v", got)
	}
}

// Message text is encoded when the message is built, where encoding/json
// turns an invalid byte into U+FFFD: the writer cannot tell it from a real
// one, and writes valid UTF-8 either way (the documented limit).
func TestBatchInputWriterMessageUTF8(t *testing.T) {
	var buf bytes.Buffer
	w := NewWriter(&buf)
	if err := w.Add("x", batchParams(client.ModelGPTOSS120B, "bad \xe2\x28 byte")); err != nil {
		t.Fatal(err)
	}
	if !utf8.Valid(buf.Bytes()) || !strings.Contains(buf.String(), "bad \ufffd( byte") {
		t.Errorf("wrote %q", buf.Bytes())
	}
}

const batchCompletionJSON = `{"id":"c1","object":"chat.completion","created":1,"model":"gpt-oss-120b","choices":[{"index":0,"finish_reason":"stop","message":{"role":"assistant","content":"Hi!"}}],"usage":{"prompt_tokens":3,"completion_tokens":2,"total_tokens":5}}`

// collect ranges over seq, keeping every result and error.
func collect(t *testing.T, seq func(func(Result, error) bool)) (results []Result, errs []error) {
	t.Helper()
	for res, err := range seq {
		if err != nil {
			errs = append(errs, err)
			continue
		}
		results = append(results, res)
	}
	return results, errs
}

func TestReadBatchResultsShapes(t *testing.T) {
	tests := []struct {
		name                      string
		line                      string
		id, status, reqID, lineID string
		code                      int
		content                   string // "" when no completion
		err                       *ResultError
	}{
		{"cerebras succeeded", `{"custom_id":"a","status":"succeeded","response":` + batchCompletionJSON + `}`,
			"a", "succeeded", "", "", 0, "Hi!", nil},
		{"cerebras failed", `{"custom_id":"b","status":"failed","error":{"code":"context_length_exceeded","message":"too long"}}`,
			"b", "failed", "", "", 0, "", &ResultError{Code: "context_length_exceeded", Message: "too long"}},
		{"cerebras expired", `{"custom_id":"c","status":"expired","error":{"code":"batch_expired","message":"not run in 24h"}}`,
			"c", "expired", "", "", 0, "", &ResultError{Code: "batch_expired", Message: "not run in 24h"}},
		{"cerebras unknown status kept", `{"custom_id":"d","status":"skipped"}`, "d", "skipped", "", "", 0, "", nil},
		{"openai succeeded", `{"id":"batch_req_1","custom_id":"e","response":{"status_code":200,"request_id":"req-9","body":` + batchCompletionJSON + `},"error":null}`,
			"e", "succeeded", "req-9", "batch_req_1", 200, "Hi!", nil},
		{"openai failed status", `{"id":"batch_req_2","custom_id":"f","response":{"status_code":400,"request_id":"req-10","body":{"error":{"message":"bad model","type":"invalid_request_error","param":"model","code":"model_not_found"}}},"error":null}`,
			"f", "failed", "req-10", "batch_req_2", 400, "", &ResultError{Code: "model_not_found", Message: "bad model", Type: "invalid_request_error", Param: "model"}},
		{"openai flat error body", `{"custom_id":"g","response":{"status_code":429,"body":{"message":"slow down","code":429}}}`,
			"g", "failed", "", "", 429, "", &ResultError{Code: "429", Message: "slow down"}},
		{"openai expired", `{"id":"batch_req_3","custom_id":"h","response":null,"error":{"code":"batch_expired","message":"expired"}}`,
			"h", "expired", "", "batch_req_3", 0, "", &ResultError{Code: "batch_expired", Message: "expired"}},
		{"error as a string", `{"custom_id":"i","error":"boom"}`, "i", "failed", "", "", 0, "", &ResultError{Message: "boom"}},
		{"CRLF ending and extra fields", `{"custom_id":"j","status":"succeeded","new_field":[1],"response":` + batchCompletionJSON + "}\r", "j", "succeeded", "", "", 0, "Hi!", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			results, errs := collect(t, Results(strings.NewReader("\n"+tt.line+"\n")))
			if len(errs) != 0 || len(results) != 1 {
				t.Fatalf("%d results, errors %v; want one result", len(results), errs)
			}
			r := results[0]
			if r.Line != 2 || r.CustomID != tt.id || r.Status != tt.status || r.StatusCode != tt.code || r.RequestID != tt.reqID || r.ID != tt.lineID {
				t.Errorf("got line %d id %q status %q code %d request %q line id %q", r.Line, r.CustomID, r.Status, r.StatusCode, r.RequestID, r.ID)
			}
			if got := ""; r.Completion != nil {
				if got = r.Completion.Choices[0].Message.Content; got != tt.content || r.Completion.Usage.TotalTokens != 5 {
					t.Errorf("completion %+v", r.Completion)
				}
			} else if tt.content != "" {
				t.Errorf("no completion, want %q", tt.content)
			}
			if (r.Error == nil) != (tt.err == nil) || (r.Error != nil && *r.Error != *tt.err) {
				t.Errorf("Error = %+v, want %+v", r.Error, tt.err)
			}
			if string(r.Raw) != strings.TrimSuffix(tt.line, "\r") {
				t.Errorf("Raw = %q", r.Raw)
			}
		})
	}
}

// A malformed line is reported with its number, and the lines after it
// still arrive.
func TestReadBatchResultsMalformedLines(t *testing.T) {
	good := func(id string) string {
		return `{"custom_id":"` + id + `","status":"succeeded","response":` + batchCompletionJSON + `}`
	}
	bad := []struct{ name, line, why string }{
		{"not JSON", `{"custom_id":"x",`, "unexpected end"},
		{"no custom_id", `{"status":"succeeded","response":` + batchCompletionJSON + `}`, "no custom_id"},
		{"response not an object", `{"custom_id":"x","response":[1]}`, "not an object"},
		{"completion of the wrong type", `{"custom_id":"x","response":{"id":"c","choices":"many"}}`, "completion"},
		{"nothing", `{"custom_id":"x"}`, "neither"},
		{"error an array", `{"custom_id":"x","error":[7]}`, "error"},
		{"an array", `[1,2]`, "cannot unmarshal"},
	}
	for _, tt := range bad {
		t.Run(tt.name, func(t *testing.T) {
			in := good("a") + "\n" + good("b") + "\n" + tt.line + "\n" + good("c") + "\n"
			var lines []int
			var ids []string
			var lineErr error
			for res, err := range Results(strings.NewReader(in)) {
				if err != nil {
					var le *LineError
					if !errors.As(err, &le) {
						t.Fatalf("err = %v (%T), want a *LineError", err, err)
					}
					lines, lineErr = append(lines, -le.Line), err
					continue
				}
				lines, ids = append(lines, res.Line), append(ids, res.CustomID)
			}
			if fmt.Sprint(lines) != "[1 2 -3 4]" || fmt.Sprint(ids) != "[a b c]" {
				t.Fatalf("lines %v (negative: an error), ids %v", lines, ids)
			}
			if !errors.Is(lineErr, ErrMalformedLine) || errors.Is(lineErr, client.ErrInvalidInput) ||
				!strings.Contains(lineErr.Error(), "batch line 3") || !strings.Contains(lineErr.Error(), tt.why) {
				t.Errorf("error %q: want line 3, %q, ErrMalformedLine", lineErr, tt.why)
			}
		})
	}
}

func TestReadBatchResultsLongLine(t *testing.T) {
	const limit = 100
	long := `{"custom_id":"long","status":"failed","error":"` + strings.Repeat("x", 200_000) + `"}` // over the bufio buffer too
	edge := `{"custom_id":"edge","error":"` + strings.Repeat("y", limit-len(`{"custom_id":"edge","error":""}`)) + `"}`
	in := `{"custom_id":"a","error":"e"}` + "\n" + long + "\n" + edge + "\r\n" + long // the last without LF
	var got []string
	for res, err := range ResultsLimit(strings.NewReader(in), limit) {
		if err != nil {
			var le *LineError
			if !errors.As(err, &le) || !errors.Is(err, ErrLineTooLarge) {
				t.Fatalf("err = %v", err)
			}
			got = append(got, fmt.Sprintf("too long@%d", le.Line))
			continue
		}
		got = append(got, fmt.Sprintf("%s@%d", res.CustomID, res.Line))
	}
	if want := "[a@1 too long@2 edge@3 too long@4]"; fmt.Sprint(got) != want {
		t.Errorf("got %v, want %s", got, want)
	}
}

// A limit at the top of its range means no practical limit: every line is
// read, none refused because limit+1 (room for a CR) overflowed.
func TestReadBatchResultsLimitAtTheTop(t *testing.T) {
	long := `{"custom_id":"long","error":"` + strings.Repeat("x", 200_000) + `"}` // over the bufio buffer
	in := `{"custom_id":"a","error":"e"}` + "\n" + long + "\r\n" + `{"custom_id":"c","error":"e"}`
	for _, limit := range []int{math.MaxInt, math.MaxInt - 1, math.MaxInt - 64<<10} {
		var got []string
		for res, err := range ResultsLimit(strings.NewReader(in), limit) {
			if err != nil {
				t.Fatalf("limit %d: %v", limit, err)
			}
			got = append(got, fmt.Sprintf("%s@%d", res.CustomID, res.Line))
		}
		if want := "[a@1 long@2 c@3]"; fmt.Sprint(got) != want {
			t.Errorf("limit %d: got %v, want %s", limit, got, want)
		}
	}
}

type failingReader struct{ data io.Reader }

func (f *failingReader) Read(p []byte) (int, error) {
	n, err := f.data.Read(p)
	if err == io.EOF {
		return n, errors.New("connection reset")
	}
	return n, err
}

func TestReadBatchResultsReadError(t *testing.T) {
	in := `{"custom_id":"a","error":"e"}` + "\n" + `{"custom_id":"b","err`
	results, errs := collect(t, Results(&failingReader{strings.NewReader(in)}))
	if len(results) != 1 || len(errs) != 1 || !strings.Contains(errs[0].Error(), "connection reset") || !strings.Contains(errs[0].Error(), "line 2") {
		t.Fatalf("results %v, errors %v", results, errs)
	}
}

// Breaking out of the loop stops reading.
func TestReadBatchResultsBreak(t *testing.T) {
	in := strings.Repeat(`{"custom_id":"a","error":"e"}`+"\n", 3)
	n := 0
	for range Results(strings.NewReader(in)) {
		n++
		break
	}
	if n != 1 {
		t.Errorf("%d iterations after break", n)
	}
}

// Raw is a copy: it survives the next line.
func TestReadBatchResultsRawIsACopy(t *testing.T) {
	in := `{"custom_id":"a","error":"1"}` + "\n" + `{"custom_id":"b","error":"2"}` + "\n"
	results, _ := collect(t, Results(strings.NewReader(in)))
	if len(results) != 2 || string(results[0].Raw) != `{"custom_id":"a","error":"1"}` {
		t.Errorf("results %+v", results)
	}
}

// fakeBatchOutput answers every line of an input file the way the batch
// service would, in reverse order, alternating the two documented shapes.
func fakeBatchOutput(t *testing.T, input []byte) []byte {
	t.Helper()
	lines := bytes.Split(bytes.TrimSuffix(input, []byte("\n")), []byte("\n"))
	var out bytes.Buffer
	for i := len(lines) - 1; i >= 0; i-- {
		var req struct {
			CustomID string                         `json:"custom_id"`
			Method   string                         `json:"method"`
			URL      string                         `json:"url"`
			Body     client.ChatCompletionNewParams `json:"body"`
		}
		if err := json.Unmarshal(lines[i], &req); err != nil || req.Method != "POST" || req.URL != "/v1/chat/completions" {
			t.Fatalf("input line %d: %v %q", i+1, err, lines[i])
		}
		completion, _ := json.Marshal(client.ChatCompletion{ID: "c", Object: "chat.completion", Model: req.Body.Model,
			Choices: []client.ChatCompletionChoice{{Message: client.ChatCompletionMessage{Role: "assistant", Content: "echo: " + client.MessageText(req.Body.Messages[0])}}}})
		id, _ := json.Marshal(req.CustomID)
		if i%2 == 0 {
			fmt.Fprintf(&out, `{"custom_id":%s,"status":"succeeded","response":%s}`+"\n", id, completion)
		} else {
			fmt.Fprintf(&out, `{"id":"batch_req_%d","custom_id":%s,"response":{"status_code":200,"request_id":"r","body":%s},"error":null}`+"\n", i, id, completion)
		}
	}
	return out.Bytes()
}

func TestBatchRoundTrip(t *testing.T) {
	var input bytes.Buffer
	w := NewWriter(&input)
	want := map[string]string{}
	for i := range 25 {
		id, text := fmt.Sprintf("req \"%d\"\n", i), fmt.Sprintf("question %d: <é>\r\n", i)
		want[id] = "echo: " + text
		if err := w.Add(id, batchParams(client.ModelGPTOSS120B, text)); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	results, errs := collect(t, Results(bytes.NewReader(fakeBatchOutput(t, input.Bytes()))))
	if len(errs) != 0 || len(results) != len(want) {
		t.Fatalf("%d results, errors %v", len(results), errs)
	}
	for i, r := range results {
		if r.Line != i+1 || r.Status != StatusSucceeded || r.Completion == nil || r.Completion.Choices[0].Message.Content != want[r.CustomID] {
			t.Errorf("line %d: %+v", i+1, r)
		}
		delete(want, r.CustomID)
	}
	if len(want) != 0 {
		t.Errorf("no result for %v", want)
	}
}

// generatedOutput is an output file of n lines whose answers are size
// bytes long, made as it is read, so the test itself holds one line at a
// time; read counts the bytes it has produced.
type generatedOutput struct {
	n, size, next int
	read          int64
	pending       []byte
}

func (g *generatedOutput) Read(p []byte) (int, error) {
	if len(g.pending) == 0 {
		if g.next == g.n {
			return 0, io.EOF
		}
		g.next++
		g.pending = fmt.Appendf(g.pending[:0], `{"custom_id":"req-%d","status":"succeeded","response":{"id":"c%d","object":"chat.completion","created":1,"model":"gpt-oss-120b","choices":[{"index":0,"finish_reason":"stop","message":{"role":"assistant","content":"%s"}}]}}`+"\n",
			g.next, g.next, strings.Repeat("x", g.size))
	}
	n := copy(p, g.pending)
	g.pending = g.pending[n:]
	g.read += int64(n)
	return n, nil
}

// An output file of more than 100 MB — 50,000 lines, the most a batch
// has, of about 2.4 KB each — is read at constant memory: the live heap,
// measured after a collection every 5,000 lines, grows by less than 4 MiB.
// (TestFilesMemoryIsFlat downloads 100 MiB at constant memory; this is the
// reading.)
func TestReadBatchResultsConstantMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("reads 121 MB")
	}
	const size, bound = 2_200, 4 << 20
	lines, want := 50_000, int64(100_000_000) // a batch's most lines, ≥ 100 MB
	if raceEnabled {                          // make test-go runs it without -race too
		lines, want = 5_000, 10_000_000
	}
	r := &generatedOutput{n: lines, size: size}
	var ms runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&ms)
	base, peak := ms.HeapAlloc, ms.HeapAlloc
	n := 0
	for res, err := range Results(r) {
		if err != nil {
			t.Fatal(err)
		}
		n++
		if res.Line != n || res.Completion == nil || len(res.Completion.Choices[0].Message.Content) != size {
			t.Fatalf("line %d: %+v", n, res)
		}
		if n%5_000 == 0 {
			runtime.GC()
			runtime.ReadMemStats(&ms)
			peak = max(peak, ms.HeapAlloc)
		}
	}
	if n != lines {
		t.Fatalf("%d results, want %d", n, lines)
	}
	growth := int64(peak) - int64(base)
	t.Logf("read %d lines, %.1f MB (%.1f MiB): the live heap grew by %d KiB at most (bound %d KiB)",
		n, float64(r.read)/1e6, float64(r.read)/(1<<20), growth>>10, bound>>10)
	if r.read < want {
		t.Errorf("the file is %d bytes, want at least %d", r.read, want)
	}
	if growth >= bound { // a reader that kept the file would be over 100 MB
		t.Errorf("the live heap grew by %d bytes while reading, want under %d", growth, bound)
	}
}

// FuzzReadBatchResults: the reader never panics, and every line (by the
// reader's own rules: too long, or not blank) yields exactly one result or
// one error, numbered in order; a result's Raw is the line.
func FuzzReadBatchResults(f *testing.F) {
	f.Add([]byte(`{"custom_id":"a","status":"succeeded","response":` + batchCompletionJSON + "}\n"))
	f.Add([]byte(`{"id":"r","custom_id":"b","response":{"status_code":500,"body":{"error":{"message":"x"}}},"error":null}` + "\r\n\n{\n"))
	f.Add([]byte(`{"custom_id":1,"error":{"code":2}}` + "\n" + strings.Repeat("z", 300)))
	f.Add([]byte(`{"custom_id":"c","response":{"status_code":200,"body":{"choices":[{"message":{"content":null}}]}}}`))
	const limit = 256
	f.Fuzz(func(t *testing.T, data []byte) {
		var want []int
		for i, seg := range bytes.Split(data, []byte("\n")) {
			seg = bytes.TrimSuffix(seg, []byte("\r"))
			if len(seg) > limit || len(bytes.TrimSpace(seg)) > 0 {
				want = append(want, i+1)
			}
		}
		var got []int
		for res, err := range ResultsLimit(bytes.NewReader(data), limit) {
			var le *LineError
			switch {
			case err == nil:
				got = append(got, res.Line)
				if len(res.Raw) > limit || res.Status == "" {
					t.Fatalf("line %d: %+v", res.Line, res)
				}
			case errors.As(err, &le):
				got = append(got, le.Line)
				if !errors.Is(err, ErrMalformedLine) && !errors.Is(err, ErrLineTooLarge) {
					t.Fatalf("line %d: an error of no kind: %v", le.Line, err)
				}
			default:
				t.Fatalf("a read error from a bytes.Reader: %v", err)
			}
		}
		if !slices.Equal(got, want) {
			t.Fatalf("lines %v, want %v", got, want)
		}
	})
}

// TestBatchInputWriterEmptyResponseFormat: ResponseFormatJSONSchema encodes
// its schema when it is called and, when it cannot (a cycle), leaves the
// format empty; Add refuses it as New does, rather than write null.
func TestBatchInputWriterEmptyResponseFormat(t *testing.T) {
	p := batchParams(client.ModelGPTOSS120B, "hi")
	schema := map[string]any{}
	schema["self"] = schema
	p.ResponseFormat = client.ResponseFormatJSONSchema("x", schema, true)
	var buf bytes.Buffer
	w := NewWriter(&buf)
	err := w.Add("x", p)
	var pe *client.ParamError
	if !errors.As(err, &pe) || pe.Param != "params.ResponseFormat" || buf.Len() != 0 {
		t.Fatalf("Add: %v, wrote %q; want a *ParamError naming params.ResponseFormat and nothing written", err, buf.Bytes())
	}
}
