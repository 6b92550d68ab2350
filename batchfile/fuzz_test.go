package batchfile

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"math"
	"reflect"
	"runtime"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/cerebras-go/cerebras/client"
	"github.com/cerebras-go/cerebras/gen"
)

// memOutput is an Output in memory.
type memOutput struct {
	data []byte
	pos  int64
}

func (m *memOutput) Read(p []byte) (int, error) {
	if m.pos >= int64(len(m.data)) {
		return 0, io.EOF
	}
	n := copy(p, m.data[m.pos:])
	m.pos += int64(n)
	return n, nil
}

func (m *memOutput) Write(p []byte) (int, error) {
	if end := m.pos + int64(len(p)); end > int64(len(m.data)) {
		m.data = append(m.data, make([]byte, end-int64(len(m.data)))...)
	}
	copy(m.data[m.pos:], p)
	m.pos += int64(len(p))
	return len(p), nil
}

func (m *memOutput) Seek(offset int64, whence int) (int64, error) {
	switch whence {
	case io.SeekStart:
		m.pos = offset
	case io.SeekCurrent:
		m.pos += offset
	case io.SeekEnd:
		m.pos = int64(len(m.data)) + offset
	}
	return m.pos, nil
}

func (m *memOutput) Truncate(size int64) error {
	m.data = m.data[:size]
	return nil
}

// doneByJSON is what encoding/json says of an output line (without its
// LF): whether it is one JSON object (json.Valid), and its custom_id as
// Results reads it, decoded by encoding/json.
func doneByJSON(t *testing.T, line []byte) (object bool, id string, hasID bool) {
	t.Helper()
	if !json.Valid(line) || !bytes.HasPrefix(bytes.TrimLeft(line, " \t\r"), []byte("{")) {
		return false, "", false
	}
	var w gen.BatchResultLine
	if err := json.Unmarshal(line, &w); err != nil {
		t.Fatalf("json.Valid accepts %q, which does not decode: %v", line, err)
	}
	id, hasID = jsonText(w.CustomID)
	return true, id, hasID
}

// scanAllocs scans line with scanLine and returns the bytes it allocated.
func scanAllocs(line []byte) uint64 {
	br := bufio.NewReaderSize(bytes.NewReader(line), 4096)
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	before := ms.TotalAlloc
	_, _ = scanLine(br)
	runtime.ReadMemStats(&ms)
	return ms.TotalAlloc - before
}

