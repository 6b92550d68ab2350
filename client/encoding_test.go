package client

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"reflect"
	"strings"
	"testing"

	"github.com/cerebras-go/cerebras/internal/msgpack"
)

// chatOfSize returns chat params whose JSON body is exactly n bytes.
func chatOfSize(t *testing.T, n int) ChatCompletionNewParams {
	t.Helper()
	p := ChatCompletionNewParams{Model: ModelGemma431B, Messages: []ChatMessage{UserMessage("")}}
	b, _ := json.Marshal(&p)
	if n < len(b) {
		t.Fatalf("a chat body is at least %d bytes", len(b))
	}
	p.Messages = []ChatMessage{UserMessage(strings.Repeat("a", n-len(b)))}
	if b, _ = json.Marshal(&p); len(b) != n {
		t.Fatalf("chatOfSize(%d) is %d bytes", n, len(b))
	}
	return p
}

// tokensOfSize returns text completion params prompted with token ids whose
// JSON body is about n bytes, at least n.
func tokensOfSize(n int) CompletionNewParams {
	ids := make([]int, 0, n/5)
	for size := len(`{"model":"llama3.1-8b","prompt":[]}`); size < n; size += 5 { // 1000 to 9999: four digits and a comma
		ids = append(ids, 1000+len(ids)%9000)
	}
	return CompletionNewParams{Model: ModelLlama318B, Prompt: PromptTokens(ids...)}
}

// sameJSONValue reports whether two JSON texts hold the same value, numbers
// compared as written.
func sameJSONValue(t *testing.T, a, b []byte) bool {
	t.Helper()
	dec := func(x []byte) any {
		d := json.NewDecoder(bytes.NewReader(x))
		d.UseNumber()
		var v any
		if err := d.Decode(&v); err != nil {
			t.Fatalf("%v: %.200s", err, x)
		}
		return v
	}
	return reflect.DeepEqual(dec(a), dec(b))
}

// wire is what a request's encoding leaves on the wire.
type wire struct{ contentType, contentEncoding string }

var wires = map[RequestEncoding]wire{
	RequestEncodingJSON:        {"application/json", ""},
	RequestEncodingGzip:        {"application/json", "gzip"},
	RequestEncodingMsgpack:     {"application/vnd.msgpack", ""},
	RequestEncodingMsgpackGzip: {"application/vnd.msgpack", "gzip"},
}

// expectedBytes is what enc must send for the JSON body js, built here from
// its parts: gzip'd bytes must inflate to exactly the JSON or msgpack.
func checkBytes(t *testing.T, enc RequestEncoding, js []byte, r recorded) {
	t.Helper()
	w := wires[enc]
	if ct, ce := r.Header.Get("Content-Type"), r.Header.Get("Content-Encoding"); ct != w.contentType || ce != w.contentEncoding {
		t.Errorf("%s: Content-Type %q, Content-Encoding %q; want %q, %q", enc, ct, ce, w.contentType, w.contentEncoding)
	}
	raw := r.Raw
	if w.contentEncoding == "gzip" {
		if len(raw) < 2 || raw[0] != 0x1f || raw[1] != 0x8b {
			t.Fatalf("%s: the body is not gzip: % x", enc, raw[:min(4, len(raw))])
		}
		zr, err := gzip.NewReader(bytes.NewReader(raw))
		if err != nil {
			t.Fatal(err)
		}
		if raw, err = io.ReadAll(zr); err != nil {
			t.Fatal(err)
		}
	}
	want := js
	if w.contentType == "application/vnd.msgpack" {
		var err error
		if want, err = msgpack.FromJSON(nil, js); err != nil {
			t.Fatal(err)
		}
		// And the msgpack holds the JSON value: decoded, it is the same.
		back, err := msgpack.ToJSON(nil, raw)
		if err != nil || !sameJSONValue(t, back, js) {
			t.Errorf("%s: the msgpack decodes to %.200s (%v), want the value of %.200s", enc, back, err, js)
		}
	}
	if !bytes.Equal(raw, want) {
		t.Errorf("%s: the body (decompressed) is %d bytes % .40x…, want %d bytes % .40x…", enc, len(raw), raw, len(want), want)
	}
	if r.SpecErr != nil {
		t.Errorf("%s: the request does not match openapi.yaml: %v", enc, r.SpecErr)
	}
}

