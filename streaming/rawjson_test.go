package streaming

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"unsafe"

	"github.com/cerebras-go/cerebras/gen"
)

// rawJSONs reads a stream of T from the events' data and returns each
// element's RawJSON.
func rawJSONs[T interface{ RawJSON() string }](t *testing.T, events []string) []string {
	t.Helper()
	body := "data: " + strings.Join(events, "\n\ndata: ") + "\n\ndata: [DONE]\n\n"
	s := NewStream[T](serve(t, context.Background(), sse(body)))
	defer s.Close()
	var got []string
	for s.Next() {
		got = append(got, s.Current().RawJSON())
	}
	if err := s.Err(); err != nil {
		t.Fatal(err)
	}
	return got
}

// TestElementsKeepTheirEventsJSON: every element type that keeps its JSON
// gets its event's data, whichever decoder reads it: the generated ones
// (chat and text completion chunks) or encoding/json (any other type).
// A multi-line data field is one JSON value, its lines joined by "\n".
func TestElementsKeepTheirEventsJSON(t *testing.T) {
	chunks := []string{`{"id":"a","created":0,"choices":[{"index":0,"delta":{"content":"x"}}],"new":1}`, `{"id":"a","choices":[] , "usage":{"prompt_tokens_details":{"cached_tokens":0}}}`, "{\"id\":\"a\",\ndata: \"choices\":[]}"}
	completions := []string{`{"id":"c","created":0,"choices":[{"text":"x","index":0}],"new":[1]}`, `{"id":"c"}`}
	models := []string{`{"id":"m","object":"model","created":0,"new":null}`, `{"id":"n"}`}
	check := func(name string, got, events []string) {
		t.Helper()
		if len(got) != len(events) {
			t.Fatalf("%s: %d elements, want %d", name, len(got), len(events))
		}
		for i, e := range events {
			if want := strings.ReplaceAll(e, "\ndata: ", "\n"); got[i] != want {
				t.Errorf("%s %d: RawJSON() = %q, want %q", name, i, got[i], want)
			}
		}
	}
	check("ChatCompletionChunk", rawJSONs[gen.ChatCompletionChunk](t, chunks), chunks)
	check("Completion", rawJSONs[gen.Completion](t, completions), completions)
	check("Model", rawJSONs[gen.Model](t, models), models)
}

// unevenReader returns its input in reads of 1 to 997 bytes, in a fixed
// pattern, so that events and their lines fall across the stream's reads
// and buffers at every offset.
type unevenReader struct {
	r io.Reader
	n int
}

func (u *unevenReader) Read(p []byte) (int, error) {
	u.n = (u.n*31 + 7) % 997
	return u.r.Read(p[:min(len(p), u.n+1)])
}

// TestKeptElementsStayIntact: a stream hands each chunk its event's bytes
// without a copy, so it must never write them again: every chunk kept to
// the end still has the JSON and the fields it was decoded with, whatever
// came after it: the stream's buffer filled and left for a new one, an
// event longer than a buffer, an event of several data lines, escaped
// strings, CRLF line endings.
func TestKeptElementsStayIntact(t *testing.T) {
	var events []string
	for i := range 600 {
		content := fmt.Sprintf("t%d ", i)
		switch i % 5 {
		case 1:
			content = fmt.Sprintf(`\u00e9\n%d\"`, i) // unescaped by the decoder
		case 3:
			content = strings.Repeat("x", i%97)
		}
		if i == 300 {
			content = strings.Repeat("long ", 8<<10) // 40 KiB: larger than a buffer
		}
		events = append(events, fmt.Sprintf(`{"id":"c%d","object":"chat.completion.chunk","created":0,"model":"m","choices":[{"index":0,"delta":{"content":"%s"},"finish_reason":null}],"x_added_later":%d}`, i, content, i))
	}
	var body strings.Builder
	for i, e := range events {
		if i%50 == 7 { // one event in lines: its data is the lines joined by "\n"
			k := strings.Index(e, `"choices"`)
			events[i] = e[:k] + "\n" + e[k:]
			fmt.Fprintf(&body, "data: %s\r\ndata: %s\r\n\r\n", e[:k], e[k:])
			continue
		}
		fmt.Fprintf(&body, "data: %s\n\n", e)
	}
	body.WriteString("data: [DONE]\n\n")
	r := &unevenReader{r: strings.NewReader(body.String())}
	s := NewStream[gen.ChatCompletionChunk](&http.Response{StatusCode: 200, Body: io.NopCloser(r)})
	defer s.Close()
	var chunks []gen.ChatCompletionChunk
	for s.Next() {
		chunks = append(chunks, s.Current())
	}
	if err := s.Err(); err != nil || len(chunks) != len(events) {
		t.Fatalf("%d chunks, err %v; want %d", len(chunks), err, len(events))
	}
	for i, c := range chunks {
		if c.RawJSON() != events[i] {
			t.Fatalf("chunk %d: RawJSON() = %.200q, want %.200q", i, c.RawJSON(), events[i])
		}
		var want gen.ChatCompletionChunk
		if err := json.Unmarshal([]byte(events[i]), &want); err != nil {
			t.Fatal(err)
		}
		got, _ := json.Marshal(c)
		if w, _ := json.Marshal(want); string(got) != string(w) {
			t.Fatalf("chunk %d = %.200s, want %.200s", i, got, w)
		}
	}
}

