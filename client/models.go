package client

import (
	"context"

	"github.com/cerebras-go/cerebras/gen"
)

// ModelService lists and retrieves models (GET /v1/models[/{model_id}]).
type ModelService struct {
	c *Client
}

// List returns every model available to the caller, in the default format.
func (s *ModelService) List(ctx context.Context, opts ...Option) (*ModelList, error) {
	ctx, cl, err := s.c.newCall(ctx, false, opts)
	if err != nil {
		return nil, err
	}
	resp, err := s.c.gen.ListModels(withCall(ctx, cl), cl.cfg.headerParams.listModels(nil))
	return finish[gen.ModelList](cl, resp, err)
}

// ListFormat returns the model list in the given format; read it with the
// union's AsModelList, AsOpenRouterModelList or AsHuggingFaceModelList.
func (s *ModelService) ListFormat(ctx context.Context, format ModelFormat, opts ...Option) (*ModelListResponse, error) {
	ctx, cl, err := s.c.newCall(ctx, false, opts)
	if err != nil {
		return nil, err
	}
	resp, err := s.c.gen.ListModels(withCall(ctx, cl), cl.cfg.headerParams.listModels(&format))
	return finish[gen.ModelListResponse](cl, resp, err)
}

// Get returns one model, in the default format. The id is sent as one path
// segment: "", "." and ".." are refused before sending.
func (s *ModelService) Get(ctx context.Context, id string, opts ...Option) (*Model, error) {
	if err := checkPathID("Models.Get", "model id", id); err != nil {
		return nil, err
	}
	ctx, cl, err := s.c.newCall(ctx, false, opts)
	if err != nil {
		return nil, err
	}
	resp, err := s.c.gen.RetrieveModel(withCall(ctx, cl), id, cl.cfg.headerParams.retrieveModel(nil))
	return finish[gen.Model](cl, resp, err)
}

// GetFormat returns one model in the given format; read it with the union's
// AsModel, AsOpenRouterModel or AsHuggingFaceModel.
func (s *ModelService) GetFormat(ctx context.Context, id string, format ModelFormat, opts ...Option) (*ModelResponse, error) {
	if err := checkPathID("Models.GetFormat", "model id", id); err != nil {
		return nil, err
	}
	ctx, cl, err := s.c.newCall(ctx, false, opts)
	if err != nil {
		return nil, err
	}
	resp, err := s.c.gen.RetrieveModel(withCall(ctx, cl), id, cl.cfg.headerParams.retrieveModel(&format))
	return finish[gen.ModelResponse](cl, resp, err)
}

// ListPublic returns Cerebras' public model catalogue (GET
// /public/v1/models): every public model with its capabilities, limits and
// prices. The request carries no API key, whatever the client's.
func (s *ModelService) ListPublic(ctx context.Context, opts ...Option) (*PublicModelList, error) {
	ctx, cl, err := s.publicCall(ctx, opts)
	if err != nil {
		return nil, err
	}
	resp, err := s.c.gen.ListPublicModels(withCall(ctx, cl), &gen.ListPublicModelsParams{})
	return finish[gen.PublicModelList](cl, resp, err)
}

// GetPublic returns one model of the public catalogue (GET
// /public/v1/models/{model_id}), without the API key. The id is sent as one
// path segment: "", "." and ".." are refused before sending.
func (s *ModelService) GetPublic(ctx context.Context, id string, opts ...Option) (*PublicModel, error) {
	if err := checkPathID("Models.GetPublic", "model id", id); err != nil {
		return nil, err
	}
	ctx, cl, err := s.publicCall(ctx, opts)
	if err != nil {
		return nil, err
	}
	resp, err := s.c.gen.RetrievePublicModel(withCall(ctx, cl), id, &gen.RetrievePublicModelParams{})
	return finish[gen.PublicModel](cl, resp, err)
}

// publicCall is newCall for an endpoint without security: the call's
// configuration drops the Authorization header (a header the caller sets
// with WithHeader still goes).
func (s *ModelService) publicCall(ctx context.Context, opts []Option) (context.Context, *call, error) {
	ctx, cl, err := s.c.newCall(ctx, false, opts)
	if err != nil {
		return nil, nil, err
	}
	cl.cfg.authHeader = nil // cl.cfg is the call's own copy
	return ctx, cl, nil
}

func (h headerParams) listModels(f *ModelFormat) *gen.ListModelsParams {
	return &gen.ListModelsParams{Format: f, CFRAY: h.cfRay, XAmzCfID: h.amzCfID, XCerebrasVersionPatch: h.versionPatch}
}

func (h headerParams) retrieveModel(f *ModelFormat) *gen.RetrieveModelParams {
	return &gen.RetrieveModelParams{Format: f, CFRAY: h.cfRay, XAmzCfID: h.amzCfID, XCerebrasVersionPatch: h.versionPatch}
}

// Model ids. The list is not exhaustive and not checked: any string the API
// accepts works as a model, and new models need no SDK update.
const (
	// ModelGPTOSS120B is OpenAI's gpt-oss-120b, a reasoning model.
	ModelGPTOSS120B = "gpt-oss-120b"
	// ModelZaiGLM47 is Z.ai's GLM 4.7 (preview).
	ModelZaiGLM47 = "zai-glm-4.7"
	// ModelGemma431B is Google's Gemma 4 31B, the model that takes image
	// inputs (as base64 data URIs).
	ModelGemma431B = "gemma-4-31b"
)

// Retired model ids, kept so that code naming them still compiles. The API
// refuses them.
const (
	// Deprecated: retired by Cerebras on 2026-05-27; use ModelGPTOSS120B.
	ModelLlama318B = "llama3.1-8b"
	// Deprecated: retired by Cerebras on 2026-02-16; use ModelGPTOSS120B.
	ModelLlama3370B = "llama-3.3-70b"
	// Deprecated: retired by Cerebras on 2026-02-16; use ModelGPTOSS120B.
	ModelQwen332B = "qwen-3-32b"
	// Deprecated: retired by Cerebras on 2026-05-27; use ModelGPTOSS120B.
	ModelQwen3235B = "qwen-3-235b-a22b-instruct-2507"
	// Deprecated: no longer among Cerebras' public models by late 2026; use ModelGPTOSS120B.
	ModelQwen3Coder = "qwen-3-coder-480b"
	// Deprecated: no longer among Cerebras' public models by late 2026; use ModelGPTOSS120B.
	ModelQwen3235BTh = "qwen-3-235b-a22b-thinking-2507"
	// Deprecated: retired by Cerebras on 2026-01-20; use ModelZaiGLM47.
	ModelZaiGLM46 = "zai-glm-4.6"
)
