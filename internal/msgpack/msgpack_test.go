package msgpack

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
)

// The reference decoder below is written from the msgpack spec alone, apart
// from the code under test: it turns msgpack into plain Go values (nil,
// bool, int64, uint64, float64, string, []any, map[string]any), as a
// msgpack reader such as the API's would. jsonValue turns JSON into the
// same values as a JSON reader would: a number without a fraction or an
// exponent is an integer.

type refDecoder struct {
	b []byte
	i int
}

var errRef = errors.New("reference decoder: invalid msgpack")

func (d *refDecoder) next(n int) []byte {
	if n < 0 || d.i+n > len(d.b) {
		panic(errRef)
	}
	p := d.b[d.i : d.i+n]
	d.i += n
	return p
}

func (d *refDecoder) uint(n int) uint64 {
	p := d.next(n)
	switch n {
	case 1:
		return uint64(p[0])
	case 2:
		return uint64(binary.BigEndian.Uint16(p))
	case 4:
		return uint64(binary.BigEndian.Uint32(p))
	}
	return binary.BigEndian.Uint64(p)
}

func (d *refDecoder) decode() any {
	t := d.next(1)[0]
	switch {
	case t <= 0x7f:
		return int64(t)
	case t >= 0xe0:
		return int64(int8(t))
	case t >= 0x80 && t <= 0x8f:
		return d.mapOf(int(t & 0x0f))
	case t >= 0x90 && t <= 0x9f:
		return d.arrayOf(int(t & 0x0f))
	case t >= 0xa0 && t <= 0xbf:
		return string(d.next(int(t & 0x1f)))
	}
	switch t {
	case 0xc0:
		return nil
	case 0xc2:
		return false
	case 0xc3:
		return true
	case 0xca:
		return float64(math.Float32frombits(uint32(d.uint(4))))
	case 0xcb:
		return math.Float64frombits(d.uint(8))
	case 0xcc:
		return int64(d.uint(1))
	case 0xcd:
		return int64(d.uint(2))
	case 0xce:
		return int64(d.uint(4))
	case 0xcf:
		v := d.uint(8)
		if v <= math.MaxInt64 {
			return int64(v)
		}
		return v
	case 0xd0:
		return int64(int8(d.uint(1)))
	case 0xd1:
		return int64(int16(d.uint(2)))
	case 0xd2:
		return int64(int32(d.uint(4)))
	case 0xd3:
		return int64(d.uint(8))
	case 0xd9:
		return string(d.next(int(d.uint(1))))
	case 0xda:
		return string(d.next(int(d.uint(2))))
	case 0xdb:
		return string(d.next(int(d.uint(4))))
	case 0xdc:
		return d.arrayOf(int(d.uint(2)))
	case 0xdd:
		return d.arrayOf(int(d.uint(4)))
	case 0xde:
		return d.mapOf(int(d.uint(2)))
	case 0xdf:
		return d.mapOf(int(d.uint(4)))
	}
	panic(fmt.Errorf("%w: type 0x%x is no JSON value", errRef, t))
}

func (d *refDecoder) arrayOf(n int) any {
	a := []any{}
	for range n {
		a = append(a, d.decode())
	}
	return a
}

func (d *refDecoder) mapOf(n int) any {
	m := map[string]any{}
	for range n {
		k, ok := d.decode().(string)
		if !ok {
			panic(fmt.Errorf("%w: a map key is not a str", errRef))
		}
		m[k] = d.decode()
	}
	return m
}

// refDecode decodes one msgpack value, which must be all of b.
func refDecode(b []byte) (v any, err error) {
	defer func() {
		if r := recover(); r != nil {
			if e, ok := r.(error); ok && errors.Is(e, errRef) {
				err = e
				return
			}
			panic(r)
		}
	}()
	d := &refDecoder{b: b}
	v = d.decode()
	if d.i != len(b) {
		return nil, fmt.Errorf("%w: %d bytes after the value", errRef, len(b)-d.i)
	}
	return v, nil
}

// errNoMsgpackForm marks a JSON number with no exact msgpack form.
var errNoMsgpackForm = errors.New("a number with no exact msgpack form")

// jsonValue decodes JSON as a JSON reader does, numbers typed by how they are
// written.
func jsonValue(data []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	return typeNumbers(v)
}

