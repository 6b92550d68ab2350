package client

import (
	"net/http"

	"github.com/cerebras-go/cerebras/internal/apierror"
)

// RateLimit is the rate-limit state the API reports with every response, in
// the x-ratelimit-{limit,remaining,reset}-{requests-day,tokens-minute}
// headers: RequestsDay and TokensMinute, each a RateLimitWindow. An
// *APIError carries it; for successful calls and streams, read it from the
// response headers with ParseRateLimit.
type RateLimit = apierror.RateLimit

// RateLimitWindow is one budget: Limit, Remaining, Reset (a Duration parsed
// from the header's float seconds) and Present, which tells "no header" from
// a real zero.
type RateLimitWindow = apierror.RateLimitWindow

// ParseRateLimit reads the rate-limit headers of a response:
//
//	var resp *http.Response
//	_, err := c.Chat.Completions.New(ctx, params, client.WithResponseInto(&resp))
//	rl := client.ParseRateLimit(resp.Header)
//
// or client.ParseRateLimit(stream.Response().Header) for a stream.
func ParseRateLimit(h http.Header) RateLimit { return apierror.ParseRateLimit(h) }
