package cerebrastest

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"mime"
	"net/http"

	"github.com/cerebras-go/cerebras/internal/msgpack"
)

// msgpackContent is the media type of a MessagePack body, which chat and
// text completions take (openapi.yaml: the API's payload optimisation).
const msgpackContent = "application/vnd.msgpack"

// mediaType is the request's Content-Type without parameters, lower-case.
func mediaType(h http.Header) string {
	mt, _, _ := mime.ParseMediaType(h.Get("Content-Type"))
	return mt
}

// bodyEncoding names how a JSON value's body arrived, as Request.Encoding
// says.
func bodyEncoding(h http.Header, body []byte) string {
	if len(body) == 0 {
		return ""
	}
	var enc string
	switch mediaType(h) {
	case "application/json":
		enc = "json"
	case msgpackContent:
		enc = "msgpack"
	default:
		return ""
	}
	if h.Get("Content-Encoding") == "gzip" {
		if enc == "json" {
			return "gzip"
		}
		return enc + "+gzip"
	}
	return enc
}

// decodeError is the answer to a body that cannot be decoded.
type decodeError struct {
	status    int
	code, msg string
}

// decodeBody undoes the body's Content-Encoding (gzip, inflating at most
// limit bytes) and turns MessagePack into JSON, so that a body is validated
// and read as the JSON value it carries.
func decodeBody(h http.Header, body []byte, limit int64) ([]byte, *decodeError) {
	switch ce := h.Get("Content-Encoding"); ce {
	case "", "identity":
	case "gzip":
		zr, err := gzip.NewReader(bytes.NewReader(body))
		if err != nil {
			return nil, &decodeError{http.StatusBadRequest, "invalid_body", "The body is not valid gzip: " + err.Error()}
		}
		inflated, err := io.ReadAll(io.LimitReader(zr, limit+1))
		if err != nil {
			return nil, &decodeError{http.StatusBadRequest, "invalid_body", "The body is not valid gzip: " + err.Error()}
		}
		if int64(len(inflated)) > limit {
			return nil, &decodeError{http.StatusRequestEntityTooLarge, "request_too_large", fmt.Sprintf("Request body exceeds the limit of %d bytes once decompressed.", limit)}
		}
		body = inflated
	default:
		return nil, &decodeError{http.StatusUnsupportedMediaType, "unsupported_content_encoding", fmt.Sprintf("Content-Encoding %q is not supported: send gzip or none.", ce)}
	}
	if mediaType(h) == msgpackContent && len(body) > 0 {
		js, err := msgpack.ToJSON(make([]byte, 0, 2*len(body)), body)
		if err != nil {
			return nil, &decodeError{http.StatusBadRequest, "invalid_body", "Invalid MessagePack body: " + err.Error()}
		}
		body = js
	}
	return body, nil
}
