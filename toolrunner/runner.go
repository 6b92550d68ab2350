package toolrunner

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"time"

	"github.com/cerebras-go/cerebras/client"
	"github.com/cerebras-go/cerebras/internal/usage"
	"github.com/cerebras-go/cerebras/streaming"
)

// Defaults of a Runner.
const (
	// DefaultMaxTurns is how many completions a run requests at most when
	// Runner.MaxTurns is 0.
	DefaultMaxTurns = 10
	// DefaultConcurrency is how many tool calls of one turn run at once
	// when Runner.Concurrency is 0.
	DefaultConcurrency = 8
)

// Completer sends a chat completion request, whole or streamed: the chat
// endpoint of a *client.Client, c.Chat.Completions, is one. A Runner sends
// every turn through it, with the call's options; a test can give a
// Runner a Completer of its own, without HTTP.
type Completer interface {
	New(ctx context.Context, params client.ChatCompletionNewParams, opts ...client.Option) (*client.ChatCompletion, error)
	NewStreaming(ctx context.Context, params client.ChatCompletionNewParams, opts ...client.Option) (*streaming.Stream[client.ChatCompletionChunk], error)
}

// Runner runs the tool loop with its tools. Its zero settings are the
// defaults; Chat is required. A Runner is not changed by its runs, so one
// may serve many runs at once.
//
//	r := toolrunner.Runner{Chat: c.Chat.Completions, Tools: tools, MaxTurns: 5}
type Runner struct {
	// Chat sends the completions: c.Chat.Completions.
	Chat Completer
	// Tools are the tools the model may call. Their definitions are added
	// to the request's own Tools, which the runner cannot run: a call of
	// one of those is answered as an unknown tool.
	Tools []Tool
	// MaxTurns is how many completions a run requests at most (0 means
	// DefaultMaxTurns). When the model still calls tools in the last one,
	// the run ends with a *MaxTurnsError after running them.
	MaxTurns int
	// Concurrency is how many tool calls of one turn run at once (0 means
	// DefaultConcurrency). The calls take their turns in the order the
	// model made them: 1 runs them one after the other, in that order, and
	// n starts the first n, then each next one as a call returns. A call
	// waiting for its turn holds no goroutine, and does not run once the
	// run is cancelled or aborted.
	Concurrency int
	// AbortOnToolError makes a tool that returns an error or panics end
	// the run with a *ToolError, instead of telling the model about it.
	// Unknown tools and undecodable arguments are the model's mistakes and
	// are still answered.
	AbortOnToolError bool
	// Observer, if set, watches the runs: each Run or Stream is an
	// operation (MethodRun, with the request's *client.ChatCompletionNewParams)
	// and each tool call one more (MethodTool, with the Call as it starts),
	// started in the run's context. The completions are sent in the context
	// the run's Start returned, so a client with the same Observer reports
	// them as the run's children, and each tool runs in the context its
	// call's Start returned. A run ends with its *Transcript as the
	// Outcome's Result (on error too, as Run returns it; a Stream the caller
	// broke out of ends ClosedEarly), a tool call with the complete Call and
	// its Err. Nil (the default) costs nothing.
	Observer client.Observer
}

// The Operation methods a Runner reports to its Observer.
const (
	// MethodRun is a whole run: Runner.Run or Runner.Stream.
	MethodRun = "toolrunner.Run"
	// MethodTool is one tool call of a run, also one that runs no tool (an
	// unknown tool, a repeated id, a call cancelled before its turn).
	MethodTool = "toolrunner.Tool"
)

