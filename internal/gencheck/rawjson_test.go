package gencheck

import (
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/cerebras-go/cerebras/client"
	"github.com/cerebras-go/cerebras/internal/spec"
)

// TestResponseSchemasHaveRawJSON: every schema openapi.yaml's operations
// answer with (a 2xx JSON body, or a stream's event) has a RawJSON method in
// the gen source, so a response schema added to the spec without one fails
// here (and genrawjson refuses to generate). Only a body the SDK ignores,
// an alias of any, has nothing to keep.
func TestResponseSchemasHaveRawJSON(t *testing.T) {
	_, root := moduleRoot(t)
	doc, err := spec.Load(filepath.Join(root, "openapi.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	bodies, err := spec.ResponseBodies(doc)
	if err != nil {
		t.Fatal(err)
	}
	files, err := filepath.Glob(filepath.Join(root, "gen", "*.go"))
	if err != nil {
		t.Fatal(err)
	}
	types := map[string]*ast.TypeSpec{}
	hasRaw := map[string]bool{}
	fset := token.NewFileSet()
	for _, path := range files {
		f, err := parser.ParseFile(fset, path, nil, parser.SkipObjectResolution)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range f.Decls {
			switch d := d.(type) {
			case *ast.GenDecl:
				for _, s := range d.Specs {
					if ts, ok := s.(*ast.TypeSpec); ok {
						types[ts.Name.Name] = ts
					}
				}
			case *ast.FuncDecl:
				if d.Recv == nil || d.Name.Name != "RawJSON" || len(d.Type.Params.List) != 0 ||
					d.Type.Results == nil || len(d.Type.Results.List) != 1 || identName(d.Type.Results.List[0].Type) != "string" {
					continue
				}
				recv := d.Recv.List[0].Type
				if id, ok := recv.(*ast.Ident); ok { // a value receiver: values and pointers have it
					hasRaw[id.Name] = true
				}
			}
		}
	}
	if len(bodies) < 15 {
		t.Fatalf("openapi.yaml's operations answer with %d schemas; expected more: did spec.ResponseBodies break?", len(bodies))
	}
	for _, b := range bodies {
		ts, ok := types[b.Schema]
		switch {
		case !ok:
			t.Errorf("%s answers with %s, which is no gen type", b.Operation, b.Schema)
		case ts.Assign.IsValid() && isAnyType(ts.Type):
			// A body the SDK ignores (TCPWarmingResponse).
		case !hasRaw[b.Schema]:
			t.Errorf("%s answers with %s, which has no RawJSON() string with a value receiver: add it to the rawJSON action of gen/overlay.yaml", b.Operation, b.Schema)
		}
	}
}

func identName(e ast.Expr) string {
	if id, ok := e.(*ast.Ident); ok {
		return id.Name
	}
	return ""
}

func isAnyType(e ast.Expr) bool {
	if it, ok := e.(*ast.InterfaceType); ok {
		return len(it.Methods.List) == 0
	}
	id, ok := e.(*ast.Ident)
	return ok && id.Name == "any"
}

// TestClientResultsHaveRawJSON: every value a method of package client's
// services returns (a *T, the elements of a stream or the items of a
// paging iterator) has RawJSON, found from the compiled API, so a new
// method cannot return a type without it.
func TestClientResultsHaveRawJSON(t *testing.T) {
	rawer := reflect.TypeFor[interface{ RawJSON() string }]()
	const genPkg = "github.com/cerebras-go/cerebras/gen"
	var checked []string
	seen := map[reflect.Type]bool{}
	var service func(path string, typ reflect.Type)
	service = func(path string, typ reflect.Type) { // typ: a struct, such as ModelService
		if seen[typ] {
			return
		}
		seen[typ] = true
		methods := reflect.PointerTo(typ)
		for i := range methods.NumMethod() {
			m := methods.Method(i)
			for j := range m.Type.NumOut() {
				if r := returned(m.Type.Out(j)); r != nil && r.PkgPath() == genPkg {
					checked = append(checked, path+"."+m.Name)
					if !r.Implements(rawer) {
						t.Errorf("%s.%s returns %s, which has no RawJSON() string: add its schema to the rawJSON action of gen/overlay.yaml", path, m.Name, r)
					}
				}
			}
		}
		for i := range typ.NumField() {
			f := typ.Field(i)
			ft := f.Type
			if ft.Kind() == reflect.Pointer {
				ft = ft.Elem()
			}
			if f.IsExported() && ft.Kind() == reflect.Struct && strings.HasSuffix(ft.Name(), "Service") {
				service(path+"."+f.Name, ft)
			}
		}
	}
	service("Client", reflect.TypeFor[client.Client]())
	// The walk above passes vacuously if the client's shape changes.
	for _, want := range []string{"Client.Chat.Completions.New", "Client.Chat.Completions.NewStreaming", "Client.Models.Get", "Client.Files.List", "Client.Batches.ListPage"} {
		found := false
		for _, c := range checked {
			found = found || c == want
		}
		if !found {
			t.Errorf("%s was not checked (checked: %s): did package client change shape?", want, strings.Join(checked, ", "))
		}
	}
}

// returned is the gen type a result of a client method hands the user: T
// of a *T, of a *streaming.Stream[T] (its Current), or of an
// iter.Seq2[*T, error] (the items); nil for anything else.
func returned(r reflect.Type) reflect.Type {
	switch {
	case r.Kind() == reflect.Pointer && r.Elem().Kind() == reflect.Struct:
		if cur, ok := r.MethodByName("Current"); ok && strings.HasPrefix(r.Elem().Name(), "Stream[") {
			return cur.Type.Out(0)
		}
		return r.Elem()
	case r.Kind() == reflect.Func && r.NumIn() == 1 && r.In(0).Kind() == reflect.Func && r.In(0).NumIn() == 2: // iter.Seq2
		if k := r.In(0).In(0); k.Kind() == reflect.Pointer {
			return k.Elem()
		}
	}
	return nil
}
