package toolrunner

import (
	"errors"
	"fmt"
)

// ErrUnknownTool is wrapped by the Err of a Call whose tool name is none of
// the runner's tools.
var ErrUnknownTool = errors.New("cerebras: the model called an unknown tool")

// ErrArguments is wrapped by the Err of a Call whose arguments do not decode
// into the tool's argument type.
var ErrArguments = errors.New("cerebras: the tool call's arguments do not decode")

// ErrDuplicateCall is wrapped by the Err of a Call whose id the model had
// already used in the same turn: the id is answered once, by the first call,
// and the repeat is not run.
var ErrDuplicateCall = errors.New("cerebras: the model repeated a tool call id")

// ErrNoChoice is wrapped by the error that ends a run whose completion has
// no choice 0, the choice a run follows.
var ErrNoChoice = errors.New("cerebras: the completion has no choice 0")

// PanicError is the Err of a Call whose tool panicked.
type PanicError struct {
	// Tool is the tool's name.
	Tool string
	// Value is what the tool passed to panic.
	Value any
	// Stack is the panicking goroutine's stack trace.
	Stack string
}

// Error names the tool and the panic's value.
func (e *PanicError) Error() string {
	return fmt.Sprintf("cerebras: tool %s panicked: %v", e.Tool, e.Value)
}

// MaxTurnsError ends a run whose model still called tools in the last turn
// Runner.MaxTurns allows. Those calls were run and answered, so
// Transcript.Messages can be sent again to go on.
type MaxTurnsError struct {
	// MaxTurns is the limit that was reached.
	MaxTurns int
	// Transcript is the run so far.
	Transcript Transcript
}

// Error says how many turns were used.
func (e *MaxTurnsError) Error() string {
	return fmt.Sprintf("cerebras: the model still called tools after %d turns (Runner.MaxTurns)", e.MaxTurns)
}

// ToolError ends a run, under Runner.AbortOnToolError, whose tool returned
// an error or panicked. The other calls of that turn were cancelled; every
// call is answered in Transcript.Messages.
type ToolError struct {
	// Call is the failed call; Call.Err is the tool's error.
	Call Call
	// Transcript is the run so far.
	Transcript Transcript
}

// Error names the tool and its error.
func (e *ToolError) Error() string {
	return fmt.Sprintf("cerebras: tool %s (call %s, turn %d) failed: %v", e.Call.Name, e.Call.ID, e.Call.Turn, e.Call.Err)
}

// Unwrap returns the tool's error.
func (e *ToolError) Unwrap() error { return e.Call.Err }

// RunError is the error Runner.Stream yields when a run ends early for a
// reason that carries no transcript of its own: an API or stream error,
// ctx, a completion without choice 0 (ErrNoChoice). Transcript is the run
// so far, with every tool that already ran (Runner.Run returns it beside
// the error). errors.Is and errors.As see the cause: Err.
//
//	var re *toolrunner.RunError
//	if errors.As(err, &re) { log.Printf("%d tools ran before: %v", len(re.Transcript.Calls), re.Err) }
type RunError struct {
	// Err is the cause, such as a *client.APIError or ctx's error.
	Err error
	// Transcript is the run so far.
	Transcript Transcript
}

// Error is the cause's.
func (e *RunError) Error() string { return e.Err.Error() }

// Unwrap returns the cause.
func (e *RunError) Unwrap() error { return e.Err }
