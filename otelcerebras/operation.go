package otelcerebras

import (
	"context"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"

	"github.com/cerebras-go/cerebras/batchfile"
	"github.com/cerebras-go/cerebras/client"
	"github.com/cerebras-go/cerebras/toolrunner"
)

// maxChoices bounds the choices of a stream whose finish reasons and
// captured text are kept: a choice index past it (n is at most a few in
// practice) is not reported, so a bad index cannot grow memory.
const maxChoices = 64

// inference is a chat or text completion, called or streamed: one CLIENT
// span "{operation} {model}" covering its retries and, for a stream, every
// event until the stream ends.
type inference struct {
	o       *Observer
	ctx     context.Context
	span    trace.Span
	start   time.Time
	opName  string
	model   string
	stream  bool
	server  *serverAddr
	headers rateLimitHeaders
	tier    string // the service tier requested

	attempts int

	// A stream's state, from its events.
	chunks      int
	first, last time.Time
	respID      string
	respModel   string
	tierUsed    string
	finish      []string // by choice index
	usage       client.Usage
	hasUsage    bool
	timeInfo    client.TimeInfo
	hasTimeInfo bool
	text        []string // captured content, by choice index
	capLeft     int
}

func (o *Observer) startInference(ctx context.Context, op client.Operation, opName string) (context.Context, client.OperationObserver) {
	// A stream keeps a byte past the cap, so that encodeMessages sees the
	// text was longer and marks the cut.
	in := &inference{o: o, start: o.now(), opName: opName, stream: op.Stream, server: o.serverOf(op.BaseURL), capLeft: o.capture + 1}
	attrs := make([]attribute.KeyValue, 0, 20)
	attrs = append(attrs, keyOperationName.String(opName), keyProviderName.String(ProviderName))
	var input []message
	switch p := op.Params.(type) {
	case *client.ChatCompletionNewParams:
		in.model = redact(p.Model)
		attrs = append(attrs, keyRequestModel.String(in.model))
		attrs = requestAttrs(attrs, p.MaxCompletionTokens, p.MaxTokens, p.Temperature, p.TopP, p.FrequencyPenalty, p.PresencePenalty, p.Seed, p.N, p.Stop)
		if p.ServiceTier != nil {
			in.tier = redact(string(*p.ServiceTier))
		}
		if o.gen == Generation2 && p.ReasoningEffort != nil {
			attrs = append(attrs, keyRequestReasoningLevel.String(redact(string(*p.ReasoningEffort))))
		}
		if o.capture > 0 {
			input = inputMessages(p)
		}
	case *client.CompletionNewParams:
		in.model = redact(p.Model)
		attrs = append(attrs, keyRequestModel.String(in.model))
		attrs = requestAttrs(attrs, nil, p.MaxTokens, p.Temperature, p.TopP, p.FrequencyPenalty, p.PresencePenalty, p.Seed, p.N, p.Stop)
		if o.capture > 0 {
			input = promptMessages(p)
		}
	}
	attrs = append(attrs, keyRequestStream.Bool(op.Stream))
	if in.tier != "" {
		attrs = append(attrs, keyServiceTierRequested.String(in.tier))
	}
	attrs = serverAttrs(attrs, in.server)
	if input != nil {
		attrs = append(attrs, keyInputMessages.String(encodeMessages(input, o.capture)))
	}
	name := opName
	if in.model != "" {
		name += " " + in.model
	}
	ctx, in.span = o.tracer.Start(ctx, name, trace.WithSpanKind(trace.SpanKindClient), trace.WithAttributes(attrs...), trace.WithTimestamp(in.start))
	in.ctx = ctx
	return ctx, in
}

