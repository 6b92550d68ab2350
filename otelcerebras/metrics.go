package otelcerebras

import (
	"context"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"

	"github.com/cerebras-go/cerebras/client"
)

// The metric names. Generation 1's are recorded by default, Generation 2's
// instead under the opt-in; Cerebras' server timings in both.
const (
	MetricOperationDuration   = "gen_ai.client.operation.duration"
	MetricTokenUsage          = "gen_ai.client.token.usage"
	MetricTimeToFirstChunk    = "gen_ai.client.operation.time_to_first_chunk"
	MetricTimePerOutputChunk  = "gen_ai.client.operation.time_per_output_chunk"
	MetricInferenceDuration   = "gen_ai.client.inference.duration"
	MetricInferenceFirstChunk = "gen_ai.client.inference.time_to_first_chunk"
	MetricInferencePerChunk   = "gen_ai.client.inference.time_per_output_chunk"
	MetricUsageInput          = "gen_ai.client.inference.usage.input_tokens"
	MetricUsageOutput         = "gen_ai.client.inference.usage.output_tokens"
	MetricUsageCacheRead      = "gen_ai.client.inference.usage.cache_read.input_tokens"
	MetricUsageReasoning      = "gen_ai.client.inference.usage.reasoning.output_tokens"
	MetricOperationInput      = "gen_ai.client.inference.operation.input_tokens"
	MetricOperationOutput     = "gen_ai.client.inference.operation.output_tokens"
	MetricQueueTime           = "cerebras.time_info.queue_time"
	MetricPromptTime          = "cerebras.time_info.prompt_time"
	MetricCompletionTime      = "cerebras.time_info.completion_time"
)

// The bucket boundaries the conventions give: durations (operation, first
// chunk, per chunk) from 10 ms doubling to 81.92 s; tokens from 1,
// quadrupling, to 67,108,864.
var (
	durationBuckets = []float64{0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24, 20.48, 40.96, 81.92}
	tokenBuckets    = []float64{1, 4, 16, 64, 256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304, 16777216, 67108864}
	// serverBuckets start lower: Cerebras reports queue and prompt times
	// of tens of microseconds.
	serverBuckets = []float64{0.0001, 0.0005, 0.001, 0.005, 0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24, 20.48, 40.96, 81.92}
)

// instruments are the metrics of one generation; those of the other are
// nil.
type instruments struct {
	duration, firstChunk, perChunk metric.Float64Histogram
	tokenUsage                     metric.Int64Histogram // Generation 1, by gen_ai.token.type

	usageInput, usageOutput, usageCacheRead, usageReasoning metric.Int64Counter   // Generation 2
	opInput, opOutput                                       metric.Int64Histogram // Generation 2

	queueTime, promptTime, completionTime metric.Float64Histogram
}

func newInstruments(m metric.Meter, gen Generation) instruments {
	var in instruments
	seconds := func(name, desc string, buckets []float64) metric.Float64Histogram {
		h, _ := m.Float64Histogram(name, metric.WithUnit("s"), metric.WithDescription(desc), metric.WithExplicitBucketBoundaries(buckets...))
		return h // a noop histogram when the name is refused, which ours never are
	}
	tokens := func(name, desc string) metric.Int64Histogram {
		h, _ := m.Int64Histogram(name, metric.WithUnit("{token}"), metric.WithDescription(desc), metric.WithExplicitBucketBoundaries(tokenBuckets...))
		return h
	}
	counter := func(name, desc string) metric.Int64Counter {
		c, _ := m.Int64Counter(name, metric.WithUnit("{token}"), metric.WithDescription(desc))
		return c
	}
	if gen == Generation2 {
		in.duration = seconds(MetricInferenceDuration, "Duration of a GenAI inference operation, retries included.", durationBuckets)
		in.firstChunk = seconds(MetricInferenceFirstChunk, "Time from the start of a streamed inference to its first chunk.", durationBuckets)
		in.perChunk = seconds(MetricInferencePerChunk, "Mean time between the chunks of a streamed inference after the first.", durationBuckets)
		in.usageInput = counter(MetricUsageInput, "Input tokens, cached ones included.")
		in.usageOutput = counter(MetricUsageOutput, "Output tokens, reasoning ones included.")
		in.usageCacheRead = counter(MetricUsageCacheRead, "Input tokens read from the prompt cache.")
		in.usageReasoning = counter(MetricUsageReasoning, "Output tokens spent on reasoning.")
		in.opInput = tokens(MetricOperationInput, "Input tokens of one inference operation.")
		in.opOutput = tokens(MetricOperationOutput, "Output tokens of one inference operation.")
	} else {
		in.duration = seconds(MetricOperationDuration, "GenAI operation duration.", durationBuckets)
		in.firstChunk = seconds(MetricTimeToFirstChunk, "Time to receive the first chunk of a streaming response.", durationBuckets)
		in.perChunk = seconds(MetricTimePerOutputChunk, "Mean time per output chunk after the first.", durationBuckets)
		in.tokenUsage = tokens(MetricTokenUsage, "Number of input and output tokens used.")
	}
	in.queueTime = seconds(MetricQueueTime, "Time the request waited in Cerebras' queue (time_info.queue_time).", serverBuckets)
	in.promptTime = seconds(MetricPromptTime, "Time Cerebras spent on the prompt, prefill (time_info.prompt_time).", serverBuckets)
	in.completionTime = seconds(MetricCompletionTime, "Time Cerebras spent generating, decode (time_info.completion_time).", serverBuckets)
	return in
}

