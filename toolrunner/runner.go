package client

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"runtime/debug"
	"strings"
	"sync"
	"time"

	"github.com/cerebras-go/cerebras/gen"
)

// The tool runner runs the tool loop for the caller: send the conversation,
// run the tools the model asks for, send their results, and repeat until the
// model answers without calling a tool.
//
//	weather, err := client.NewTool("get_weather", "Current weather for a city",
//		func(ctx context.Context, a WeatherArgs) (string, error) { return "21 °C in " + a.City, nil })
//	run, err := c.Chat.Completions.RunTools(ctx, params, []client.RunnableTool{weather})
//	fmt.Println(run.Content())
//
// What the model gets wrong is data, not a failure: a call of an unknown
// tool, arguments that do not decode, a tool that returns an error or panics
// are each answered with a tool message saying so, which the model can react
// to. Only the API's errors, ctx, WithMaxTurns and WithToolErrorsAbort end a
// run early.

// Defaults of the tool runner.
const (
	// DefaultMaxTurns is how many completions a run requests at most,
	// unless WithMaxTurns says otherwise.
	DefaultMaxTurns = 10
	// DefaultToolConcurrency is how many tool calls of one turn run at
	// once, unless WithToolConcurrency says otherwise.
	DefaultToolConcurrency = 8
)

// runConfig holds the tool runner's options; zero values mean the defaults.
type runConfig struct {
	maxTurns    int
	concurrency int
	abort       bool
}

func (r runConfig) turns() int {
	if r.maxTurns > 0 {
		return r.maxTurns
	}
	return DefaultMaxTurns
}

func (r runConfig) parallel() int {
	if r.concurrency > 0 {
		return r.concurrency
	}
	return DefaultToolConcurrency
}

// WithMaxTurns sets how many completions RunTools and RunToolsStreaming
// request at most (default DefaultMaxTurns). When the model still calls
// tools in the last one, the run ends with a *MaxTurnsError after running
// them. Given to New, it applies to every run;
// other calls ignore it.
func WithMaxTurns(n int) Option {
	return atLeastOne("WithMaxTurns", n, "a run needs at least one turn", func(r *runConfig) { r.maxTurns = n })
}

// WithToolConcurrency sets how many tool calls of one turn RunTools and
// RunToolsStreaming run at once (default DefaultToolConcurrency). The calls
// take their turns in the order the model made them: 1 runs them one after
// the other, in that order, and n starts the first n, then each next one as
// a call returns. Given to New, it applies to every run;
// other calls ignore it.
func WithToolConcurrency(n int) Option {
	return atLeastOne("WithToolConcurrency", n, "at least one tool must be able to run", func(r *runConfig) { r.concurrency = n })
}

func atLeastOne(option string, n int, why string, set func(*runConfig)) Option {
	return func(c *config) error {
		if n < 1 {
			return paramError(option, "%s(%d): %s", option, n, why)
		}
		set(&c.run)
		return nil
	}
}

// WithToolErrorsAbort makes a tool that returns an error or panics end the
// run with a *ToolError, instead of telling the model about it. Unknown
// tools and undecodable arguments are the model's mistakes and are still
// answered. Given to New, it applies to every run;
// other calls ignore it.
func WithToolErrorsAbort() Option {
	return func(c *config) error {
		c.run.abort = true
		return nil
	}
}

// ErrUnknownTool is wrapped by the Err of a ToolInvocation whose tool name is
// none of the run's tools.
var ErrUnknownTool = errors.New("cerebras: the model called an unknown tool")

// ErrToolArguments is wrapped by the Err of a ToolInvocation whose arguments
// do not decode into the tool's argument type.
var ErrToolArguments = errors.New("cerebras: the tool call's arguments do not decode")

// ErrDuplicateToolCall is wrapped by the Err of a ToolInvocation whose call id
// the model had already used in the same turn: the id is answered once, by
// the first call, and the repeat is not run.
var ErrDuplicateToolCall = errors.New("cerebras: the model repeated a tool call id")

