package client

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/cerebras-go/cerebras/internal/apierror"
)

// APIError is an error reported by the Cerebras API: an HTTP error status
// (after retries), or an error event inside a stream (InStream). Inspect it
// with errors.As:
//
//	var apiErr *client.APIError
//	if errors.As(err, &apiErr) && apiErr.StatusCode == 429 {
//		wait := apiErr.RateLimit.TokensMinute.Reset
//	}
//
// Its fields are StatusCode, Type, Code, Param, Message, ID, Details (FastAPI
// validation failures), RequestID, Header, RateLimit, RetryAfter, Body (the
// raw body, at most 64 KiB), BodyTruncated, InStream, and the Method and Path
// (without the query string) of the request. Error() is one line with the
// method and path, the status and the server's message, such as
// "cerebras: POST /v1/chat/completions: 404 Not Found: Not Found"; it never
// holds the API key.
type APIError = apierror.Error

// Sentinel errors for the status classes: errors.Is(err, client.ErrRateLimit)
// holds for any *APIError with that status.
var (
	ErrBadRequest          = apierror.ErrBadRequest          // 400
	ErrAuthentication      = apierror.ErrAuthentication      // 401
	ErrPaymentRequired     = apierror.ErrPaymentRequired     // 402
	ErrPermissionDenied    = apierror.ErrPermissionDenied    // 403
	ErrNotFound            = apierror.ErrNotFound            // 404
	ErrConflict            = apierror.ErrConflict            // 409
	ErrUnprocessableEntity = apierror.ErrUnprocessableEntity // 422
	ErrRateLimit           = apierror.ErrRateLimit           // 429
	ErrInternalServer      = apierror.ErrInternalServer      // any status >= 500
	ErrServiceUnavailable  = apierror.ErrServiceUnavailable  // 503
)

// ConnectionError reports a request that never got a response: the
// connection failed or broke, after all retries. It wraps the cause.
type ConnectionError struct {
	// Attempts is how many attempts were made.
	Attempts int
	// Err is the last attempt's error.
	Err error
}

// Error describes the failure and the attempts made.
func (e *ConnectionError) Error() string {
	return fmt.Sprintf("cerebras: connection error after %d attempt(s): %v", e.Attempts, e.Err)
}

// Unwrap returns the cause.
func (e *ConnectionError) Unwrap() error { return e.Err }

// RedirectError reports a redirect the SDK refused to follow because it
// leads away from the base URL's origin: its scheme, host and port. The API
// key and the request body are sent only there, so a redirect from https
// to http, to another port or to another host is never followed, and
// neither is one from http to https (use an https base URL instead). A
// redirect within the origin is followed. The request is not retried.
type RedirectError struct {
	// StatusCode is the redirect's status, such as 307.
	StatusCode int
	// From is the URL that answered with the redirect, without its query.
	From string
	// To is where the redirect pointed, without its query and with any
	// password masked.
	To string
}

// Error names the redirect and why it was refused.
func (e *RedirectError) Error() string {
	return fmt.Sprintf("cerebras: refused a %d redirect from %s to %s: the API key is only sent to the base URL's scheme, host and port", e.StatusCode, e.From, e.To)
}

// TimeoutError reports attempts that each ran out of their request timeout
// (WithRequestTimeout), after all retries. It wraps the cause, so
// errors.Is(err, context.DeadlineExceeded) holds.
type TimeoutError struct {
	// Attempts is how many attempts were made.
	Attempts int
	// After is the per-attempt timeout that ran out.
	After time.Duration
	// Err is the last attempt's error.
	Err error
}

// Error names the timeout and the attempts made.
func (e *TimeoutError) Error() string {
	return fmt.Sprintf("cerebras: request timed out after %s (%d attempt(s)): %v", e.After, e.Attempts, e.Err)
}

// Unwrap returns context.DeadlineExceeded and the cause.
func (e *TimeoutError) Unwrap() []error { return []error{context.DeadlineExceeded, e.Err} }

// Timeout reports true, so the error satisfies net.Error-style checks.
func (e *TimeoutError) Timeout() bool { return true }

// ResponseError reports a successful status whose body is empty, is not a
// JSON object (such as null or an array), or cannot be decoded into the
// documented type.
type ResponseError struct {
	// StatusCode is the HTTP status.
	StatusCode int
	// Body is the start of the body (at most 1 KiB).
	Body []byte
	// Err is the decoding error.
	Err error
}

// Error quotes the start of the malformed body.
func (e *ResponseError) Error() string {
	switch {
	case len(e.Body) == 0 && e.Err == nil:
		return fmt.Sprintf("cerebras: %d response with an empty body", e.StatusCode)
	case len(e.Body) == 0:
		return fmt.Sprintf("cerebras: malformed %d response: %v", e.StatusCode, e.Err)
	}
	return fmt.Sprintf("cerebras: malformed %d response: %v: %q", e.StatusCode, e.Err, e.Body)
}

// Unwrap returns the decoding error.
func (e *ResponseError) Unwrap() error { return e.Err }