// TestRequestEncodingBytes: each explicit encoding sends exactly the JSON
// body, transformed as its headers say, to a server that checks the bytes,
// for chat and text completions, whole and streamed.
func TestRequestEncodingBytes(t *testing.T) {
	srv := newServer(t, func(w http.ResponseWriter, r *http.Request, n int) {
		switch {
		case strings.Contains(r.Header.Get("Accept"), "event-stream"):
			w.Header().Set("Content-Type", "text/event-stream")
			_, _ = io.WriteString(w, "data: "+completionJSON+"\n\ndata: [DONE]\n\n")
		case r.URL.Path == "/v1/completions":
			writeJSON(w, 200, completionJSON)
		default:
			writeJSON(w, 200, chatJSON)
		}
	})
	c, _ := newTestClient(t, srv)
	ctx := context.Background()
	chat := chatParams()
	chat.Temperature, chat.Seed, chat.MaxCompletionTokens = Float(0.1), Int64(9007199254740993), Int(0)
	completion := CompletionNewParams{Model: ModelLlama318B, Prompt: PromptTokens(0, 1, 127, 128, 65535, 65536, 1<<40)}
	drain := func(err error, all func() error) error {
		if err != nil {
			return err
		}
		return all()
	}
	calls := []struct {
		name string
		call func(...Option) error
		body func() any
	}{
		{"Chat.Completions.New", func(o ...Option) error { _, err := c.Chat.Completions.New(ctx, chat, o...); return err }, func() any { return &chat }},
		{"Chat.Completions.NewStreaming", func(o ...Option) error {
			s, err := c.Chat.Completions.NewStreaming(ctx, chat, o...)
			return drain(err, func() error { defer s.Close(); return s.Err() })
		}, func() any { p := chat; p.Stream = Bool(true); return &p }},
		{"Completions.New", func(o ...Option) error { _, err := c.Completions.New(ctx, completion, o...); return err }, func() any { return &completion }},
		{"Completions.NewStreaming", func(o ...Option) error {
			s, err := c.Completions.NewStreaming(ctx, completion, o...)
			return drain(err, func() error {
				defer s.Close()
				for range s.All() {
				}
				return s.Err()
			})
		}, func() any { p := completion; p.Stream = Bool(true); return &p }},
	}
	for _, call := range calls {
		for _, enc := range []RequestEncoding{RequestEncodingJSON, RequestEncodingGzip, RequestEncodingMsgpack, RequestEncodingMsgpackGzip} {
			t.Run(call.name+"/"+string(enc), func(t *testing.T) {
				if err := call.call(WithRequestEncoding(enc)); err != nil {
					t.Fatal(err)
				}
				js, _ := json.Marshal(call.body())
				checkBytes(t, enc, js, srv.last())
			})
		}
	}
}

// TestAutoEncodingThreshold: auto sends a body under AutoEncodingMinSize
// as plain JSON and one of that size or more gzip-compressed; a text
// completion prompted with token ids, as msgpack+gzip, and one prompted
// with text as gzip.
func TestAutoEncodingThreshold(t *testing.T) {
	srv := newServer(t, func(w http.ResponseWriter, r *http.Request, n int) {
		if r.URL.Path == "/v1/completions" {
			writeJSON(w, 200, completionJSON)
			return
		}
		writeJSON(w, 200, chatJSON)
	})
	c, _ := newTestClient(t, srv) // auto is the default
	ctx := context.Background()
	for _, tc := range []struct {
		size int
		want RequestEncoding
	}{
		{100, RequestEncodingJSON},
		{AutoEncodingMinSize - 1, RequestEncodingJSON},
		{AutoEncodingMinSize, RequestEncodingGzip},
		{AutoEncodingMinSize + 1, RequestEncodingGzip},
		{256 << 10, RequestEncodingGzip},
	} {
		p := chatOfSize(t, tc.size)
		if _, err := c.Chat.Completions.New(ctx, p); err != nil {
			t.Fatal(err)
		}
		js, _ := json.Marshal(&p)
		t.Run("chat", func(t *testing.T) { checkBytes(t, tc.want, js, srv.last()) })
	}

	text := CompletionNewParams{Model: ModelLlama318B, Prompt: Prompt(strings.Repeat("b", AutoEncodingMinSize))}
	for _, tc := range []struct {
		name string
		p    CompletionNewParams
		want RequestEncoding
	}{
		{"a few token ids", CompletionNewParams{Model: ModelLlama318B, Prompt: PromptTokens(1, 2, 3)}, RequestEncodingJSON},
		{"token ids at the threshold", tokensOfSize(AutoEncodingMinSize), RequestEncodingMsgpackGzip},
		{"lists of token ids", CompletionNewParams{Model: ModelLlama318B, Prompt: tokenBatches(AutoEncodingMinSize)}, RequestEncodingMsgpackGzip},
		{"text at the threshold", text, RequestEncodingGzip},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := c.Completions.New(ctx, tc.p); err != nil {
				t.Fatal(err)
			}
			js, _ := json.Marshal(&tc.p)
			checkBytes(t, tc.want, js, srv.last())
		})
	}
	t.Run("a token-id list in a chat message is text", func(t *testing.T) {
		p := chatOfSize(t, AutoEncodingMinSize)
		p.Messages = append(p.Messages, UserMessage(`{"prompt":[1,2,3]}`))
		if _, err := c.Chat.Completions.New(ctx, p); err != nil {
			t.Fatal(err)
		}
		js, _ := json.Marshal(&p)
		checkBytes(t, RequestEncodingGzip, js, srv.last())
	})
}

