package decodedsize

import (
	"encoding/json"
	"errors"
	"math"
	"reflect"
	"strings"
	"testing"

	"github.com/cerebras-go/cerebras/gen"
)

// hostile returns a document of about size bytes: prefix, then elem
// repeated (comma-separated), then suffix.
func hostile(prefix, elem, suffix string, size int) []byte {
	var b strings.Builder
	b.WriteString(prefix)
	for b.Len() < size-len(suffix)-len(elem) {
		if b.Len() > len(prefix) {
			b.WriteByte(',')
		}
		b.WriteString(elem)
	}
	return []byte(b.String() + suffix)
}

// decodedTypes are the types the SDK decodes what servers send into: stream
// chunks, response bodies, batch result lines.
var decodedTypes = []reflect.Type{
	reflect.TypeFor[gen.ChatCompletionChunk](), reflect.TypeFor[gen.ChatCompletion](),
	reflect.TypeFor[gen.Completion](), reflect.TypeFor[gen.Batch](), reflect.TypeFor[gen.BatchList](),
	reflect.TypeFor[gen.FileList](), reflect.TypeFor[gen.ModelList](), reflect.TypeFor[gen.BatchResultLine](),
}

func TestLimit(t *testing.T) {
	for _, c := range []struct{ n, want int }{
		{0, Slack}, {1, Factor + Slack}, {1 << 20, Factor<<20 + Slack}, {-1, Slack},
		{(math.MaxInt - Slack) / Factor, (math.MaxInt-Slack)/Factor*Factor + Slack},
		{(math.MaxInt-Slack)/Factor + 1, math.MaxInt}, {math.MaxInt, math.MaxInt},
	} {
		if got := Limit(c.n); got != c.want {
			t.Errorf("Limit(%d) = %d, want %d", c.n, got, c.want)
		}
	}
}

// TestCheck: a document of empty elements is refused with an *Error giving
// its size and limit; real data as large, and invalid JSON (which the
// decoder reports), are not.
func TestCheck(t *testing.T) {
	const size = 1 << 20
	for _, c := range []struct {
		name string
		err  error
	}{
		{"empty choices", Check[gen.ChatCompletion](hostile(`{"choices":[`, `{}`, `]}`, size))},
		{"empty list items", Check[gen.FileList](hostile(`{"data":[`, `{}`, `]}`, size))},
		{"empty batch errors", Check[gen.Batch](hostile(`{"errors":[`, `{}`, `]}`, size))},
		{"nulls into an interface", Check[gen.Batch](hostile(`{"errors":{"data":[`, `[]`, `]}}`, size))},
	} {
		var e *Error
		if !errors.As(c.err, &e) || e.Size < size-8 || e.Size > size || e.Limit != Limit(e.Size) {
			t.Errorf("%s: err = %v, want an *Error for about %d bytes", c.name, c.err, size)
		}
	}
	text := []byte(`{"choices":[{"message":{"content":"` + strings.Repeat("x", size) + `"}}]}`)
	tokens := hostile(`{"choices":[{"tokens":[`, `128000`, `]}]}`, size)
	for name, err := range map[string]error{
		"text":         Check[gen.ChatCompletion](text),
		"tokens":       Check[gen.Completion](tokens),
		"invalid JSON": Check[gen.ChatCompletion](hostile(`{"choices":[x`, `{}`, `]}`, size)),
	} {
		if err != nil {
			t.Errorf("%s: %v, want nil", name, err)
		}
	}
}

