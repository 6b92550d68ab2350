package decode

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/cerebras-go/cerebras/gen"
	"github.com/cerebras-go/cerebras/internal/jsonscan"
	"github.com/cerebras-go/cerebras/internal/rawjson"
)

// check decodes data with the generated decoder and with encoding/json (the
// obviously correct reference), and fails unless both accept it or both
// reject it, type mismatches with the same message, and decode the same
// value.
func check[T any](t *testing.T, data []byte, fast func(*Decoder, []byte, *T) error) {
	t.Helper()
	var want, got T
	var wantErr error
	if b := bytes.TrimLeft(data, " \t\r\n"); len(b) == 0 || b[0] != '{' {
		wantErr = jsonscan.ErrNotObject
		if len(b) > 0 && !json.Valid(data) {
			wantErr = errors.New("invalid")
		}
	} else {
		wantErr = json.Unmarshal(data, &want)
		// And the JSON received, kept for RawJSON (as Response does).
		if set := rawjson.Setter[T](); wantErr == nil && set != nil {
			set(&want, rawjson.Text(data))
		}
	}
	var d Decoder
	gotErr := fast(&d, data, &got)
	if (wantErr == nil) != (gotErr == nil) || (wantErr == jsonscan.ErrNotObject) != (gotErr == jsonscan.ErrNotObject) {
		t.Fatalf("%.200q: reference err = %v, generated decoder err = %v", data, wantErr, gotErr)
	}
	var wantType *json.UnmarshalTypeError
	if errors.As(wantErr, &wantType) && gotErr.Error() != wantErr.Error() {
		t.Fatalf("%.200q:\nreference err %v\ngenerated err %v", data, wantErr, gotErr)
	}
	if wantErr == nil && !reflect.DeepEqual(want, got) {
		wb, _ := json.Marshal(want)
		gb, _ := json.Marshal(got)
		t.Fatalf("%q:\nreference %s\ngenerated %s", data, wb, gb)
	}
	// A decoder that was used before gives the same result: interning keeps
	// nothing of one document in the next.
	var again T
	if err := fast(&d, data, &again); (err == nil) != (gotErr == nil) || (err == nil && !reflect.DeepEqual(got, again)) {
		t.Fatalf("%q: a second decode differs: %v", data, err)
	}
	// So does one whose strings share the value's copy of the document (as
	// a stream's do), which is its own: the input's buffer is then reused.
	var shared T
	d.Share = true
	in := bytes.Clone(data)
	err := fast(&d, in, &shared)
	for i := range in {
		in[i] = 'x'
	}
	if (err == nil) != (gotErr == nil) || (err == nil && !reflect.DeepEqual(got, shared)) {
		t.Fatalf("%q: a decode sharing the document differs: %v", data, err)
	}
	// And one that keeps the document itself (Owned, as a stream's event),
	// its strings in it or, unescaped, in the decoder's room: the next
	// document, whose strings go to the same room, changes nothing of it.
	var owned, next T
	od := Decoder{Owned: true, Share: true}
	err = fast(&od, bytes.Clone(data), &owned)
	if (err == nil) != (gotErr == nil) || (err == nil && !reflect.DeepEqual(got, owned)) {
		t.Fatalf("%q: a decode keeping the document differs: %v", data, err)
	}
	_ = fast(&od, bytes.Clone(data), &next)
	if err == nil && !reflect.DeepEqual(got, owned) {
		t.Fatalf("%q: decoding a next document changed the last one", data)
	}
}

// TestStringsAtEveryOffset: a string's special bytes (the quote that ends
// it, a backslash, a control character, non-ASCII and invalid UTF-8) are
// found wherever they fall, in whichever of the 8 bytes the scanner reads at
// once and whatever the string's own offset.
func TestStringsAtEveryOffset(t *testing.T) {
	for _, special := range []string{``, `\"`, `\\`, `\n`, `\u00e9`, "\x01", "\x1f", "é", "\xff", "\x7f", " ", "\x80", "\xe2\x82"} {
		for pad := range 9 {
			for at := range 18 {
				s := strings.Repeat("a", at) + special + strings.Repeat("b", 17-at)
				data := fmt.Sprintf(`{"id":%q,"choices":[{"message":{"content":"%s"}}]}`, strings.Repeat("i", pad), s)
				check(t, []byte(data), (*Decoder).ChatCompletion)
			}
		}
	}
}