// tokenBatches is a prompt of lists of token ids of about n bytes.
func tokenBatches(n int) CompletionPrompt {
	var batches [][]int
	for size := 0; size < n; size += 20 {
		batches = append(batches, []int{5000, 5001, 5002, 5003, 5004})
	}
	var p CompletionPrompt
	if err := p.FromPromptTokenIDLists(batches); err != nil {
		panic(err)
	}
	return p
}

// TestSmallRequestsAreSentAsBefore: with auto, the default, a small
// request is byte for byte what the client sent before request encodings
// existed (json.Marshal of the params, application/json, no
// Content-Encoding), with the same headers as an explicit JSON request.
func TestSmallRequestsAreSentAsBefore(t *testing.T) {
	srv := newServer(t, okJSON(chatJSON))
	c, _ := newTestClient(t, srv)
	ctx := context.Background()
	p := chatParams()
	p.Temperature = Float(0.7)
	var sent [2]recorded
	for i, opts := range [][]Option{nil, {WithRequestEncoding(RequestEncodingJSON)}} {
		if _, err := c.Chat.Completions.New(ctx, p, append(opts, WithExtraBody(map[string]any{"x": 1}))...); err != nil {
			t.Fatal(err)
		}
		sent[i] = srv.last()
	}
	const want = `{"messages":[{"content":"Hello!","role":"user"}],"model":"gemma-4-31b","temperature":0.7,"x":1}`
	if string(sent[0].Raw) != want || string(sent[1].Raw) != want {
		t.Errorf("bodies:\n%s\n%s\nwant %s", sent[0].Raw, sent[1].Raw, want)
	}
	if !reflect.DeepEqual(sent[0].Header, sent[1].Header) || sent[0].Header.Get("Content-Encoding") != "" || sent[0].Header.Get("Content-Type") != "application/json" {
		t.Errorf("headers differ:\nauto %v\njson %v", sent[0].Header, sent[1].Header)
	}
}

