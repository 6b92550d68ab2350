package decode

import (
	"encoding/json"
	"sync"

	"github.com/cerebras-go/cerebras/internal/decodedsize"
	"github.com/cerebras-go/cerebras/internal/rawjson"
)

// decoders are the generated single-pass decoders, reused across calls
// and clients (their interned strings: model, object, role). A body is
// Response's to keep.
var decoders = sync.Pool{New: func() any { return &Decoder{Owned: true} }}

// Response decodes a response body (an object) into v with the results of
// encoding/json: through the decoder generated for T when it has one (For),
// else encoding/json itself. A failure is reported with encoding/json's own
// error, so that callers see one error type whichever decoder ran; bad
// bodies are rare, decoding one twice is cheap. A body whose value would
// take more memory than decodedsize.Limit allows is not decoded: the error
// is a *decodedsize.Error. On success, a T that keeps its JSON (rawjson)
// keeps body itself, for its RawJSON, not a copy: the caller hands body
// over, and must never write to it again (a body read whole, a
// json.RawMessage of its own).
func Response[T any](body []byte, v *T) error {
	if err := decodedsize.Check[T](body); err != nil {
		return err
	}
	fn := For[T]()
	if fn == nil {
		if err := json.Unmarshal(body, v); err != nil {
			return err
		}
		if set := rawjson.Setter[T](); set != nil {
			set(v, rawjson.Kept(body))
		}
		return nil
	}
	d := decoders.Get().(*Decoder)
	err := fn(d, body, v)
	d.S.Reset(nil) // a pooled decoder never keeps a response alive
	decoders.Put(d)
	if err != nil {
		if jerr := json.Unmarshal(body, new(T)); jerr != nil {
			return jerr
		}
	}
	return err
}
