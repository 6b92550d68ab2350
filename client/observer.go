package client

import (
	"context"
	"net/http"
	"sync"
	"time"
)

// Observer watches the logical operations a client runs: a call with its
// retries and, for a stream, until the stream ends. It is the hook for
// tracing, metrics and logging that a Middleware cannot give, since a
// middleware sees attempts, not the operation, its params, a stream's events
// or its final usage. Package otelcerebras (a module of its own) builds
// OpenTelemetry spans and metrics on it; a slog or Prometheus observer is a
// few lines.
//
// The tool runner (toolrunner.Runner.Observer) and the local bulk runner
// (batchfile.RunParams.Observer) report their runs and tool calls to an
// Observer too, so one value sees the whole tree.
//
// With no Observer set (the default) the client makes no calls and no
// allocations for it.
type Observer interface {
	// Start is called once per operation, after its options are merged and
	// its params checked, before its first attempt. The context it returns
	// is the one the operation runs in: each attempt's request carries it
	// (a Middleware sees it in req.Context()), and the operations it starts
	// (the Gets of Batches.Wait, a runner's model calls) start from it, so
	// a span put into it becomes their parent. It must return ctx or a
	// context derived from it. The OperationObserver it returns receives the
	// rest of the operation; nil ignores it.
	Start(ctx context.Context, op Operation) (context.Context, OperationObserver)
}

// OperationObserver receives what happens in one operation that an
// Observer started. Its methods are called from the goroutine that runs the
// operation (for a stream: the caller of Next, or of Close), one at a time,
// and End exactly once, last.
type OperationObserver interface {
	// Attempt is called after each attempt of an API request: with its
	// response (headers only: its body is not to be read) or its error, and
	// whether it is retried, after what delay. A stream that fails before
	// its first event and is sent again reports its attempt a second time,
	// with the failure and Retry set (client.ChatCompletionService's
	// NewStreaming says when that happens).
	Attempt(Attempt)
	// Event is called with each element of a stream (such as a
	// *ChatCompletionChunk), after it is decoded and before Next returns
	// it. The value is the stream's own: read it, don't keep it.
	Event(v any)
	// End is called once, when the operation is over: a call when it
	// returns, a stream when it ends, fails or is closed.
	End(Outcome)
}

// Operation describes an operation as it starts.
type Operation struct {
	// Method is what the user called: "Chat.Completions.New",
	// "Chat.Completions.NewStreaming", "Batches.Wait" …, or a feature's
	// operation such as toolrunner.MethodRun.
	Method string
	// ID is the operationId in openapi.yaml ("createChatCompletion"), or ""
	// for an operation that is not one API request (Batches.Wait, a tool
	// run, a tool call).
	ID string
	// Params are the operation's params: *ChatCompletionNewParams,
	// *CompletionNewParams, *BatchNewParams …, a feature's own (a tool
	// call's toolrunner.Call), or nil. They are the call's own: read them,
	// don't change them.
	Params any
	// Stream reports an operation whose result is a stream.
	Stream bool
	// BaseURL is the base URL requests go to ("https://api.cerebras.ai"),
	// or "" for an operation that sends none itself.
	BaseURL string
}

// Attempt describes one attempt of an API request.
type Attempt struct {
	// Number counts the attempts of the operation from 0; a stream replayed
	// before its first event goes on counting.
	Number int
	// Response is the attempt's response, or nil when none arrived. Its
	// body belongs to the client: read only the status and headers.
	Response *http.Response
	// Err is why the attempt failed without a response (a connection
	// error, a timeout), or nil.
	Err error
	// Retry reports that another attempt follows, after RetryDelay.
	Retry      bool
	RetryDelay time.Duration
	// Hedge reports the duplicate a hedged call sent (WithHedging) while
	// attempt Number-1 was still waiting for its first event. The two
	// attempts of such a race are reported once it is decided: first the
	// one that lost, with Err wrapping ErrHedgeLost when it was cancelled
	// (or its own failure), neither with Retry set; then the one whose
	// outcome the call goes on with, as any attempt. The hedge took one
	// retry of the budget: the next attempt, if any, is Number+1 of the
	// later of the two.
	Hedge bool
}