// TestRetryResendsTheSameEncoding: a request answered 429, then 200, is
// sent twice with the same bytes and the same encoding headers, since the
// body is encoded once.
func TestRetryResendsTheSameEncoding(t *testing.T) {
	for _, enc := range []RequestEncoding{RequestEncodingGzip, RequestEncodingMsgpack, RequestEncodingMsgpackGzip, RequestEncodingAuto} {
		for _, stream := range []bool{false, true} {
			name := string(enc)
			if stream {
				name += "/stream"
			}
			t.Run(name, func(t *testing.T) {
				srv := newServer(t, func(w http.ResponseWriter, r *http.Request, n int) {
					if n == 0 {
						w.Header().Set("Retry-After-Ms", "0")
						writeJSON(w, 429, `{"error":{"message":"slow down","type":"too_many_requests_error"}}`)
						return
					}
					if stream {
						w.Header().Set("Content-Type", "text/event-stream")
						_, _ = io.WriteString(w, "data: "+completionJSON+"\n\ndata: [DONE]\n\n")
						return
					}
					writeJSON(w, 200, completionJSON)
				})
				c, delays := newTestClient(t, srv, WithRequestEncoding(enc))
				p := tokensOfSize(64 << 10)
				if stream {
					s, err := c.Completions.NewStreaming(context.Background(), p)
					if err != nil {
						t.Fatal(err)
					}
					for range s.All() {
					}
					if err := s.Err(); err != nil {
						t.Fatal(err)
					}
				} else if _, err := c.Completions.New(context.Background(), p); err != nil {
					t.Fatal(err)
				}
				reqs := srv.requests()
				if len(reqs) != 2 || len(*delays) != 1 {
					t.Fatalf("%d requests, delays %v; want 2 requests, 1 retry", len(reqs), *delays)
				}
				if !bytes.Equal(reqs[0].Raw, reqs[1].Raw) || len(reqs[0].Raw) == 0 {
					t.Errorf("the retry sent other bytes: %d then %d", len(reqs[0].Raw), len(reqs[1].Raw))
				}
				for _, h := range []string{"Content-Type", "Content-Encoding", "Content-Length"} {
					if a, b := reqs[0].Header.Values(h), reqs[1].Header.Values(h); !reflect.DeepEqual(a, b) {
						t.Errorf("%s: %q then %q", h, a, b)
					}
				}
				want := enc
				if enc == RequestEncodingAuto {
					want = RequestEncodingMsgpackGzip
				}
				if stream {
					p.Stream = Bool(true)
				}
				js, _ := json.Marshal(&p)
				checkBytes(t, want, js, reqs[1])
			})
		}
	}
}

// TestRequestEncodingOnTheClient: a client-wide encoding applies to chat
// and text completions only: a batch is still sent as JSON.
func TestRequestEncodingOnTheClient(t *testing.T) {
	srv := newServer(t, okJSON(`{"id":"batch_1","object":"batch","endpoint":"/v1/chat/completions","input_file_id":"file_1","completion_window":"24h","status":"validating","created_at":1}`))
	c, _ := newTestClient(t, srv, WithRequestEncoding(RequestEncodingMsgpackGzip))
	p := BatchNewParams{InputFileID: "file_1", Endpoint: BatchEndpointChatCompletions, CompletionWindow: BatchCompletionWindowHours24}
	if _, err := c.Batches.New(context.Background(), p); err != nil {
		t.Fatal(err)
	}
	js, _ := json.Marshal(&p)
	checkBytes(t, RequestEncodingJSON, js, srv.last())
}

// TestRequestEncodingErrors: an unknown encoding, and a body msgpack cannot
// carry exactly (an integer beyond 64 bits), are *ParamErrors before
// anything is sent; auto sends the latter as gzip'd JSON instead.
func TestRequestEncodingErrors(t *testing.T) {
	srv := newServer(t, okJSON(chatJSON))
	c, _ := newTestClient(t, srv)
	ctx := context.Background()
	var pe *ParamError
	if _, err := New(WithAPIKey("k"), WithRequestEncoding("brotli")); !errors.As(err, &pe) || pe.Param != "WithRequestEncoding" || !strings.Contains(pe.Message, `"brotli"`) {
		t.Errorf("an unknown encoding: %v", err)
	}
	huge := WithExtraBody(map[string]any{"metadata_id": json.Number("18446744073709551616")})
	for _, enc := range []RequestEncoding{RequestEncodingMsgpack, RequestEncodingMsgpackGzip} {
		_, err := c.Chat.Completions.New(ctx, chatParams(), WithRequestEncoding(enc), huge)
		if !errors.As(err, &pe) || pe.Param != "WithRequestEncoding" || !errors.Is(err, msgpack.ErrRange) {
			t.Errorf("%s of a 65-bit integer: %v, want a *ParamError wrapping msgpack.ErrRange", enc, err)
		}
	}
	if n := len(srv.requests()); n != 0 {
		t.Fatalf("%d requests sent", n)
	}
	p := CompletionNewParams{Model: ModelLlama318B, Prompt: tokensOfSize(AutoEncodingMinSize).Prompt}
	if _, err := c.Completions.New(ctx, p, huge); err != nil {
		t.Fatal(err)
	}
	js, _ := marshalWithExtra(t, &p, map[string]any{"metadata_id": json.Number("18446744073709551616")})
	checkBytes(t, RequestEncodingGzip, js, srv.last())
}

// marshalWithExtra is the JSON the client sends for v with extra body fields.
func marshalWithExtra(t *testing.T, v any, extra map[string]any) ([]byte, error) {
	t.Helper()
	cl := &call{cfg: config{extraBody: extra, encoding: RequestEncodingJSON}, op: opCompletionNew}
	p, err := (&Client{}).body(cl, v)
	return p.body, err
}