// ToolPanicError is the Err of a ToolInvocation whose tool panicked.
type ToolPanicError struct {
	// Tool is the tool's name.
	Tool string
	// Value is what the tool passed to panic.
	Value any
	// Stack is the panicking goroutine's stack trace.
	Stack string
}

// Error names the tool and the panic's value.
func (e *ToolPanicError) Error() string {
	return fmt.Sprintf("cerebras: tool %s panicked: %v", e.Tool, e.Value)
}

// RunnableTool is a tool the runner can call: its definition, sent to the
// model, and the Go function that runs it. Make one with NewTool. (Tool is
// the definition alone, as the API's request holds it.)
type RunnableTool struct {
	def  Tool
	call func(ctx context.Context, arguments string) (string, error)
}

// NewTool returns a tool that runs fn. The strict JSON schema of its
// parameters is derived from A, a struct, as FunctionToolFor does; the
// arguments the model sends are decoded into an A for fn. fn's result is
// sent to the model as it is when R is a string, and JSON-encoded otherwise.
// fn must return when ctx is done: a run waits for its tools.
func NewTool[A, R any](name, description string, fn func(ctx context.Context, args A) (R, error)) (RunnableTool, error) {
	if fn == nil {
		return RunnableTool{}, paramError("NewTool", "NewTool(%q): nil function", name)
	}
	def, err := FunctionToolFor[A](name, description)
	if err != nil {
		return RunnableTool{}, err
	}
	call := func(ctx context.Context, arguments string) (string, error) {
		args, err := DecodeArguments[A](ToolCall{Function: ToolCallFunction{Arguments: arguments}})
		if err != nil {
			return "", &argumentsError{err}
		}
		r, err := fn(ctx, args)
		if err != nil {
			return "", err
		}
		if s, ok := any(r).(string); ok {
			return s, nil
		}
		b, err := json.Marshal(r)
		if err != nil {
			return "", fmt.Errorf("client: encoding the result of tool %s: %w", name, err)
		}
		return string(b), nil
	}
	return RunnableTool{def: def, call: call}, nil
}

// MustNewTool is NewTool for tools made once, such as in a package-level
// var: it panics where NewTool returns an error (a nil fn, or an A that has
// no strict schema), which is a mistake in the program, not in its input.
//
//	var weather = client.MustNewTool("get_weather", "Current weather for a city", getWeather)
func MustNewTool[A, R any](name, description string, fn func(ctx context.Context, args A) (R, error)) RunnableTool {
	t, err := NewTool(name, description, fn)
	if err != nil {
		panic(err)
	}
	return t
}

// Name returns the tool's name, which the model calls it by.
func (t RunnableTool) Name() string { return t.def.Function.Name }

// Definition returns the tool's definition, as sent in the request's tools.
func (t RunnableTool) Definition() Tool { return t.def }

// argumentsError marks a decoding failure, which is the model's mistake and
// never aborts a run.
type argumentsError struct{ err error }

func (e *argumentsError) Error() string { return e.err.Error() }

// ToolInvocation is one tool call of a run: what the model asked for and
// what came of it.
type ToolInvocation struct {
	// Turn is the turn whose completion made the call, from 1.
	Turn int
	// Index is the call's position among the calls the model made in the
	// turn, from 0, repeated ids included. The call in the transcript's
	// assistant message has the same Index; a repeated id is not replayed
	// there, so those indexes can skip one.
	Index int
	// ID is the call id the result answers.
	ID string
	// Name is the tool's name.
	Name string
	// Arguments is the JSON-encoded arguments, as the model sent them.
	Arguments string
	// Result is the content sent back to the model: the tool's result, or
	// a message saying what went wrong.
	Result string
	// Err is nil when the tool ran and succeeded. Otherwise it wraps
	// ErrUnknownTool, ErrToolArguments or ErrDuplicateToolCall, is a
	// *ToolPanicError, or is the error the tool returned.
	Err error
	// Duration is how long the tool ran.
	Duration time.Duration
}