// Call is one tool call of a run: what the model asked for and what came
// of it. (client.ToolCall is the call as a response holds it; a Call adds
// its outcome.)
type Call struct {
	// Turn is the turn whose completion made the call, from 1.
	Turn int
	// Index is the call's position among the calls the model made in the
	// turn, from 0, repeated ids included. The call in the transcript's
	// assistant message has the same Index; a repeated id is not replayed
	// there, so those indexes can skip one.
	Index int
	// ID is the call id the result answers: the model's, or, for a call
	// the model sent without one, an id the runner made, which no other
	// call of the turn has (call_run_<turn>_<index>_<random hex>).
	ID string
	// Name is the tool's name.
	Name string
	// Arguments is the JSON-encoded arguments, as the model sent them.
	Arguments string
	// Result is the content sent back to the model: the tool's result, or
	// a message saying what went wrong.
	Result string
	// Err is nil when the tool ran and succeeded. Otherwise it wraps
	// ErrUnknownTool, ErrArguments or ErrDuplicateCall, is a *PanicError,
	// or is the error the tool returned.
	Err error
	// Duration is how long the tool ran.
	Duration time.Duration
}

// Transcript is what a run did.
type Transcript struct {
	// Completion is the last completion received: for a finished run, the
	// model's answer (see Content).
	Completion client.ChatCompletion
	// Messages is the whole conversation: the request's messages, then each
	// turn's assistant message and tool results, and the final answer.
	// Append a user message to it to continue the conversation.
	Messages []client.ChatMessage
	// Calls is every tool call of the run, in the order the model made
	// them.
	Calls []Call
	// Turns is how many completions the run received.
	Turns int
	// Usage is the token usage summed over the turns.
	Usage client.Usage
}

// Content returns the text of the last completion's choice 0: the model's
// answer when the run finished; "" when there is none.
func (t Transcript) Content() string {
	msg, _ := choiceZero(t.Completion)
	return msg.Content
}

// choiceZero returns the message of c's choice 0, the choice a run follows:
// the one whose Index is 0, wherever it is in Choices.
func choiceZero(c client.ChatCompletion) (client.ChatCompletionMessage, bool) {
	for _, ch := range c.Choices {
		if ch.Index == 0 {
			return ch.Message, true
		}
	}
	return client.ChatCompletionMessage{}, false
}

// noChoice is the error of a turn whose completion has no choice 0.
func noChoice(turn int) error { return fmt.Errorf("%w (turn %d)", ErrNoChoice, turn) }

// Run runs the tool loop: it sends params with the tools' definitions added
// to params.Tools, runs the tools the model calls, sends their results, and
// repeats until the model answers without calling a tool. It follows
// choice 0, the choice whose Index is 0: the calls of other choices never
// run. The calls of one turn run concurrently (see Concurrency),
// and their results are sent in the order the model made them, each call id
// answered once. opts are passed to every completion.
//
// A tool_choice that forces a call ("required", or a named function)
// applies to the first turn only: once the model has called tools, the
// later turns are sent with tool_choice "auto", so that it can answer (as
// OpenAI's Agents SDK does by default).
//
// The Transcript is returned also when err is not nil. Errors: those of
// the completions (a *client.APIError …); one that wraps ErrNoChoice, for a
// completion without choice 0; a *MaxTurnsError; a *ToolError
// (AbortOnToolError); a *client.ParamError for a bad Runner; ctx's error
// when it is done, which also cancels the ctx the tools get. Run returns
// only when every tool it started has returned.
func (r *Runner) Run(ctx context.Context, params client.ChatCompletionNewParams, opts ...client.Option) (out Transcript, err error) {
	rn, err := r.start(ctx, params, false)
	if err != nil {
		return Transcript{}, err
	}
	defer rn.cancel()
	if rn.obs != nil {
		returned := false
		defer func() { rn.end(returned, client.Outcome{Result: &out, Err: err}) }()
		out, err = rn.run(r, opts)
		returned = true
		return out, err
	}
	return rn.run(r, opts)
}

// errPanicked ends the operation of a run that a panic ended: in the
// Completer, or in the loop of a caller of Stream.
var errPanicked = errors.New("toolrunner: the run ended in a panic")

// end ends the run's operation with o, or, when the run did not return
// (a panic unwinds it), with errPanicked: never left open.
func (rn *run) end(returned bool, o client.Outcome) {
	if !returned {
		o = client.Outcome{Err: errPanicked}
	}
	rn.obs.End(o)
}