// ErrInvalidInput is matched (errors.Is) by every error the SDK returns
// because of its input before anything is sent: a *ParamError.
var ErrInvalidInput = errors.New("cerebras: invalid input")

// ParamError reports an argument, option, parameter or environment variable
// the SDK refuses before sending a request. Nothing was sent.
//
//	var pe *client.ParamError
//	if errors.As(err, &pe) { log.Printf("fix %s: %s", pe.Param, pe.Message) }
type ParamError struct {
	// Param names what is wrong, as the caller wrote it: "params.Model",
	// "params.Messages[1]", "WithMaxRetries", "CEREBRAS_CUSTOM_HEADERS",
	// "ctx", "model id" …
	Param string
	// Message says what is wrong and how to fix it.
	Message string
	// Err is the underlying error, if any (an encoding error, say).
	Err error
}

// Error returns "cerebras: " and the message.
func (e *ParamError) Error() string { return "cerebras: " + e.Message }

// Is reports whether target is ErrInvalidInput.
func (e *ParamError) Is(target error) bool { return target == ErrInvalidInput }

// Unwrap returns the underlying error, if any.
func (e *ParamError) Unwrap() error { return e.Err }

// paramError returns a *ParamError for param, its message formatted.
func paramError(param, format string, args ...any) error {
	return &ParamError{Param: param, Message: fmt.Sprintf(format, args...)}
}

// ErrNilResponse is wrapped by the error of a call whose HTTP client (the
// Doer) or a middleware broke the contract of http.Client.Do: it returned a
// nil response and a nil error, or a response whose Body is nil. That is a
// bug in that code, so the call fails at once, without retries; the error
// names the request.
var ErrNilResponse = errors.New("cerebras: the HTTP client or a middleware returned no response")

// ErrResponseTooLarge is matched (errors.Is) by a *ResponseTooLargeError.
var ErrResponseTooLarge = errors.New("cerebras: response body too large")

// ResponseTooLargeError reports a successful response whose body is longer
// than the limit WithMaxResponseSize sets (DefaultMaxResponseSize unless
// raised), or whose value would take more memory once decoded than 4 times
// the body's size plus 64 KiB (Decoded). The SDK stops reading at the size
// limit, and measures a body before decoding it, so memory stays bounded
// whatever the server sends or claims; the call is not retried.
type ResponseTooLargeError struct {
	// StatusCode is the HTTP status.
	StatusCode int
	// Limit is the limit, in bytes after decompression, that the body
	// exceeded; when Decoded, the memory its decoded value may take.
	Limit int64
	// Decoded reports a body within the size limit refused before it was
	// decoded, because its value would take more than Limit bytes of
	// memory: only elements that decode into far more than their bytes,
	// such as thousands of empty objects, do that; no option raises it.
	Decoded bool
}

// Error names the limit and, for the size limit, the option that raises it.
func (e *ResponseTooLargeError) Error() string {
	if e.Decoded {
		return fmt.Sprintf("cerebras: the %d response body would take more than %d bytes of memory once decoded (4 times its size plus 64 KiB): refused",
			e.StatusCode, e.Limit)
	}
	return fmt.Sprintf("cerebras: the %d response body is larger than the %s limit (raise it with client.WithMaxResponseSize)",
		e.StatusCode, formatBytes(e.Limit))
}

// Is reports whether target is ErrResponseTooLarge.
func (e *ResponseTooLargeError) Is(target error) bool { return target == ErrResponseTooLarge }

// formatBytes writes n as whole KiB, MiB or GiB when it is one, else in bytes.
func formatBytes(n int64) string {
	for _, u := range []struct {
		size int64
		name string
	}{{1 << 30, "GiB"}, {1 << 20, "MiB"}, {1 << 10, "KiB"}} {
		if n >= u.size && n%u.size == 0 {
			return fmt.Sprintf("%d %s", n/u.size, u.name)
		}
	}
	return fmt.Sprintf("%d-byte", n)
}

// ErrNotReplayed is matched (errors.Is) by a *NotReplayedError: a call that
// failed in a way the SDK retries, but whose request body cannot be sent
// again.
var ErrNotReplayed = errors.New("cerebras: not retried: the request body cannot be read again")

// NotReplayedError reports a failure that would have been retried (a 5xx,
// 429, 408 or 409, or a broken connection) but was not, because the request
// body was streamed from a source that cannot be read again: an upload
// whose FileNewParams.File is a plain io.Reader, neither an io.Seeker nor an
// io.ReaderAt, with no Reopen function. It wraps the first failure, so
// errors.As still finds the *APIError (or *ConnectionError, *TimeoutError),
// and errors.Is(err, ErrNotReplayed) holds.
type NotReplayedError struct {
	// Err is the failure that was not retried.
	Err error
}

// Error says why the call was not retried, then the failure.
func (e *NotReplayedError) Error() string {
	return "cerebras: not retried: the upload's source cannot be read again " +
		"(pass an io.Seeker or io.ReaderAt, or set FileNewParams.Reopen): " + e.Err.Error()
}

// Unwrap returns ErrNotReplayed and the failure.
func (e *NotReplayedError) Unwrap() []error { return []error{ErrNotReplayed, e.Err} }