// ToolRun is the transcript of a run.
type ToolRun struct {
	// Completion is the last completion received: for a finished run, the
	// model's answer (see Content).
	Completion ChatCompletion
	// Messages is the whole conversation: the request's messages, then each
	// turn's assistant message and tool results, and the final answer.
	// Append a user message to it to continue the conversation.
	Messages []ChatMessage
	// ToolCalls is every tool call of the run, in the order the model made
	// them.
	ToolCalls []ToolInvocation
	// Turns is how many completions the run received.
	Turns int
	// Usage is the token usage summed over the turns.
	Usage Usage
}

// Content returns the text of the last completion's first choice: the
// model's answer when the run finished; "" when there is none.
func (r ToolRun) Content() string {
	if len(r.Completion.Choices) == 0 {
		return ""
	}
	return r.Completion.Choices[0].Message.Content
}

// MaxTurnsError ends a run whose model still called tools in the last turn
// WithMaxTurns allows. Those calls were run and answered, so Run.Messages
// can be sent again to go on.
type MaxTurnsError struct {
	// MaxTurns is the limit that was reached.
	MaxTurns int
	// Run is the transcript so far.
	Run ToolRun
}

// Error says how many turns were used.
func (e *MaxTurnsError) Error() string {
	return fmt.Sprintf("client: the model still called tools after %d turns (WithMaxTurns)", e.MaxTurns)
}

// ToolError ends a run, under WithToolErrorsAbort, whose tool returned an
// error or panicked. The other calls of that turn were cancelled; every call
// is answered in Run.Messages.
type ToolError struct {
	// Tool is the failed call; Tool.Err is the tool's error.
	Tool ToolInvocation
	// Run is the transcript so far.
	Run ToolRun
}

// Error names the tool and its error.
func (e *ToolError) Error() string {
	return fmt.Sprintf("client: tool %s (call %s, turn %d) failed: %v", e.Tool.Name, e.Tool.ID, e.Tool.Turn, e.Tool.Err)
}

// Unwrap returns the tool's error.
func (e *ToolError) Unwrap() error { return e.Tool.Err }

// ToolRunError is the error RunToolsStreaming yields when a run ends early
// for a reason that carries no transcript of its own: an API or stream
// error, ctx, a stream without a choice. Run is the transcript so far, with
// every tool that already ran (RunTools returns it beside the error).
// errors.Is and errors.As see the cause: Err.
//
//	var re *client.ToolRunError
//	if errors.As(err, &re) { log.Printf("%d tools ran before: %v", len(re.Run.ToolCalls), re.Err) }
type ToolRunError struct {
	// Err is the cause, such as an *APIError or ctx's error.
	Err error
	// Run is the transcript so far.
	Run ToolRun
}

// Error is the cause's.
func (e *ToolRunError) Error() string { return e.Err.Error() }

// Unwrap returns the cause.
func (e *ToolRunError) Unwrap() error { return e.Err }

// RunTools runs the tool loop: it sends params with the tools' definitions
// added to params.Tools, runs the tools the model calls, sends their
// results, and repeats until the model answers without calling a tool. It
// follows the first choice. The calls of one turn run concurrently (see
// WithToolConcurrency), and their results are sent in the order the model
// made them, each call id answered once.
//
// A tool_choice that forces a call ("required", or a named function)
// applies to the first turn only: once the model has called tools, the
// later turns are sent with tool_choice "auto", so that it can answer (as
// OpenAI's Agents SDK does by default).
//
// The ToolRun holds the transcript also when err is not nil. Errors: those
// of Chat.Completions.New; a *MaxTurnsError (WithMaxTurns); a *ToolError
// (WithToolErrorsAbort); ctx's error when it is done, which also cancels
// the ctx the tools get. RunTools returns only when every tool it started
// has returned.
func (s *ChatCompletionService) RunTools(ctx context.Context, params ChatCompletionNewParams, tools []RunnableTool, opts ...Option) (ToolRun, error) {
	r, err := s.newRun(ctx, params, tools, opts)
	if err != nil {
		return ToolRun{}, err
	}
	defer r.cancel()
	for {
		resp, err := s.New(r.ctx, r.params, opts...)
		if err != nil {
			return r.transcript(), r.ctxErr(err)
		}
		t := r.newTurn()
		r.received(*resp)
		msg := resp.Choices[0].Message
		if len(msg.ToolCalls) == 0 {
			t.cancel()
			return r.finish(msg)
		}
		for _, call := range msg.ToolCalls {
			t.add(call)
		}
		if err := r.endTurn(t, msg, func(ToolInvocation) bool { return true }); err != nil {
			return r.transcript(), err
		}
	}
}