// TestSmallDocumentsAreNotMeasured: the hot path, stream chunks of a few
// hundred bytes, pays nothing for the bound; and skipping the measure is
// safe: no document of a type's unmeasured size, of the densest shapes,
// measures more than the slack.
func TestSmallDocumentsAreNotMeasured(t *testing.T) {
	const chunk = `{"id":"chatcmpl-5b7a3c2e-1f0d-4e8a-9b6c-2d4f6a8c0e1f","choices":[{"delta":{"content":" token1","role":null},"finish_reason":null,"index":0,"logprobs":null}],"created":1758191360,"model":"llama-3.3-70b","object":"chat.completion.chunk","service_tier":null,"system_fingerprint":"fp_c5ec625e72d41732d8fd","usage":null}`
	if u := Of(reflect.TypeFor[gen.ChatCompletionChunk]()).unmeasured; u < 512 || len(chunk) > u {
		t.Errorf("chunks up to %d bytes are not measured; want a realistic chunk (%d bytes) and 512 bytes among them", u, len(chunk))
	}
	shapes := [][3]string{
		{`{"choices":[`, `{}`, `]}`}, {`{"choices":[`, `null`, `]}`},
		{`{"choices":[{"delta":{"tool_calls":[`, `{}`, `]}}]}`},
		{`{"choices":[{"logprobs":{"content":[`, `{"top_logprobs":[{},{}]}`, `]}}]}`},
		{`{"choices":[{"message":{"tool_calls":[`, `{"function":{}}`, `]}}]}`},
		{`{"data":[`, `{}`, `]}`}, {`{"errors":[`, `{"":{}}`, `]}`}, {`{"errors":[`, `[]`, `]}`},
		{`{"choices":[{"text":"`, "\xff", `"}]}`},
	}
	for _, typ := range decodedTypes {
		ty := Of(typ)
		t.Logf("%s: documents up to %d bytes are not measured", typ, ty.unmeasured)
		for _, sh := range shapes {
			doc := hostile(sh[0], sh[1], sh[2], ty.unmeasured)
			if n, ok := ty.Measure(doc, math.MaxInt); n > Slack {
				t.Errorf("%s: a %d-byte document %.40q… measures %d (ok %v), over the %d-byte slack", typ, len(doc), doc, n, ok, Slack)
			}
		}
	}
}

// FuzzDecodedSize: the measure of a document never panics, is at least what
// decoding it keeps alive, and is within the slack for a document Over does
// not measure.
func FuzzDecodedSize(f *testing.F) {
	for _, s := range []string{
		`{"id":"a","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"role":"assistant","content":""},"finish_reason":null,"logprobs":null}]}`,
		`{"id":"a","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"id":"call_1","type":"function","function":{"name":"f","arguments":"{\"a\":"}},{"index":null,"function":null}]}}]}`,
		`{"choices":[{"logprobs":{"content":[{"token":"a","logprob":-0.5,"bytes":[97],"top_logprobs":[]}]},"reasoning_logprobs":null}]}`,
		`{"ID":"upper","Choices":[{"Index":2,"Delta":{"Content":"folded"}}]}`,
		`{"choices":[{"text":"once","tokens":[1,2,3],"logprobs":{"tokens":["a"],"token_logprobs":[-1],"top_logprobs":[{"a":-1}],"text_offset":[0]}}]}`,
		`{"id":"batch_1","errors":{"data":[{"code":"x","message":"y","line":1}]},"metadata":{"k":"v"}}`,
		`{"data":[{"id":"file-1","bytes":3},{}],"has_more":false}`,
		`{"custom_id":"a","response":{"status_code":200,"body":{}},"error":null}`,
		"{\"id\":\"\xff\xfe bad utf8\"}",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, typ := range decodedTypes {
			ty := Of(typ)
			n, ok := ty.Measure(data, math.MaxInt)
			if len(data) <= ty.unmeasured && n > Slack {
				t.Fatalf("%s: %.200q is not measured, yet measures %d", typ, data, n)
			}
			v := reflect.New(typ)
			if json.Unmarshal(data, v.Interface()) != nil {
				continue
			}
			if held := heldBytes(v.Elem()); !ok || n < held {
				t.Fatalf("%s: %.200q measures %d (ok %v), decoded holds %d", typ, data, n, ok, held)
			}
		}
	})
}

// heldBytes counts the bytes v refers to (not its own inline size): the
// backing arrays of slices (their length), strings, pointees and what an
// interface holds.
func heldBytes(v reflect.Value) int {
	switch v.Kind() {
	case reflect.Pointer:
		if v.IsNil() {
			return 0
		}
		return int(v.Type().Elem().Size()) + heldBytes(v.Elem())
	case reflect.Interface:
		if v.IsNil() {
			return 0
		}
		return heldBytes(v.Elem())
	case reflect.String:
		return v.Len()
	case reflect.Slice:
		n := v.Len() * int(v.Type().Elem().Size())
		for i := range v.Len() {
			n += heldBytes(v.Index(i))
		}
		return n
	case reflect.Struct:
		n := 0
		for i := range v.NumField() {
			n += heldBytes(v.Field(i))
		}
		return n
	case reflect.Map:
		n := 0
		for it := v.MapRange(); it.Next(); {
			n += int(v.Type().Key().Size()+v.Type().Elem().Size()) + heldBytes(it.Key()) + heldBytes(it.Value())
		}
		return n
	}
	return 0
}
