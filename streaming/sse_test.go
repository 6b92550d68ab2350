package streaming

import (
	"bytes"
	"context"
	"errors"
	"io"
	"math"
	"strings"
	"testing"
	"testing/iotest"
	"time"

	"github.com/cerebras-go/cerebras/gen"
)

type ev struct {
	Type, Data, ID string
	Retry          int
}

func decodeAll(t *testing.T, r io.Reader, max int) ([]ev, error) {
	t.Helper()
	d := NewDecoder(r, max)
	var out []ev
	for d.Next() {
		e := d.Event()
		out = append(out, ev{e.Type, string(e.Data), e.ID, e.Retry})
	}
	return out, d.Err()
}

// readers returns the same input split in several ways, so every case is
// also a test of lines, CRLF pairs and UTF-8 runes split across reads.
func readers(in string) map[string]io.Reader {
	return map[string]io.Reader{
		"whole":    strings.NewReader(in),
		"bytewise": iotest.OneByteReader(strings.NewReader(in)),
		"halves":   iotest.HalfReader(strings.NewReader(in)),
		"dataerr":  iotest.DataErrReader(strings.NewReader(in)),
	}
}

func TestDecoder(t *testing.T) {
	long := strings.Repeat("x", 2<<20)
	cases := []struct {
		name string
		in   string
		want []ev
	}{
		{"lf", "data: a\n\ndata: b\n\n", []ev{{Data: "a", Retry: -1}, {Data: "b", Retry: -1}}},
		{"crlf", "data: a\r\n\r\ndata: b\r\n\r\n", []ev{{Data: "a", Retry: -1}, {Data: "b", Retry: -1}}},
		{"cr only", "data: a\r\rdata: b\r\r", []ev{{Data: "a", Retry: -1}, {Data: "b", Retry: -1}}},
		{"mixed endings", "data: a\r\ndata: b\rdata: c\n\r\n", []ev{{Data: "a\nb\nc", Retry: -1}}},
		{"no space after colon", "data:a\n\n", []ev{{Data: "a", Retry: -1}}},
		{"only one space stripped", "data:  a\n\n", []ev{{Data: " a", Retry: -1}}},
		{"multi-line data", "data: {\"a\":\ndata: 1}\n\n", []ev{{Data: "{\"a\":\n1}", Retry: -1}}},
		{"comments ignored", ": keep-alive\ndata: a\n: more\n\n:\n\n", []ev{{Data: "a", Retry: -1}}},
		{"named event", "event: ping\ndata: {}\n\n", []ev{{Type: "ping", Data: "{}", Retry: -1}}},
		{"event without data", "event: end\n\n", []ev{{Type: "end", Retry: -1}}},
		{"blank lines alone dispatch nothing", "\n\n\r\n\n", nil},
		{"empty data line", "data\n\n", []ev{{Data: "", Retry: -1}}},
		{"id and retry", "id: 7\nretry: 1500\ndata: a\n\ndata: b\n\n", []ev{{Data: "a", ID: "7", Retry: 1500}, {Data: "b", ID: "7", Retry: 1500}}},
		{"bad retry ignored", "retry: 1.5\ndata: a\n\n", []ev{{Data: "a", Retry: -1}}},
		{"id with NUL ignored", "id: a\x00b\ndata: a\n\n", []ev{{Data: "a", Retry: -1}}},
		{"unknown field ignored", "foo: bar\ndata: a\n\n", []ev{{Data: "a", Retry: -1}}},
		{"last event without blank line", "data: a\n\ndata: b\n", []ev{{Data: "a", Retry: -1}, {Data: "b", Retry: -1}}},
		{"last line without newline", "data: a\n\ndata: [DONE]", []ev{{Data: "a", Retry: -1}, {Data: "[DONE]", Retry: -1}}},
		{"utf-8", "data: héllo 世界 🚀\n\n", []ev{{Data: "héllo 世界 🚀", Retry: -1}}},
		{"2 MB line", "data: " + long + "\n\n", []ev{{Data: long, Retry: -1}}},
		{"leading BOM stripped", "\xEF\xBB\xBFdata: a\n\ndata: b\n\n", []ev{{Data: "a", Retry: -1}, {Data: "b", Retry: -1}}},
		{"leading BOM before a comment", "\xEF\xBB\xBF: hi\ndata: a\n\n", []ev{{Data: "a", Retry: -1}}},
		{"only one BOM stripped", "\xEF\xBB\xBF\xEF\xBB\xBFdata: a\n\ndata: b\n\n", []ev{{Data: "b", Retry: -1}}},
		{"BOM later is not stripped", "data: a\n\n\xEF\xBB\xBFdata: b\n\ndata: c\n\n", []ev{{Data: "a", Retry: -1}, {Data: "c", Retry: -1}}},
		{"BOM in a value is kept", "data: \xEF\xBB\xBFa\n\n", []ev{{Data: "\xEF\xBB\xBFa", Retry: -1}}},
		{"part of a BOM is not one", "\xEF\xBBdata: a\n\ndata: b\n\n", []ev{{Data: "b", Retry: -1}}},
		{"escaped double newline in JSON", "data: {\"a\":\"x\\n\\ny\"}\n\n", []ev{{Data: `{"a":"x\n\ny"}`, Retry: -1}}},
	}
	for _, c := range cases {
		for rname, r := range readers(c.in) {
			t.Run(c.name+"/"+rname, func(t *testing.T) {
				got, err := decodeAll(t, r, 0)
				if err != nil {
					t.Fatal(err)
				}
				if len(got) != len(c.want) {
					t.Fatalf("got %d events, want %d: %.200v", len(got), len(c.want), got)
				}
				for i := range got {
					if got[i] != c.want[i] {
						t.Errorf("event %d = %.200v, want %.200v", i, got[i], c.want[i])
					}
				}
			})
		}
	}
}