func typeNumbers(v any) (any, error) {
	switch v := v.(type) {
	case json.Number:
		s := string(v)
		if !strings.ContainsAny(s, ".eE") {
			if i, err := strconv.ParseInt(s, 10, 64); err == nil {
				return i, nil
			}
			if u, err := strconv.ParseUint(s, 10, 64); err == nil && s[0] != '-' {
				return u, nil
			}
			return nil, fmt.Errorf("%w: %s", errNoMsgpackForm, s)
		}
		f, err := strconv.ParseFloat(s, 64)
		if err != nil {
			return nil, fmt.Errorf("%w: %s", errNoMsgpackForm, s)
		}
		return f, nil
	case []any:
		for i, e := range v {
			t, err := typeNumbers(e)
			if err != nil {
				return nil, err
			}
			v[i] = t
		}
	case map[string]any:
		for k, e := range v {
			t, err := typeNumbers(e)
			if err != nil {
				return nil, err
			}
			v[k] = t
		}
	}
	return v, nil
}

// equal compares decoded values, floats bit for bit (so -0.0 differs from 0.0).
func equal(a, b any) bool {
	switch a := a.(type) {
	case float64:
		bf, ok := b.(float64)
		return ok && math.Float64bits(a) == math.Float64bits(bf)
	case []any:
		bs, ok := b.([]any)
		if !ok || len(a) != len(bs) {
			return false
		}
		for i := range a {
			if !equal(a[i], bs[i]) {
				return false
			}
		}
		return true
	case map[string]any:
		bm, ok := b.(map[string]any)
		if !ok || len(a) != len(bm) {
			return false
		}
		for k, v := range a {
			w, ok := bm[k]
			if !ok || !equal(v, w) {
				return false
			}
		}
		return true
	}
	return reflect.DeepEqual(a, b)
}

// checkFromJSON checks FromJSON on data against the reference decoders.
func checkFromJSON(t *testing.T, data []byte) {
	t.Helper()
	mp, err := FromJSON(nil, data)
	want, jerr := jsonValue(data)
	switch {
	case errors.Is(err, ErrDepth):
		return
	case !json.Valid(data):
		if !errors.Is(err, ErrSyntax) {
			t.Fatalf("FromJSON(%q) of invalid JSON: err %v, want ErrSyntax", data, err)
		}
		return
	case jerr != nil && errors.Is(jerr, errNoMsgpackForm):
		if !errors.Is(err, ErrRange) {
			t.Fatalf("FromJSON(%q): err %v, want ErrRange (%v)", data, err, jerr)
		}
		return
	case jerr != nil:
		t.Fatalf("jsonValue(%q): %v", data, jerr)
	case err != nil:
		t.Fatalf("FromJSON(%q): %v", data, err)
	}
	got, err := refDecode(mp)
	if err != nil {
		t.Fatalf("FromJSON(%q) = %x, which the reference decoder refuses: %v", data, mp, err)
	}
	if !equal(got, want) {
		t.Fatalf("FromJSON(%q) = %x\ndecodes to %#v\nwant       %#v", data, mp, got, want)
	}
	// And back: the fake's ToJSON gives JSON of the same value.
	js, err := ToJSON(nil, mp)
	if err != nil {
		t.Fatalf("ToJSON(%x): %v", mp, err)
	}
	back, err := jsonValue(js)
	if err != nil || !equal(back, want) {
		t.Fatalf("ToJSON(FromJSON(%q)) = %s: %#v, %v; want %#v", data, js, back, err, want)
	}
}

var fromJSONCases = []string{
	`null`, `true`, `false`, `0`, `-0`, `1`, `-1`, `127`, `128`, `255`, `256`, `65535`, `65536`,
	`4294967295`, `4294967296`, `-32`, `-33`, `-128`, `-129`, `-32768`, `-32769`, `-2147483648`, `-2147483649`,
	`9223372036854775807`, `9223372036854775808`, `18446744073709551615`, `-9223372036854775808`,
	`0.5`, `-0.0`, `1.0`, `1e3`, `1E-3`, `1.5e+300`, `5e-324`, `2.2250738585072014e-308`, `0.1`, `1.7976931348623157e308`,
	`3.141592653589793238462643383279`, `123456789012345678901234567890.0`,
	`""`, `"a"`, `"` + strings.Repeat("x", 31) + `"`, `"` + strings.Repeat("x", 32) + `"`,
	`"` + strings.Repeat("y", 255) + `"`, `"` + strings.Repeat("y", 256) + `"`, `"` + strings.Repeat("z", 65536) + `"`,
	`"\"\\\/\b\f\n\r\t"`, `"\u00e9\u4e2d\ud83d\ude00"`, `"\ud800"`, `"\udc00x"`, `"\ud800\u0041"`, `"\ud800\ud800\udc00"`,
	"\"h\xffi\"", "\"\xe2\x82\"", `"é中😀"`, `"<>&"`, "\"\u2028\"",
	`[]`, `{}`, `[1,"a",null,true,{"k":[]}]`, ` { "a" : 1 , "b" : [ 1.5 , -2 ] } `, `{"a":1,"a":2}`,
	`[` + strings.Repeat(`0,`, 15) + `0]`, `[` + strings.Repeat(`0,`, 65535) + `0]`,
	`{"model":"llama3.1-8b","messages":[{"role":"user","content":"Hello!"}],"temperature":0,"seed":0,"max_tokens":16,"top_p":0.9}`,
	strings.Repeat("[", 100) + strings.Repeat("]", 100),
}