// requestAttrs appends the request parameters that are set.
func requestAttrs(attrs []attribute.KeyValue, maxCompletion, maxTokens *int, temperature, topP, freq, pres *float64, seed *int64, n *int, stop *client.StopSequences) []attribute.KeyValue {
	if maxCompletion != nil {
		attrs = append(attrs, keyRequestMaxTokens.Int(*maxCompletion))
	} else if maxTokens != nil {
		attrs = append(attrs, keyRequestMaxTokens.Int(*maxTokens))
	}
	if temperature != nil {
		attrs = append(attrs, keyRequestTemperature.Float64(*temperature))
	}
	if topP != nil {
		attrs = append(attrs, keyRequestTopP.Float64(*topP))
	}
	if freq != nil {
		attrs = append(attrs, keyRequestFrequencyPen.Float64(*freq))
	}
	if pres != nil {
		attrs = append(attrs, keyRequestPresencePen.Float64(*pres))
	}
	if seed != nil {
		attrs = append(attrs, keyRequestSeed.Int64(*seed))
	}
	if n != nil && *n != 1 {
		attrs = append(attrs, keyRequestChoiceCount.Int(*n))
	}
	if stop != nil {
		var seqs []string
		if s, err := stop.AsStopSequence(); err == nil {
			seqs = []string{s}
		} else if ss, err := stop.AsStopSequenceList(); err == nil {
			seqs = ss
		}
		if len(seqs) > 0 {
			red := make([]string, len(seqs))
			for i, s := range seqs {
				red[i] = redact(s)
			}
			attrs = append(attrs, keyRequestStopSequences.StringSlice(red))
		}
	}
	return attrs
}

// Attempt records the response headers of the last attempt that got one,
// and an event for each retry.
func (in *inference) Attempt(a client.Attempt) {
	// A hedged race reports its loser first, which may be the later one.
	in.attempts = max(in.attempts, a.Number+1)
	in.headers.read(a)
	if a.Retry {
		in.o.retryEventOf(in.span, a)
	}
	if a.Hedge {
		in.o.hedgeEventOf(in.span, a)
	}
}

// Event takes what a chunk says: the first chunk's time, ids, finish
// reasons, the final usage and time_info, and (captured) the text.
func (in *inference) Event(v any) {
	now := in.o.now()
	in.chunks++
	if in.chunks == 1 {
		in.first = now
	}
	in.last = now
	switch c := v.(type) {
	case *client.ChatCompletionChunk:
		in.response(c.ID, c.Model, c.ServiceTier, c.ServiceTierUsed, c.Usage, c.TimeInfo)
		for i := range c.Choices {
			ch := &c.Choices[i]
			in.choice(ch.Index, string(ch.FinishReason), ch.Delta.Content)
		}
	case *client.Completion:
		in.response(c.ID, c.Model, c.ServiceTier, "", c.Usage, c.TimeInfo)
		for i := range c.Choices {
			ch := &c.Choices[i]
			in.choice(ch.Index, string(ch.FinishReason), ch.Text)
		}
	}
}

// response takes the response-wide fields of a chunk or a completion.
func (in *inference) response(id, model, tier, tierUsed string, u *client.Usage, t *client.TimeInfo) {
	if in.respID == "" {
		in.respID = id
	}
	if in.respModel == "" {
		in.respModel = model
	}
	if tierUsed != "" {
		in.tierUsed = tierUsed
	} else if tier != "" && in.tierUsed == "" {
		in.tierUsed = tier
	}
	if u != nil {
		in.usage, in.hasUsage = *u, true
	}
	if t != nil {
		in.timeInfo, in.hasTimeInfo = *t, true
	}
}

// choice takes a choice's finish reason and, captured, its text.
func (in *inference) choice(index int, finish, text string) {
	if index < 0 || index >= maxChoices {
		return
	}
	if finish != "" {
		for len(in.finish) <= index {
			in.finish = append(in.finish, "")
		}
		in.finish[index] = finish
	}
	if in.o.capture > 0 && text != "" && in.capLeft > 0 {
		for len(in.text) <= index {
			in.text = append(in.text, "")
		}
		if len(text) > in.capLeft {
			text = text[:in.capLeft] // encodeMessages cuts it to a rune and marks it
		}
		in.capLeft -= len(text)
		in.text[index] += text
	}
}