// FuzzResumeBulkOutput: over any output file, scanLine never panics, finds
// the lines the file holds, and calls a line whole exactly when json.Valid
// accepts it as an object, with the custom_id encoding/json decodes (as
// Results reads it); a longer line costs it no more memory; and
// resumeBulkOutput keeps every line, cutting only a torn last one, and
// returns the custom_ids of the done lines.
func FuzzResumeBulkOutput(f *testing.F) {
	ok := `{"custom_id":"a","status":"succeeded","response":{"id":"c","created":1,"choices":[{"message":{"content":"h\"i\u00e9"}}]}}`
	f.Add([]byte(ok + "\n" + `{"custom_id":"b","status":"failed","error":{"code":"x","message":null}}` + "\n"))
	f.Add([]byte(ok + "\n" + ok[:40]))
	f.Add([]byte(ok[:30] + strings.Repeat("\x00", 40) + ok[70:] + "\n" + ok))
	f.Add([]byte(` {"CUSTOM_ID" : 12 , "x":[-0.5e+3,true,false,null,{}],"custom\u005fid":"last"}` + "\r\n\n{}"))
	f.Add([]byte(`{"custom_id":"a","custom_id":{"b":1}}` + "\n" + `{"custom_id":"a",}` + "\n" + `{"custom_id":"a"}{}`))
	// Nesting to encoding/json's limit is TestScanLine's: as a seed, its
	// 20 KB would slow every mutation made of it.
	f.Add([]byte(`{"custom_id":"a","x":[[[{"y":[[]]}]],[]]}` + "\n"))
	f.Add([]byte(`{"custom_id":"\ud800\udc00 ` + "\xff" + `","s":"\b\f\n\r\t\/","n":1E-2}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		type line struct {
			n         int64
			ok, hasLF bool // done; ends with its LF
			id        string
		}
		var lines []line
		br := bufio.NewReaderSize(bytes.NewReader(data), 16)
		var off int64
		for {
			l, err := scanLine(br)
			if err != nil && err != io.EOF {
				t.Fatalf("a read error from a bytes.Reader: %v", err)
			}
			if l.n == 0 {
				break
			}
			seg := data[off : off+l.n]
			off += l.n
			if hasLF := bytes.HasSuffix(seg, []byte("\n")); hasLF == l.eof || bytes.IndexByte(seg[:len(seg)-1], '\n') >= 0 || (l.eof && err != io.EOF) {
				t.Fatalf("line %q: eof %v, err %v", seg, l.eof, err)
			}
			text := bytes.TrimSuffix(seg, []byte("\n"))
			object, id, hasID := doneByJSON(t, text)
			if l.whole != object || (object && (l.hasID != hasID || l.id != id)) {
				t.Fatalf("line %q: whole %v, id %q (%v); encoding/json: object %v, id %q (%v)", text, l.whole, l.id, l.hasID, object, id, hasID)
			}
			lines = append(lines, line{n: l.n, ok: object && hasID, hasLF: !l.eof, id: id})

			// Memory does not grow with the line: 8 KiB more of it (a string
			// member, or white space) costs at most 2 KiB more. Measured
			// again before failing, since the fuzzing worker allocates too,
			// now and then, while a scan runs.
			if len(lines) == 1 && !raceEnabled {
				longer := append([]byte(strings.Repeat(" ", 8<<10)), text...)
				if rest, found := bytes.CutPrefix(bytes.TrimLeft(text, " \t\r"), []byte("{")); found {
					longer = append([]byte(`{"pad":"`+strings.Repeat("x", 8<<10)+`",`), rest...)
				}
				for try := 0; ; try++ {
					base, more := scanAllocs(text), scanAllocs(longer)
					if more <= base+2<<10 {
						break
					}
					if try == 2 {
						t.Fatalf("line %q: scanning it allocates %d bytes, and %d with 8 KiB more of it", text, base, more)
					}
				}
			}
			if err == io.EOF {
				break
			}
		}
		if off != int64(len(data)) {
			t.Fatalf("the lines hold %d bytes of %d", off, len(data))
		}

		out := &memOutput{data: bytes.Clone(data)}
		done, err := resumeBulkOutput(out)
		if err != nil {
			t.Fatal(err)
		}
		want := map[string]struct{}{}
		var kept int64
		wantData := data
		for _, l := range lines {
			if !l.hasLF && !l.ok { // torn: cut
				wantData = data[:kept]
				break
			}
			kept += l.n
			if l.ok {
				want[l.id] = struct{}{}
			}
			if !l.hasLF {
				wantData = append(bytes.Clone(data), '\n')
			}
		}
		if !reflect.DeepEqual(done, want) {
			t.Fatalf("done %v, want %v", done, want)
		}
		if !bytes.Equal(out.data, wantData) || out.pos != int64(len(out.data)) {
			t.Fatalf("the output is %q at %d, want %q at its end", out.data, out.pos, wantData)
		}
	})
}

// FuzzWriter: Add never panics; a line it writes decodes with
// encoding/json into the spec's input line, with the custom_id and params
// it was given; what it refuses is a *LineError wrapping a *ParamError,
// for the reason the inputs give, and writes nothing.
func FuzzWriter(f *testing.F) {
	f.Add("q-1", "gpt-oss-120b", "hello", "city", uint8(0))
	f.Add("q \"2\"\n", "gpt-oss-120b", "a <b> & \u2028", "c\xffity", uint8(1))
	f.Add("q3", "llama3.1-8b", "bad \xe2\x28", "k", uint8(2))
	f.Add("é", "m", "t", "s\xc3", uint8(3))
	f.Add("", "m", "t", "v", uint8(4))
	f.Add("id\xff", "m", "t", "v", uint8(5))
	f.Add("x", "", "t", "v", uint8(6))
	f.Add("x", "m\xff", "t", "v", uint8(7))
	f.Add("x", "m", "t", "v", uint8(8))
	f.Fuzz(func(t *testing.T, customID, model, text, value string, shape uint8) {
		p := client.ChatCompletionNewParams{Model: model, Messages: []client.ChatMessage{client.UserMessage(text)}}
		// Whether value and text are in string fields the writer checks:
		// messages, stop sequences and response formats are unions, which
		// encode their strings (invalid bytes as U+FFFD) when built.
		valueInString, textInString := false, false
		var wantRefusal error // the sentinel, or errParams for a params error of no sentinel
		errParams, errEncoding := errors.New("params"), errors.New("encoding")
		switch shape % 9 {
		case 1:
			p.Tools = []client.Tool{client.FunctionTool(value, text, map[string]any{"type": "object",
				"properties": map[string]any{value: map[string]any{"type": "string", "enum": []any{text, value}}}})}
			valueInString, textInString = true, true
		case 2:
			p.ModelParameters = map[string]any{value: []any{text, 1.5, true, nil, map[string]any{"k": value}, []string{value}}}
			valueInString, textInString = true, true
		case 3: // the union encodes the schema when it is built
			p.ResponseFormat = client.ResponseFormatJSONSchema(value, map[string]any{"type": "object", "description": value}, true)
		case 4:
			p.PromptCacheKey, p.User = &value, client.String("u")
			p.Messages = append([]client.ChatMessage{client.SystemMessage(value)}, p.Messages...)
			p.Stop = client.Stop(value, text)
			p.Temperature, p.Seed = client.Float(0), client.Int64(0)
			valueInString = true
		case 5:
			m := map[string]any{"v": value}
			m["self"] = m
			p.ModelParameters = m
			wantRefusal = errEncoding
		case 6:
			p.Temperature = client.Float(math.NaN())
			wantRefusal = errEncoding
		case 7:
			p.Stream = client.Bool(true)
			wantRefusal = errParams
		case 8:
			p.Messages = append(p.Messages, client.AssistantMessage(value), client.UserMessage(value))
		}
		switch {
		case customID == "":
			wantRefusal = ErrEmptyID
		case !utf8.ValidString(customID):
			wantRefusal = ErrInvalidUTF8
		case wantRefusal == errParams:
		case model == "":
			wantRefusal = errParams
		case wantRefusal == errEncoding:
		case !utf8.ValidString(model) || valueInString && !utf8.ValidString(value) || textInString && !utf8.ValidString(text):
			wantRefusal = ErrInvalidUTF8
		}

		var buf bytes.Buffer
		w := NewWriter(&buf)
		err := w.Add(customID, p)
		if err != nil {
			var le *LineError
			var pe *client.ParamError
			if !errors.As(err, &le) || le.Line != 1 || le.CustomID != customID || !errors.As(err, &pe) || !errors.Is(err, client.ErrInvalidInput) {
				t.Fatalf("Add refused with %v (%T), want a *LineError wrapping a *ParamError", err, err)
			}
			var uv *json.UnsupportedValueError
			switch {
			case wantRefusal == nil && errors.Is(err, ErrLineTooLarge) && len(customID)+len(model)+len(text)+len(value) > MaxLineBytes/8:
			case wantRefusal == nil:
				t.Fatalf("Add refused %q: %v", customID, err)
			case wantRefusal == errEncoding && !errors.As(err, &uv):
				t.Fatalf("Add: %v, want an encoding error", err)
			case wantRefusal == errParams && pe.Err != nil:
				t.Fatalf("Add: %v, want a params error of no sentinel", err)
			case wantRefusal != errParams && wantRefusal != errEncoding && !errors.Is(err, wantRefusal):
				t.Fatalf("Add: %v, want %v", err, wantRefusal)
			}
			if buf.Len() != 0 || w.Lines() != 0 {
				t.Fatalf("a refused line wrote %q", buf.Bytes())
			}
			return
		}
		if wantRefusal != nil {
			t.Fatalf("Add accepted %q (shape %d), want %v", customID, shape%9, wantRefusal)
		}

		b := buf.Bytes()
		if w.Lines() != 1 || len(b) > MaxLineBytes || !utf8.Valid(b) || bytes.IndexByte(b, '\n') != len(b)-1 {
			t.Fatalf("not one valid line: %q", b)
		}
		var got gen.BatchInputLine
		if err := json.Unmarshal(b, &got); err != nil {
			t.Fatalf("the line does not decode: %v\n%s", err, b)
		}
		if got.CustomID != customID || got.Method != gen.BatchInputLineMethodPOST || got.URL != client.BatchEndpointChatCompletions || got.Body == nil {
			t.Fatalf("decoded %q %q %q, body %v; want custom_id %q", got.CustomID, got.Method, got.URL, got.Body, customID)
		}
		if g, want := asJSONValue(t, got.Body), asJSONValue(t, &p); !reflect.DeepEqual(g, want) {
			t.Fatalf("the line's params are\n%v\nwant\n%v", g, want)
		}
		if _, err := parseBatchInput(1, b[:len(b)-1]); err != nil {
			t.Fatalf("RunLocal cannot read the line: %v", err)
		}
	})
}

// asJSONValue is v encoded by encoding/json and decoded into an any.
func asJSONValue(t *testing.T, v any) any {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var out any
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	return out
}
