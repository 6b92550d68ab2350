package otelcerebras

import (
	"context"
	"errors"
	"strconv"

	"github.com/cerebras-go/cerebras/batchfile"
	"github.com/cerebras-go/cerebras/client"
	"github.com/cerebras-go/cerebras/streaming"
	"github.com/cerebras-go/cerebras/toolrunner"
)

// ErrorType returns the error.type this package records for err: a short,
// low-cardinality name of its kind, found with errors.As and errors.Is.
//
//   - a *client.APIError: its HTTP status ("429", "500"), or, for an
//     error event of a stream that gave none, "stream_error"
//   - a *client.TimeoutError, context.DeadlineExceeded or an idle stream:
//     "timeout"
//   - context.Canceled: "canceled"
//   - a *client.ConnectionError: "connection_error"; a truncated stream:
//     "truncated_stream"
//   - a *client.ResponseTooLargeError or *streaming.EventTooLargeError:
//     "response_too_large"; a *client.ResponseError or
//     *streaming.DecodeError: "invalid_response"
//   - a *client.RedirectError: "redirect"; a *client.RateLimitWaitError:
//     "rate_limit_wait"; a *client.ParamError: "invalid_input"
//   - a tool runner's *toolrunner.MaxTurnsError: "max_turns"; its
//     *toolrunner.ToolError and a tool's *toolrunner.PanicError:
//     "tool_error" and "panic"; a call of an unknown tool, undecodable
//     arguments, a repeated call id, a completion without choice 0:
//     "unknown_tool", "invalid_arguments", "duplicate_call", "no_choice"
//   - a bulk run's batchfile.ErrUnfinished: "unfinished"
//   - anything else: "_OTHER", as the conventions say.
//
// It returns "" for a nil err.
func ErrorType(err error) string {
	if err == nil {
		return ""
	}
	var (
		apiErr     *client.APIError
		timeout    *client.TimeoutError
		conn       *client.ConnectionError
		tooLarge   *client.ResponseTooLargeError
		eventLarge *streaming.EventTooLargeError
		respErr    *client.ResponseError
		decodeErr  *streaming.DecodeError
		redirect   *client.RedirectError
		paceErr    *client.RateLimitWaitError
		paramErr   *client.ParamError
		maxTurns   *toolrunner.MaxTurnsError
		toolErr    *toolrunner.ToolError
		panicErr   *toolrunner.PanicError
	)
	switch {
	case errors.As(err, &maxTurns):
		return "max_turns"
	case errors.As(err, &toolErr):
		return "tool_error"
	case errors.As(err, &apiErr):
		if apiErr.StatusCode != 0 {
			return strconv.Itoa(apiErr.StatusCode)
		}
		return "stream_error"
	case errors.As(err, &timeout), errors.Is(err, context.DeadlineExceeded), errors.Is(err, streaming.ErrIdleTimeout):
		return "timeout"
	case errors.Is(err, context.Canceled):
		return "canceled"
	case errors.Is(err, streaming.ErrTruncated):
		return "truncated_stream"
	case errors.As(err, &conn):
		return "connection_error"
	case errors.As(err, &tooLarge), errors.As(err, &eventLarge):
		return "response_too_large"
	case errors.As(err, &respErr), errors.As(err, &decodeErr):
		return "invalid_response"
	case errors.As(err, &redirect):
		return "redirect"
	case errors.As(err, &paceErr):
		return "rate_limit_wait"
	case errors.As(err, &paramErr):
		return "invalid_input"
	case errors.As(err, &panicErr):
		return "panic"
	case errors.Is(err, toolrunner.ErrUnknownTool):
		return "unknown_tool"
	case errors.Is(err, toolrunner.ErrArguments):
		return "invalid_arguments"
	case errors.Is(err, toolrunner.ErrDuplicateCall):
		return "duplicate_call"
	case errors.Is(err, toolrunner.ErrNoChoice):
		return "no_choice"
	case errors.Is(err, batchfile.ErrUnfinished):
		return "unfinished"
	}
	return errorOther
}