// relaxToolChoice makes the turns after one that called tools use
// tool_choice "auto", when the request forced a call ("required" or a named
// function): forced for ever, the model could never answer, and every run
// would end in a *MaxTurnsError. OpenAI's Agents SDK does the same by
// default (reset_tool_choice).
func (r *run) relaxToolChoice() {
	if c := r.params.ToolChoice; c != nil {
		if opt, err := c.AsToolChoiceOption(); err != nil || opt == gen.ToolChoiceOptionRequired {
			r.params.ToolChoice = ToolChoiceAuto()
		}
	}
}

// run is the state of one RunTools or RunToolsStreaming call.
type run struct {
	ctx    context.Context
	cancel context.CancelFunc
	cfg    runConfig
	params ChatCompletionNewParams // Messages grows turn by turn
	tools  map[string]RunnableTool
	names  []string
	sem    chan struct{}
	out    ToolRun
}

func (s *ChatCompletionService) newRun(ctx context.Context, params ChatCompletionNewParams, tools []RunnableTool, opts []Option) (*run, error) {
	if ctx == nil {
		return nil, paramError("ctx", "nil Context")
	}
	cfg := s.c.cfg.clone()
	if err := cfg.apply(opts); err != nil {
		return nil, err
	}
	r := &run{cfg: cfg.run, tools: make(map[string]RunnableTool, len(tools)), sem: make(chan struct{}, cfg.run.parallel())}
	r.params = params
	r.params.Messages = append([]ChatMessage(nil), params.Messages...)
	r.params.Tools = append([]Tool(nil), params.Tools...)
	for i, t := range tools {
		if t.call == nil {
			return nil, paramError(fmt.Sprintf("tools[%d]", i), "tools[%d] was not made by NewTool", i)
		}
		if _, dup := r.tools[t.Name()]; dup {
			return nil, paramError(fmt.Sprintf("tools[%d]", i), "two tools are named %q", t.Name())
		}
		r.tools[t.Name()] = t
		r.names = append(r.names, t.Name())
		r.params.Tools = append(r.params.Tools, t.def)
	}
	r.ctx, r.cancel = context.WithCancel(ctx)
	return r, nil
}

// transcript returns a copy of the transcript, which later turns cannot change.
func (r *run) transcript() ToolRun {
	t := r.out
	t.Messages = append([]ChatMessage(nil), r.params.Messages...)
	t.ToolCalls = append([]ToolInvocation(nil), r.out.ToolCalls...)
	return t
}

// ctxErr returns ctx's own error when the run's context is done, so that a
// cancelled run says so however the cancellation surfaced.
func (r *run) ctxErr(err error) error {
	if cerr := r.ctx.Err(); cerr != nil && !errors.Is(err, cerr) {
		return cerr
	}
	return err
}

// newTurn starts the turn whose completion is to come.
func (r *run) newTurn() *turn {
	ctx, cancel := context.WithCancel(r.ctx)
	return &turn{r: r, number: r.out.Turns + 1, ctx: ctx, cancel: cancel, seen: map[string]bool{}}
}

// received counts a completion received.
func (r *run) received(c ChatCompletion) {
	r.out.Turns++
	r.out.Completion = c
	addUsage(&r.out.Usage, c.Usage)
}