// inferenceRecord is what one inference operation's metrics record.
type inferenceRecord struct {
	common     []attribute.KeyValue // operation, provider, models, server
	errorType  string
	duration   float64
	stream     bool
	firstChunk float64 // seconds, when chunks > 0
	perChunk   float64 // seconds, when chunks > 1
	chunks     int
	usage      *client.Usage
	timeInfo   *client.TimeInfo
}

// record records one inference operation.
func (in *instruments) record(ctx context.Context, gen Generation, r *inferenceRecord) {
	common := attribute.NewSet(r.common...)
	withCommon := metric.WithAttributeSet(common)
	if r.errorType == "" {
		in.duration.Record(ctx, r.duration, withCommon)
	} else {
		in.duration.Record(ctx, r.duration, metric.WithAttributeSet(attribute.NewSet(append(r.common[:len(r.common):len(r.common)], keyErrorType.String(r.errorType))...)))
	}
	if r.stream && r.chunks > 0 {
		in.firstChunk.Record(ctx, r.firstChunk, withCommon)
		if r.chunks > 1 {
			in.perChunk.Record(ctx, r.perChunk, withCommon)
		}
	}
	if u := r.usage; u != nil {
		with := func(kv ...attribute.KeyValue) metric.MeasurementOption {
			return metric.WithAttributeSet(attribute.NewSet(append(r.common[:len(r.common):len(r.common)], kv...)...))
		}
		if gen == Generation2 {
			modality := "text"
			if u.ImageTokens > 0 {
				modality = "unknown" // text and images, in proportions the API does not give
			}
			in.usageInput.Add(ctx, int64(u.PromptTokens), with(keyTokenModality.String(modality)))
			in.usageOutput.Add(ctx, int64(u.CompletionTokens), with(keyTokenModality.String("text")))
			in.usageCacheRead.Add(ctx, int64(u.PromptTokensDetails.CachedTokens), with(keyTokenModality.String(modality)))
			in.usageReasoning.Add(ctx, int64(u.CompletionTokensDetails.ReasoningTokens), with(keyTokenModality.String("text")))
			in.opInput.Record(ctx, int64(u.PromptTokens), withCommon)
			in.opOutput.Record(ctx, int64(u.CompletionTokens), withCommon)
		} else {
			in.tokenUsage.Record(ctx, int64(u.PromptTokens), with(keyTokenType.String("input")))
			in.tokenUsage.Record(ctx, int64(u.CompletionTokens), with(keyTokenType.String("output")))
		}
	}
	if t := r.timeInfo; t != nil {
		in.queueTime.Record(ctx, t.QueueTime, withCommon)
		in.promptTime.Record(ctx, t.PromptTime, withCommon)
		in.completionTime.Record(ctx, t.CompletionTime, withCommon)
	}
}
