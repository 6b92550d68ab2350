package apierror

import (
	"errors"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// RateLimit is the rate-limit state the API reports in x-ratelimit-* headers.
type RateLimit struct {
	// RequestsDay is the daily request budget.
	RequestsDay RateLimitWindow
	// TokensMinute is the per-minute token budget.
	TokensMinute RateLimitWindow
}

// RateLimitWindow is one rate-limit budget.
type RateLimitWindow struct {
	// Limit is the size of the budget.
	Limit int64
	// Remaining is what is left of it.
	Remaining int64
	// Reset is how long until the budget is refilled.
	Reset time.Duration
	// Present reports that the server sent at least one header for this window;
	// without it, zero values mean "unknown", not "exhausted".
	Present bool
}

// ParseRateLimit reads the x-ratelimit-{limit,remaining,reset}-{requests-day,
// tokens-minute} headers. Malformed values are ignored.
func ParseRateLimit(h http.Header) RateLimit {
	return RateLimit{
		RequestsDay:  parseWindow(h, HeaderXRatelimitLimitRequestsDay, HeaderXRatelimitRemainingRequestsDay, HeaderXRatelimitResetRequestsDay),
		TokensMinute: parseWindow(h, HeaderXRatelimitLimitTokensMinute, HeaderXRatelimitRemainingTokensMinute, HeaderXRatelimitResetTokensMinute),
	}
}

// parseWindow reads one window's three headers (headers.gen.go names them).
func parseWindow(h http.Header, limit, remaining, reset string) RateLimitWindow {
	var w RateLimitWindow
	if v, ok := header(h, limit); ok {
		if n, err := strconv.ParseInt(v, 10, 64); err == nil {
			w.Limit, w.Present = n, true
		}
	}
	if v, ok := header(h, remaining); ok {
		if n, err := strconv.ParseInt(v, 10, 64); err == nil {
			w.Remaining, w.Present = n, true
		}
	}
	if v, ok := header(h, reset); ok {
		if d, ok := Seconds(v); ok {
			w.Reset, w.Present = d, true
		}
	}
	return w
}

func header(h http.Header, key string) (string, bool) {
	v := strings.TrimSpace(h.Get(key))
	return v, v != ""
}

// Seconds parses a non-negative decimal number of seconds, such as
// "11.382867097854614", into a Duration. A number too large for a Duration
// ("1e10", "1e400", "Infinity") saturates at the largest Duration, never
// wrapping to a negative or zero one: a reset that far away is a budget
// that does not come back soon.
func Seconds(v string) (time.Duration, bool) {
	f, ok := parseFloat(v)
	if !ok || f < 0 {
		return 0, false
	}
	return scale(f, time.Second), true
}

// parseFloat parses a decimal number; one beyond float64's range is ±Inf
// (or 0 when it is too small), as strconv gives it with ErrRange, not an
// error. NaN is not a number here.
func parseFloat(v string) (float64, bool) {
	f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
	if (err != nil && !errors.Is(err, strconv.ErrRange)) || math.IsNaN(f) {
		return 0, false
	}
	return f, true
}

// RetryAfter returns the delay a response asks for: retry-after-ms
// (milliseconds) when it is positive, else retry-after as seconds or as an
// HTTP date. ok is false when neither header gives a usable value; the delay
// may be zero or negative (a date in the past). A delay too long for a
// Duration, such as "1e308", "1e400" or "Infinity", saturates at the largest Duration
// rather than being dropped, so that a retry cap refuses it like any other
// long delay; NaN is not a delay.
func RetryAfter(h http.Header, now time.Time) (d time.Duration, ok bool) {
	if v := strings.TrimSpace(h.Get(HeaderRetryAfterMs)); v != "" {
		if ms, ok := parseFloat(v); ok && ms > 0 {
			return scale(ms, time.Millisecond), true
		}
	}
	v := strings.TrimSpace(h.Get(HeaderRetryAfter))
	if v == "" {
		return 0, false
	}
	if s, ok := parseFloat(v); ok {
		return scale(s, time.Second), true
	}
	if t, err := http.ParseTime(v); err == nil {
		return t.Sub(now), true // Sub saturates
	}
	return 0, false
}

// scale converts f units to a Duration, saturating at the largest and
// smallest Durations (±Inf included). The bounds are checked on the float,
// before converting: converting an out-of-range float to an integer is
// implementation-defined in Go, and on amd64 gives math.MinInt64. f is not
// NaN.
func scale(f float64, unit time.Duration) time.Duration {
	// float64(math.MaxInt64) rounds up to 2⁶³, one past the largest
	// Duration, so the comparison is >=.
	switch ns := f * float64(unit); {
	case ns >= float64(math.MaxInt64):
		return math.MaxInt64
	case ns <= float64(math.MinInt64):
		return math.MinInt64
	default:
		return time.Duration(ns)
	}
}