// End ends the span and records the operation's metrics.
func (in *inference) End(out client.Outcome) {
	end := in.o.now()
	var output []message
	switch r := out.Result.(type) {
	case *client.ChatCompletion:
		in.response(r.ID, r.Model, r.ServiceTier, r.ServiceTierUsed, r.Usage, r.TimeInfo)
		for i := range r.Choices {
			in.choice(r.Choices[i].Index, string(r.Choices[i].FinishReason), "")
		}
		if in.o.capture > 0 {
			output = chatOutput(r)
		}
	case *client.Completion:
		in.response(r.ID, r.Model, r.ServiceTier, "", r.Usage, r.TimeInfo)
		for i := range r.Choices {
			in.choice(r.Choices[i].Index, string(r.Choices[i].FinishReason), r.Choices[i].Text)
		}
	}
	if output == nil && len(in.text) > 0 {
		for i, t := range in.text {
			m := message{Role: "assistant", Parts: []messagePart{{Type: "text", Content: t}}}
			if i < len(in.finish) {
				m.FinishReason = in.finish[i]
			}
			output = append(output, m)
		}
	}

	attrs := make([]attribute.KeyValue, 0, 24)
	if in.respID != "" {
		attrs = append(attrs, keyResponseID.String(redact(in.respID)))
	}
	respModel := redact(in.respModel)
	if respModel != "" {
		attrs = append(attrs, keyResponseModel.String(respModel))
	}
	if len(in.finish) > 0 {
		reasons := make([]string, 0, len(in.finish))
		for _, f := range in.finish {
			if f != "" {
				reasons = append(reasons, redact(f))
			}
		}
		attrs = append(attrs, keyResponseFinishReasons.StringSlice(reasons))
	}
	if in.hasUsage {
		u := &in.usage
		attrs = append(attrs, keyUsageInputTokens.Int(u.PromptTokens), keyUsageOutputTokens.Int(u.CompletionTokens))
		if c := u.PromptTokensDetails.CachedTokens; c > 0 {
			attrs = append(attrs, keyUsageCacheReadTokens.Int(c))
		}
		if r := u.CompletionTokensDetails.ReasoningTokens; r > 0 {
			attrs = append(attrs, keyUsageReasoningTokens.Int(r))
		}
		if in.o.gen == Generation2 && u.ImageTokens > 0 {
			attrs = append(attrs, keyUsageImageInputTokens.Int(u.ImageTokens))
		}
	}
	var firstChunk, perChunk float64
	if in.stream && in.chunks > 0 {
		firstChunk = in.first.Sub(in.start).Seconds()
		attrs = append(attrs, keyResponseTimeToFirst.Float64(firstChunk))
		if in.chunks > 1 {
			perChunk = in.last.Sub(in.first).Seconds() / float64(in.chunks-1)
		}
	}
	if in.hasTimeInfo {
		t := &in.timeInfo
		attrs = append(attrs, keyQueueTime.Float64(t.QueueTime), keyPromptTime.Float64(t.PromptTime),
			keyCompletionTime.Float64(t.CompletionTime), keyTotalTime.Float64(t.TotalTime))
	}
	if in.tierUsed != "" {
		attrs = append(attrs, keyServiceTierUsed.String(redact(in.tierUsed)))
	}
	attrs = in.headers.attrs(attrs)
	if in.attempts > 0 {
		attrs = append(attrs, keyAttempts.Int(in.attempts))
	}
	if output != nil {
		attrs = append(attrs, keyOutputMessages.String(encodeMessages(output, in.o.capture)))
	}
	errType := endStatus(in.span, out, &attrs)
	in.span.SetAttributes(attrs...)
	in.span.End(trace.WithTimestamp(end))

	key := setKey{op: in.opName, model: in.model, respModel: respModel}
	if in.server != nil {
		key.host, key.port = in.server.host, in.server.port
	}
	r := inferenceRecord{key: key, errorType: errType, duration: end.Sub(in.start).Seconds(), stream: in.stream,
		firstChunk: firstChunk, perChunk: perChunk, chunks: in.chunks}
	if in.hasUsage {
		r.usage = &in.usage
	}
	if in.hasTimeInfo {
		r.timeInfo = &in.timeInfo
	}
	in.o.m.record(in.ctx, in.o.gen, &r)
}