func seeds(t testing.TB, dir string, extra ...string) [][]byte {
	out := [][]byte{}
	for _, s := range extra {
		out = append(out, []byte(s))
	}
	files, _ := filepath.Glob("../../testdata/" + dir + "/*.json")
	if len(files) == 0 {
		t.Fatalf("no fixtures in testdata/%s", dir)
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, b)
	}
	for _, at := range []struct {
		format string
		outer  int
	}{{`{"x":%s}`, 1}, {`{"choices":[{"message":{"x":%s}}]}`, 4}, {`{"choices":[{"tokens":%s}]}`, 3}, {`{"usage":{"x":%s}}`, 2}} {
		for _, total := range []int{jsonscan.MaxDepth, jsonscan.MaxDepth + 1} {
			n := total - at.outer
			out = append(out, []byte(fmt.Sprintf(at.format, strings.Repeat("[", n)+strings.Repeat("]", n))))
		}
	}
	return out
}

var common = []string{
	`{"id":"a","object":"x","created":1,"model":"m","system_fingerprint":"fp","usage":{"prompt_tokens":1},"time_info":{"queue_time":0.5}}`,
	`{"ID":"upper","Model":"folded","ſystem_fingerprint":"long s","ıd":"dotless"}`,
	`{"id":5}`, `{"created":1.5}`, `{"created":"1"}`, `{"created":1e3}`, `{"created":9223372036854775808}`,
	`{"choices":{}}`, `{"choices":[null,1,"s",true,[]]}`, `{"choices":"x"}`, `{"usage":"x"}`, `{"usage":{"prompt_tokens":"1"}}`,
	`{"time_info":{"queue_time":"x","prompt_time":1e400}}`, `{"time_info":[1]}`,
	`{"id":"a","id":"b","Id":"c","model":"m","model":null}`, `{"id":"\ud800 \u00e9 \\ \/ \n"}`, "{\"id\":\"\xff\"}",
	`{"id":"a" "model":"b"}`, `{"id":"a",}`, `{"id":"a"} x`, `null`, `[]`, `"s"`, ` `, `{"x":tru}`, `{"created":-}`, `{"created":01}`,
	`{"error":{"message":"boom"}}`, `{"unknown":{"deep":[1,2,{"x":[true,false,null,"s",-1.5e-3]}]}}`,
}

func TestChatCompletionMatchesEncodingJSON(t *testing.T) {
	for i, s := range chatSeeds(t) {
		t.Run(fmt.Sprint(i), func(t *testing.T) { check(t, s, (*Decoder).ChatCompletion) })
	}
}

func TestCompletionMatchesEncodingJSON(t *testing.T) {
	for i, s := range completionSeeds(t) {
		t.Run(fmt.Sprint(i), func(t *testing.T) { check(t, s, (*Decoder).Completion) })
	}
}

func chatSeeds(t testing.TB) [][]byte {
	return seeds(t, "ChatCompletion", append(common,
		`{"choices":[{"index":0,"message":{"role":"assistant","content":"hi","reasoning":"r","tool_calls":[{"index":0,"id":"c","type":"function","function":{"name":"f","arguments":"{}"}}]},"finish_reason":"tool_calls","logprobs":{"content":[{"token":"a","logprob":-1,"bytes":[97],"top_logprobs":[]}]}}]}`,
		`{"choices":[{"message":{"content":"a","role":"user"},"message":{"content":"b"},"message":null}],"choices":[{"index":2}]}`,
		`{"choices":[{"index":1},{"index":2},{"index":3}],"choices":[{}],"choices":[{"message":{}},null,{"finish_reason":"length"}]}`,
		`{"choices":[{"message":{"tool_calls":[{"index":"0"},{"function":{"name":false}}]}}]}`, `{"choices":[{"message":{"tool_calls":{}}}]}`,
		`{"choices":[{"finish_reason":1,"index":1.5}]}`, `{"choices":[{"message":{"content":5}}]}`, `{"choices":[{"message":[]}]}`,
		`{"choices":[{"finish_reason":"stop"},{"finish_reason":"a_later_reason"},{"finish_reason":"content_filter"}]}`,
		`{"choices":[{"logprobs":{"content":[{"token":1}]}}]}`, `{"service_tier":[],"service_tier_used":true}`,
		// The first mismatch is named by the fields around it only, whatever
		// is decoded after it, deeper or not.
		`{"choices":[{"message":{"content":5,"role":"r"},"index":"x"},{"message":{"role":1}}],"created":"y"}`,
		`{"choices":[1,{"index":"x","message":{"tool_calls":[{"function":{"name":2}}]}}],"usage":{"prompt_tokens":"1"}}`,
		`{"choices":[{"message":{"tool_calls":[{},{"function":{"arguments":[]}}]},"logprobs":{"content":[{"token":"a","bytes":["x"]}]}}]}`,
		`{"usage":{"prompt_tokens_details":{"cached_tokens":"0"},"total_tokens":"1"},"choices":[{"index":"x"}]}`,
	)...)
}