// run is Run's loop, once the run has started.
func (rn *run) run(r *Runner, opts []client.Option) (Transcript, error) {
	for {
		resp, err := r.Chat.New(rn.ctx, rn.params, opts...)
		if err != nil {
			return rn.transcript(), rn.ctxErr(err)
		}
		t := rn.newTurn()
		rn.received(*resp)
		msg, ok := choiceZero(*resp)
		if !ok {
			t.cancel()
			return rn.transcript(), noChoice(t.number)
		}
		if len(msg.ToolCalls) == 0 {
			t.cancel()
			return rn.finish(msg)
		}
		for _, call := range msg.ToolCalls {
			if call.ID != "" {
				t.ids[call.ID] = true // before any id is made for a call without one
			}
		}
		for _, call := range msg.ToolCalls {
			t.add(call)
		}
		if err := rn.endTurn(t, msg, func(Call) bool { return true }); err != nil {
			return rn.transcript(), err
		}
	}
}

// relaxToolChoice makes the turns after one that called tools use
// tool_choice "auto", when the request forced a call ("required" or a named
// function): forced for ever, the model could never answer, and every run
// would end in a *MaxTurnsError. OpenAI's Agents SDK does the same by
// default (reset_tool_choice).
func (rn *run) relaxToolChoice() {
	if c := rn.params.ToolChoice; c != nil {
		if opt, err := c.AsToolChoiceOption(); err != nil || opt == client.ToolChoiceOptionRequired {
			rn.params.ToolChoice = client.ToolChoiceAuto()
		}
	}
}

// run is the state of one Run or Stream call.
type run struct {
	ctx      context.Context
	cancel   context.CancelFunc
	observer client.Observer          // Runner.Observer, for the tool calls
	obs      client.OperationObserver // the run's, or nil
	maxTurns int
	abort    bool
	params   client.ChatCompletionNewParams // Messages grows turn by turn
	tools    map[string]*Tool
	names    []string
	limit    int // Runner.Concurrency, or its default
	out      Transcript
}

// start checks the Runner and params and starts a run (reporting it to the
// Observer, if any), whose rn.ctx the caller must cancel.
func (r *Runner) start(ctx context.Context, params client.ChatCompletionNewParams, stream bool) (*run, error) {
	switch {
	case ctx == nil:
		return nil, &client.ParamError{Param: "ctx", Message: "nil Context"}
	case r.Chat == nil:
		return nil, &client.ParamError{Param: "Runner.Chat", Message: "Runner.Chat is nil: set it to c.Chat.Completions"}
	case r.MaxTurns < 0:
		return nil, &client.ParamError{Param: "Runner.MaxTurns", Message: fmt.Sprintf("Runner.MaxTurns is %d: a run needs at least one turn (0 means %d)", r.MaxTurns, DefaultMaxTurns)}
	case r.Concurrency < 0:
		return nil, &client.ParamError{Param: "Runner.Concurrency", Message: fmt.Sprintf("Runner.Concurrency is %d: at least one tool must be able to run (0 means %d)", r.Concurrency, DefaultConcurrency)}
	}
	rn := &run{maxTurns: cmp.Or(r.MaxTurns, DefaultMaxTurns), abort: r.AbortOnToolError,
		tools: make(map[string]*Tool, len(r.Tools)), limit: cmp.Or(r.Concurrency, DefaultConcurrency)}
	rn.params = params
	rn.params.Messages = append([]client.ChatMessage(nil), params.Messages...)
	rn.params.Tools = append([]client.Tool(nil), params.Tools...)
	for i, t := range r.Tools {
		if t.call == nil {
			return nil, &client.ParamError{Param: fmt.Sprintf("Runner.Tools[%d]", i), Message: fmt.Sprintf("Runner.Tools[%d] was not made by toolrunner.NewTool", i)}
		}
		if _, dup := rn.tools[t.Name()]; dup {
			return nil, &client.ParamError{Param: fmt.Sprintf("Runner.Tools[%d]", i), Message: fmt.Sprintf("two tools are named %q", t.Name())}
		}
		rn.tools[t.Name()] = &t // the loop's copy, which the caller cannot change
		rn.names = append(rn.names, t.Name())
		rn.params.Tools = append(rn.params.Tools, t.def)
	}
	if r.Observer != nil {
		rn.observer = r.Observer
		observed := params // a copy, so that params does not escape when unobserved
		ctx, rn.obs = r.Observer.Start(ctx, client.Operation{Method: MethodRun, Params: &observed, Stream: stream})
	}
	rn.ctx, rn.cancel = context.WithCancel(ctx)
	return rn, nil
}

