package streaming

import (
	"bytes"
	"errors"
	"github.com/cerebras-go/cerebras/internal/apierror"

	"github.com/cerebras-go/cerebras/gen"
	"github.com/cerebras-go/cerebras/internal/decode"
	"github.com/cerebras-go/cerebras/internal/jsonscan"
)

// SyntaxError reports invalid JSON in an event's data, at a byte offset.
type SyntaxError = jsonscan.SyntaxError

var errNotObject = errors.New("event data is not a JSON object")

// eventDecoder decodes an event's data in one pass with the decoder
// generated from the spec (internal/decode), which gives encoding/json's
// results exactly: the same inputs are invalid, keys match the same fields,
// a repeated key decodes over what the first left, and a value of the wrong
// type is the same *json.UnmarshalTypeError, naming the field and the JSON
// type (never the value), with decoding going on after it. Strings repeated
// in every chunk (id, model, fingerprint, role) are interned. In the same
// pass it reports a non-null top-level "error", so in-band errors cost
// nothing extra.
type eventDecoder[T any] struct {
	d     decode.Decoder
	fn    func(*decode.Decoder, []byte, *T) error
	isErr bool
}

func newEventDecoder[T any](fn func(*decode.Decoder, []byte, *T) error) *eventDecoder[T] {
	e := &eventDecoder[T]{fn: fn}
	e.d.Unknown = e.unknownKey
	// A chunk keeps a copy of its event's data (RawJSON), which decode
	// makes: its text (content, arguments …) is a slice of that copy
	// rather than an allocation of its own, so the copy costs no
	// allocation more, and a chunk the caller keeps holds its own bytes only.
	e.d.Owned, e.d.Share = true, true
	return e
}

func newChunkDecoder() *eventDecoder[gen.ChatCompletionChunk] {
	return newEventDecoder((*decode.Decoder).ChatCompletionChunk)
}

var errorName = []byte("error")

// unknownKey sees the top-level keys that name no field: "error" (matched
// as encoding/json matches keys, the last one winning) marks an in-band
// error unless it is null or false.
func (e *eventDecoder[T]) unknownKey(s *jsonscan.Scanner, key []byte) error {
	if !bytes.EqualFold(key, errorName) {
		return s.SkipValue()
	}
	raw, err := s.Raw()
	e.isErr = err == nil && apierror.MarksError(raw)
	return err
}

func (e *eventDecoder[T]) decode(data []byte, v *T) (isErr bool, err error) {
	e.isErr = false
	data = bytes.Clone(data) // the SSE decoder reuses its buffer
	err = e.fn(&e.d, data, v)
	switch {
	case err == jsonscan.ErrNotObject:
		return false, errNotObject
	case e.isErr && (err == nil || err == e.d.S.Mismatch()):
		return true, nil // a type mismatch elsewhere does not hide the error
	}
	return false, err
}
