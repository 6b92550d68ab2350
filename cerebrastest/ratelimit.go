package cerebrastest

import (
	"fmt"
	"math"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/cerebras-go/cerebras/internal/apierror"
)

// RateLimits turns on the fake's rate limiter (WithRateLimits): a budget of
// requests per day and one of tokens per minute, counted in fixed windows
// on the server's Clock, as the real API reports them in its
// x-ratelimit-{limit,remaining,reset}-{requests-day,tokens-minute} headers.
//
// The windows start when the server starts and follow each other without
// gaps. A chat or text completion is counted when it is answered: one
// request, and the prompt plus completion tokens of the model's usage. A
// call that would take either budget past its limit is not answered but
// refused with a 429 and counts nothing.
//
// Day and Minute set how long the windows are, so that a test or a
// benchmark that runs for seconds can meet several resets: with Minute =
// 500 * time.Millisecond the "tokens-minute" budget refills every half
// second, and the reset headers say so in real seconds ("0.5" at most). The
// header names stay those of the real API.
type RateLimits struct {
	// RequestsPerDay is the request budget of a day window (0: 14400, the
	// value the fake reports without a limiter).
	RequestsPerDay int64
	// TokensPerMinute is the token budget of a minute window (0: 60000).
	TokensPerMinute int64
	// Day is the length of the requests-per-day window (0: 24 hours).
	Day time.Duration
	// Minute is the length of the tokens-per-minute window (0: a minute).
	Minute time.Duration
}

// WithRateLimits turns on the rate limiter (see RateLimits). Without it the
// fake sends fixed rate-limit headers and never refuses a call.
func WithRateLimits(l RateLimits) Option {
	return func(s *Server) {
		if l.RequestsPerDay <= 0 {
			l.RequestsPerDay = 14400
		}
		if l.TokensPerMinute <= 0 {
			l.TokensPerMinute = 60000
		}
		if l.Day <= 0 {
			l.Day = 24 * time.Hour
		}
		if l.Minute <= 0 {
			l.Minute = time.Minute
		}
		s.limiter = &limiter{limits: l}
	}
}

// RateLimitStats counts what the rate limiter did since the server started.
type RateLimitStats struct {
	// Requests is the number of completions answered (and counted).
	Requests int64
	// Tokens is the number of tokens they used.
	Tokens int64
	// Limited is the number of 429s sent.
	Limited int64
	// TokenWindows is the number of tokens-per-minute windows from the
	// server's start to the one of the last call counted, so that
	// Tokens / (TokensPerMinute * TokenWindows) is the share of the
	// budget a load used.
	TokenWindows int64
}

// RateLimitStats returns the limiter's counts; all zero without
// WithRateLimits.
func (s *Server) RateLimitStats() RateLimitStats {
	l := s.limiter
	if l == nil {
		return RateLimitStats{}
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.stats
}

// limiter counts the two budgets in fixed windows from origin.
type limiter struct {
	limits RateLimits

	mu     sync.Mutex
	origin time.Time
	req    fixedWindow
	tok    fixedWindow
	stats  RateLimitStats
}

// fixedWindow is one budget's current window: its index since the origin
// and what it used.
type fixedWindow struct {
	index int64
	used  int64
}

// windowState is what the headers say of one budget.
type windowState struct {
	limit, remaining int64
	reset            time.Duration
}

// roll moves w to the window that holds now and returns how long until it
// ends.
func (w *fixedWindow) roll(origin, now time.Time, length time.Duration) time.Duration {
	elapsed := now.Sub(origin)
	i := int64(elapsed / length)
	if i != w.index {
		w.index, w.used = i, 0
	}
	return time.Duration(i+1)*length - elapsed
}

// take counts one call of tokens tokens at now, unless it would exceed a
// budget: then exceeded names that budget ("requests-day" or
// "tokens-minute") and nothing is counted.
func (l *limiter) take(now time.Time, tokens int64) (req, tok windowState, exceeded string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.origin.IsZero() || now.Before(l.origin) {
		l.origin = now
	}
	reqReset := l.req.roll(l.origin, now, l.limits.Day)
	tokReset := l.tok.roll(l.origin, now, l.limits.Minute)
	switch {
	case l.req.used+1 > l.limits.RequestsPerDay:
		exceeded = "requests-day"
	case l.tok.used+tokens > l.limits.TokensPerMinute:
		exceeded = "tokens-minute"
	default:
		l.req.used++
		l.tok.used += tokens
		l.stats.Requests++
		l.stats.Tokens += tokens
		l.stats.TokenWindows = l.tok.index + 1
	}
	if exceeded != "" {
		l.stats.Limited++
	}
	req = windowState{l.limits.RequestsPerDay, max(0, l.limits.RequestsPerDay-l.req.used), reqReset}
	tok = windowState{l.limits.TokensPerMinute, max(0, l.limits.TokensPerMinute-l.tok.used), tokReset}
	return req, tok, exceeded
}

// admit runs a completion of the given token usage through the limiter and
// sets the rate-limit headers. When it returns false the call was refused
// and the 429 is sent.
func (x *exchange) admit(tokens int) bool {
	l := x.s.limiter
	if l == nil {
		x.rateLimitHeaders()
		return true
	}
	req, tok, exceeded := l.take(x.s.clock.Now(), int64(tokens))
	h := x.w.Header()
	setWindow(h, req, apierror.HeaderXRatelimitLimitRequestsDay, apierror.HeaderXRatelimitRemainingRequestsDay, apierror.HeaderXRatelimitResetRequestsDay)
	setWindow(h, tok, apierror.HeaderXRatelimitLimitTokensMinute, apierror.HeaderXRatelimitRemainingTokensMinute, apierror.HeaderXRatelimitResetTokensMinute)
	switch exceeded {
	case "":
		return true
	case "requests-day":
		h.Set(apierror.HeaderRetryAfter, retryAfter(req.reset))
		x.fail(http.StatusTooManyRequests, "Requests per day limit exceeded - too many requests sent.",
			"too_many_requests_error", "quota", "request_quota_exceeded")
	default:
		h.Set(apierror.HeaderRetryAfter, retryAfter(tok.reset))
		x.fail(http.StatusTooManyRequests, "Tokens per minute limit exceeded - too many tokens processed.",
			"too_many_requests_error", "quota", "token_quota_exceeded")
	}
	return false
}

// setWindow sets the three headers of one budget (named by the spec, in
// internal/apierror/headers.gen.go); reset is in float seconds, like the
// real API's "11.382867097854614".
func setWindow(h http.Header, w windowState, limit, remaining, reset string) {
	h.Set(limit, strconv.FormatInt(w.limit, 10))
	h.Set(remaining, strconv.FormatInt(w.remaining, 10))
	h.Set(reset, strconv.FormatFloat(w.reset.Seconds(), 'f', -1, 64))
}

// retryAfter is a Retry-After value: whole seconds, rounded up.
func retryAfter(d time.Duration) string {
	return fmt.Sprint(int64(math.Ceil(d.Seconds())))
}
