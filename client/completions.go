package client

import (
	"context"

	"github.com/cerebras-go/cerebras/gen"
	"github.com/cerebras-go/cerebras/streaming"
)

// The operations this file's methods send (operation.go).
var (
	opCompletionNew  = &operation{id: "createCompletion", method: "Completions.New", paced: true}
	opCompletionStrm = &operation{id: "createCompletion", method: "Completions.NewStreaming", read: readEvents, paced: true}
)

// CompletionService creates text completions (POST /v1/completions).
type CompletionService struct {
	c *Client
}

// New creates a text completion and waits for the whole response, which has
// at least one choice (a body without choices is a *ResponseError).
// params.Stream must not be true: use NewStreaming.
func (s *CompletionService) New(ctx context.Context, params CompletionNewParams, opts ...Option) (*Completion, error) {
	if params.Stream != nil && *params.Stream {
		return nil, paramError("params.Stream", "Completions.New with Stream set to true: use Completions.NewStreaming to stream")
	}
	if err := validateCompletion(&params); err != nil {
		return nil, err
	}
	cl, resp, err := s.c.post(ctx, opCompletionNew, opts, &params, s.endpoint)
	if cl == nil {
		return nil, err
	}
	return finishPaced(cl, resp, err, func(v *gen.Completion) *Usage { return v.Usage })
}

// NewStreaming creates a text completion and streams it; see
// ChatCompletionService.NewStreaming for the error contract.
func (s *CompletionService) NewStreaming(ctx context.Context, params CompletionNewParams, opts ...Option) (*streaming.Stream[Completion], error) {
	params.Stream = Bool(true)
	if err := validateCompletion(&params); err != nil {
		return nil, err
	}
	cl, resp, err := s.c.post(ctx, opCompletionStrm, opts, &params, s.endpoint)
	if cl == nil {
		return nil, err
	}
	return openStream(s.c, cl, resp, err, func(c *gen.Completion) *Usage { return c.Usage })
}

// endpoint is the client's prebuilt request, or for a call with header
// parameters, the one the generated builder makes with them.
func (s *CompletionService) endpoint(cfg *config) (*endpoint, error) {
	p := cfg.headerParams.createCompletion()
	if p == nil {
		return s.c.completion, nil
	}
	return newEndpoint(gen.NewCreateCompletionRequestWithBody(s.c.server, p, jsonContent, nil))
}

func validateCompletion(p *CompletionNewParams) error {
	if p.Model == "" {
		return paramError("params.Model", "params.Model is empty")
	}
	if b, err := p.Prompt.MarshalJSON(); err != nil || len(b) == 0 || string(b) == "null" {
		return paramError("params.Prompt", "params.Prompt is empty: build it with client.Prompt or client.PromptTokens")
	}
	return nil
}
