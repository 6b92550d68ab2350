package cerebrastest

import (
	"encoding/json"
	"fmt"
	"net/http"

	"github.com/cerebras-go/cerebras/gen"
)

// Models the fake serves: Cerebras' public models as of late 2026. Any other
// model id is a 404 model_not_found, as from the real API; so are the retired
// ones (llama3.1-8b, llama-3.3-70b, qwen-3-32b, zai-glm-4.6 and the rest the
// client's Deprecated constants name), since the docs describe no other answer
// for them.
var knownModels = []gen.Model{
	{ID: "gpt-oss-120b", OwnedBy: "OpenAI"},
	{ID: "zai-glm-4.7", OwnedBy: "Z.ai"},
	{ID: "gemma-4-31b", OwnedBy: "Google"},
}

// modelPrices are the prices the fake's catalogue serves, in USD per token
// as decimal strings (the public catalogue's and the openrouter format's
// pricing), and per million tokens as numbers (the huggingface format's).
// They are the fake's own, fixed for tests to compute with, not Cerebras'
// prices, which only the real catalogue tells. zai-glm-4.7 has a price for
// cached prompt tokens; the others have none.
var modelPrices = map[string]struct {
	perToken gen.OpenRouterPricing
	perMtok  gen.HuggingFacePricing
}{
	"gpt-oss-120b": {gen.OpenRouterPricing{Prompt: "0.00000035", Completion: "0.00000075"}, gen.HuggingFacePricing{Input: 0.35, Output: 0.75}},
	"zai-glm-4.7": {gen.OpenRouterPricing{Prompt: "0.00000225", Completion: "0.00000275", InputCacheRead: "0.0000005625"},
		gen.HuggingFacePricing{Input: 2.25, Output: 2.75}},
	"gemma-4-31b": {gen.OpenRouterPricing{Prompt: "0.0000002", Completion: "0.0000004"}, gen.HuggingFacePricing{Input: 0.2, Output: 0.4}},
}

// reasoningModels reason by default.
var reasoningModels = map[string]bool{"gpt-oss-120b": true, "zai-glm-4.7": true}

func knownModel(id string) bool {
	for _, m := range knownModels {
		if m.ID == id {
			return true
		}
	}
	return false
}

func (x *exchange) format() string {
	return x.r.URL.Query().Get("format")
}

func (x *exchange) listModels() {
	var body any
	schema := "ModelList"
	switch x.format() {
	case "openrouter":
		var data []gen.OpenRouterModel
		for _, m := range knownModels {
			data = append(data, openRouterModel(m))
		}
		body, schema = gen.OpenRouterModelList{Data: data}, "OpenRouterModelList"
	case "huggingface":
		var data []gen.HuggingFaceModel
		for _, m := range knownModels {
			data = append(data, huggingFaceModel(m))
		}
		body, schema = gen.HuggingFaceModelList{Data: data}, "HuggingFaceModelList"
	default:
		if x.op == "listPublicModels" {
			var data []gen.PublicModel
			for _, m := range knownModels {
				data = append(data, publicModel(m))
			}
			body, schema = gen.PublicModelList{Object: "list", Data: data}, "PublicModelList"
			break
		}
		var data []gen.Model
		for _, m := range knownModels {
			data = append(data, defaultModel(m))
		}
		body = gen.ModelList{Object: "list", Data: data}
	}
	b, _ := json.Marshal(body)
	x.s.writeJSON(x.w, http.StatusOK, nil, string(b), schema)
}

func (x *exchange) retrieveModel() {
	id := x.params["model_id"]
	for _, m := range knownModels {
		if m.ID != id {
			continue
		}
		var body any = defaultModel(m)
		schema := "Model"
		if x.op == "retrievePublicModel" {
			body, schema = publicModel(m), "PublicModel"
		}
		switch x.format() {
		case "openrouter":
			body, schema = openRouterModel(m), "OpenRouterModel"
		case "huggingface":
			body, schema = huggingFaceModel(m), "HuggingFaceModel"
		}
		b, _ := json.Marshal(body)
		x.s.writeJSON(x.w, http.StatusOK, nil, string(b), schema)
		return
	}
	x.modelNotFound(id)
}

// modelNotFound sends the real API's 404 for an unknown model.
func (x *exchange) modelNotFound(id string) {
	x.fail(http.StatusNotFound, fmt.Sprintf("Model %s does not exist or you do not have access to it.", id), "not_found_error", "model", "model_not_found")
}

func defaultModel(m gen.Model) gen.Model {
	return gen.Model{ID: m.ID, Object: "model", Created: int64(created), OwnedBy: m.OwnedBy}
}

func openRouterModel(m gen.Model) gen.OpenRouterModel {
	return gen.OpenRouterModel{ID: "cerebras/" + m.ID, Name: m.ID, Created: int64(created), ContextLength: 131072,
		MaxOutputLength: 40960, Pricing: modelPrices[m.ID].perToken}
}

func huggingFaceModel(m gen.Model) gen.HuggingFaceModel {
	return gen.HuggingFaceModel{ID: m.ID, Object: "model", Created: int64(created), OwnedBy: m.OwnedBy, ContextLength: 131072,
		Pricing:      modelPrices[m.ID].perMtok,
		Capabilities: gen.ModelCapabilities{FunctionCalling: true, Streaming: true, StructuredOutputs: true, Vision: false}}
}

// publicModel is m as the public catalogue describes it.
func publicModel(m gen.Model) gen.PublicModel {
	return gen.PublicModel{ID: m.ID, Object: "model", Name: m.ID, Created: int64(created), OwnedBy: m.OwnedBy,
		Capabilities: gen.ModelCapabilities{FunctionCalling: true, Streaming: true, StructuredOutputs: true,
			Reasoning: reasoningModels[m.ID], Vision: m.ID == "gemma-4-31b"},
		Limits:  gen.ModelLimits{MaxContextLength: 131072, MaxCompletionTokens: 40960},
		Pricing: modelPrices[m.ID].perToken}
}
