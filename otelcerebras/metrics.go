package otelcerebras

import (
	"context"
	"sync"

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

	mu    sync.RWMutex
	cache map[setKey]*metricSets
}

func newInstruments(m metric.Meter, gen Generation) *instruments {
	in := &instruments{}
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
	key        setKey
	errorType  string
	duration   float64
	stream     bool
	firstChunk float64 // seconds, when chunks > 0
	perChunk   float64 // seconds, when chunks > 1
	chunks     int
	usage      *client.Usage
	timeInfo   *client.TimeInfo
}

// setKey is what the attributes of an operation's metrics are made of.
type setKey struct {
	op, model, respModel, host string
	port                       int
}

// attrs returns the attributes every metric of the operation has.
func (k setKey) attrs(extra ...attribute.KeyValue) []attribute.KeyValue {
	kvs := make([]attribute.KeyValue, 0, 6+len(extra))
	kvs = append(kvs, keyOperationName.String(k.op), keyProviderName.String(ProviderName))
	if k.model != "" {
		kvs = append(kvs, keyRequestModel.String(k.model))
	}
	if k.respModel != "" {
		kvs = append(kvs, keyResponseModel.String(k.respModel))
	}
	if k.host != "" {
		kvs = append(kvs, keyServerAddress.String(k.host), keyServerPort.Int(k.port))
	}
	return append(kvs, extra...)
}

// metricSets are the attribute sets of a setKey's measurements, made once:
// building a set sorts and copies its attributes, which would otherwise be
// most of what recording costs.
type metricSets struct {
	// Slices, passed with ..., so that a measurement allocates no slice of
	// options of its own.
	common, input, output []metric.RecordOption
	inputAdd, outputAdd   []metric.AddOption
}

// maxSets bounds the cache of metricSets: past it (a program using that
// many models and servers), sets are built for each measurement.
const maxSets = 1024

// sets returns the attribute sets of k, cached.
func (in *instruments) sets(k setKey, gen Generation) *metricSets {
	in.mu.RLock()
	s := in.cache[k]
	in.mu.RUnlock()
	if s != nil {
		return s
	}
	var input, output metric.MeasurementOption
	if gen == Generation2 {
		input = metric.WithAttributeSet(attribute.NewSet(k.attrs(keyTokenModality.String("text"))...))
		output = input
	} else {
		input = metric.WithAttributeSet(attribute.NewSet(k.attrs(keyTokenType.String("input"))...))
		output = metric.WithAttributeSet(attribute.NewSet(k.attrs(keyTokenType.String("output"))...))
	}
	s = &metricSets{
		common:    []metric.RecordOption{metric.WithAttributeSet(attribute.NewSet(k.attrs()...))},
		input:     []metric.RecordOption{input},
		output:    []metric.RecordOption{output},
		inputAdd:  []metric.AddOption{input},
		outputAdd: []metric.AddOption{output},
	}
	in.mu.Lock()
	defer in.mu.Unlock()
	if in.cache == nil {
		in.cache = make(map[setKey]*metricSets)
	}
	if len(in.cache) < maxSets {
		in.cache[k] = s
	}
	return s
}

// record records one inference operation.
func (in *instruments) record(ctx context.Context, gen Generation, r *inferenceRecord) {
	sets := in.sets(r.key, gen)
	if r.errorType == "" {
		in.duration.Record(ctx, r.duration, sets.common...)
	} else {
		in.duration.Record(ctx, r.duration, metric.WithAttributeSet(attribute.NewSet(r.key.attrs(keyErrorType.String(r.errorType))...)))
	}
	if r.stream && r.chunks > 0 {
		in.firstChunk.Record(ctx, r.firstChunk, sets.common...)
		if r.chunks > 1 {
			in.perChunk.Record(ctx, r.perChunk, sets.common...)
		}
	}
	if u := r.usage; u != nil {
		if gen == Generation2 {
			input := sets.inputAdd
			if u.ImageTokens > 0 { // text and images, in proportions the API does not give
				input = []metric.AddOption{metric.WithAttributeSet(attribute.NewSet(r.key.attrs(keyTokenModality.String("unknown"))...))}
			}
			in.usageInput.Add(ctx, int64(u.PromptTokens), input...)
			in.usageOutput.Add(ctx, int64(u.CompletionTokens), sets.outputAdd...)
			in.usageCacheRead.Add(ctx, int64(u.PromptTokensDetails.CachedTokens), input...)
			in.usageReasoning.Add(ctx, int64(u.CompletionTokensDetails.ReasoningTokens), sets.outputAdd...)
			in.opInput.Record(ctx, int64(u.PromptTokens), sets.common...)
			in.opOutput.Record(ctx, int64(u.CompletionTokens), sets.common...)
		} else {
			in.tokenUsage.Record(ctx, int64(u.PromptTokens), sets.input...)
			in.tokenUsage.Record(ctx, int64(u.CompletionTokens), sets.output...)
		}
	}
	if t := r.timeInfo; t != nil {
		in.queueTime.Record(ctx, t.QueueTime, sets.common...)
		in.promptTime.Record(ctx, t.PromptTime, sets.common...)
		in.completionTime.Record(ctx, t.CompletionTime, sets.common...)
	}
}
