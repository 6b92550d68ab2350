package client

import (
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"sync"

	"github.com/cerebras-go/cerebras/internal/msgpack"
)

// RequestEncoding is how the body of a chat or text completion request
// travels (the API's payload optimisation): JSON or MessagePack, each
// plain or gzip-compressed, or chosen per request by size (auto). See
// WithRequestEncoding.
type RequestEncoding string

// The request encodings.
const (
	// RequestEncodingAuto, the default, sends a body under
	// AutoEncodingMinSize bytes of JSON as plain JSON, byte for byte what
	// RequestEncodingJSON sends; a larger one gzip-compressed, and a text
	// completion prompted with token ids as MessagePack, gzip-compressed.
	RequestEncodingAuto RequestEncoding = "auto"
	// RequestEncodingJSON sends plain JSON (Content-Type: application/json).
	RequestEncodingJSON RequestEncoding = "json"
	// RequestEncodingGzip sends gzip-compressed JSON (Content-Encoding: gzip).
	RequestEncodingGzip RequestEncoding = "gzip"
	// RequestEncodingMsgpack sends the JSON value as MessagePack
	// (Content-Type: application/vnd.msgpack).
	RequestEncodingMsgpack RequestEncoding = "msgpack"
	// RequestEncodingMsgpackGzip sends MessagePack, gzip-compressed.
	RequestEncodingMsgpackGzip RequestEncoding = "msgpack+gzip"
)

// DefaultRequestEncoding is the encoding of chat and text completion
// bodies unless WithRequestEncoding says otherwise.
const DefaultRequestEncoding = RequestEncodingAuto

// AutoEncodingMinSize is the size of the JSON body from which
// RequestEncodingAuto compresses it. Below it, compressing costs more time
// than it saves: measured through a 20 Mbit/s uplink, gzip starts to win
// at about 2.5 KiB, where it first saves a TCP segment, and through a
// 100 Mbit/s one between 8 and 16 KiB; 4 KiB wins on the slower link and
// costs a fraction of a millisecond on the faster (BENCHMARKS.md,
// "Request encoding").
const AutoEncodingMinSize = 4096

// WithRequestEncoding sets how chat and text completion bodies are sent
// (default DefaultRequestEncoding, auto). MessagePack carries exactly the
// JSON value, with one exception: an integer outside the 64-bit range
// (possible only through WithExtraBody or raw JSON) has no MessagePack
// form, so RequestEncodingMsgpack and RequestEncodingMsgpackGzip refuse
// it with a *ParamError before sending, and auto sends such a body as
// gzip-compressed JSON. The body is encoded once: retries send the same
// bytes and headers. Pacing estimates from the JSON's size whatever the
// encoding. A gateway that takes neither MessagePack nor gzip needs
// RequestEncodingJSON.
//
// It applies to chat and text completions only: another call given it
// fails with a *ParamError, and a client option applies it only to those.
// An unknown encoding is a *ParamError.
func WithRequestEncoding(e RequestEncoding) Option {
	return func(c *config) error {
		switch e {
		case RequestEncodingAuto, RequestEncodingJSON, RequestEncodingGzip, RequestEncodingMsgpack, RequestEncodingMsgpackGzip:
		default:
			return paramError("WithRequestEncoding", "unknown request encoding %q: want one of auto, json, gzip, msgpack, msgpack+gzip", string(e))
		}
		c.set |= optRequestEncoding
		c.encoding = e
		return nil
	}
}

// Wire values of the encodings.
const (
	msgpackContent = "application/vnd.msgpack"
	gzipEncoding   = "gzip"
)

// payload is a request body as it is sent.
type payload struct {
	body []byte
	size int             // of the JSON, before any other encoding: pacing estimates from it
	enc  RequestEncoding // never auto: what auto chose
}

