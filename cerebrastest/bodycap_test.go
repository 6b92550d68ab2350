package cerebrastest_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/cerebras-go/cerebras/cerebrastest"
	"github.com/cerebras-go/cerebras/client"
)

// chatBodyOfSize returns a valid chat request body of exactly n bytes.
func chatBodyOfSize(t *testing.T, n int) string {
	t.Helper()
	head, tail := `{"model":"gemma-4-31b","messages":[{"role":"user","content":"`, `"}]}`
	pad := n - len(head) - len(tail)
	if pad < 1 {
		t.Fatalf("no valid chat body has %d bytes", n)
	}
	return head + strings.Repeat("x", pad) + tail
}

func TestBodyCap(t *testing.T) {
	const limit = 512
	srv, c := setup(t, cerebrastest.WithMaxBodyBytes(limit))
	t.Run("exactly the cap is served", func(t *testing.T) {
		if status, body := post(t, srv, "/v1/chat/completions", chatBodyOfSize(t, limit), nil); status != http.StatusOK {
			t.Errorf("status %d, want 200: %s", status, body)
		}
	})
	t.Run("one byte over the cap is 413", func(t *testing.T) {
		before := len(srv.Requests())
		status, body := post(t, srv, "/v1/chat/completions", chatBodyOfSize(t, limit+1), nil)
		if status != http.StatusRequestEntityTooLarge {
			t.Fatalf("status %d, want 413: %s", status, body)
		}
		var e struct {
			Error struct {
				Message, Type, Code string
				Param               *string
			}
		}
		if err := json.Unmarshal([]byte(body), &e); err != nil {
			t.Fatalf("not the wrapped error body (%v): %s", err, body)
		}
		if e.Error.Type != "invalid_request_error" || e.Error.Code != "request_too_large" || e.Error.Param != nil ||
			!strings.Contains(e.Error.Message, "exceeds the limit of 512 bytes") {
			t.Errorf("error %+v", e.Error)
		}
		if n := len(srv.Requests()); n != before {
			t.Errorf("the rejected request was recorded (%d requests, want %d)", n, before)
		}
	})
	t.Run("through the SDK the 413 is an APIError", func(t *testing.T) {
		_, err := c.Chat.Completions.New(context.Background(), chat(strings.Repeat("y", limit)))
		var apiErr *client.APIError
		if !errors.As(err, &apiErr) || apiErr.StatusCode != http.StatusRequestEntityTooLarge || apiErr.Code != "request_too_large" {
			t.Errorf("err = %v", err)
		}
	})
	t.Run("a non-positive cap keeps the default", func(t *testing.T) {
		srv, _ := setup(t, cerebrastest.WithMaxBodyBytes(0))
		if status, body := post(t, srv, "/v1/chat/completions", chatBodyOfSize(t, 1<<20), nil); status != http.StatusOK {
			t.Errorf("status %d, want 200: %s", status, body)
		}
	})
}