func completionSeeds(t testing.TB) [][]byte {
	return seeds(t, "Completion", append(common,
		`{"choices":[{"text":"once","index":0,"tokens":[1,2,3],"finish_reason":"stop","logprobs":{"tokens":["a"],"token_logprobs":[-1],"top_logprobs":[{"a":-1}],"text_offset":[0]}}]}`,
		`{"choices":[{"tokens":[1,2,3]}],"choices":[{"tokens":[4]}]}`, `{"choices":[{"tokens":[1,"2",1.5,9223372036854775808,null]}]}`,
		`{"choices":[{"tokens":[]}]}`, `{"choices":[{"tokens":null,"text":null}]}`, `{"choices":[{"tokens":{}}]}`,
		`{"choices":[{"logprobs":{"tokens":[1]}}]}`, `{"choices":[{"reasoning_logprobs":{"top_logprobs":[{"a":"x"}]}}]}`,
	)...)
}

func FuzzChatCompletionDecoder(f *testing.F) {
	for _, s := range chatSeeds(f) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, data []byte) { check(t, data, (*Decoder).ChatCompletion) })
}

func FuzzCompletionDecoder(f *testing.F) {
	for _, s := range completionSeeds(f) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, data []byte) { check(t, data, (*Decoder).Completion) })
}

// TestInterningKeepsDocumentsIndependent: values interned from one
// document are shared, never overwritten, by the next.
func TestInterningKeepsDocumentsIndependent(t *testing.T) {
	var d Decoder
	var a, b gen.ChatCompletion
	if err := d.ChatCompletion([]byte(`{"id":"x","model":"m","choices":[{"message":{"role":"assistant","content":"one"}}]}`), &a); err != nil {
		t.Fatal(err)
	}
	if err := d.ChatCompletion([]byte(`{"id":"x","model":"m2","choices":[{"message":{"role":"assistant","content":"two"}}]}`), &b); err != nil {
		t.Fatal(err)
	}
	if a.ID != "x" || a.Model != "m" || a.Choices[0].Message.Content != "one" || b.Model != "m2" || b.Choices[0].Message.Content != "two" {
		t.Errorf("a = %+v, b = %+v", a, b)
	}
}

// TestUnknownSeesTopLevelKeysOnly: the hook sees the unknown keys of the
// top-level object, not those of nested objects nor the known fields.
func TestUnknownSeesTopLevelKeysOnly(t *testing.T) {
	var d Decoder
	var seen []string
	d.Unknown = func(s *jsonscan.Scanner, key []byte) error {
		seen = append(seen, string(key))
		return s.SkipValue()
	}
	var c gen.ChatCompletionChunk
	err := d.ChatCompletionChunk([]byte(`{"id":"a","error":{"x":1},"choices":[{"error":1,"delta":{"error":2}}],"Other":null}`), &c)
	if err != nil || fmt.Sprint(seen) != "[error Other]" || c.ID != "a" || len(c.Choices) != 1 {
		t.Errorf("err %v, seen %q, chunk %+v", err, seen, c)
	}
}

// TestMessageTextMergesTheSpecsStringFields: content and reasoning are
// concatenated, the role is the first non-empty one.
func TestMessageTextMergesTheSpecsStringFields(t *testing.T) {
	var m MessageText
	for _, d := range []gen.ChatCompletionChunkDelta{
		{Content: "He"}, {Role: "assistant", Reasoning: "th"}, {Role: "tool", Content: "llo", Reasoning: "ink"},
	} {
		m.Add(&d)
	}
	var msg gen.ChatCompletionMessage
	m.Fill(&msg)
	if msg.Role != "assistant" || msg.Content != "Hello" || msg.Reasoning != "think" {
		t.Errorf("merged %+v", msg)
	}
}
