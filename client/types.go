package client

import "github.com/cerebras-go/cerebras/gen"

// The request and response types are the ones generated from openapi.yaml
// (package gen); these aliases let users name them without importing gen.
type (
	// ChatCompletionNewParams is the body of a chat completion request.
	ChatCompletionNewParams = gen.ChatCompletionRequest
	// ChatCompletion is a chat completion response.
	ChatCompletion = gen.ChatCompletion
	// ChatCompletionChunk is one event of a streamed chat completion.
	ChatCompletionChunk = gen.ChatCompletionChunk
	// ChatCompletionMessage is the message a completion choice carries.
	ChatCompletionMessage = gen.ChatCompletionMessage
	// ChatMessage is one message of a conversation (built with SystemMessage,
	// UserMessage, AssistantMessage, ToolMessage …).
	ChatMessage = gen.ChatMessage
	// ContentPart is one part of a message's content (TextPart, ImageURLPart, ImagePart).
	ContentPart = gen.ContentPart
	// Tool is a tool the model may call (FunctionTool, FunctionToolFor).
	Tool = gen.Tool
	// ToolCall is a tool call in a response.
	ToolCall = gen.ToolCall
	// ToolChoice controls tool calling (ToolChoiceAuto …).
	ToolChoice = gen.ToolChoice
	// ResponseFormat controls the output format (ResponseFormatJSONSchema …).
	ResponseFormat = gen.ResponseFormat
	// StopSequences are where generation stops (Stop).
	StopSequences = gen.StopSequences
	// FinishReason says why a choice stopped.
	FinishReason = gen.FinishReason
	// Usage is the token usage of a request.
	Usage = gen.Usage
	// TimeInfo is the timing of a request.
	TimeInfo = gen.TimeInfo
	// CompletionNewParams is the body of a text completion request.
	CompletionNewParams = gen.CompletionRequest
	// CompletionPrompt is a text completion prompt (Prompt, PromptTokens).
	CompletionPrompt = gen.CompletionPrompt
	// Completion is a text completion response, or one event of a stream.
	Completion = gen.Completion
	// Model is a model in the default format.
	Model = gen.Model
	// ModelList is the model list in the default format.
	ModelList = gen.ModelList
	// ModelFormat selects the shape of model responses.
	ModelFormat = gen.ModelFormat
)

// Some model ids. The list is not exhaustive and not checked: any string the
// API accepts works as a model.
const (
	ModelGPTOSS120B  = "gpt-oss-120b"
	ModelZaiGLM47    = "zai-glm-4.7"
	ModelLlama318B   = "llama3.1-8b"
	ModelLlama3370B  = "llama-3.3-70b"
	ModelQwen332B    = "qwen-3-32b"
	ModelQwen3Coder  = "qwen-3-coder-480b"
	ModelQwen3235B   = "qwen-3-235b-a22b-instruct-2507"
	ModelQwen3235BTh = "qwen-3-235b-a22b-thinking-2507"
)