// Outcome is how an operation ended.
type Outcome struct {
	// Result is the decoded response of a call (*ChatCompletion, *Batch …),
	// nil for an API stream and on error; or a feature's result, as its
	// Method documents (a tool run's *toolrunner.Transcript, on error too).
	Result any
	// Err is the error the caller got (or, for a stream, its Err), nil on
	// success.
	Err error
	// ClosedEarly reports a stream the caller closed, or broke out of,
	// before its end: not a failure.
	ClosedEarly bool
}

// WithObserver sets the Observer of a client's operations (in New) or of
// one call's. nil removes it.
func WithObserver(o Observer) Option {
	return func(c *config) error {
		c.observer = o
		return nil
	}
}

// observe starts the call's operation with its Observer, if it has one,
// and returns the context the operation runs in. Call it once the call's
// params are checked, just before its first attempt; every path after it
// ends in end.
func (c *Client) observe(ctx context.Context, cl *call, params any) context.Context {
	if cl.cfg.observer == nil {
		return ctx
	}
	return cl.startObserver(ctx, Operation{
		Method:  cl.op.method,
		ID:      cl.op.id,
		Params:  params,
		Stream:  cl.op.read == readEvents,
		BaseURL: c.observedBase(),
	})
}

// startObserver starts op with the call's Observer.
func (cl *call) startObserver(ctx context.Context, op Operation) context.Context {
	octx, obs := cl.cfg.observer.Start(ctx, op)
	if octx == nil {
		octx = ctx
	}
	cl.obs = obs
	return octx
}

// end tells the call's observer how it ended, once.
func (cl *call) end(o Outcome) {
	if cl.obs != nil {
		o.Err = redactErr(o.Err, cl.cfg.apiKey)
		cl.obs.End(o)
		cl.obs = nil
	}
}

// streamObserver is the OperationObserver of an open stream: it passes on
// what the stream reports, one at a time, until the end, since Close may
// end a stream from another goroutine while Next reports an event or a
// replay's attempt.
type streamObserver struct {
	mu  sync.Mutex
	obs OperationObserver // nil once ended
	key string
}

func (s *streamObserver) Attempt(a Attempt) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.obs != nil {
		s.obs.Attempt(a)
	}
}

func (s *streamObserver) Event(v any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.obs != nil {
		s.obs.Event(v)
	}
}

func (s *streamObserver) End(o Outcome) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.obs != nil {
		o.Err = redactErr(o.Err, s.key)
		s.obs.End(o)
		s.obs = nil
	}
}

// onEnd is the stream's end hook (streaming.WithOnEnd).
func (s *streamObserver) onEnd(err error, closedEarly bool) {
	s.End(Outcome{Err: err, ClosedEarly: closedEarly})
}

// observedBase is the base URL an Operation names: without userinfo.
func (c *Client) observedBase() string {
	if c.base.User == nil {
		return c.cfg.baseURL
	}
	u := *c.base
	u.User = nil
	return u.String()
}

// observeOp starts an operation that is not one API request, such as
// Batches.Wait, with the Observer its options give, and returns the
// context it runs in and the function that ends it, or nil without an
// Observer.
func (c *Client) observeOp(ctx context.Context, opts []Option, op Operation) (context.Context, func(Outcome)) {
	o := c.cfg.observer
	if len(opts) > 0 {
		cfg := c.cfg.clone()
		if cfg.apply(opts) == nil { // a bad option fails the operation's first call
			o = cfg.observer
		}
	}
	if o == nil || ctx == nil {
		return ctx, nil
	}
	cl := &call{cfg: c.cfg}
	cl.cfg.observer = o
	ctx = cl.startObserver(ctx, op)
	if cl.obs == nil {
		return ctx, nil
	}
	return ctx, cl.end
}
