package streaming

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/cerebras-go/cerebras/gen"
)

// reference decodes a chunk the slow, obviously correct way: encoding/json
// plus a probe for the in-band error key.
func reference(data []byte) (c gen.ChatCompletionChunk, isErr bool, err error) {
	if t := bytes.TrimLeft(data, " \t\r\n"); len(t) == 0 || t[0] != '{' {
		return c, false, errNotObject
	}
	var probe struct {
		Error json.RawMessage `json:"error"`
	}
	if json.Unmarshal(data, &probe) == nil && isError(probe.Error) {
		return c, true, nil
	}
	err = json.Unmarshal(data, &c)
	return c, false, err
}

// hasDuplicateKeys reports whether some object repeats a key (compared
// case-insensitively, as encoding/json matches fields): encoding/json then
// merges values in ways the fast decoder does not copy.
func hasDuplicateKeys(data []byte) bool {
	dec := json.NewDecoder(bytes.NewReader(data))
	type frame struct {
		obj    bool
		keys   map[string]bool
		expect bool // next string token in an object is a key
	}
	var stack []*frame
	for {
		tok, err := dec.Token()
		if err != nil {
			return false
		}
		var top *frame
		if len(stack) > 0 {
			top = stack[len(stack)-1]
		}
		switch v := tok.(type) {
		case json.Delim:
			switch v {
			case '{', '[':
				if top != nil && top.obj {
					top.expect = true
				}
				stack = append(stack, &frame{obj: v == '{', keys: map[string]bool{}, expect: true})
			default:
				stack = stack[:len(stack)-1]
			}
			continue
		case string:
			if top != nil && top.obj && top.expect {
				k := strings.ToLower(v)
				if top.keys[k] {
					return true
				}
				top.keys[k] = true
				top.expect = false
				continue
			}
		}
		if top != nil && top.obj {
			top.expect = true
		}
	}
}

func checkAgainstReference(t *testing.T, data []byte) {
	t.Helper()
	want, wantIsErr, wantErr := reference(data)
	var d chunkDecoder
	var got gen.ChatCompletionChunk
	gotIsErr, gotErr := d.decode(data, &got)
	if wantIsErr {
		if !gotIsErr && gotErr == nil {
			t.Fatalf("%q: reference sees an in-band error, fast decoder a chunk", data)
		}
		return
	}
	if (wantErr == nil) != (gotErr == nil && !gotIsErr) {
		t.Fatalf("%q: reference err = %v, fast decoder err = %v (isErr %v)", data, wantErr, gotErr, gotIsErr)
	}
	if wantErr == nil && !hasDuplicateKeys(data) && !reflect.DeepEqual(want, got) {
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
	for _, s := range chunkSeeds(t) {
		checkAgainstReference(t, s)
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
	var d chunkDecoder
	var a, b gen.ChatCompletionChunk
	if _, err := d.decode([]byte(`{"id":"x","system_fingerprint":"fp","choices":[{"delta":{"content":"one"}}]}`), &a); err != nil {
		t.Fatal(err)
	}
	if _, err := d.decode([]byte(`{"id":"x","system_fingerprint":"fp","choices":[{"delta":{"content":"two"}}]}`), &b); err != nil {
		t.Fatal(err)
	}
	*b.SystemFingerprint = "changed"
	if *a.SystemFingerprint != "fp" || *a.Choices[0].Delta.Content != "one" || a.ID != "x" {
		t.Errorf("decoding a later chunk changed an earlier one: %+v", a)
	}
}
