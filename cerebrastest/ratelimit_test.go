package cerebrastest_test

import (
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cerebras-go/cerebras/cerebrastest"
)

const limitedChat = `{"model":"gemma-4-31b","messages":[{"role":"user","content":"hello there"}]}`

// send posts a chat request and returns the status, the headers and the
// body.
func send(t *testing.T, srv *cerebrastest.Server, body string) (int, http.Header, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, srv.URL+"/v1/chat/completions", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer k")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, string(b)
}

func wantHeaders(t *testing.T, h http.Header, want map[string]string) {
	t.Helper()
	for k, v := range want {
		if got := h.Get(k); got != v {
			t.Errorf("%s = %q, want %q", k, got, v)
		}
	}
}

// usageOf is the total_tokens of one answer of the fake's model.
func usageOf(t *testing.T, body string) int64 {
	t.Helper()
	var v struct {
		Usage struct {
			TotalTokens int64 `json:"total_tokens"`
		} `json:"usage"`
	}
	if err := json.Unmarshal([]byte(body), &v); err != nil || v.Usage.TotalTokens == 0 {
		t.Fatalf("no usage in %s (%v)", body, err)
	}
	return v.Usage.TotalTokens
}

func TestRateLimitRequestsPerDay(t *testing.T) {
	clk := cerebrastest.NewClock(time.Unix(1_700_000_000, 0))
	srv := cerebrastest.NewServer(t, cerebrastest.WithSpecFile("../openapi.yaml"), cerebrastest.WithClock(clk),
		cerebrastest.WithRateLimits(cerebrastest.RateLimits{RequestsPerDay: 2, TokensPerMinute: 1_000_000}))
	var cost int64
	for i, remaining := range []string{"1", "0"} {
		status, h, body := send(t, srv, limitedChat)
		if status != http.StatusOK {
			t.Fatalf("call %d: %d %s", i, status, body)
		}
		cost = usageOf(t, body)
		wantHeaders(t, h, map[string]string{
			"X-Ratelimit-Limit-Requests-Day": "2", "X-Ratelimit-Remaining-Requests-Day": remaining,
			"X-Ratelimit-Reset-Requests-Day": "86400", "X-Ratelimit-Limit-Tokens-Minute": "1000000",
			"X-Ratelimit-Reset-Tokens-Minute": "60",
		})
	}
	clk.Advance(time.Hour)
	status, h, body := send(t, srv, limitedChat)
	if status != http.StatusTooManyRequests {
		t.Fatalf("third call: %d %s, want 429", status, body)
	}
	want := `{"error":{"code":"request_quota_exceeded","message":"Requests per day limit exceeded - too many requests sent.","param":"quota","type":"too_many_requests_error"}}`
	if body != want {
		t.Errorf("429 body:\n%s\nwant\n%s", body, want)
	}
	wantHeaders(t, h, map[string]string{
		"X-Ratelimit-Remaining-Requests-Day": "0", "X-Ratelimit-Reset-Requests-Day": "82800",
		"Retry-After": "82800", "Content-Type": "application/json",
	})
	clk.Advance(23 * time.Hour) // the next day window
	if status, h, body := send(t, srv, limitedChat); status != http.StatusOK || h.Get("X-Ratelimit-Remaining-Requests-Day") != "1" {
		t.Fatalf("after the reset: %d, remaining %q: %s", status, h.Get("X-Ratelimit-Remaining-Requests-Day"), body)
	}
	// The last call was counted 24 h in: in the 1441st minute window.
	if got, want := srv.RateLimitStats(), (cerebrastest.RateLimitStats{Requests: 3, Limited: 1, Tokens: 3 * cost, TokenWindows: 24*60 + 1}); got != want {
		t.Errorf("stats = %+v, want %+v", got, want)
	}
}