// TestFromJSON: every kind of JSON value, at every boundary of msgpack's
// formats, decodes to what a JSON reader reads.
func TestFromJSON(t *testing.T) {
	for _, c := range fromJSONCases {
		checkFromJSON(t, []byte(c))
	}
}

// TestFromJSONErrors: numbers without an exact msgpack form and invalid JSON
// are typed errors that say where.
func TestFromJSONErrors(t *testing.T) {
	for in, want := range map[string]error{
		`18446744073709551616`: ErrRange,
		`-9223372036854775809`: ErrRange,
		`{"seed":1e400}`:       ErrRange,
		`[1,2`:                 ErrSyntax,
		`{"a" 1}`:              ErrSyntax,
		`01`:                   ErrSyntax,
		`1.`:                   ErrSyntax,
		`"\x"`:                 ErrSyntax,
		`"\u12"`:               ErrSyntax,
		"\"a\x01\"":            ErrSyntax,
		`nul`:                  ErrSyntax,
		`1 2`:                  ErrSyntax,
		``:                     ErrSyntax,
		strings.Repeat("[", MaxDepth+1) + strings.Repeat("]", MaxDepth+1): ErrDepth,
		// Invalid JSON is refused as such even after a number out of range.
		`[1e400, x]`:       ErrSyntax,
		`[1e400, {"a"}]`:   ErrSyntax,
		`[1e400, 1e999, ]`: ErrSyntax,
		`[1e400, ` + strings.Repeat("[", MaxDepth) + strings.Repeat("]", MaxDepth) + `]`: ErrDepth,
	} {
		out, err := FromJSON([]byte("keep"), []byte(in))
		var e *Error
		if !errors.Is(err, want) || !errors.As(err, &e) || string(out) != "keep" {
			t.Errorf("FromJSON(%.40q) = %q, %v; want %v", in, out, err, want)
		}
	}
	_, err := FromJSON(nil, []byte(`{"seed":18446744073709551616}`))
	if err == nil || err.Error() != "msgpack: number out of range at byte 8: integer 18446744073709551616 is above uint64" {
		t.Errorf("error text %q", err)
	}
}

// TestFromJSONBytes pins exact encodings, from the msgpack spec's own table
// of formats.
func TestFromJSONBytes(t *testing.T) {
	for in, want := range map[string]string{
		`{"a":[1,-1,null,true,false]}`:         "81a16195" + "01ff" + "c0c3c2",
		`200`:                                  "ccc8",
		`-200`:                                 "d1ff38",
		`70000`:                                "ce00011170",
		`1.5`:                                  "cb3ff8000000000000",
		`"\u00e9"`:                             "a2c3a9",
		`[[],{"k":[[]]},[1]]`:                  "93" + "90" + "81a16b9190" + "9101",
		`[` + strings.Repeat(`0,`, 15) + `{}]`: "dc0010" + strings.Repeat("00", 15) + "80",
	} {
		got, err := FromJSON(nil, []byte(in))
		if err != nil || hex.EncodeToString(got) != want {
			t.Errorf("FromJSON(%s) = %x, %v; want %s", in, got, err, want)
		}
		// After bytes already in dst, which stay.
		got, err = FromJSON([]byte{0xee, 0xff}, []byte(in))
		if err != nil || hex.EncodeToString(got) != "eeff"+want {
			t.Errorf("FromJSON(eeff, %s) = %x, %v; want eeff%s", in, got, err, want)
		}
	}
}

// TestToJSONErrors: msgpack that is no JSON value, or is cut, is refused
// with a typed error, never a panic or a huge allocation.
func TestToJSONErrors(t *testing.T) {
	for in, want := range map[string]error{
		"c4":                 ErrNotJSON, // bin 8
		"d401":               ErrNotJSON, // fixext 1
		"c1":                 ErrNotJSON,
		"8101c0":             ErrNotJSON, // an int key
		"cb7ff8000000000000": ErrNotJSON, // NaN
		"dfffffffff":         ErrSyntax,  // a map of 4 G pairs in 5 bytes
		"dbffffffff":         ErrSyntax,  // a str of 4 GiB in 5 bytes
		"92c0":               ErrSyntax,
		"c0c0":               ErrSyntax,
		"":                   ErrSyntax,
	} {
		b, _ := hex.DecodeString(in)
		if _, err := ToJSON(nil, b); !errors.Is(err, want) {
			t.Errorf("ToJSON(%s): %v, want %v", in, err, want)
		}
	}
	deep := append(bytes.Repeat([]byte{0x91}, MaxDepth+1), 0xc0)
	if _, err := ToJSON(nil, deep); !errors.Is(err, ErrDepth) {
		t.Errorf("ToJSON of %d nested arrays: %v, want ErrDepth", MaxDepth+1, err)
	}
}