// encode turns the JSON body of an operation into what its call sends:
// unchanged unless the operation takes a request encoding.
func encode(cl *call, js []byte) (payload, error) {
	p := payload{body: js, size: len(js), enc: RequestEncodingJSON}
	if cl.op.allows()&optRequestEncoding == 0 {
		return p, nil
	}
	enc := cl.cfg.encoding
	if enc == RequestEncodingAuto {
		enc = autoEncoding(js, cl.op.id == opCompletionNew.id)
	}
	switch enc {
	case RequestEncodingJSON:
		return p, nil
	case RequestEncodingMsgpack, RequestEncodingMsgpackGzip:
		mp, err := msgpack.FromJSON(make([]byte, 0, len(js)), js)
		switch {
		case err != nil && cl.cfg.encoding == RequestEncodingAuto && errors.Is(err, msgpack.ErrRange):
			enc = RequestEncodingGzip // the one value msgpack cannot carry: send the JSON
		case err != nil:
			return payload{}, &ParamError{Param: "WithRequestEncoding", Message: fmt.Sprintf("%s cannot carry the request exactly: %v", enc, err), Err: err}
		default:
			p.body = mp
		}
	}
	if enc == RequestEncodingGzip || enc == RequestEncodingMsgpackGzip {
		z, err := gzipped(p.body)
		if err != nil {
			return payload{}, fmt.Errorf("cerebras: compressing the request: %w", err)
		}
		p.body = z
	}
	p.enc = enc
	return p, nil
}

// autoEncoding is auto's choice for a JSON body: plain under
// AutoEncodingMinSize; above it gzip, after msgpack for a text completion
// prompted with token ids, whose numbers msgpack writes in fewer bytes.
func autoEncoding(js []byte, completion bool) RequestEncoding {
	switch {
	case len(js) < AutoEncodingMinSize:
		return RequestEncodingJSON
	case completion && tokenPrompt(js):
		return RequestEncodingMsgpackGzip
	}
	return RequestEncodingGzip
}

// tokenPrompt reports whether a request body's top-level "prompt" is a
// list of token ids, or of lists of them. js is json.Marshal's output of a
// text completion, whose first "prompt" key is the top-level one: a
// "prompt" inside a string is written \"prompt\".
func tokenPrompt(js []byte) bool {
	i := bytes.Index(js, []byte(`"prompt":[`))
	if i < 0 {
		return false
	}
	rest := bytes.TrimLeft(js[i+len(`"prompt":[`):], "[")
	return len(rest) > 0 && (rest[0] == '-' || rest[0] >= '0' && rest[0] <= '9')
}

// gzipWriters keeps compressors between requests: a new one allocates
// about a megabyte of tables, which would cost more than compressing a
// small body.
var gzipWriters = sync.Pool{New: func() any {
	zw, _ := gzip.NewWriterLevel(nil, gzip.BestSpeed)
	return zw
}}

// gzipped compresses b at gzip.BestSpeed: the point is the time to the
// first token, and through a 20 Mbit/s uplink level 4 (16 % fewer bytes
// than level 1 on Go source) was no faster, and through loopback twice as
// slow (BENCHMARKS.md).
func gzipped(b []byte) ([]byte, error) {
	var buf bytes.Buffer
	buf.Grow(len(b)/3 + 64)
	zw := gzipWriters.Get().(*gzip.Writer)
	defer gzipWriters.Put(zw)
	zw.Reset(&buf)
	if _, err := zw.Write(b); err != nil {
		return nil, err
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// withEncoding returns the endpoint whose headers announce enc: e itself
// for JSON, else a copy with its own header.
func (e *endpoint) withEncoding(enc RequestEncoding) *endpoint {
	if enc == RequestEncodingJSON {
		return e
	}
	n := *e
	n.header = e.header.Clone()
	if enc == RequestEncodingMsgpack || enc == RequestEncodingMsgpackGzip {
		n.header.Set("Content-Type", msgpackContent)
	}
	if enc == RequestEncodingGzip || enc == RequestEncodingMsgpackGzip {
		n.header.Set("Content-Encoding", gzipEncoding)
	}
	return &n
}
