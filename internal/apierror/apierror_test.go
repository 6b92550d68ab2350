package apierror

import (
	"errors"
	"net/http"
	"net/url"
	"testing"
)

// TestFromStreamEventStatus: an in-stream error takes its status from its
// status_code; without one it has none (0), not the stream's 200, and its
// text says it came in the stream instead of naming a status.
func TestFromStreamEventStatus(t *testing.T) {
	resp := &http.Response{StatusCode: 200, Header: http.Header{}, Request: &http.Request{Method: "POST", URL: &url.URL{Path: "/v1/chat/completions"}}}
	for _, c := range []struct {
		data     string
		status   int
		text     string
		sentinel error
	}{
		{`{"error":{"message":"slow down","type":"too_many_requests_error"},"status_code":429}`, 429,
			"cerebras: POST /v1/chat/completions: error in stream: 429 Too Many Requests: slow down (type too_many_requests_error)", ErrRateLimit},
		{`{"error":{"message":"boom","type":"server_error"}}`, 0,
			"cerebras: POST /v1/chat/completions: error in stream: boom (type server_error)", nil},
		{`upstream went away`, 0, "cerebras: POST /v1/chat/completions: error in stream: upstream went away", nil},
		{`{"error":{"message":"odd"},"status_code":-5}`, 0, "cerebras: POST /v1/chat/completions: error in stream: odd", nil},
	} {
		e := FromStreamEvent(resp, []byte(c.data), "")
		if e.StatusCode != c.status || !e.InStream || e.Error() != c.text {
			t.Errorf("%s:\n got status %d, %q\nwant status %d, %q", c.data, e.StatusCode, e.Error(), c.status, c.text)
		}
		for s := range sentinelStatus {
			if errors.Is(e, s) != (s == c.sentinel) {
				t.Errorf("%s: errors.Is(e, %v) = %v", c.data, s, !(s == c.sentinel))
			}
		}
		if errors.Is(e, ErrInternalServer) {
			t.Errorf("%s: matches ErrInternalServer", c.data)
		}
	}
}
