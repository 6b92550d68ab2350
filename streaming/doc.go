// Package streaming decodes server-sent event streams from the Cerebras
// Inference API into typed values: a strict, allocation-free SSE Decoder, a
// generic Stream, and a ChatCompletionAccumulator that folds chat chunks into
// a complete completion.
//
// Streams never lose or hide data: `data: [DONE]` ends a stream cleanly; an
// error event inside the stream ends it with the same *client.APIError type as
// an HTTP error; a stream that ends before `[DONE]`, wherever it was cut,
// fails with ErrTruncated; an optional idle timeout turns a stalled server,
// even one that keeps sending keep-alives (but not the caller's own pauses),
// into ErrIdleTimeout. One event never costs more than a small multiple of
// its size: one that would decode into more than 4 times its bytes plus 64
// KiB fails with an *EventTooLargeError.
//
// Each chunk keeps the JSON of its event, which its RawJSON method returns
// (so does any element type with that method): a copy of its own, which its
// text (content, reasoning, tool-call arguments) shares instead of being
// allocated apart, so a chunk kept after the stream holds its own bytes,
// not the stream's buffers. (A text with escapes is unescaped into a 2 KiB
// room that a few chunks share.)
// ChatCompletionAccumulator copies what it keeps.
//
// Package client returns these streams from its streaming calls:
//
//	stream, err := c.Chat.Completions.NewStreaming(ctx, params)
//	if err != nil {
//		return err
//	}
//	for chunk, err := range stream.All() {
//		if err != nil {
//			return err
//		}
//		for _, choice := range chunk.Choices {
//			fmt.Print(choice.Delta.Content) // "" on chunks without content
//		}
//	}
package streaming