// TestAccumulatedCompletionKeepsNoChunk: what ChatCompletionAccumulator
// returns shares no memory with the chunks it was given, whose text shares
// the stream's buffers: a completion kept long keeps none of them alive.
func TestAccumulatedCompletionKeepsNoChunk(t *testing.T) {
	const head = `{"id":"c","object":"chat.completion.chunk","created":1,"model":"m","system_fingerprint":"fp","choices":[{"index":0,`
	events := []string{
		head + `"delta":{"role":"assistant","content":"Hel"},"logprobs":{"content":[{"token":"Hel","logprob":-1,"bytes":[72],"top_logprobs":[{"token":"Hi","logprob":-2}]}]}}]}`,
		head + `"delta":{"content":"lo\n","reasoning":"r\u00e9"}}]}`,
		head + `"delta":{"tool_calls":[{"index":0,"id":"call_1","type":"function","function":{"name":"f","arguments":"{\"a\":"}}]}}]}`,
		head + `"delta":{"tool_calls":[{"index":0,"function":{"arguments":"1}"}}]},"finish_reason":"tool_calls"}],"usage":{"total_tokens":3}}`,
	}
	s := NewStream[gen.ChatCompletionChunk](serve(t, context.Background(), sse("data: "+strings.Join(events, "\n\ndata: ")+"\n\ndata: [DONE]\n\n")))
	defer s.Close()
	var acc ChatCompletionAccumulator
	var chunks []gen.ChatCompletionChunk
	for s.Next() {
		chunks = append(chunks, s.Current())
		acc.AddChunk(s.Current())
	}
	if err := s.Err(); err != nil || len(chunks) != len(events) {
		t.Fatalf("%d chunks, err %v", len(chunks), err)
	}
	// The memory the chunks share with the stream: their JSON, and their
	// text, which lies in it or, unescaped, in rooms of the decoder. (Their
	// other strings are interned: allocations of their own, which the
	// completion may share.)
	type span struct{ lo, hi uintptr }
	var chunkMem []span
	var strs func(v reflect.Value, f func(string))
	strs = func(v reflect.Value, f func(string)) {
		switch v.Kind() {
		case reflect.String:
			f(v.String())
		case reflect.Pointer, reflect.Interface:
			if !v.IsNil() {
				strs(v.Elem(), f)
			}
		case reflect.Slice, reflect.Array:
			for i := range v.Len() {
				strs(v.Index(i), f)
			}
		case reflect.Struct:
			for i := range v.NumField() {
				strs(v.Field(i), f)
			}
		}
	}
	mem := func(s string) span {
		p := uintptr(unsafe.Pointer(unsafe.StringData(s)))
		return span{p, p + uintptr(len(s))}
	}
	for _, c := range chunks {
		chunkMem = append(chunkMem, mem(c.RawJSON()))
		for _, ch := range c.Choices {
			text := []string{ch.Delta.Content, ch.Delta.Reasoning}
			for _, call := range ch.Delta.ToolCalls {
				text = append(text, call.Function.Arguments)
			}
			for _, s := range text {
				if s != "" {
					chunkMem = append(chunkMem, mem(s))
				}
			}
		}
	}
	completion := acc.ChatCompletion()
	if got := completion.Choices[0].Message.Content + completion.Choices[0].Message.ToolCalls[0].Function.Arguments; got != "Hello\n{\"a\":1}" {
		t.Fatalf("accumulated %q", got)
	}
	n := 0
	strs(reflect.ValueOf(completion), func(s string) {
		n++
		m := mem(s)
		for _, c := range chunkMem {
			if s != "" && m.lo < c.hi && c.lo < m.hi {
				t.Errorf("the completion's %q lies in a chunk's memory", s)
			}
		}
	})
	if n < 10 {
		t.Fatalf("%d strings checked", n)
	}
}
