package rawjson

import (
	"encoding/json"
	"fmt"
	"reflect"
	"testing"
)

func TestTextAndTrimDropOnlyTheSpaceAround(t *testing.T) {
	for _, in := range []string{`{"a": 1}`, " \t\r\n{\"a\": 1} \n", "{\"a\": 1}\n\n"} {
		if got := Text([]byte(in)); got != `{"a": 1}` {
			t.Errorf("Text(%q) = %q", in, got)
		}
		if got := Trim(in); got != `{"a": 1}` {
			t.Errorf("Trim(%q) = %q", in, got)
		}
	}
}

// TestItemsFollowEncodingJSON: the items are those of the member
// encoding/json decodes the list from (matched case-insensitively, the last
// one winning), and none are set when they cannot be told apart.
func TestItemsFollowEncodingJSON(t *testing.T) {
	for _, tc := range []struct {
		raw  string
		want []string // nil: set is not called
	}{
		{`{"data":[{"id":"a"}, {"id":"b","x":[1,{"y":null}]} ],"has_more":false}`, []string{`{"id":"a"}`, `{"id":"b","x":[1,{"y":null}]}`}},
		{`{"object":"list","DATA":[{"id":"upper"}]}`, []string{`{"id":"upper"}`}},
		{`{"d\u0061ta":[{"id":"escaped key"}]}`, []string{`{"id":"escaped key"}`}},
		{`{"data":[{"id":"first"}],"Data":[{"id":"last"}]}`, []string{`{"id":"last"}`}},
		{`{"data":[{"id":"a"}],"data":null}`, nil},
		{`{"data":[]}`, []string{}},
		{`{"object":"list"}`, nil},
		{`{"data":{"id":"a"}}`, nil},
		{`[{"id":"a"}]`, nil},
		{`{"data":[{"id":"a"}`, nil},
	} {
		var l struct{ Data []json.RawMessage }
		n := 0
		if json.Unmarshal([]byte(tc.raw), &l) == nil {
			n = len(l.Data)
		}
		var got []string
		Items(tc.raw, "data", n, func(i int, item string) {
			if i != len(got) {
				t.Errorf("%s: item %d set after %d items", tc.raw, i, len(got))
			}
			got = append(got, item)
		})
		if tc.want != nil && got == nil {
			got = []string{}
		}
		if fmt.Sprintf("%q", got) != fmt.Sprintf("%q", tc.want) {
			t.Errorf("Items(%s) set %q, want %q", tc.raw, got, tc.want)
		}
	}
	// A count that is not the list's: nothing is set.
	Items(`{"data":[1,2]}`, "data", 3, func(int, string) { t.Error("set called for a list of another length") })
}

type kept struct{ raw string }

// TestRegistry: Setter finds the setter registered for its type only.
func TestRegistry(t *testing.T) {
	if Setter[kept]() != nil {
		t.Fatal("a setter before Register")
	}
	Register(func(k *kept, raw string) { k.raw = raw })
	defer delete(setters, reflect.TypeFor[kept]())
	var k kept
	Setter[kept]()(&k, "x")
	if k.raw != "x" || Setter[*kept]() != nil || Setter[struct{ raw string }]() != nil {
		t.Errorf("k.raw = %q; Setter of other types: %v, %v", k.raw, Setter[*kept]() != nil, Setter[struct{ raw string }]() != nil)
	}
}
