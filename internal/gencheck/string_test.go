package gencheck

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"math"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/cerebras-go/cerebras/gen"
)

// TestModelsAreStringers: every union of gen, and every struct with an
// optional (pointer), union or []union field, has a value-receiver
// String() string, so fmt prints its JSON rather than raw bytes or
// addresses, for values and pointers alike. The types are found in gen's
// source, so a schema added without regenerating string.gen.go fails here.
func TestModelsAreStringers(t *testing.T) {
	files, err := filepath.Glob("../../gen/*.go")
	if err != nil || len(files) == 0 {
		t.Fatalf("no gen source: %v", err)
	}
	fset := token.NewFileSet()
	structs := map[string]*ast.StructType{}
	stringers := map[string]bool{}
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, parser.SkipObjectResolution)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(f, func(n ast.Node) bool {
			switch n := n.(type) {
			case *ast.TypeSpec:
				if st, ok := n.Type.(*ast.StructType); ok && !n.Assign.IsValid() {
					structs[n.Name.Name] = st
				}
			case *ast.FuncDecl:
				if isValueStringer(n) {
					stringers[n.Recv.List[0].Type.(*ast.Ident).Name] = true
				}
			}
			return true
		})
	}
	isUnion := func(st *ast.StructType) bool {
		return len(st.Fields.List) == 1 && len(st.Fields.List[0].Names) == 1 && st.Fields.List[0].Names[0].Name == "union"
	}
	unionType := func(e ast.Expr) bool {
		id, ok := e.(*ast.Ident)
		return ok && structs[id.Name] != nil && isUnion(structs[id.Name])
	}
	var unions, requests []string
	for name, st := range structs {
		if isUnion(st) {
			unions = append(unions, name)
			continue
		}
		for _, fl := range st.Fields.List {
			typ := fl.Type
			if at, ok := typ.(*ast.ArrayType); ok {
				typ = at.Elt
			}
			_, ptr := fl.Type.(*ast.StarExpr)
			if ptr || unionType(typ) {
				requests = append(requests, name)
				break
			}
		}
	}
	sort.Strings(unions)
	sort.Strings(requests)
	if len(unions) < 10 || !contains(unions, "ChatMessage") || !contains(requests, "ChatCompletionNewParams") {
		t.Fatalf("found unions %v and structs %v: the search is broken", unions, requests)
	}
	for _, name := range append(unions, requests...) {
		if !stringers[name] {
			t.Errorf("gen.%s has no String() string with a value receiver: run make generate (internal/cmd/genstring)", name)
		}
	}
}

func isValueStringer(fd *ast.FuncDecl) bool {
	if fd.Recv == nil || fd.Name.Name != "String" || fd.Type.Params.NumFields() != 0 ||
		fd.Type.Results.NumFields() != 1 {
		return false
	}
	_, value := fd.Recv.List[0].Type.(*ast.Ident)
	res, ok := fd.Type.Results.List[0].Type.(*ast.Ident)
	return value && ok && res.Name == "string"
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// panicky panics when encoded, as a caller's broken MarshalJSON might.
type panicky struct{}

func (panicky) MarshalJSON() ([]byte, error) { panic("broken MarshalJSON") }

// TestStringNeverFails: String returns something readable for values JSON
// cannot encode (NaN, a cycle, a panicking MarshalJSON) instead of failing,
// panicking or recursing forever; a nil pointer prints <nil>; %#v is still
// the Go struct.
func TestStringNeverFails(t *testing.T) {
	cyclic := map[string]any{}
	cyclic["self"] = cyclic
	for _, tc := range []struct {
		name string
		v    fmt.Stringer
		want string
	}{
		{"NaN", gen.ChatCompletionNewParams{Model: "m", Temperature: ptr(math.NaN())},
			"<gen.ChatCompletionNewParams: json: unsupported value: NaN>"},
		{"cycle", gen.ChatCompletionNewParams{Model: "m", ModelParameters: cyclic},
			"<gen.ChatCompletionNewParams: json: unsupported value: encountered a cycle via map[string]interface {}>"},
		{"panic", gen.ChatCompletionNewParams{Model: "m", ModelParameters: map[string]any{"x": panicky{}}},
			"<gen.ChatCompletionNewParams: encoding panicked: broken MarshalJSON>"},
		{"unset union", gen.ToolChoice{}, "<unset>"},
		{"response", gen.Usage{TotalTokens: 22}, `{"total_tokens":22}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.v.String(); got != tc.want {
				t.Errorf("String() = %s\nwant       %s", got, tc.want)
			}
		})
	}
	var nilParams *gen.ChatCompletionNewParams
	if got := fmt.Sprint(nilParams); got != "<nil>" {
		t.Errorf("fmt.Sprint(nil *ChatCompletionNewParams) = %s, want <nil>", got)
	}
	if got, want := fmt.Sprintf("%#v", gen.StreamOptions{}), "gen.StreamOptions{IncludeUsage:(*bool)(nil)}"; got != want {
		t.Errorf("%%#v = %s, want %s", got, want)
	}
}
