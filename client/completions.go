package client

import (
	"context"
	"io"
	"net/http"

	"github.com/cerebras-go/cerebras/gen"
	"github.com/cerebras-go/cerebras/streaming"
)

// CompletionService creates text completions (POST /v1/completions).
type CompletionService struct {
	c *Client
}

// New creates a text completion and waits for the whole response.
// params.Stream must not be true: use NewStreaming.
func (s *CompletionService) New(ctx context.Context, params CompletionNewParams, opts ...Option) (*Completion, error) {
	if params.Stream != nil && *params.Stream {
		return nil, paramError("params.Stream", "Completions.New with Stream set to true: use Completions.NewStreaming to stream")
	}
	if err := validateCompletion(&params); err != nil {
		return nil, err
	}
	cl, resp, err := s.c.post(ctx, false, opts, &params, s.send)
	if cl == nil {
		return nil, err
	}
	return finish[gen.Completion](cl, resp, err)
}

// NewStreaming creates a text completion and streams it; see
// ChatCompletionService.NewStreaming for the error contract.
func (s *CompletionService) NewStreaming(ctx context.Context, params CompletionNewParams, opts ...Option) (*streaming.Stream[Completion], error) {
	params.Stream = Bool(true)
	if err := validateCompletion(&params); err != nil {
		return nil, err
	}
	cl, resp, err := s.c.post(ctx, true, opts, &params, s.send)
	if cl == nil {
		return nil, err
	}
	return openStream[gen.Completion](cl, resp, err)
}

func (s *CompletionService) send(ctx context.Context, cfg *config, body io.Reader) (*http.Response, error) {
	return s.c.gen.CreateCompletionWithBody(ctx, cfg.headerParams.completion(), "application/json", body)
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

func (h headerParams) completion() *gen.CreateCompletionParams {
	if h == (headerParams{}) {
		return nil
	}
	return &gen.CreateCompletionParams{
		CFRAY: h.cfRay, XAmzCfID: h.amzCfID, XDelayTime: h.delayTime, XCerebrasVersionPatch: h.versionPatch,
	}
}
