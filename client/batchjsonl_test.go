package client

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"unicode/utf8"
)

func batchParams(model, text string) ChatCompletionNewParams {
	return ChatCompletionNewParams{Model: model, Messages: []ChatMessage{UserMessage(text)}}
}

// writeLines adds n lines "id-1" … "id-n" with model m, failing on an error.
func writeLines(t *testing.T, w *BatchInputWriter, n int, m string) {
	t.Helper()
	for i := 1; i <= n; i++ {
		if err := w.Add(fmt.Sprint("id-", i), batchParams(m, fmt.Sprint("question ", i))); err != nil {
			t.Fatalf("line %d: %v", i, err)
		}
	}
}

func TestBatchInputWriterLines(t *testing.T) {
	var buf bytes.Buffer
	w := NewBatchInputWriter(&buf)
	w.MinLines = 0
	p := batchParams(ModelGPTOSS120B, "a <b> & \"c\"\r\nd")
	p.Temperature = Float(0)
	if err := w.Add("first\nid", p); err != nil {
		t.Fatal(err)
	}
	if err := w.Add("second", batchParams(ModelGPTOSS120B, "é U+FFFD: \ufffd, text \\ufffd")); err != nil {
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
	ok := func(text string) ChatCompletionNewParams { return batchParams(ModelGPTOSS120B, text) }
	streaming := ok("hi")
	streaming.Stream = Bool(true)
	badModel := batchParams("gpt-\xff", "hi")
	badCache := ok("hi")
	badCache.PromptCacheKey = String("key\xc3")
	badTool := ok("hi")
	badTool.Tools = []Tool{FunctionTool("weather", "", map[string]any{"type": "object", "properties": map[string]any{"c\xffity": map[string]any{"type": "string"}}})}
	tests := []struct {
		name     string
		prepare  func(w *BatchInputWriter) // the state before the refused line
		id       string
		params   ChatCompletionNewParams
		line     int
		sentinel error // nil: a params error without a batch sentinel
		param    string
	}{
		{"empty id", nil, "", ok("hi"), 1, ErrBatchEmptyID, "customID"},
		{"duplicate id", func(w *BatchInputWriter) { writeLines(t, w, 3, ModelGPTOSS120B) }, "id-2", ok("hi"), 4, ErrBatchDuplicateID, "customID"},
		{"second model", func(w *BatchInputWriter) { writeLines(t, w, 2, ModelGPTOSS120B) }, "x", batchParams("zai-glm-4.7", "hi"), 3, ErrBatchModelMismatch, "params.Model"},
		{"invalid UTF-8 id", nil, "id\xff", ok("hi"), 1, ErrBatchInvalidUTF8, "customID"},
		{"invalid UTF-8 model", nil, "x", badModel, 1, ErrBatchInvalidUTF8, "params.Model"},
		{"invalid UTF-8 other field", func(w *BatchInputWriter) { writeLines(t, w, 1, ModelGPTOSS120B) }, "x", badCache, 2, ErrBatchInvalidUTF8, "params.PromptCacheKey"},
		{"invalid UTF-8 tool schema", nil, "x", badTool, 1, ErrBatchInvalidUTF8, `params.Tools[0].Function.Parameters["properties"]["c\xffity"]`},
		{"line over 1 MB", func(w *BatchInputWriter) { writeLines(t, w, 1, ModelGPTOSS120B) }, "big", ok(strings.Repeat("a", BatchMaxLineBytes)), 2, ErrBatchLineTooLarge, "params"},
		{"line count", func(w *BatchInputWriter) { w.lines = BatchMaxLines }, "x", ok("hi"), BatchMaxLines + 1, ErrBatchTooManyLines, "customID"},
		{"file over 200 MB", func(w *BatchInputWriter) { w.lines, w.bytes = 7, BatchMaxInputBytes-50 }, "x", ok("hi"), 8, ErrBatchTooLarge, "params"},
		{"stream", nil, "x", streaming, 1, nil, "params.Stream"},
		{"no model", nil, "x", batchParams("", "hi"), 1, nil, "params.Model"},
		{"no messages", nil, "x", ChatCompletionNewParams{Model: ModelGPTOSS120B}, 1, nil, "params.Messages"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			w := NewBatchInputWriter(&buf)
			if tt.prepare != nil {
				tt.prepare(w)
			}
			before := buf.Len()
			err := w.Add(tt.id, tt.params)
			var le *BatchLineError
			if !errors.As(err, &le) {
				t.Fatalf("err = %v, want a *BatchLineError", err)
			}
			if le.Line != tt.line || le.CustomID != tt.id {
				t.Errorf("line %d, custom_id %q; want %d, %q", le.Line, le.CustomID, tt.line, tt.id)
			}
			if !strings.Contains(err.Error(), fmt.Sprintf("batch line %d", tt.line)) {
				t.Errorf("Error() = %q does not name line %d", err, tt.line)
			}
			if !errors.Is(err, ErrInvalidInput) {
				t.Errorf("errors.Is(err, ErrInvalidInput) = false for %v", err)
			}
			if tt.sentinel != nil && !errors.Is(err, tt.sentinel) {
				t.Errorf("errors.Is(err, %v) = false for %v", tt.sentinel, err)
			}
			var pe *ParamError
			if !errors.As(err, &pe) || pe.Param != tt.param {
				t.Errorf("ParamError %+v, want Param %q", pe, tt.param)
			}
			if buf.Len() != before {
				t.Errorf("a refused line wrote %q", buf.Bytes()[before:])
			}
			// A refused line changes nothing: the next good line follows.
			if err := w.Add("after", ok("fine")); tt.prepare != nil && tt.sentinel != ErrBatchTooManyLines && tt.sentinel != ErrBatchTooLarge && err != nil {
				t.Errorf("a good line after the refused one: %v", err)
			}
		})
	}
}

