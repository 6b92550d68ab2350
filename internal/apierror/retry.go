package apierror

import (
	"net/http"
	"strings"
)

// RetryableStatus reports whether a response with this status and headers
// is retried: an x-should-retry header of "true" or "false" (in any case)
// decides; otherwise 408, 409, 429 and every 5xx are retried. The status
// of an error event in a stream, which has no headers, takes a nil header.
func RetryableStatus(status int, h http.Header) bool {
	switch v := strings.TrimSpace(h.Get(HeaderXShouldRetry)); {
	case strings.EqualFold(v, "true"):
		return true
	case strings.EqualFold(v, "false"):
		return false
	}
	switch status {
	case http.StatusRequestTimeout, http.StatusConflict, http.StatusTooManyRequests:
		return true
	default:
		return status >= 500
	}
}

// Retryable reports whether the SDK retries a response like this one (see
// RetryableStatus): true for a 429 or a 5xx the retries did not cure, false
// for a refusal such as a 400, which the same request would get again.
func (e *Error) Retryable() bool {
	return RetryableStatus(e.StatusCode, e.Header)
}
