// Package usage adds up token usage: the tool runner sums its turns, the
// local bulk runner its requests.
package usage

import (
	"reflect"

	"github.com/cerebras-go/cerebras/gen"
)

// Add adds u to sum; a nil u (a completion without usage) adds nothing.
// Every count is summed, whatever the spec names it: the fields are not
// listed here a second time, so a count added to openapi.yaml is summed too.
func Add(sum *gen.Usage, u *gen.Usage) {
	if u != nil {
		addCounts(reflect.ValueOf(sum).Elem(), reflect.ValueOf(*u))
	}
}

func addCounts(dst, src reflect.Value) {
	if !dst.CanSet() {
		return
	}
	switch dst.Kind() {
	case reflect.Int, reflect.Int64:
		dst.SetInt(dst.Int() + src.Int())
	case reflect.Float64:
		dst.SetFloat(dst.Float() + src.Float())
	case reflect.Struct:
		for i := range dst.NumField() {
			addCounts(dst.Field(i), src.Field(i))
		}
	}
}
