package streaming

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/cerebras-go/cerebras/gen"
	"github.com/cerebras-go/cerebras/internal/apierror"
	"github.com/cerebras-go/cerebras/internal/jsonscan"
	"github.com/cerebras-go/cerebras/internal/rawjson"
)

// reference decodes a chunk the slow, obviously correct way: encoding/json
// plus a probe for the in-band error key, and the event's JSON kept for
// RawJSON.
func reference(data []byte) (c gen.ChatCompletionChunk, isErr bool, err error) {
	if t := bytes.TrimLeft(data, " \t\r\n"); len(t) == 0 || t[0] != '{' {
		return c, false, errNotObject
	}
	var probe struct {
		Error json.RawMessage `json:"error"`
	}
	if json.Unmarshal(data, &probe) == nil && apierror.MarksError(probe.Error) {
		return c, true, nil
	}
	if err = json.Unmarshal(data, &c); err == nil {
		rawjson.Setter[gen.ChatCompletionChunk]()(&c, rawjson.Text(data))
	}
	return c, false, err
}

func checkAgainstReference(t *testing.T, data []byte) {
	t.Helper()
	want, wantIsErr, wantErr := reference(data)
	d := newChunkDecoder()
	var got gen.ChatCompletionChunk
	gotIsErr, gotErr := d.decode(data, &got)
	if wantIsErr {
		if !gotIsErr && gotErr == nil {
			t.Fatalf("%q: reference sees an in-band error, fast decoder a chunk", data)
		}
		return
	}
	if gotIsErr {
		t.Fatalf("%.200q: fast decoder sees an in-band error, reference err = %v", data, wantErr)
	}
	if (wantErr == nil) != (gotErr == nil) {
		t.Fatalf("%.200q: reference err = %v, fast decoder err = %v", data, wantErr, gotErr)
	}
	// A type mismatch is the same error, naming the same field and type.
	var wantType *json.UnmarshalTypeError
	if errors.As(wantErr, &wantType) && gotErr.Error() != wantErr.Error() {
		t.Fatalf("%.200q:\nreference err %v\nfast      err %v", data, wantErr, gotErr)
	}
	if wantErr == nil && !reflect.DeepEqual(want, got) {
		wb, _ := json.Marshal(want)
		gb, _ := json.Marshal(got)
		t.Fatalf("%q:\nreference %s\nfast      %s", data, wb, gb)
	}
}

