package decode

import (
	"encoding/json"
	"sync"

	"github.com/cerebras-go/cerebras/internal/decodedsize"
)

// decoders are the generated single-pass decoders, reused across calls
// and clients (their interned strings: model, object, role).
var decoders = sync.Pool{New: func() any { return new(Decoder) }}

// Response decodes a response body (an object) into v with the results of
// encoding/json: through the decoder generated for T when it has one (For),
// else encoding/json itself. A failure is reported with encoding/json's own
// error, so that callers see one error type whichever decoder ran; bad
// bodies are rare, decoding one twice is cheap. A body whose value would
// take more memory than decodedsize.Limit allows is not decoded: the error
// is a *decodedsize.Error.
func Response[T any](body []byte, v *T) error {
	if err := decodedsize.Check[T](body); err != nil {
		return err
	}
	fn := For[T]()
	if fn == nil {
		return json.Unmarshal(body, v)
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