// finish ends a run whose model answered without calling tools.
func (r *run) finish(msg ChatCompletionMessage) (ToolRun, error) {
	r.params.Messages = append(r.params.Messages, AssistantMessageFrom(msg))
	return r.transcript(), nil
}

// endTurn waits for the turn's calls, reporting each in order to onResult
// (false stops the run), and adds the assistant message and the results to
// the conversation. It returns the error that ends the run, if any.
func (r *run) endTurn(t *turn, msg ChatCompletionMessage, onResult func(ToolInvocation) bool) error {
	defer t.cancel()
	stopped := r.record(t, msg, onResult)
	switch {
	case stopped:
		return errStopped
	case r.ctx.Err() != nil:
		return r.ctx.Err()
	case t.failed != nil: // written before its done was closed
		return &ToolError{Tool: t.failed.inv, Run: r.transcript()}
	case r.out.Turns >= r.cfg.turns():
		return &MaxTurnsError{MaxTurns: r.cfg.turns(), Run: r.transcript()}
	}
	r.relaxToolChoice()
	return nil
}

// record waits for the turn's calls, reporting each in order to onResult
// unless it is nil (false stops the run: it reports true), and adds the
// assistant message and the results to the transcript.
func (r *run) record(t *turn, msg ChatCompletionMessage, onResult func(ToolInvocation) bool) (stopped bool) {
	msg.ToolCalls = t.calls
	r.params.Messages = append(r.params.Messages, t.assistantMessage(msg))
	for _, sl := range t.slots {
		<-sl.done
		r.out.ToolCalls = append(r.out.ToolCalls, sl.inv)
		if !sl.dup {
			r.params.Messages = append(r.params.Messages, ToolMessage(ToolCall{ID: sl.inv.ID}, sl.inv.Result))
		}
		if onResult != nil && !stopped && !onResult(sl.inv) {
			stopped = true
			t.cancel() // the caller left: the remaining tools need not finish
		}
	}
	return stopped
}