func chunkSeeds(t testing.TB) [][]byte {
	seeds := [][]byte{
		[]byte(`{"id":"a","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"role":"assistant","content":""},"finish_reason":null,"logprobs":null}]}`),
		[]byte(`{"id":"a","choices":[{"index":1,"delta":{"content":"x\n\"y\" \u00e9\ud83d\ude80 \ud800 \\ \/"},"finish_reason":"stop"}],"usage":{"prompt_tokens":1,"completion_tokens":2,"total_tokens":3},"time_info":{"queue_time":0.1,"created":1.5}}`),
		[]byte(`{"id":"a","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"id":"call_1","type":"function","function":{"name":"f","arguments":"{\"a\":"}},{"index":null,"function":null}]}}]}`),
		[]byte(`{"ID":"upper","Choices":[{"Index":2,"Delta":{"Content":"folded"}}],"ſervice_tier":"s"}`),
		[]byte(`{"choices":[{"logprobs":{"content":[{"token":"a","logprob":-0.5,"bytes":[97],"top_logprobs":[]}]},"reasoning_logprobs":null}]}`),
		[]byte(`{"error":{"message":"boom"},"status_code":500}`),
		[]byte(`{"error":null,"id":"x"}`),
		[]byte(`{"error":false}`),
		[]byte(`{"id":5}`),
		[]byte(`{"created":1.5}`),
		[]byte(`{"created":"1"}`),
		[]byte(`{"created":9223372036854775807}`),
		[]byte(`{"created":-9223372036854775808}`),
		[]byte(`{"created":9223372036854775808}`),
		[]byte(`{"created":1e3}`),
		[]byte(`{"choices":{}}`),
		[]byte(`{"choices":[null,{"delta":null}]}`),
		[]byte(`{"unknown":{"deep":[1,2,{"x":[true,false,null,"s",-1.5e-3]}]}}`),
		[]byte(`{"id":"a" "model":"b"}`),
		[]byte(`{"id":"a",}`),
		[]byte(`{"id":"\x01"}`),
		[]byte(`{"id":"\q"}`),
		[]byte("{\"id\":\"\xff\xfe bad utf8\"}"),
		[]byte(`{"id":"a"} trailing`),
		[]byte(`null`),
		[]byte(`[]`),
		[]byte(` { "id" : "spaces" , "created" : 0 } `),
		[]byte(`{"id":"a","id":"b"}`),
		[]byte(`{"created":-}`),
		[]byte(`{"created":01}`),
		[]byte(`{"x":tru}`),
		// Duplicate keys: the last wins, for every key, and a repeated
		// object or array decodes into what the first one left.
		[]byte(`{"error":{"message":"boom"},"error":null,"id":"x"}`),
		[]byte(`{"error":null,"ERROR":{"message":"boom"}}`),
		[]byte(`{"id":"a","id":"b","Id":"c","model":"m","model":null}`),
		[]byte(`{"choices":[{"index":1,"delta":{"content":"a"}},{"index":2}],"choices":[{"finish_reason":"stop"}]}`),
		[]byte(`{"choices":[{"index":1},{"index":2},{"index":3}],"choices":[{}],"choices":[{"delta":{}},null,{"finish_reason":"length"}]}`),
		[]byte(`{"choices":[{"index":1}],"choices":[],"choices":[{}]}`),
		[]byte(`{"choices":[{"delta":{"content":"a","role":"assistant"},"delta":{"content":"b"},"delta":null,"delta":{"reasoning":"r"}}]}`),
		[]byte(`{"choices":[{"delta":{"tool_calls":[{"index":0,"id":"a","function":{"name":"f","arguments":"{"}},{"index":1}],"tool_calls":[{"function":{"arguments":"}"}}]}}]}`),
		[]byte(`{"choices":[{"delta":{"tool_calls":[{"index":0,"index":null,"function":{"name":"f"},"function":{"arguments":"x"}}]}}]}`),
		[]byte(`{"choices":[{"finish_reason":"stop","finish_reason":null,"logprobs":{"content":[{"token":"a","logprob":-1}]},"logprobs":{"refusal":[]}}]}`),
		[]byte(`{"usage":{"prompt_tokens":1},"usage":{"total_tokens":2},"time_info":{"queue_time":1},"time_info":null}`),
		// Keys match as encoding/json matches them: "ſ" folds to "s" and
		// the Kelvin sign to "k", but the dotless "ı" is not an "i".
		[]byte(`{"ıd":"dotless","fınısh_reason":"x","choıces":[{"ındex":3}],"ſystem_fingerprint":"long s"}`),
		[]byte(`{"choices":[{"delta":{"tool_calls":[{"\u0069ndex":2,"\u0131d":"x","function":{"argument\u017F":"a","\u212Aey":1}}]}}]}`),
		// Type mismatches name the field and the JSON type, never the
		// value, and decoding goes on: a later in-band error still counts.
		[]byte(`{"id":"csk-0123456789abcdef0123456789abcdef","created":"csk-0123456789abcdef"}`),
		[]byte(`{"created":"1","error":{"message":"boom"}}`),
		[]byte(`{"choices":[{"delta":{"content":5}}],"error":{"message":"boom"}}`),
		[]byte(`{"choices":"x"}`), []byte(`{"choices":[1,"s",true,[]]}`), []byte(`{"choices":[{"delta":[]}]}`),
		[]byte(`{"choices":[{"delta":{"tool_calls":{}}}]}`), []byte(`{"choices":[{"delta":{"tool_calls":[{"index":"0"}]}}]}`),
		[]byte(`{"choices":[{"delta":{"tool_calls":[{"function":{"name":false}}]}}]}`),
		[]byte(`{"choices":[{"finish_reason":1,"index":1.5}]}`), []byte(`{"choices":[{"index":1e2}]}`),
		[]byte(`{"usage":{"prompt_tokens":"1"}}`), []byte(`{"usage":"x"}`), []byte(`{"time_info":[1]}`),
		[]byte(`{"choices":[{"logprobs":{"content":[{"token":1}]}}]}`),
		[]byte(`{"created":1.5,"model":7}`), []byte(`{"created":"x","choices":[{"index":}]}`),
		[]byte(`{"system_fingerprint":{},"service_tier":[],"service_tier_used":true}`),
	}
	// Nesting: encoding/json allows at most 10000 open objects and arrays,
	// wherever they are.
	for _, at := range []struct {
		format string
		outer  int // objects and arrays around the value
	}{
		{`{"x":%s}`, 1}, {`{"error":%s}`, 1}, {`{"usage":{"x":%s}}`, 2}, {`{"usage":%s}`, 1},
		{`{"choices":[{"x":%s}]}`, 3}, {`{"choices":[%s]}`, 2}, {`{"choices":[{"logprobs":{"x":%s}}]}`, 4},
		{`{"choices":[{"delta":{"x":%s}}]}`, 4}, {`{"choices":[{"delta":{"tool_calls":[{"x":%s}]}}]}`, 6},
		{`{"choices":[{"delta":{"tool_calls":[{"function":{"x":%s}}]}}]}`, 7},
		{`{"choices":[{"delta":{"tool_calls":[{"function":{"name":%s}}]}}]}`, 7}, {`[%s]`, 1},
	} {
		for _, total := range []int{jsonscan.MaxDepth, jsonscan.MaxDepth + 1, jsonscan.MaxDepth + 2} {
			n := total - at.outer
			seeds = append(seeds, []byte(fmt.Sprintf(at.format, strings.Repeat("[", n)+strings.Repeat("]", n))))
		}
	}
	files, _ := filepath.Glob("../testdata/ChatCompletionChunk/*.sse")
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, line := range strings.Split(string(b), "\n") {
			if d, ok := strings.CutPrefix(line, "data: "); ok && d != "[DONE]" {
				seeds = append(seeds, []byte(d))
			}
		}
	}
	return seeds
}

