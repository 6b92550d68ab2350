// Package otelcerebras records OpenTelemetry spans and metrics of the
// Cerebras SDK's calls, by the GenAI semantic conventions: one line makes
// every call of a client a span, with its model, params, usage, finish
// reasons, retries and Cerebras' server timing, and feeds the
// gen_ai.client.* metrics.
//
//	c, err := client.New(client.WithObserver(otelcerebras.New()))
//
// New uses the global TracerProvider and MeterProvider unless
// WithTracerProvider and WithMeterProvider say otherwise. It is a module of
// its own (github.com/cerebras-go/cerebras/otelcerebras), so that programs
// that do not import it do not depend on OpenTelemetry.
//
// # Spans
//
// A chat or text completion is one CLIENT span "{operation} {model}" (such
// as "chat gpt-oss-120b") covering its retries and, for a stream, lasting
// until the stream ends, fails or is closed. It has the conventions'
// gen_ai.* attributes: gen_ai.operation.name ("chat", "text_completion"),
// gen_ai.provider.name ("cerebras"), the request's model, max_tokens,
// temperature, top_p, penalties, seed, choice.count, stop_sequences and
// stream; the response's id, model and finish reasons; the usage (input,
// output, cache_read, reasoning tokens); a stream's
// gen_ai.response.time_to_first_chunk; server.address and server.port;
// error.type on failure (see ErrorType). Cerebras adds
// cerebras.time_info.{queue,prompt,completion,total}_time, the service tier
// requested and used, the rate-limit budget left after the call
// (cerebras.ratelimit.remaining_requests_day, …_tokens_minute), the
// request id and the number of attempts. Each retry is a span event
// "cerebras.retry" with its status (or error.type) and delay, and a hedge
// (client.WithHedging) a "cerebras.hedge" event saying whether it won; a stream the
// caller closed early has cerebras.stream.closed_early, and is no error.
//
// A tool runner given the Observer (toolrunner.Runner.Observer) makes an
// INTERNAL "invoke_agent" span whose children are its completions and an
// "execute_tool {name}" span per tool call. A local bulk run
// (batchfile.RunParams.Observer) is a "batchfile.RunLocal" span whose
// children are its requests. Other calls (files, batches, models, and
// Batches.Wait with its polls as children) are plain CLIENT spans named by
// their method, such as "Files.New".
//
// # Metrics
//
// By default, Generation 1 of the conventions: gen_ai.client.operation.duration,
// gen_ai.client.token.usage (by gen_ai.token.type), and for streams
// gen_ai.client.operation.time_to_first_chunk and …time_per_output_chunk
// (the mean gap between chunks after the first), with the conventions'
// bucket boundaries. With OTEL_SEMCONV_STABILITY_OPT_IN=gen_ai_latest_experimental
// (or WithGeneration(Generation2)), Generation 2 instead:
// gen_ai.client.inference.duration, …time_to_first_chunk,
// …time_per_output_chunk, the counters
// gen_ai.client.inference.usage.{input_tokens,output_tokens,cache_read.input_tokens,reasoning.output_tokens}
// by gen_ai.token.modality and the histograms
// gen_ai.client.inference.operation.{input,output}_tokens; and Generation
// 2's span attributes (gen_ai.request.reasoning.level,
// gen_ai.usage.image.input_tokens) besides Generation 1's. In both,
// histograms of Cerebras' server timing: cerebras.time_info.queue_time,
// …prompt_time and …completion_time, which split a slow call into network,
// queue, prefill and decode.
//
// # Content and secrets
//
// Messages are not recorded unless WithContentCapture turns it on, with a
// cap. Nothing this package records holds the API key: it never sees it,
// and it replaces any key-shaped value ("csk-…") that reaches a recorded
// string (a message, a stop sequence, a tool's error) with "[REDACTED]".
//
// Trace-context propagation to the API is off by default; the Propagation
// middleware turns it on.
package otelcerebras