func TestRateLimitTokensPerMinute(t *testing.T) {
	// One call's usage, from a server without a limiter: the model is
	// deterministic.
	_, _, body := send(t, cerebrastest.NewServer(t, cerebrastest.WithSpecFile("../openapi.yaml")), limitedChat)
	cost := usageOf(t, body)

	clk := cerebrastest.NewClock(time.Unix(1_700_000_000, 0))
	srv := cerebrastest.NewServer(t, cerebrastest.WithSpecFile("../openapi.yaml"), cerebrastest.WithClock(clk),
		cerebrastest.WithRateLimits(cerebrastest.RateLimits{TokensPerMinute: 2*cost + cost/2, Minute: 2 * time.Second}))
	clk.Advance(500 * time.Millisecond)
	for i := range 2 {
		status, h, body := send(t, srv, limitedChat)
		if status != http.StatusOK {
			t.Fatalf("call %d: %d %s", i, status, body)
		}
		wantHeaders(t, h, map[string]string{
			"X-Ratelimit-Remaining-Tokens-Minute": itoa(2*cost + cost/2 - int64(i+1)*cost),
			"X-Ratelimit-Reset-Tokens-Minute":     "1.5", // the window is 2 s long: real seconds
			"X-Ratelimit-Limit-Requests-Day":      "14400",
			"X-Ratelimit-Remaining-Requests-Day":  itoa(14400 - int64(i+1)),
		})
	}
	status, h, body := send(t, srv, limitedChat)
	if status != http.StatusTooManyRequests || !strings.Contains(body, `"code":"token_quota_exceeded"`) ||
		!strings.Contains(body, "Tokens per minute limit exceeded - too many tokens processed.") {
		t.Fatalf("third call: %d %s, want a token 429", status, body)
	}
	wantHeaders(t, h, map[string]string{"X-Ratelimit-Remaining-Tokens-Minute": itoa(cost / 2), "Retry-After": "2"})
	clk.Advance(1500 * time.Millisecond) // past the reset: the budget is back
	if status, h, body := send(t, srv, limitedChat); status != http.StatusOK ||
		h.Get("X-Ratelimit-Remaining-Tokens-Minute") != itoa(cost+cost/2) || h.Get("X-Ratelimit-Reset-Tokens-Minute") != "2" {
		t.Fatalf("after the reset: %d %v: %s", status, h, body)
	}
}

func TestRateLimitStreams(t *testing.T) {
	clk := cerebrastest.NewClock(time.Unix(1_700_000_000, 0))
	srv := cerebrastest.NewServer(t, cerebrastest.WithSpecFile("../openapi.yaml"), cerebrastest.WithClock(clk),
		cerebrastest.WithRateLimits(cerebrastest.RateLimits{RequestsPerDay: 1}))
	stream := `{"model":"gemma-4-31b","stream":true,"messages":[{"role":"user","content":"hello there"}]}`
	if status, h, body := send(t, srv, stream); status != http.StatusOK || h.Get("X-Ratelimit-Remaining-Requests-Day") != "0" {
		t.Fatalf("stream: %d %v %s", status, h, body)
	}
	if status, _, body := send(t, srv, stream); status != http.StatusTooManyRequests {
		t.Fatalf("second stream: %d %s, want 429", status, body)
	}
	if status, body := post(t, srv, "/v1/completions", `{"model":"gemma-4-31b","prompt":"hi"}`, nil); status != http.StatusTooManyRequests {
		t.Fatalf("a text completion: %d %s, want 429 (one budget for both endpoints)", status, body)
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// TestNoRateLimitsKeepsFixedHeaders: without WithRateLimits the fake sends
// the same headers on every answer and refuses nothing.
func TestNoRateLimitsKeepsFixedHeaders(t *testing.T) {
	srv := cerebrastest.NewServer(t, cerebrastest.WithSpecFile("../openapi.yaml"))
	for range 3 {
		status, h, body := send(t, srv, limitedChat)
		if status != http.StatusOK {
			t.Fatalf("%d %s", status, body)
		}
		wantHeaders(t, h, map[string]string{
			"X-Ratelimit-Remaining-Requests-Day": "14399", "X-Ratelimit-Reset-Requests-Day": "33011.382867097855",
			"X-Ratelimit-Remaining-Tokens-Minute": "59000", "X-Ratelimit-Reset-Tokens-Minute": "11.382867097854614",
		})
	}
	if st := srv.RateLimitStats(); st != (cerebrastest.RateLimitStats{}) {
		t.Fatalf("stats without a limiter: %+v", st)
	}
}