// endStatus sets the span's status from the outcome, adds error.type or
// cerebras.stream.closed_early to attrs, and returns the error.type.
func endStatus(span trace.Span, out client.Outcome, attrs *[]attribute.KeyValue) string {
	if out.Err == nil {
		if out.ClosedEarly {
			*attrs = append(*attrs, keyClosedEarly.Bool(true))
		}
		return ""
	}
	t := ErrorType(out.Err)
	*attrs = append(*attrs, keyErrorType.String(t))
	span.SetStatus(codes.Error, redact(out.Err.Error()))
	return t
}

// agent is a tool runner's run: an INTERNAL span "invoke_agent" (the agent
// runs in this process), parent of its completions and tool calls.
type agent struct {
	o     *Observer
	span  trace.Span
	model string
}

func (o *Observer) startAgent(ctx context.Context, op client.Operation) (context.Context, client.OperationObserver) {
	a := &agent{o: o}
	attrs := make([]attribute.KeyValue, 0, 6)
	attrs = append(attrs, keyOperationName.String(opInvokeAgent), keyProviderName.String(ProviderName))
	if p, ok := op.Params.(*client.ChatCompletionNewParams); ok {
		a.model = redact(p.Model)
		attrs = append(attrs, keyRequestModel.String(a.model), keyRequestStream.Bool(op.Stream))
		if o.capture > 0 {
			attrs = append(attrs, keyInputMessages.String(encodeMessages(inputMessages(p), o.capture)))
		}
	}
	ctx, a.span = o.tracer.Start(ctx, opInvokeAgent, trace.WithSpanKind(trace.SpanKindInternal), trace.WithAttributes(attrs...), trace.WithTimestamp(o.now()))
	return ctx, a
}

func (a *agent) Attempt(client.Attempt) {}
func (a *agent) Event(any)              {}

// End adds the run's usage, turns and tool calls, and ends the span.
func (a *agent) End(out client.Outcome) {
	attrs := make([]attribute.KeyValue, 0, 10)
	if t, ok := out.Result.(*toolrunner.Transcript); ok && t != nil {
		attrs = append(attrs, keyAgentTurns.Int(t.Turns), keyAgentToolCalls.Int(len(t.Calls)),
			keyUsageInputTokens.Int(t.Usage.PromptTokens), keyUsageOutputTokens.Int(t.Usage.CompletionTokens))
		if c := t.Usage.PromptTokensDetails.CachedTokens; c > 0 {
			attrs = append(attrs, keyUsageCacheReadTokens.Int(c))
		}
		if r := t.Usage.CompletionTokensDetails.ReasoningTokens; r > 0 {
			attrs = append(attrs, keyUsageReasoningTokens.Int(r))
		}
		if t.Turns > 0 {
			if m := redact(t.Completion.Model); m != "" {
				attrs = append(attrs, keyResponseModel.String(m))
			}
			if a.o.capture > 0 && out.Err == nil {
				attrs = append(attrs, keyOutputMessages.String(encodeMessages(chatOutput(&t.Completion), a.o.capture)))
			}
		}
	}
	endStatus(a.span, out, &attrs)
	a.span.SetAttributes(attrs...)
	a.span.End(trace.WithTimestamp(a.o.now()))
}

// tool is one tool call of a run: an INTERNAL span "execute_tool {name}".
type tool struct {
	o    *Observer
	span trace.Span
}

func (o *Observer) startTool(ctx context.Context, op client.Operation) (context.Context, client.OperationObserver) {
	t := &tool{o: o}
	call, _ := op.Params.(toolrunner.Call)
	name := redact(call.Name)
	attrs := make([]attribute.KeyValue, 0, 6)
	attrs = append(attrs, keyOperationName.String(opExecuteTool), keyProviderName.String(ProviderName),
		keyToolName.String(name), keyToolCallID.String(redact(call.ID)), keyToolType.String("function"))
	if o.capture > 0 {
		c := capper{left: o.capture}
		attrs = append(attrs, keyToolCallArguments.String(c.text(call.Arguments)))
	}
	spanName := opExecuteTool
	if name != "" {
		spanName += " " + name
	}
	ctx, t.span = o.tracer.Start(ctx, spanName, trace.WithSpanKind(trace.SpanKindInternal), trace.WithAttributes(attrs...), trace.WithTimestamp(o.now()))
	return ctx, t
}

