package client

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
)

// TestListStopsOnARepeatedCursor: a server whose pages repeat a cursor
// (it ignores after, ends a page at after, cycles A→B→A, or gives the last
// item no id) with has_more true ends List with a *ResponseError naming the
// cursor, without asking for any cursor twice. It used to fetch forever.
func TestListStopsOnARepeatedCursor(t *testing.T) {
	page := func(ids ...string) string {
		var items []string
		for _, id := range ids {
			items = append(items, fmt.Sprintf(`{"id":%q,"object":"file","bytes":1,"created_at":1,"filename":"a.jsonl","purpose":"batch"}`, id))
		}
		return `{"object":"list","data":[` + strings.Join(items, ",") + `],"has_more":true}`
	}
	tests := []struct {
		name   string
		after  string
		pages  func(after string) string // the page for a cursor
		cursor string                    // the one the error names
		want   int                       // requests sent
	}{
		{"after ignored", "", func(string) string { return page("a", "b") }, "b", 2},
		{"a page ends at after", "", func(after string) string {
			if after == "" {
				return page("a", "b")
			}
			return page(after)
		}, "b", 2},
		{"a cycle", "", func(after string) string {
			switch after {
			case "", "b":
				return page("x", "a")
			default:
				return page("y", "b")
			}
		}, "a", 3},
		{"the start cursor again", "s", func(string) string { return page("s") }, "s", 1},
		{"an item without an id", "", func(string) string { return page("a", "") }, "", 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newServer(t, func(w http.ResponseWriter, r *http.Request, n int) {
				if n > 10 {
					writeJSON(w, 500, `{"error":{"message":"looping"}}`) // ends a regression, not the test
					return
				}
				writeJSON(w, 200, tt.pages(r.URL.Query().Get("after")))
			})
			c, _ := newTestClient(t, srv, WithMaxRetries(0))
			p := FileListParams{}
			if tt.after != "" {
				p.After = &tt.after
			}
			var last error
			for _, err := range c.Files.List(context.Background(), p) {
				if err != nil {
					last = err
				}
			}
			var re *ResponseError
			if !errors.As(last, &re) || !strings.Contains(last.Error(), "Files.List") ||
				(tt.cursor != "" && !strings.Contains(last.Error(), fmt.Sprintf("%q", tt.cursor))) {
				t.Fatalf("err = %v, want a *ResponseError naming Files.List and cursor %q", last, tt.cursor)
			}
			asked := map[string]bool{}
			reqs := srv.requests()
			for _, r := range reqs {
				if asked[r.RawQuery] {
					t.Errorf("asked for %q twice", r.RawQuery)
				}
				asked[r.RawQuery] = true
			}
			if len(reqs) != tt.want {
				t.Errorf("%d requests, want %d", len(reqs), tt.want)
			}
		})
	}
}
