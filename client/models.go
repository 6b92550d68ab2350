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
func (s *ModelService) ListFormat(ctx context.Context, format ModelFormat, opts ...Option) (*gen.ModelListResponse, error) {
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
func (s *ModelService) GetFormat(ctx context.Context, id string, format ModelFormat, opts ...Option) (*gen.ModelResponse, error) {
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

func (h headerParams) listModels(f *ModelFormat) *gen.ListModelsParams {
	return &gen.ListModelsParams{Format: f, CFRAY: h.cfRay, XAmzCfID: h.amzCfID, XCerebrasVersionPatch: h.versionPatch}
}

func (h headerParams) retrieveModel(f *ModelFormat) *gen.RetrieveModelParams {
	return &gen.RetrieveModelParams{Format: f, CFRAY: h.cfRay, XAmzCfID: h.amzCfID, XCerebrasVersionPatch: h.versionPatch}
}