func (t *tool) Attempt(client.Attempt) {}
func (t *tool) Event(any)              {}

// End records the call's error (and, captured, its result) and ends the
// span.
func (t *tool) End(out client.Outcome) {
	attrs := make([]attribute.KeyValue, 0, 3)
	if call, ok := out.Result.(toolrunner.Call); ok && t.o.capture > 0 {
		c := capper{left: t.o.capture}
		attrs = append(attrs, keyToolCallResult.String(c.text(call.Result)))
	}
	endStatus(t.span, out, &attrs)
	t.span.SetAttributes(attrs...)
	t.span.End(trace.WithTimestamp(t.o.now()))
}

// bulk is a local bulk run (batchfile.RunLocal): an INTERNAL span, parent
// of its requests.
type bulk struct {
	o    *Observer
	span trace.Span
}

func (o *Observer) startBulk(ctx context.Context, op client.Operation) (context.Context, client.OperationObserver) {
	b := &bulk{o: o}
	ctx, b.span = o.tracer.Start(ctx, op.Method, trace.WithSpanKind(trace.SpanKindInternal),
		trace.WithAttributes(keyProviderName.String(ProviderName)), trace.WithTimestamp(o.now()))
	return ctx, b
}

func (b *bulk) Attempt(client.Attempt) {}
func (b *bulk) Event(any)              {}

// End records the run's counts and usage, and ends the span.
func (b *bulk) End(out client.Outcome) {
	attrs := make([]attribute.KeyValue, 0, 10)
	if p, ok := out.Result.(*batchfile.Progress); ok && p != nil {
		attrs = append(attrs, keyBulkTotal.Int(p.Total), keyBulkSkipped.Int(p.Skipped), keyBulkCompleted.Int(p.Completed),
			keyBulkFailed.Int(p.Failed), keyBulkUnfinished.Int(p.Unfinished),
			keyUsageInputTokens.Int(p.Usage.PromptTokens), keyUsageOutputTokens.Int(p.Usage.CompletionTokens))
	}
	endStatus(b.span, out, &attrs)
	b.span.SetAttributes(attrs...)
	b.span.End(trace.WithTimestamp(b.o.now()))
}

// plain is any other operation (files, batches, models, Batches.Wait): a
// CLIENT span named by its method.
type plain struct {
	o       *Observer
	span    trace.Span
	headers rateLimitHeaders
}

func (o *Observer) startPlain(ctx context.Context, op client.Operation) (context.Context, client.OperationObserver) {
	p := &plain{o: o}
	attrs := make([]attribute.KeyValue, 0, 3)
	if op.ID != "" {
		attrs = append(attrs, keyOperationID.String(op.ID))
	}
	attrs = serverAttrs(attrs, o.serverOf(op.BaseURL))
	name := op.Method
	if name == "" {
		name = "cerebras"
	}
	ctx, p.span = o.tracer.Start(ctx, name, trace.WithSpanKind(trace.SpanKindClient), trace.WithAttributes(attrs...), trace.WithTimestamp(o.now()))
	return ctx, p
}

// Attempt records the last response's headers and an event for each retry.
func (p *plain) Attempt(a client.Attempt) {
	p.headers.read(a)
	if a.Retry {
		p.o.retryEventOf(p.span, a)
	}
}

func (p *plain) Event(any) {}

// End records a batch's id and status, the headers and the error, and ends
// the span.
func (p *plain) End(out client.Outcome) {
	attrs := make([]attribute.KeyValue, 0, 6)
	if b, ok := out.Result.(*client.Batch); ok && b != nil {
		attrs = append(attrs, keyBatchID.String(redact(b.ID)), keyBatchStatus.String(redact(string(b.Status))))
	}
	attrs = p.headers.attrs(attrs)
	endStatus(p.span, out, &attrs)
	p.span.SetAttributes(attrs...)
	p.span.End(trace.WithTimestamp(p.o.now()))
}
