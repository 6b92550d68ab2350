package apierror

import (
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
		RequestsDay:  parseWindow(h, "requests-day"),
		TokensMinute: parseWindow(h, "tokens-minute"),
	}
}

func parseWindow(h http.Header, suffix string) RateLimitWindow {
	var w RateLimitWindow
	if v, ok := header(h, "X-Ratelimit-Limit-"+suffix); ok {
		if n, err := strconv.ParseInt(v, 10, 64); err == nil {
			w.Limit, w.Present = n, true
		}
	}
	if v, ok := header(h, "X-Ratelimit-Remaining-"+suffix); ok {
		if n, err := strconv.ParseInt(v, 10, 64); err == nil {
			w.Remaining, w.Present = n, true
		}
	}
	if v, ok := header(h, "X-Ratelimit-Reset-"+suffix); ok {
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
// "11.382867097854614", into a Duration.
func Seconds(v string) (time.Duration, bool) {
	f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
	if err != nil || f < 0 || math.IsNaN(f) || math.IsInf(f, 0) || f > float64(math.MaxInt64)/float64(time.Second) {
		return 0, false
	}
	return time.Duration(f * float64(time.Second)), true
}
