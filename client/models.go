package client

import (
	"context"
	"net/http"

	"github.com/cerebras-go/cerebras/gen"
)

// The operations this file's methods send (operation.go).
var (
	opModelsList      = &operation{id: "listModels", method: "Models.List"}
	opModelsGet       = &operation{id: "retrieveModel", method: "Models.Get"}
	opModelsPublic    = &operation{id: "listPublicModels", method: "Models.ListPublic"}
	opModelsGetPublic = &operation{id: "retrievePublicModel", method: "Models.GetPublic"}
)

// ModelService lists and retrieves models (GET /v1/models[/{model_id}]).
type ModelService struct {
	c *Client
}

// List returns every model available to the caller, in the default format.
func (s *ModelService) List(ctx context.Context, opts ...Option) (*ModelList, error) {
	return get[gen.ModelList](s.c, ctx, opModelsList, opts, func(cfg *config, server string) (*http.Request, error) {
		p := cfg.headerParams.listModels()
		return gen.NewListModelsRequest(server, &p)
	})
}

// ListFormat returns the model list in the given format; read it with the
// union's AsModelList, AsOpenRouterModelList or AsHuggingFaceModelList.
func (s *ModelService) ListFormat(ctx context.Context, format ModelFormat, opts ...Option) (*ModelListResponse, error) {
	return get[gen.ModelListResponse](s.c, ctx, opModelsList, opts, func(cfg *config, server string) (*http.Request, error) {
		p := cfg.headerParams.listModels()
		p.Format = &format
		return gen.NewListModelsRequest(server, &p)
	})
}

// Get returns one model, in the default format. The id is sent as one path
// segment: "", "." and ".." are refused before sending.
func (s *ModelService) Get(ctx context.Context, id string, opts ...Option) (*Model, error) {
	if err := checkPathID("Models.Get", "model id", id); err != nil {
		return nil, err
	}
	return get[gen.Model](s.c, ctx, opModelsGet, opts, func(cfg *config, server string) (*http.Request, error) {
		p := cfg.headerParams.retrieveModel()
		return gen.NewRetrieveModelRequest(server, id, &p)
	})
}

// GetFormat returns one model in the given format; read it with the union's
// AsModel, AsOpenRouterModel or AsHuggingFaceModel.
func (s *ModelService) GetFormat(ctx context.Context, id string, format ModelFormat, opts ...Option) (*ModelResponse, error) {
	if err := checkPathID("Models.GetFormat", "model id", id); err != nil {
		return nil, err
	}
	return get[gen.ModelResponse](s.c, ctx, opModelsGet, opts, func(cfg *config, server string) (*http.Request, error) {
		p := cfg.headerParams.retrieveModel()
		p.Format = &format
		return gen.NewRetrieveModelRequest(server, id, &p)
	})
}

// ListPublic returns Cerebras' public model catalogue (GET
// /public/v1/models): every public model with its capabilities, limits and
// prices. The request carries no API key, whatever the client's (a header
// the caller sets with WithHeader still goes).
func (s *ModelService) ListPublic(ctx context.Context, opts ...Option) (*PublicModelList, error) {
	return get[gen.PublicModelList](s.c, ctx, opModelsPublic, opts, func(cfg *config, server string) (*http.Request, error) {
		cfg.authHeader = nil // the call's own copy
		return gen.NewListPublicModelsRequest(server, &gen.ListPublicModelsParams{})
	})
}

// GetPublic returns one model of the public catalogue (GET
// /public/v1/models/{model_id}), without the API key. The id is sent as one
// path segment: "", "." and ".." are refused before sending.
func (s *ModelService) GetPublic(ctx context.Context, id string, opts ...Option) (*PublicModel, error) {
	if err := checkPathID("Models.GetPublic", "model id", id); err != nil {
		return nil, err
	}
	return get[gen.PublicModel](s.c, ctx, opModelsGetPublic, opts, func(cfg *config, server string) (*http.Request, error) {
		cfg.authHeader = nil // the call's own copy
		return gen.NewRetrievePublicModelRequest(server, id, &gen.RetrievePublicModelParams{})
	})
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
