package otelcerebras

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/cerebras-go/cerebras/batchfile"
	"github.com/cerebras-go/cerebras/client"
	"github.com/cerebras-go/cerebras/streaming"
	"github.com/cerebras-go/cerebras/toolrunner"
)

func TestRedact(t *testing.T) {
	const key = "csk-abcdefghijklmnopqrstuvwxyz0123456789"
	for in, want := range map[string]string{
		"":                                 "",
		"no key here":                      "no key here",
		"csk-":                             "csk-",
		"csk-short":                        "csk-short",
		key:                                keyMask,
		"Bearer " + key + ".":              "Bearer " + keyMask + ".",
		key + " and " + key:                keyMask + " and " + keyMask,
		"xcsk-abcdefghijklmnopqrstuv":      "x" + keyMask,
		"csk-csk-abcdefghijklmnopqrstuvwx": keyMask,
		`{"k":"` + key + `"}`:              `{"k":"` + keyMask + `"}`,
	} {
		if got := redact(in); got != want {
			t.Errorf("redact(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestCapperCutsAtARune(t *testing.T) {
	c := capper{left: 5}
	if got := c.text("héllo wörld"); got != "héll"+truncatedMark {
		t.Errorf("got %q", got)
	}
	if got := c.text("more"); got != truncatedMark {
		t.Errorf("after the cap: %q", got)
	}
}

func TestErrorType(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want string
	}{
		{nil, ""},
		{&client.APIError{StatusCode: 429}, "429"},
		{fmt.Errorf("wrapped: %w", &client.APIError{StatusCode: 503}), "503"},
		{&client.APIError{InStream: true}, "stream_error"},
		{&client.TimeoutError{}, "timeout"},
		{context.DeadlineExceeded, "timeout"},
		{streaming.ErrIdleTimeout, "timeout"},
		{context.Canceled, "canceled"},
		{&client.ConnectionError{Err: errors.New("reset")}, "connection_error"},
		{&client.ConnectionError{Err: streaming.ErrTruncated}, "truncated_stream"},
		{&client.ResponseTooLargeError{}, "response_too_large"},
		{&client.ResponseError{}, "invalid_response"},
		{&streaming.DecodeError{Err: errors.New("bad")}, "invalid_response"},
		{&client.RedirectError{}, "redirect"},
		{&client.RateLimitWaitError{}, "rate_limit_wait"},
		{&client.ParamError{}, "invalid_input"},
		{&toolrunner.MaxTurnsError{}, "max_turns"},
		{&toolrunner.ToolError{}, "tool_error"},
		{&toolrunner.PanicError{}, "panic"},
		{fmt.Errorf("%w x", toolrunner.ErrUnknownTool), "unknown_tool"},
		{fmt.Errorf("%w: x", toolrunner.ErrArguments), "invalid_arguments"},
		{fmt.Errorf("%w: x", toolrunner.ErrDuplicateCall), "duplicate_call"},
		{toolrunner.ErrNoChoice, "no_choice"},
		{&toolrunner.RunError{Err: &client.APIError{StatusCode: 400}}, "400"},
		{fmt.Errorf("%w: 2", batchfile.ErrUnfinished), "unfinished"},
		{errors.New("something"), "_OTHER"},
	} {
		if got := ErrorType(tc.err); got != tc.want {
			t.Errorf("ErrorType(%#v) = %q, want %q", tc.err, got, tc.want)
		}
	}
}

func TestHeaderInt(t *testing.T) {
	for in, want := range map[string]int64{"14399": 14399, "59000.0": 59000, "1.5e3": 1500} {
		if got, ok := headerInt(in); !ok || got != want {
			t.Errorf("headerInt(%q) = %d, %t", in, got, ok)
		}
	}
	for _, in := range []string{"", "x", "NaN", "1e300"} {
		if _, ok := headerInt(in); ok {
			t.Errorf("headerInt(%q) read a number", in)
		}
	}
}

// Bad values never panic: nil params, a nil context, an unknown method,
// results of unexpected types, a stream element of another type.
func TestOddInputs(t *testing.T) {
	o := New()
	//lint:ignore SA1012 a nil context is the bad input under test
	ctx, op := o.Start(nil, client.Operation{Method: "Chat.Completions.NewStreaming", BaseURL: "::not a url", Stream: true})
	if ctx == nil || op == nil {
		t.Fatal("nil context or observer")
	}
	op.Event(42)
	op.Event(&client.ChatCompletionChunk{Choices: []client.ChatCompletionChunkChoice{{Index: -1}, {Index: 1 << 30, FinishReason: "stop"}}})
	op.Attempt(client.Attempt{})
	op.End(client.Outcome{Result: "odd", Err: errors.New("x")})
	for _, m := range []string{"", toolrunner.MethodRun, toolrunner.MethodTool, batchfile.MethodRunLocal, "Batches.Wait"} {
		_, op := o.Start(context.Background(), client.Operation{Method: m, Params: 3})
		op.Attempt(client.Attempt{Retry: true})
		op.End(client.Outcome{Result: 3})
	}
}