func TestChunkDecoderMatchesEncodingJSON(t *testing.T) {
	for i, s := range chunkSeeds(t) {
		t.Run(fmt.Sprint(i), func(t *testing.T) { checkAgainstReference(t, s) })
	}
}

// FuzzChunkDecoder: on any input the fast decoder never panics, accepts
// exactly what encoding/json accepts, and decodes the same value.
func FuzzChunkDecoder(f *testing.F) {
	for _, s := range chunkSeeds(f) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		checkAgainstReference(t, data)
	})
}

func TestChunkDecoderInterningKeepsChunksIndependent(t *testing.T) {
	d := newChunkDecoder()
	var a, b gen.ChatCompletionChunk
	if _, err := d.decode([]byte(`{"id":"x","system_fingerprint":"fp","choices":[{"delta":{"content":"one"}}]}`), &a); err != nil {
		t.Fatal(err)
	}
	if _, err := d.decode([]byte(`{"id":"x","system_fingerprint":"fp","choices":[{"delta":{"content":"two"}}]}`), &b); err != nil {
		t.Fatal(err)
	}
	b.SystemFingerprint = "changed"
	if a.SystemFingerprint != "fp" || a.Choices[0].Delta.Content != "one" || a.ID != "x" {
		t.Errorf("decoding a later chunk changed an earlier one: %+v", a)
	}
}

// TestCompletionChunksDecodeLikeEncodingJSON: completion streams use the
// generated decoder too, with the same in-band error probe.
func TestCompletionChunksDecodeLikeEncodingJSON(t *testing.T) {
	decode := decoderFor[gen.Completion]()
	for _, tc := range []struct {
		data  string
		isErr bool
	}{
		{`{"id":"a","object":"text_completion","choices":[{"text":"t","index":0,"tokens":[1,2],"finish_reason":null,"logprobs":null}],"usage":null}`, false},
		{`{"id":"a","choices":[{"text":5}],"error":{"message":"boom"}}`, true},
		{`{"ERROR":{"message":"boom"}}`, true},
		{`{"error":null,"id":"b"}`, false},
	} {
		var got, want gen.Completion
		isErr, err := decode([]byte(tc.data), &got)
		if isErr != tc.isErr || (!isErr && err != nil) {
			t.Errorf("%s: isErr %v, err %v", tc.data, isErr, err)
			continue
		}
		if !isErr {
			err := json.Unmarshal([]byte(tc.data), &want)
			rawjson.Setter[gen.Completion]()(&want, tc.data)
			if err != nil || !reflect.DeepEqual(got, want) {
				t.Errorf("%s: decoded %+v, encoding/json %+v (%v)", tc.data, got, want, err)
			}
		}
	}
}

// TestDeprecatedChunkFieldsAreKept: the deprecated fields the official types
// still declare (choices[].text, choices[].tokens, delta.tokens) reach the
// user through a real stream, as the spec now declares them.
func TestDeprecatedChunkFieldsAreKept(t *testing.T) {
	body, err := os.ReadFile("../testdata/ChatCompletionChunk/deprecated-fields.sse")
	if err != nil {
		t.Fatal(err)
	}
	s := NewStream[gen.ChatCompletionChunk](serve(t, context.Background(), sse(string(body))))
	defer s.Close()
	if !s.Next() {
		t.Fatal(s.Err())
	}
	got, _ := json.Marshal(s.Current().Choices[0])
	for _, want := range []string{`"text":"Hi"`, `"tokens":[13347]`, `"delta":{"content":"Hi","tokens":[13347]}`} {
		if !bytes.Contains(got, []byte(want)) {
			t.Errorf("choice %s lacks %s", got, want)
		}
	}
}