func TestDecoderLimit(t *testing.T) {
	for name, in := range map[string]string{
		"line over the cap":       "data: " + strings.Repeat("x", 2000) + "\n\n",
		"event over the cap":      strings.Repeat("data: "+strings.Repeat("x", 300)+"\n", 10) + "\n",
		"unterminated over limit": strings.Repeat("x", 5000),
	} {
		t.Run(name, func(t *testing.T) {
			_, err := decodeAll(t, strings.NewReader(in), 1024)
			var tooLarge *EventTooLargeError
			if !errors.As(err, &tooLarge) || tooLarge.Limit != 1024 {
				t.Fatalf("err = %v, want *EventTooLargeError{1024}", err)
			}
			if !strings.Contains(err.Error(), "1024") {
				t.Errorf("message %q does not name the limit", err)
			}
		})
	}
	// Just under the cap is fine.
	got, err := decodeAll(t, strings.NewReader("data: "+strings.Repeat("x", 1000)+"\n\n"), 1024)
	if err != nil || len(got) != 1 {
		t.Fatalf("got %d events, err %v", len(got), err)
	}
}

// TestDecoderLimitAtTheTopOfItsRange: a limit as high as math.MaxInt,
// which NewDecoder and WithMaxEventSize accept, means no practical limit,
// never a crash: the buffer starts small and grows with the longest line.
func TestDecoderLimitAtTheTopOfItsRange(t *testing.T) {
	long := strings.Repeat("x", 100<<10) // over the first buffer: it grows
	for _, limit := range []int{math.MaxInt, math.MaxInt - 1, math.MaxInt/2 + 1} {
		for name, r := range readers("data: a\n\ndata: " + long + "\n\n") {
			got, err := decodeAll(t, r, limit)
			if err != nil || len(got) != 2 || got[0].Data != "a" || got[1].Data != long {
				t.Errorf("limit %d, %s: %d events, err %v", limit, name, len(got), err)
			}
		}
	}
	resp := serve(t, context.Background(), sse("data: "+chunkJSON("a")+"\n\ndata: "+chunkJSON(long)+"\n\ndata: [DONE]\n\n"))
	s := NewStream[gen.ChatCompletionChunk](resp, WithMaxEventSize(math.MaxInt))
	if got := collect(s); len(got) != 2 || got[0] != "a" || got[1] != long || s.Err() != nil {
		t.Errorf("a stream with WithMaxEventSize(math.MaxInt): %d chunks, err %v", len(got), s.Err())
	}
}

func TestDecoderReadError(t *testing.T) {
	boom := errors.New("boom")
	r := io.MultiReader(strings.NewReader("data: a\n\ndata: partial"), iotest.ErrReader(boom))
	got, err := decodeAll(t, r, 0)
	if !errors.Is(err, boom) {
		t.Fatalf("err = %v, want boom", err)
	}
	if len(got) != 1 || got[0].Data != "a" {
		t.Fatalf("events before the error = %v", got)
	}
}

