package cerebrastest

import (
	"fmt"
	"net/http"
	"time"

	"github.com/cerebras-go/cerebras/internal/apierror"
)

// Fault is a failure the server injects into one response.
type Fault int

// The faults a scripted Response can inject.
const (
	// NoFault answers normally.
	NoFault Fault = iota
	// ResetBeforeHeaders closes the connection without answering.
	ResetBeforeHeaders
	// StallBeforeHeaders sends nothing for Response.Stall (default: until the
	// client gives up), then answers normally.
	StallBeforeHeaders
	// ResetMidStream closes the connection after the headers and
	// Response.After events.
	ResetMidStream
	// StallMidStream stops sending after the headers and Response.After
	// events, for Response.Stall (default: until the client gives up).
	StallMidStream
	// TruncateStream ends the body cleanly after Response.After events,
	// without `data: [DONE]`.
	TruncateStream
	// InBandError sends an error event after Response.After events, with
	// status_code Response.Status (default 500).
	InBandError
)

// String names the fault.
func (f Fault) String() string {
	switch f {
	case NoFault:
		return "none"
	case ResetBeforeHeaders:
		return "reset before headers"
	case StallBeforeHeaders:
		return "stall before headers"
	case ResetMidStream:
		return "reset mid-stream"
	case StallMidStream:
		return "stall mid-stream"
	case TruncateStream:
		return "truncated stream"
	case InBandError:
		return "in-band error"
	}
	return fmt.Sprintf("Fault(%d)", int(f))
}

// Response scripts the answer to one request; queue it with Server.Enqueue.
// With Body set, the server sends Status (default 200), Header and Body as
// they are. Otherwise the built-in model answers, with Fault injected and
// Header added.
type Response struct {
	// Status is the HTTP status of a literal Body, or the status_code of an
	// InBandError.
	Status int
	// Header is added to the response.
	Header http.Header
	// Body, when set, is sent instead of the model's answer.
	Body string
	// Fault is injected into the model's answer.
	Fault Fault
	// After is how many stream events (chunks) are sent before a
	// mid-stream fault. A chat stream's text comes after its role chunk and
	// its reasoning: the package doc lists the chunks in order.
	After int
	// Stall is how long a stall lasts; zero stalls until the client leaves.
	Stall time.Duration
	// Path, when set, makes this the answer to the next call to that URL
	// path only (such as "/v1/chat/completions"); calls to other paths pass
	// it by in the queue. Empty answers the next API call, whatever its path.
	Path string
}

// ErrorResponse returns a scripted API error with the body the real API
// sends: {"error": {"message", "type", "param", "code"}}.
func ErrorResponse(status int, errType, code, message string) Response {
	return Response{
		Status: status,
		Header: http.Header{"Content-Type": {"application/json"}},
		Body:   errorBody(message, errType, "", code),
	}
}

// RateLimited returns a 429 that asks the client to retry after retryAfter,
// with the rate-limit headers of an exhausted per-minute token budget.
func RateLimited(retryAfter time.Duration) Response {
	r := ErrorResponse(http.StatusTooManyRequests, "too_many_requests_error", "token_quota_exceeded",
		"Tokens per minute limit exceeded - too many tokens processed.")
	r.Header.Set(apierror.HeaderRetryAfterMs, fmt.Sprint(retryAfter.Milliseconds()))
	r.Header.Set(apierror.HeaderXRatelimitLimitTokensMinute, "60000")
	r.Header.Set(apierror.HeaderXRatelimitRemainingTokensMinute, "0")
	r.Header.Set(apierror.HeaderXRatelimitResetTokensMinute, fmt.Sprintf("%.3f", retryAfter.Seconds()))
	return r
}
