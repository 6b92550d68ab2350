package client

import "iter"

// pages walks a list the API pages with after and has_more, as an
// iterator: fetch(after) returns one page's items and whether more follow;
// id gives an item's id, the next page's after. A page is fetched when the
// loop reaches it, not before, and none after the loop breaks. A failed page
// yields its error once and ends the sequence; so does an empty page, even
// if has_more says otherwise (asking again after the same id would loop).
func pages[E any](after *string, fetch func(after *string) ([]E, bool, error), id func(*E) string) iter.Seq2[*E, error] {
	return func(yield func(*E, error) bool) {
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
			after = &next
		}
	}
}