// transcript returns a copy of the transcript, which later turns cannot change.
func (rn *run) transcript() Transcript {
	t := rn.out
	t.Messages = append([]client.ChatMessage(nil), rn.params.Messages...)
	t.Calls = append([]Call(nil), rn.out.Calls...)
	return t
}

// ctxErr returns ctx's own error when the run's context is done, so that a
// cancelled run says so however the cancellation surfaced.
func (rn *run) ctxErr(err error) error {
	if cerr := rn.ctx.Err(); cerr != nil && !errors.Is(err, cerr) {
		return cerr
	}
	return err
}

// newTurn starts the turn whose completion is to come.
func (rn *run) newTurn() *turn {
	ctx, cancel := context.WithCancel(rn.ctx)
	return &turn{r: rn, number: rn.out.Turns + 1, ctx: ctx, cancel: cancel, seen: map[string]bool{},
		ids: map[string]bool{}, nonce: rand.Uint64()}
}

// received counts a completion received.
func (rn *run) received(c client.ChatCompletion) {
	rn.out.Turns++
	rn.out.Completion = c
	usage.Add(&rn.out.Usage, c.Usage)
}

// finish ends a run whose model answered without calling tools.
func (rn *run) finish(msg client.ChatCompletionMessage) (Transcript, error) {
	rn.params.Messages = append(rn.params.Messages, client.AssistantMessageFrom(msg))
	return rn.transcript(), nil
}

// endTurn waits for the turn's calls, reporting each in order to onResult
// (false stops the run), and adds the assistant message and the results to
// the conversation. It returns the error that ends the run, if any.
func (rn *run) endTurn(t *turn, msg client.ChatCompletionMessage, onResult func(Call) bool) error {
	defer t.cancel()
	stopped := rn.record(t, msg, onResult)
	switch {
	case stopped:
		return errStopped
	case rn.ctx.Err() != nil:
		return rn.ctx.Err()
	case t.failed != nil: // written before its done was closed
		return &ToolError{Call: t.failed.inv, Transcript: rn.transcript()}
	case rn.out.Turns >= rn.maxTurns:
		return &MaxTurnsError{MaxTurns: rn.maxTurns, Transcript: rn.transcript()}
	}
	rn.relaxToolChoice()
	return nil
}

// record waits for the turn's calls, reporting each in order to onResult
// unless it is nil (false stops the run: it reports true), and adds the
// assistant message and the results to the transcript.
func (rn *run) record(t *turn, msg client.ChatCompletionMessage, onResult func(Call) bool) (stopped bool) {
	msg.ToolCalls = t.calls
	rn.params.Messages = append(rn.params.Messages, t.assistantMessage(msg))
	for _, sl := range t.slots {
		<-sl.done
		rn.out.Calls = append(rn.out.Calls, sl.inv)
		if !sl.dup {
			rn.params.Messages = append(rn.params.Messages, client.ToolMessage(client.ToolCall{ID: sl.inv.ID}, sl.inv.Result))
		}
		if onResult != nil && !stopped && !onResult(sl.inv) {
			stopped = true
			t.cancel() // the caller left: the remaining tools need not finish
		}
	}
	t.workers.Wait()
	return stopped
}

