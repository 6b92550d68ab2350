package client

import (
	"encoding/json"
	"sync"

	"github.com/cerebras-go/cerebras/gen"
	"github.com/cerebras-go/cerebras/internal/decode"
)

// decoders are the generated single-pass decoders, reused across calls
// and clients (their interned strings: model, object, role).
var decoders = sync.Pool{New: func() any { return new(decode.Decoder) }}

// decodeResponse decodes a response body (an object) into v with the
// results of encoding/json: through the decoder generated from the spec for
// the types it knows, else encoding/json itself. A failure is reported with
// encoding/json's own error, so that callers see one error type whichever
// decoder ran; bad bodies are rare, decoding one twice is cheap.
func decodeResponse[T any](body []byte, v *T) error {
	var err error
	switch p := any(v).(type) {
	case *gen.ChatCompletion:
		d := decoders.Get().(*decode.Decoder)
		err = d.ChatCompletion(body, p)
		release(d)
	case *gen.Completion:
		d := decoders.Get().(*decode.Decoder)
		err = d.Completion(body, p)
		release(d)
	default:
		return json.Unmarshal(body, v)
	}
	if err != nil {
		if jerr := json.Unmarshal(body, new(T)); jerr != nil {
			return jerr
		}
	}
	return err
}

// release returns d to the pool without the body it last read, so that a
// pooled decoder never keeps a response alive.
func release(d *decode.Decoder) {
	d.S.Reset(nil)
	decoders.Put(d)
}