// A line just under the limit is written: the limit is not off by one.
func TestBatchInputWriterLineLimitEdge(t *testing.T) {
	var empty bytes.Buffer
	w := NewBatchInputWriter(&empty)
	_ = w.Add("x", batchParams(ModelGPTOSS120B, ""))
	overhead := empty.Len() // the line with an empty message, LF included
	for _, tt := range []struct {
		size int
		ok   bool
	}{{BatchMaxLineBytes, true}, {BatchMaxLineBytes + 1, false}} {
		var buf bytes.Buffer
		w := NewBatchInputWriter(&buf)
		err := w.Add("x", batchParams(ModelGPTOSS120B, strings.Repeat("a", tt.size-overhead)))
		if (err == nil) != tt.ok || (err != nil && !errors.Is(err, ErrBatchLineTooLarge)) {
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
	}{{9, BatchMinLines, true}, {10, BatchMinLines, false}, {0, BatchMinLines, true}, {2, 0, false}, {0, 0, false}} {
		var buf bytes.Buffer
		w := NewBatchInputWriter(&buf)
		if w.MinLines != BatchMinLines {
			t.Fatalf("default MinLines = %d", w.MinLines)
		}
		w.MinLines = tt.min
		writeLines(t, w, tt.lines, ModelGPTOSS120B)
		err := w.Close()
		if tt.wantErr != (err != nil) || (err != nil && (!errors.Is(err, ErrBatchTooFewLines) || !errors.Is(err, ErrInvalidInput))) {
			t.Errorf("%d lines, MinLines %d: Close = %v", tt.lines, tt.min, err)
		}
		if again := w.Close(); fmt.Sprint(again) != fmt.Sprint(err) {
			t.Errorf("second Close = %v, first %v", again, err)
		}
		if err := w.Add("late", batchParams(ModelGPTOSS120B, "x")); !errors.Is(err, ErrBatchWriterClosed) {
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
	w := NewBatchInputWriter(&failingWriter{n: 1})
	writeLines(t, w, 1, ModelGPTOSS120B)
	err := w.Add("b", batchParams(ModelGPTOSS120B, "x"))
	if err == nil || !strings.Contains(err.Error(), "line 2") || !strings.Contains(err.Error(), "disk full") || errors.Is(err, ErrInvalidInput) {
		t.Fatalf("err = %v", err)
	}
	if err2 := w.Add("c", batchParams(ModelGPTOSS120B, "x")); err2 != err {
		t.Errorf("later Add = %v, want the write error", err2)
	}
	if err3 := w.Close(); err3 != err {
		t.Errorf("Close = %v, want the write error", err3)
	}
}

// Every line the writer wrote decodes back to the same request.
func TestBatchInputWriterDecodes(t *testing.T) {
	var buf bytes.Buffer
	w := NewBatchInputWriter(&buf)
	p := batchParams(ModelGPTOSS120B, "line\r\nbreak \u2028 </script>")
	p.Seed = Int64(0)
	if err := w.Add("a", p); err != nil {
		t.Fatal(err)
	}
	if bytes.Count(buf.Bytes(), []byte("\n")) != 1 || bytes.Contains(buf.Bytes(), []byte("\r")) {
		t.Fatalf("not one LF-ended line: %q", buf.Bytes())
	}
	var got struct {
		CustomID string                  `json:"custom_id"`
		Method   string                  `json:"method"`
		URL      string                  `json:"url"`
		Body     ChatCompletionNewParams `json:"body"`
	}
	if err := json.Unmarshal(buf.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	if got.CustomID != "a" || got.Method != "POST" || got.URL != "/v1/chat/completions" ||
		MessageText(got.Body.Messages[0]) != "line\r\nbreak \u2028 </script>" || got.Body.Seed == nil || *got.Body.Seed != 0 {
		t.Errorf("decoded %+v", got)
	}
}

// Message text is encoded when the message is built, where encoding/json
// turns an invalid byte into U+FFFD: the writer cannot tell it from a real
// one, and writes valid UTF-8 either way (the documented limit).
func TestBatchInputWriterMessageUTF8(t *testing.T) {
	var buf bytes.Buffer
	w := NewBatchInputWriter(&buf)
	if err := w.Add("x", batchParams(ModelGPTOSS120B, "bad \xe2\x28 byte")); err != nil {
		t.Fatal(err)
	}
	if !utf8.Valid(buf.Bytes()) || !strings.Contains(buf.String(), "bad \ufffd( byte") {
		t.Errorf("wrote %q", buf.Bytes())
	}
}
