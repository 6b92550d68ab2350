package client

import (
	"fmt"
	"iter"
	"net/http"
)

// pages walks a list the API pages with after and has_more, as an
// iterator: fetch(after) returns one page's items and whether more follow;
// id gives an item's id, the next page's after. A page is fetched when the
// loop reaches it, not before, and none after the loop breaks. A failed page
// yields its error once and ends the sequence; so does an empty page, even
// if has_more says otherwise. The iterator never asks for the same cursor
// twice: a server that repeats one (ignores after, ends a page at it, cycles
// through pages, or gives an item no id) would make it loop forever, so a
// cursor seen before ends the sequence with a *ResponseError naming it.
func pages[E any](method string, after *string, fetch func(after *string) ([]E, bool, error), id func(*E) string) iter.Seq2[*E, error] {
	return func(yield func(*E, error) bool) {
		asked := map[string]bool{}
		if after != nil {
			asked[*after] = true
		}
		for {
			items, more, err := fetch(after)
			if err != nil {
				yield(nil, err)
				return
			}
			for i := range items {
				if !yield(&items[i], nil) {
					return
				}
			}
			if !more || len(items) == 0 {
				return
			}
			next := id(&items[len(items)-1])
			if next == "" || asked[next] {
				yield(nil, stuckCursor(method, next))
				return
			}
			asked[next] = true
			after = &next
		}
	}
}

// stuckCursor is the error of a list whose next cursor was asked for
// already.
func stuckCursor(method, cursor string) error {
	why := fmt.Errorf("%s: the page ends with cursor %q, which was asked for already: the API repeats its pages, so listing stopped", method, cursor)
	if cursor == "" {
		why = fmt.Errorf("%s: the page's last item has no id to ask for the next page after, so listing stopped", method)
	}
	return &ResponseError{StatusCode: http.StatusOK, Err: why}
}
