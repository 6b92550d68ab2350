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
	if retry, said := ShouldRetry(h); said {
		return retry
	}
	switch status {
	case http.StatusRequestTimeout, http.StatusConflict, http.StatusTooManyRequests:
		return true
	default:
		return status >= 500
	}
}

// ShouldRetry reads the x-should-retry header: said is false unless it is
// "true" or "false" (in any case).
func ShouldRetry(h http.Header) (retry, said bool) {
	switch v := strings.TrimSpace(h.Get(HeaderXShouldRetry)); {
	case strings.EqualFold(v, "true"):
		return true, true
	case strings.EqualFold(v, "false"):
		return false, true
	}
	return false, false
}

// Retryable reports whether the SDK retries a response like this one (see
// RetryableStatus): true for a 429 or a 5xx the retries did not cure, false
// for a refusal such as a 400, which the same request would get again.
func (e *Error) Retryable() bool {
	return RetryableStatus(e.StatusCode, e.Header)
}
