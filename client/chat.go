package client

import (
	"context"

	"github.com/cerebras-go/cerebras/gen"
	"github.com/cerebras-go/cerebras/internal/check"
	"github.com/cerebras-go/cerebras/streaming"
)

// The operations this file's methods send (operation.go).
var (
	opChatNew    = &operation{id: "createChatCompletion", method: "Chat.Completions.New", paced: true}
	opChatStream = &operation{id: "createChatCompletion", method: "Chat.Completions.NewStreaming", read: readEvents, paced: true}
)

// ChatService groups the chat endpoints.
type ChatService struct {
	// Completions creates chat completions.
	Completions *ChatCompletionService
}

// ChatCompletionService creates chat completions (POST /v1/chat/completions).
type ChatCompletionService struct {
	c *Client
}

// New creates a chat completion and waits for the whole response, which
// has at least one choice: resp.Choices[0] is safe (a body without choices
// is a *ResponseError).
//
// params.Stream must not be true: use NewStreaming for a stream. Errors:
// *APIError for an error status (after retries), *ConnectionError or
// *TimeoutError when no response arrived, *ResponseError for a malformed
// response, *ResponseTooLargeError for one longer than WithMaxResponseSize
// allows, and the context's error when it is done.
func (s *ChatCompletionService) New(ctx context.Context, params ChatCompletionNewParams, opts ...Option) (*ChatCompletion, error) {
	if params.Stream != nil && *params.Stream {
		return nil, paramError("params.Stream", "Chat.Completions.New with Stream set to true: use Chat.Completions.NewStreaming to stream")
	}
	if err := validateChat(&params); err != nil {
		return nil, err
	}
	cl, resp, err := s.c.post(ctx, opChatNew, opts, &params, s.endpoint)
	if cl == nil {
		return nil, err
	}
	return finishPaced(cl, resp, err, func(v *gen.ChatCompletion) *Usage { return v.Usage })
}

// NewStreaming creates a chat completion and streams it. An error status, a
// failure before the response headers (retried like any call) or a bad
// request is returned at once; errors during the stream come from the
// stream's Err (or its All iterator). A stream that fails before its first
// event (the connection breaks, the idle timeout fires, the body ends, or
// an error event with a retryable status_code arrives) is sent again within
// the same retry budget, during the first Next, where Close aborts it; once
// an event was delivered a failure ends the stream, since a retry would
// repeat text. Out of retries, such a failure is a *ConnectionError that
// counts the attempts (and wraps streaming.ErrTruncated or ErrIdleTimeout),
// or the error event's *APIError. The caller must Close the stream or run it
// to its end.
//
//	stream, err := c.Chat.Completions.NewStreaming(ctx, params)
//	if err != nil { return err }
//	for chunk, err := range stream.All() { … }
func (s *ChatCompletionService) NewStreaming(ctx context.Context, params ChatCompletionNewParams, opts ...Option) (*streaming.Stream[ChatCompletionChunk], error) {
	params.Stream = Bool(true)
	if err := validateChat(&params); err != nil {
		return nil, err
	}
	cl, resp, err := s.c.post(ctx, opChatStream, opts, &params, s.endpoint)
	if cl == nil {
		return nil, err
	}
	return openStream(s.c, cl, resp, err, func(c *gen.ChatCompletionChunk) *Usage { return c.Usage })
}

// endpoint is the client's prebuilt request, or for a call with header
// parameters, the one the generated builder makes with them.
func (s *ChatCompletionService) endpoint(cfg *config) (*endpoint, error) {
	p := cfg.headerParams.createChatCompletion()
	if p == nil {
		return s.c.chat, nil
	}
	return newEndpoint(gen.NewCreateChatCompletionRequestWithBody(s.c.server, p, jsonContent, nil))
}

// validateChat refuses params the SDK cannot send (check.Chat).
func validateChat(p *ChatCompletionNewParams) error {
	if pr := check.Chat(p); pr != nil {
		return &ParamError{Param: pr.Param, Message: pr.Message}
	}
	return nil
}