// assistantMessage is client.AssistantMessageFrom(msg), whose calls keep the
// Index the turn gave them (AssistantMessageFrom numbers them by position).
func (t *turn) assistantMessage(msg client.ChatCompletionMessage) client.ChatMessage {
	m := client.AssistantMessageFrom(msg)
	a, err := m.AsAssistantMessageParam()
	if err != nil || len(a.ToolCalls) != len(t.calls) {
		return m // not reached: AssistantMessageFrom keeps every call
	}
	for i := range a.ToolCalls {
		a.ToolCalls[i].Index = t.calls[i].Index
	}
	_ = m.FromAssistantMessageParam(a)
	return m
}

// errStopped ends a streaming run whose caller broke out of the loop.
var errStopped = errors.New("cerebras: the caller stopped the run")

// turn runs the tool calls of one completion.
//
// At most run.limit calls run at once, each in a goroutine, and they take
// their turns in the model's order: a call added while every concurrency
// slot is taken waits in queued, and the goroutine of a call that returns
// runs the next queued one. So a turn never has more than run.limit
// goroutines, however many calls the model makes, and a call waiting for
// its turn costs its slot only.
type turn struct {
	r      *run
	number int
	ctx    context.Context // cancelled when the turn ends or aborts
	cancel context.CancelFunc
	seen   map[string]bool // the ids answered
	ids    map[string]bool // the ids the model sent in the turn, as far as known, and those made (see callID)
	nonce  uint64
	calls  []client.ToolCall // the calls answered, ids filled in, for the assistant message
	slots  []*slot           // every call, in the model's order
	abort  sync.Once
	failed *slot // under AbortOnToolError, the call that failed first

	mu      sync.Mutex
	running int     // goroutines running calls; run.limit when queued is not empty
	queued  []*slot // calls waiting for a goroutine, in the model's order
	workers sync.WaitGroup
}

// slot is one call's outcome; done is closed when inv is complete.
type slot struct {
	inv        Call
	tool       *Tool // the tool that runs the call
	dup        bool
	toolFailed bool // the tool itself failed: an error or a panic
	done       chan struct{}
}

// add starts call (unless its id repeats one of the turn) and returns the
// call as it starts (the slot itself is the tool's until done is closed).
// Calls without an id get one, so that the answer can name it.
func (t *turn) add(call client.ToolCall) Call {
	index := len(t.slots)
	sl := &slot{done: make(chan struct{}), inv: Call{
		Turn: t.number, Index: index, ID: t.callID(call.ID, index), Name: call.Function.Name, Arguments: call.Function.Arguments,
	}}
	t.slots = append(t.slots, sl)
	if t.seen[sl.inv.ID] {
		sl.dup = true
		sl.inv.Err = fmt.Errorf("%w: %s", ErrDuplicateCall, sl.inv.ID)
		t.observeUnrun(sl)
		close(sl.done)
		return sl.inv
	}
	t.seen[sl.inv.ID] = true
	call.ID = sl.inv.ID
	call.Index = client.Int(index) // one numbering with Call.Index
	t.calls = append(t.calls, call)

	tool, ok := t.r.tools[sl.inv.Name]
	if !ok {
		sl.inv.Err = fmt.Errorf("%w %q", ErrUnknownTool, sl.inv.Name)
		sl.inv.Result = fmt.Sprintf("error: there is no tool named %q; the tools are: %s", sl.inv.Name, strings.Join(t.r.names, ", "))
		t.observeUnrun(sl)
		close(sl.done)
		return sl.inv
	}
	inv := sl.inv
	sl.tool = tool
	t.schedule(sl)
	return inv
}

// schedule runs sl's call now, in a new goroutine, when a concurrency slot
// is free, and queues it otherwise, for the goroutine of a call that returns.
func (t *turn) schedule(sl *slot) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.running == t.r.limit {
		t.queued = append(t.queued, sl)
		return
	}
	t.running++
	t.workers.Go(func() {
		for sl := sl; sl != nil; sl = t.next() {
			t.runTool(sl)
		}
	})
}