// TestRequestEncodingThroughTheFake: the fake API takes every encoding,
// validates what it decodes against openapi.yaml, answers from it (the
// answers echo the prompt) and records which encoding arrived.
func TestRequestEncodingThroughTheFake(t *testing.T) {
	fake, c := newFake(t)
	ctx := context.Background()
	long := strings.Repeat("word ", AutoEncodingMinSize/5) + "Hello!"
	for _, tc := range []struct {
		enc    RequestEncoding
		prompt string
		want   string // what the fake records
	}{
		{RequestEncodingJSON, "Hello!", "json"},
		{RequestEncodingGzip, "Hello!", "gzip"},
		{RequestEncodingMsgpack, "Hello!", "msgpack"},
		{RequestEncodingMsgpackGzip, "Hello!", "msgpack+gzip"},
		{RequestEncodingAuto, "Hello!", "json"},
		{RequestEncodingAuto, long, "gzip"},
	} {
		t.Run(string(tc.enc)+"/"+tc.want, func(t *testing.T) {
			opt := WithRequestEncoding(tc.enc)
			check := func(what, got, wantIn string) {
				t.Helper()
				r := fake.Requests()[len(fake.Requests())-1]
				if r.Encoding != tc.want || !strings.Contains(got, wantIn) {
					t.Errorf("%s: the fake recorded %q and answered %.80q; want %q and an answer with %q", what, r.Encoding, got, tc.want, wantIn)
				}
			}
			p := ChatCompletionNewParams{Model: ModelGemma431B, Messages: []ChatMessage{UserMessage(tc.prompt)}}
			resp, err := c.Chat.Completions.New(ctx, p, opt)
			if err != nil {
				t.Fatal(err)
			}
			check("Chat.Completions.New", resp.Choices[0].Message.Content, tc.prompt[:6])

			s, err := c.Chat.Completions.NewStreaming(ctx, p, opt)
			if err != nil {
				t.Fatal(err)
			}
			var text strings.Builder
			for chunk, err := range s.All() {
				if err != nil {
					t.Fatal(err)
				}
				for _, ch := range chunk.Choices {
					text.WriteString(ch.Delta.Content)
				}
			}
			check("Chat.Completions.NewStreaming", text.String(), tc.prompt[:6])

			cp := CompletionNewParams{Model: ModelGemma431B, Prompt: Prompt(tc.prompt)}
			cr, err := c.Completions.New(ctx, cp, opt)
			if err != nil {
				t.Fatal(err)
			}
			check("Completions.New", cr.Choices[0].Text, tc.prompt[:6])

			cs, err := c.Completions.NewStreaming(ctx, cp, opt)
			if err != nil {
				t.Fatal(err)
			}
			text.Reset()
			for chunk, err := range cs.All() {
				if err != nil {
					t.Fatal(err)
				}
				for _, ch := range chunk.Choices {
					text.WriteString(ch.Text)
				}
			}
			check("Completions.NewStreaming", text.String(), tc.prompt[:6])
		})
	}
	t.Run("a token-id prompt, auto", func(t *testing.T) {
		if _, err := c.Completions.New(ctx, withModel(tokensOfSize(AutoEncodingMinSize), ModelGemma431B)); err != nil {
			t.Fatal(err)
		}
		if r := fake.Requests()[len(fake.Requests())-1]; r.Encoding != "msgpack+gzip" {
			t.Errorf("the fake recorded %q, want msgpack+gzip", r.Encoding)
		}
	})
	t.Run("the fake still refuses an invalid request in msgpack", func(t *testing.T) {
		_, err := c.Chat.Completions.New(ctx, ChatCompletionNewParams{Model: ModelGemma431B, Messages: []ChatMessage{UserMessage("x")}},
			WithRequestEncoding(RequestEncodingMsgpackGzip), WithExtraBody(map[string]any{"temperature": "hot"}))
		var ae *APIError
		if !errors.As(err, &ae) || ae.StatusCode != 422 || !strings.Contains(ae.Error(), "temperature") {
			t.Errorf("err = %v, want the fake's 422 naming temperature", err)
		}
	})
}

func withModel(p CompletionNewParams, model string) CompletionNewParams {
	p.Model = model
	return p
}