// TestToJSONFloats: floats stay floats, and read back bit for bit.
func TestToJSONFloats(t *testing.T) {
	for _, f := range []float64{1, math.Copysign(0, -1), 0.1, 1e21, 1e-7, math.MaxFloat64, math.SmallestNonzeroFloat64, 123456789} {
		js, err := ToJSON(nil, AppendFloat64(nil, f))
		if err != nil {
			t.Fatal(err)
		}
		v, err := jsonValue(js)
		if g, ok := v.(float64); err != nil || !ok || math.Float64bits(g) != math.Float64bits(f) {
			t.Errorf("%v → %s → %#v, %v", f, js, v, err)
		}
	}
}

// FuzzFromJSON: for any input, FromJSON agrees with encoding/json on what is
// valid JSON, refuses with ErrRange exactly the numbers that have no msgpack
// form, and otherwise writes msgpack that an independent decoder reads as
// the JSON value, and that ToJSON turns back into it.
func FuzzFromJSON(f *testing.F) {
	for _, c := range fromJSONCases {
		if len(c) < 1000 {
			f.Add([]byte(c))
		}
	}
	for _, p := range []string{"ChatCompletionRequest", "CompletionRequest"} {
		files, _ := filepath.Glob(filepath.Join("..", "..", "testdata", p, "*.json"))
		for _, file := range files {
			if b, err := os.ReadFile(file); err == nil {
				f.Add(b)
			}
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		checkFromJSON(t, data)
	})
}

// FuzzToJSON: for any input, ToJSON fails with a typed error or writes valid
// JSON of the value the reference decoder reads.
func FuzzToJSON(f *testing.F) {
	for _, c := range fromJSONCases {
		if b, err := FromJSON(nil, []byte(c)); err == nil && len(b) < 1000 {
			f.Add(b)
		}
	}
	f.Add([]byte{0xca, 0x3f, 0xc0, 0, 0})         // float32 1.5
	f.Add([]byte{0xcf, 0, 0, 0, 0, 0, 0, 0, 1})   // a uint64 1, not minimal
	f.Add([]byte{0x81, 0xd9, 1, 'k', 0xdc, 0, 0}) // str8 key, array16
	f.Fuzz(func(t *testing.T, data []byte) {
		js, err := ToJSON(nil, data)
		want, rerr := refDecode(data)
		if err != nil {
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("ToJSON(%x): untyped error %v", data, err)
			}
			if rerr == nil && !errors.Is(err, ErrNotJSON) && !errors.Is(err, ErrDepth) {
				t.Fatalf("ToJSON(%x): %v, but the reference decoder reads %#v", data, err, want)
			}
			return
		}
		if !json.Valid(js) {
			t.Fatalf("ToJSON(%x) = %q: not JSON", data, js)
		}
		got, jerr := jsonValue(js)
		if rerr != nil || jerr != nil || !equal(got, want) {
			t.Fatalf("ToJSON(%x) = %s\nreads %#v (%v)\nwant  %#v (%v)", data, js, got, jerr, want, rerr)
		}
	})
}

// chatBody256K is a chat request of about 256 KiB: a long conversation
// whose messages hold escapes, non-ASCII text and numbers, as a client sends.
func chatBody256K() []byte {
	var b strings.Builder
	b.WriteString(`{"model":"llama3.1-8b","temperature":0.7,"top_p":0.9,"seed":42,"max_tokens":1024,"stream":true,"messages":[`)
	for i := 0; b.Len() < 256<<10; i++ {
		if i > 0 {
			b.WriteByte(',')
		}
		role := "user"
		if i%2 == 1 {
			role = "assistant"
		}
		fmt.Fprintf(&b, `{"role":%q,"content":"Message %d: line one,\nline \"two\" with caf\u00e9 and 中文 \u4e2d and a tab\there. %s","name":null,"weight":%d.5}`,
			role, i, strings.Repeat("The quick brown fox jumps over the lazy dog. ", 8), i)
	}
	b.WriteString(`]}`)
	return []byte(b.String())
}

func BenchmarkFromJSONChat256K(b *testing.B) {
	body := chatBody256K()
	if !json.Valid(body) {
		b.Fatal("invalid benchmark body")
	}
	dst := make([]byte, 0, len(body))
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		var err error
		if dst, err = FromJSON(dst[:0], body); err != nil {
			b.Fatal(err)
		}
	}
}