// blockingReader returns its data, then blocks until released.
type blockingReader struct {
	data    []byte
	release chan struct{}
}

func (b *blockingReader) Read(p []byte) (int, error) {
	if len(b.data) > 0 {
		n := copy(p, b.data)
		b.data = b.data[n:]
		return n, nil
	}
	<-b.release
	return 0, io.EOF
}

// TestDecoderDeliversWithoutWaiting: an event is returned as soon as its
// blank line arrives; the decoder must not read ahead (the official TS SDK
// holds each event back until more bytes arrive).
func TestDecoderDeliversWithoutWaiting(t *testing.T) {
	r := &blockingReader{data: []byte("data: first\n\n"), release: make(chan struct{})}
	defer close(r.release)
	d := NewDecoder(r, 0)
	got := make(chan string, 1)
	go func() {
		if d.Next() {
			got <- string(d.Event().Data)
		}
	}()
	select {
	case s := <-got:
		if s != "first" {
			t.Fatalf("got %q", s)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the decoder held the event back waiting for more input")
	}
}

func TestDecoderAllocations(t *testing.T) {
	line := []byte("data: {\"id\":\"chatcmpl-1\",\"choices\":[{\"delta\":{\"content\":\"hi\"}}]}\n\n")
	in := bytes.Repeat(line, 10000)
	r := bytes.NewReader(in)
	d := NewDecoder(r, 0)
	d.Next() // warm up: the buffer is allocated once
	allocs := testing.AllocsPerRun(1000, func() {
		if !d.Next() {
			t.Fatal("ran out of events")
		}
	})
	if allocs != 0 {
		t.Errorf("%.1f allocations per event, want 0", allocs)
	}
}

// FuzzDecoder: any input decodes without panicking, to the same events
// however it is split across reads, and no event's data holds a line ending.
func FuzzDecoder(f *testing.F) {
	for _, s := range []string{
		"data: a\n\n", "data: a\r\n\r\ndata: b\r\r", "event: e\ndata:x\nid: 1\nretry: 5\n\n: c\n",
		"data: héllo 世界\n\ndata", "\r\n\r\r\n\n", "data: [DONE]", "\xEF\xBB\xBFdata: a\n\n", "\xEF\xBB\xBF\xEF\xBB\xBF\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		whole, errW := decodeAll(t, bytes.NewReader(in), 1<<16)
		split, errS := decodeAll(t, iotest.OneByteReader(bytes.NewReader(in)), 1<<16)
		if (errW == nil) != (errS == nil) || len(whole) != len(split) {
			t.Fatalf("whole: %d events, %v; bytewise: %d events, %v", len(whole), errW, len(split), errS)
		}
		for i := range whole {
			if whole[i] != split[i] {
				t.Fatalf("event %d: whole %#v, bytewise %#v", i, whole[i], split[i])
			}
			if strings.ContainsAny(whole[i].Data, "\r") {
				t.Fatalf("event %d data holds a CR: %q", i, whole[i].Data)
			}
		}
	})
}

// FuzzDecoderBOM: a byte order mark at the start of a stream changes
// nothing, however the input is split across reads; one anywhere else is
// data.
func FuzzDecoderBOM(f *testing.F) {
	for _, s := range []string{"data: a\n\n", "\xEF\xBB", "\xEFdata: a\n\n", ": c\ndata: x\r\n\r\n", "", "data: [DONE]", "\xBB\xBF\n\n"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		if bytes.HasPrefix(in, []byte("\xEF\xBB\xBF")) {
			return // its own BOM would be stripped: not the same stream
		}
		plain, errP := decodeAll(t, bytes.NewReader(in), 1<<16)
		withBOM := append([]byte("\xEF\xBB\xBF"), in...)
		for name, r := range map[string]io.Reader{
			"whole":    bytes.NewReader(withBOM),
			"bytewise": iotest.OneByteReader(bytes.NewReader(withBOM)),
		} {
			got, err := decodeAll(t, r, 1<<16)
			if (err == nil) != (errP == nil) || len(got) != len(plain) {
				t.Fatalf("%s: with a BOM %d events, %v; without %d events, %v", name, len(got), err, len(plain), errP)
			}
			for i := range got {
				if got[i] != plain[i] {
					t.Fatalf("%s: event %d with a BOM %#v, without %#v", name, i, got[i], plain[i])
				}
			}
		}
	})
}
