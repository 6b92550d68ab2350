package cerebrastest_test

import (
	"bytes"
	"compress/gzip"
	"net/http"
	"strings"
	"testing"

	"github.com/cerebras-go/cerebras/cerebrastest"
)

// chatMsgpack is {"model":"gemma-4-31b","messages":[{"role":"user","content":"Hi"}]}
// in MessagePack, written by hand from the spec's formats.
var chatMsgpack = []byte("\x82" + "\xa5model" + "\xabgemma-4-31b" + "\xa8messages" + "\x91" + "\x82" + "\xa4role" + "\xa4user" + "\xa7content" + "\xa2Hi")

const chatJSONBody = `{"model":"gemma-4-31b","messages":[{"role":"user","content":"Hi"}]}`

func gzipOf(b []byte) []byte {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	_, _ = zw.Write(b)
	_ = zw.Close()
	return buf.Bytes()
}

// TestRequestEncodings: the fake takes chat and text completion bodies as
// JSON or MessagePack, plain or gzip-compressed, answers them from the
// value they carry, and records which encoding arrived and the decoded JSON.
func TestRequestEncodings(t *testing.T) {
	srv, _ := setup(t)
	completionMsgpack := []byte("\x82" + "\xa5model" + "\xabgemma-4-31b" + "\xa6prompt" + "\x93\x01\xcd\x04\xd2\xce\x00\x01\x11\x70") // prompt [1, 1234, 70000]
	for _, tc := range []struct {
		name, path, contentType, contentEncoding string
		body                                     []byte
		encoding, answer                         string
	}{
		{"json", "/v1/chat/completions", "application/json", "", []byte(chatJSONBody), "json", "You said: Hi"},
		{"gzip", "/v1/chat/completions", "application/json", "gzip", gzipOf([]byte(chatJSONBody)), "gzip", "You said: Hi"},
		{"msgpack", "/v1/chat/completions", "application/vnd.msgpack", "", chatMsgpack, "msgpack", "You said: Hi"},
		{"msgpack+gzip", "/v1/chat/completions", "application/vnd.msgpack", "gzip", gzipOf(chatMsgpack), "msgpack+gzip", "You said: Hi"},
		{"msgpack completion", "/v1/completions", "application/vnd.msgpack", "", completionMsgpack, "msgpack", "3 token ids"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := map[string]string{"Content-Type": tc.contentType}
			if tc.contentEncoding != "" {
				h["Content-Encoding"] = tc.contentEncoding
			}
			status, body := post(t, srv, tc.path, string(tc.body), h)
			if status != http.StatusOK || !strings.Contains(body, tc.answer) {
				t.Fatalf("status %d, body %.300s; want 200 with %q", status, body, tc.answer)
			}
			r := srv.Requests()[len(srv.Requests())-1]
			if r.Encoding != tc.encoding || !bytes.Equal(r.Body, tc.body) {
				t.Errorf("recorded encoding %q and %d body bytes; want %q and the %d bytes sent", r.Encoding, len(r.Body), tc.encoding, len(tc.body))
			}
			want := chatJSONBody
			if tc.path == "/v1/completions" {
				want = `{"model":"gemma-4-31b","prompt":[1,1234,70000]}`
			}
			if string(r.DecodedBody) != want {
				t.Errorf("decoded body %s, want %s", r.DecodedBody, want)
			}
		})
	}
}

// TestRequestEncodingErrors: a body that does not decode is answered with
// the error a client can act on, and msgpack is refused where the spec
// does not take it.
func TestRequestEncodingErrors(t *testing.T) {
	srv, _ := setup(t, cerebrastest.WithMaxBodyBytes(4096))
	for _, tc := range []struct {
		name, path string
		header     map[string]string
		body       []byte
		status     int
		want       string
	}{
		{"not gzip", "/v1/chat/completions", map[string]string{"Content-Encoding": "gzip"}, []byte(chatJSONBody), 400, "not valid gzip"},
		{"gzip bomb", "/v1/chat/completions", map[string]string{"Content-Encoding": "gzip"}, gzipOf(make([]byte, 4097)), 413, "once decompressed"},
		{"unknown encoding", "/v1/chat/completions", map[string]string{"Content-Encoding": "br"}, []byte(chatJSONBody), 415, "unsupported_content_encoding"},
		{"bad msgpack", "/v1/chat/completions", map[string]string{"Content-Type": "application/vnd.msgpack"}, chatMsgpack[:10], 400, "Invalid MessagePack"},
		{"msgpack bin", "/v1/chat/completions", map[string]string{"Content-Type": "application/vnd.msgpack"}, []byte{0xc4, 0x01, 0x00}, 400, "not a JSON value"},
		{"msgpack where the spec takes JSON only", "/v1/batches", map[string]string{"Content-Type": "application/vnd.msgpack"},
			[]byte("\x83\xadinput_file_id\xa1f\xa8endpoint\xb4/v1/chat/completions\xb1completion_window\xa324h"), 422, `Content-Type has unexpected value \"application/vnd.msgpack\"`},
		{"an invalid value in msgpack", "/v1/chat/completions", map[string]string{"Content-Type": "application/vnd.msgpack"},
			append([]byte("\x83\xabtemperature\xa3hot"), chatMsgpack[1:]...), 422, "temperature"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			status, body := post(t, srv, tc.path, string(tc.body), tc.header)
			if status != tc.status || !strings.Contains(body, tc.want) {
				t.Errorf("status %d, body %.300s; want %d with %q", status, body, tc.status, tc.want)
			}
		})
	}
}
