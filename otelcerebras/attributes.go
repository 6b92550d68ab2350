package otelcerebras

import "go.opentelemetry.io/otel/attribute"

// The attribute keys this package emits. The gen_ai.* keys are those of the
// OpenTelemetry GenAI semantic conventions, declared here rather than taken
// from a semconv package: go.opentelemetry.io/otel/semconv has no GenAI
// identifiers after v1.41.0, and Generation 2 (semantic-conventions-genai)
// has no Go package at all, so keeping both generations in one list is the
// one way to emit both from one place. The cerebras.* keys are this
// vendor's, following the conventions' vendor-prefix pattern.
const (
	// Generation 1 (semconv ≤ v1.41.0) span and metric attributes.
	keyOperationName          = attribute.Key("gen_ai.operation.name")
	keyProviderName           = attribute.Key("gen_ai.provider.name")
	keyRequestModel           = attribute.Key("gen_ai.request.model")
	keyRequestMaxTokens       = attribute.Key("gen_ai.request.max_tokens")
	keyRequestTemperature     = attribute.Key("gen_ai.request.temperature")
	keyRequestTopP            = attribute.Key("gen_ai.request.top_p")
	keyRequestFrequencyPen    = attribute.Key("gen_ai.request.frequency_penalty")
	keyRequestPresencePen     = attribute.Key("gen_ai.request.presence_penalty")
	keyRequestStopSequences   = attribute.Key("gen_ai.request.stop_sequences")
	keyRequestSeed            = attribute.Key("gen_ai.request.seed")
	keyRequestChoiceCount     = attribute.Key("gen_ai.request.choice.count")
	keyRequestStream          = attribute.Key("gen_ai.request.stream")
	keyResponseID             = attribute.Key("gen_ai.response.id")
	keyResponseModel          = attribute.Key("gen_ai.response.model")
	keyResponseFinishReasons  = attribute.Key("gen_ai.response.finish_reasons")
	keyResponseTimeToFirst    = attribute.Key("gen_ai.response.time_to_first_chunk")
	keyUsageInputTokens       = attribute.Key("gen_ai.usage.input_tokens")
	keyUsageOutputTokens      = attribute.Key("gen_ai.usage.output_tokens")
	keyUsageCacheReadTokens   = attribute.Key("gen_ai.usage.cache_read.input_tokens")
	keyUsageReasoningTokens   = attribute.Key("gen_ai.usage.reasoning.output_tokens")
	keyTokenType              = attribute.Key("gen_ai.token.type")
	keyInputMessages          = attribute.Key("gen_ai.input.messages")
	keyOutputMessages         = attribute.Key("gen_ai.output.messages")
	keyToolName               = attribute.Key("gen_ai.tool.name")
	keyToolCallID             = attribute.Key("gen_ai.tool.call.id")
	keyToolType               = attribute.Key("gen_ai.tool.type")
	keyToolCallArguments      = attribute.Key("gen_ai.tool.call.arguments")
	keyToolCallResult         = attribute.Key("gen_ai.tool.call.result")
	keyServerAddress          = attribute.Key("server.address")
	keyServerPort             = attribute.Key("server.port")
	keyErrorType              = attribute.Key("error.type")
	keyHTTPResponseStatusCode = attribute.Key("http.response.status_code")

	// Generation 2 (semantic-conventions-genai v0.1.0) additions, emitted
	// besides the Generation 1 span attributes under the opt-in.
	keyRequestReasoningLevel = attribute.Key("gen_ai.request.reasoning.level")
	keyUsageImageInputTokens = attribute.Key("gen_ai.usage.image.input_tokens")
	keyTokenModality         = attribute.Key("gen_ai.token.modality")

	// Cerebras' own.
	keyQueueTime             = attribute.Key("cerebras.time_info.queue_time")
	keyPromptTime            = attribute.Key("cerebras.time_info.prompt_time")
	keyCompletionTime        = attribute.Key("cerebras.time_info.completion_time")
	keyTotalTime             = attribute.Key("cerebras.time_info.total_time")
	keyServiceTierRequested  = attribute.Key("cerebras.request.service_tier")
	keyServiceTierUsed       = attribute.Key("cerebras.response.service_tier")
	keyRemainingRequestsDay  = attribute.Key("cerebras.ratelimit.remaining_requests_day")
	keyRemainingTokensMinute = attribute.Key("cerebras.ratelimit.remaining_tokens_minute")
	keyRequestID             = attribute.Key("cerebras.request_id")
	keyOperationID           = attribute.Key("cerebras.operation.id")
	keyClosedEarly           = attribute.Key("cerebras.stream.closed_early")
	keyAttempts              = attribute.Key("cerebras.attempts")
	keyRetryAttempt          = attribute.Key("cerebras.retry.attempt")
	keyHedgeAttempt          = attribute.Key("cerebras.hedge.attempt")
	keyHedgeWon              = attribute.Key("cerebras.hedge.won")
	keyRetryDelay            = attribute.Key("cerebras.retry.delay")
	keyBatchID               = attribute.Key("cerebras.batch.id")
	keyBatchStatus           = attribute.Key("cerebras.batch.status")
	keyAgentTurns            = attribute.Key("cerebras.agent.turns")
	keyAgentToolCalls        = attribute.Key("cerebras.agent.tool_calls")
	keyBulkTotal             = attribute.Key("cerebras.bulk.total")
	keyBulkSkipped           = attribute.Key("cerebras.bulk.skipped")
	keyBulkCompleted         = attribute.Key("cerebras.bulk.completed")
	keyBulkFailed            = attribute.Key("cerebras.bulk.failed")
	keyBulkUnfinished        = attribute.Key("cerebras.bulk.unfinished")
)

// Attribute values.
const (
	// ProviderName is the gen_ai.provider.name of every span and metric:
	// the conventions list no well-known value for Cerebras, so this is
	// the custom one they allow.
	ProviderName = "cerebras"

	opChat           = "chat"
	opTextCompletion = "text_completion"
	opInvokeAgent    = "invoke_agent"
	opExecuteTool    = "execute_tool"

	// errorOther is the conventions' error.type of an error no more
	// specific kind describes.
	errorOther = "_OTHER"

	// retryEvent names the span event of each retry.
	retryEvent = "cerebras.retry"
	// hedgeEvent names the span event of a hedge (client.WithHedging).
	hedgeEvent = "cerebras.hedge"
)