// next takes the first queued call for the goroutine of a call that
// returned, or gives up its slot, reporting nil, when none is queued.
func (t *turn) next() *slot {
	t.mu.Lock()
	defer t.mu.Unlock()
	if len(t.queued) == 0 {
		t.running--
		return nil
	}
	sl := t.queued[0]
	t.queued[0] = nil // the queue's array outlives the call
	t.queued = t.queued[1:]
	return sl
}

// callID returns the id of the call at index: id, the model's, or, when the
// model sent none, call_run_<turn>_<index>_<nonce>, which no other call of
// the turn has. A made id is checked against the ids the turn has seen (in
// Run, those of all its calls; in Stream, those of the calls started so
// far), drawing another nonce on a match. A call still to come in a stream
// is kept off by the nonce: random for the turn and in no request before
// the turn's completion, so the model cannot send the id but by a chance of
// 1 in 2^64 (it may copy an earlier turn's made ids, which have another
// nonce). Each id returned is seen from then on.
func (t *turn) callID(id string, index int) string {
	for id == "" {
		if made := fmt.Sprintf("call_run_%d_%d_%016x", t.number, index, t.nonce); !t.ids[made] {
			id = made
		} else {
			t.nonce = rand.Uint64()
		}
	}
	t.ids[id] = true
	return id
}

// runTool runs one call, in its concurrency slot, turning every failure
// into the message that answers the call; a call whose turn has ended or
// aborted does not run.
func (t *turn) runTool(sl *slot) {
	defer close(sl.done)
	if err := t.ctx.Err(); err != nil {
		sl.inv.Err = err
		sl.inv.Result = "error: the call was cancelled before it ran"
		t.observeUnrun(sl)
		return
	}
	ctx, obs := t.ctx, client.OperationObserver(nil)
	if o := t.r.observer; o != nil {
		ctx, obs = o.Start(ctx, client.Operation{Method: MethodTool, Params: sl.inv})
		defer func() { endCall(obs, sl.inv) }() // after the call's outcome is complete
	}
	start := time.Now()
	result, err := safeCall(ctx, *sl.tool, sl.inv.Arguments)
	sl.inv.Duration = time.Since(start)
	sl.inv.Result, sl.inv.Err = result, err
	var argErr *argumentsError
	var panicErr *PanicError
	switch {
	case err == nil:
	case errors.As(err, &argErr):
		sl.inv.Err = fmt.Errorf("%w: %w", ErrArguments, argErr.err)
		why := argErr.err // "decoding into <Go type>: <json error>": the model needs only the JSON part
		if inner := errors.Unwrap(why); inner != nil {
			why = inner
		}
		sl.inv.Result = "error: the arguments do not match the tool's parameters: " + why.Error()
	case errors.As(err, &panicErr):
		sl.toolFailed = true
		sl.inv.Result = "error: the tool failed"
	default:
		sl.toolFailed = true
		sl.inv.Result = "error: " + err.Error()
	}
	if sl.toolFailed && t.r.abort {
		// The first failure ends the run; the calls it cancels may fail
		// with ctx's error, but they are not the cause.
		t.abort.Do(func() {
			t.failed = sl
			t.cancel()
		})
	}
}

// observeUnrun reports a call that runs no tool (an unknown tool, a
// repeated id, a call cancelled before its turn), its outcome complete, to
// the Runner's Observer, if any.
func (t *turn) observeUnrun(sl *slot) {
	if o := t.r.observer; o != nil {
		_, obs := o.Start(t.ctx, client.Operation{Method: MethodTool, Params: sl.inv})
		endCall(obs, sl.inv)
	}
}

// endCall ends a tool call's operation with the complete call.
func endCall(obs client.OperationObserver, inv Call) {
	if obs != nil {
		obs.End(client.Outcome{Result: inv, Err: inv.Err})
	}
}

// wait waits for the turn's calls without reporting them, for a run that
// ends before its turn does: no tool outlives the run.
func (t *turn) wait() {
	t.cancel()
	for _, sl := range t.slots {
		<-sl.done
	}
	t.workers.Wait()
}