// assistantMessage is AssistantMessageFrom(msg), whose calls keep the Index
// the turn gave them (AssistantMessageFrom numbers them by position).
func (t *turn) assistantMessage(msg ChatCompletionMessage) ChatMessage {
	m := AssistantMessageFrom(msg)
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
var errStopped = errors.New("client: the caller stopped the run")

// turn runs the tool calls of one completion.
type turn struct {
	r      *run
	number int
	ctx    context.Context // cancelled when the turn ends or aborts
	cancel context.CancelFunc
	seen   map[string]bool
	calls  []ToolCall    // the calls answered, ids filled in, for the assistant message
	slots  []*slot       // every call, in the model's order
	queue  chan struct{} // closed once the last tool started has its concurrency slot
	abort  sync.Once
	failed *slot // under WithToolErrorsAbort, the call that failed first
}

// slot is one call's outcome; done is closed when inv is complete.
type slot struct {
	inv        ToolInvocation
	dup        bool
	toolFailed bool // the tool itself failed: an error or a panic
	done       chan struct{}
}

// add starts call (unless its id repeats one of the turn) and returns the
// invocation as it starts (the slot itself is the tool's until done is
// closed). Calls without an id get one, so that the answer can name it.
func (t *turn) add(call ToolCall) ToolInvocation {
	index := len(t.slots)
	sl := &slot{done: make(chan struct{}), inv: ToolInvocation{
		Turn: t.number, Index: index, ID: call.ID, Name: call.Function.Name, Arguments: call.Function.Arguments,
	}}
	t.slots = append(t.slots, sl)
	if sl.inv.ID == "" {
		sl.inv.ID = runCallID(t.number, index)
	}
	if t.seen[sl.inv.ID] {
		sl.dup = true
		sl.inv.Err = fmt.Errorf("%w: %s", ErrDuplicateToolCall, sl.inv.ID)
		close(sl.done)
		return sl.inv
	}
	t.seen[sl.inv.ID] = true
	call.ID = sl.inv.ID
	call.Index = Int(index) // one numbering with ToolInvocation.Index
	t.calls = append(t.calls, call)

	tool, ok := t.r.tools[sl.inv.Name]
	if !ok {
		sl.inv.Err = fmt.Errorf("%w %q", ErrUnknownTool, sl.inv.Name)
		sl.inv.Result = fmt.Sprintf("error: there is no tool named %q; the tools are: %s", sl.inv.Name, strings.Join(t.r.names, ", "))
		close(sl.done)
		return sl.inv
	}
	inv := sl.inv
	prev, next := t.queue, make(chan struct{})
	t.queue = next
	go t.runTool(tool, sl, prev, next)
	return inv
}

// runCallID is the id the runner gives the call at index of turn when the
// model sent none.
func runCallID(turn, index int) string { return fmt.Sprintf("call_run_%d_%d", turn, index) }

// runTool runs one call once a concurrency slot is free, turning every
// failure into the message that answers the call. The calls take the slots
// in the model's order: each waits until the call before it has its slot
// (prev is closed), and closes next once it has its own. So with
// WithToolConcurrency(1) the calls run one after the other in that order,
// and with more they start in that order.
func (t *turn) runTool(tool RunnableTool, sl *slot, prev <-chan struct{}, next chan<- struct{}) {
	defer close(sl.done)
	if !t.takeSlot(prev, next) {
		sl.inv.Err = t.ctx.Err()
		sl.inv.Result = "error: the call was cancelled before it ran"
		return
	}
	defer func() { <-t.r.sem }()
	start := time.Now()
	result, err := safeCall(t.ctx, tool, sl.inv.Arguments)
	sl.inv.Duration = time.Since(start)
	sl.inv.Result, sl.inv.Err = result, err
	var argErr *argumentsError
	var panicErr *ToolPanicError
	switch {
	case err == nil:
	case errors.As(err, &argErr):
		sl.inv.Err = fmt.Errorf("%w: %w", ErrToolArguments, argErr.err)
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
	if sl.toolFailed && t.r.cfg.abort {
		// The first failure ends the run; the calls it cancels may fail
		// with ctx's error, but they are not the cause.
		t.abort.Do(func() {
			t.failed = sl
			t.cancel()
		})
	}
}

// takeSlot waits for the call before (prev, nil for the first) to have its
// concurrency slot, then takes one; it closes next either way, and reports
// false when the turn ended first.
func (t *turn) takeSlot(prev <-chan struct{}, next chan<- struct{}) bool {
	defer close(next)
	if prev != nil {
		select {
		case <-prev:
		case <-t.ctx.Done():
			return false
		}
	}
	select {
	case t.r.sem <- struct{}{}:
		return true
	case <-t.ctx.Done():
		return false
	}
}

func safeCall(ctx context.Context, tool RunnableTool, arguments string) (result string, err error) {
	defer func() {
		if v := recover(); v != nil {
			result, err = "", &ToolPanicError{Tool: tool.Name(), Value: v, Stack: string(debug.Stack())}
		}
	}()
	return tool.call(ctx, arguments)
}

// wait waits for the turn's calls without reporting them, for a run that
// ends before its turn does: no tool outlives the run.
func (t *turn) wait() {
	t.cancel()
	for _, sl := range t.slots {
		<-sl.done
	}
}

// addUsage adds u to sum; a completion without usage adds nothing. Every
// count is summed, whatever the spec names it: the fields are not listed
// here a second time.
func addUsage(sum *Usage, u *Usage) {
	if u != nil {
		addCounts(reflect.ValueOf(sum).Elem(), reflect.ValueOf(*u))
	}
}

func addCounts(dst, src reflect.Value) {
	if !dst.CanSet() {
		return
	}
	switch dst.Kind() {
	case reflect.Int, reflect.Int64:
		dst.SetInt(dst.Int() + src.Int())
	case reflect.Float64:
		dst.SetFloat(dst.Float() + src.Float())
	case reflect.Struct:
		for i := range dst.NumField() {
			addCounts(dst.Field(i), src.Field(i))
		}
	}
}
