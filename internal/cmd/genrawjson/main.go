// Command genrawjson writes gen/rawjson.gen.go: the RawJSON method of every
// type a successful response decodes into, which returns the JSON received,
// and the setters the decoders fill it with. It runs in `make generate`
// (gen/generate.go), after oapi-codegen, from the gen source and the spec:
//
//	genrawjson -spec ../openapi.yaml -in cerebras.gen.go -out rawjson.gen.go
//
// A struct keeps its JSON in the unexported field rawjson.Field, which
// gen/overlay.yaml adds to the response schemas; a union holds its bytes
// already. Every schema the spec's operations answer with (a 2xx JSON body,
// or a stream's x-event-schema) must be one of the two, or generation fails:
// a response schema added to openapi.yaml without the field cannot ship
// without RawJSON. A list of such structs (FileList.Data) gives each item
// its own part of the body.
package main

import (
	"bytes"
	"flag"
	"fmt"
	"go/ast"
	"go/format"
	"go/parser"
	"go/token"
	"log"
	"os"
	"reflect"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/cerebras-go/cerebras/internal/rawjson"
	"github.com/cerebras-go/cerebras/internal/spec"
)

func main() {
	specPath := flag.String("spec", "../openapi.yaml", "the OpenAPI document")
	in := flag.String("in", "cerebras.gen.go", "the oapi-codegen output to read")
	out := flag.String("out", "", "the Go file to write, in the package of -in")
	flag.Parse()
	log.SetFlags(0)
	log.SetPrefix("genrawjson: ")
	if *out == "" {
		log.Fatal("-out is required")
	}
	doc, err := spec.Load(*specPath)
	if err != nil {
		log.Fatal(err)
	}
	bodies, err := spec.ResponseBodies(doc)
	if err != nil {
		log.Fatal(err)
	}
	src, err := os.ReadFile(*in)
	if err != nil {
		log.Fatal(err)
	}
	code, err := generate(*in, src, bodies)
	if err != nil {
		log.Fatal(err)
	}
	if err := os.WriteFile(*out, code, 0o644); err != nil {
		log.Fatal(err)
	}
}

// list is a field of a struct that keeps its JSON holding a list of such
// structs: each item gets its part of the JSON.
type list struct{ goName, jsonName, elem string }

type keeper struct {
	name  string
	lists []list
}

func generate(filename string, src []byte, bodies []spec.ResponseBody) ([]byte, error) {
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, filename, src, parser.SkipObjectResolution)
	if err != nil {
		return nil, err
	}
	types := map[string]*ast.TypeSpec{}
	for _, d := range f.Decls {
		if gd, ok := d.(*ast.GenDecl); ok && gd.Tok == token.TYPE {
			for _, sp := range gd.Specs {
				ts := sp.(*ast.TypeSpec)
				types[ts.Name.Name] = ts
			}
		}
	}

	keeps := map[string]bool{} // the structs with the field
	for name, ts := range types {
		if st, ok := ts.Type.(*ast.StructType); ok && !ts.Assign.IsValid() {
			for _, fl := range st.Fields.List {
				for _, n := range fl.Names {
					if n.Name != rawjson.Field {
						continue
					}
					if id, ok := fl.Type.(*ast.Ident); !ok || id.Name != "string" || tagOf(fl).Get("json") != "-" {
						return nil, fmt.Errorf("%s.%s must be a string tagged json:\"-\" (gen/overlay.yaml)", name, n.Name)
					}
					keeps[name] = true
				}
			}
		}
	}

	var keepers []keeper
	for name := range keeps {
		k := keeper{name: name}
		for _, fl := range types[name].Type.(*ast.StructType).Fields.List {
			elem, isList := fl.Type, false
			if at, ok := elem.(*ast.ArrayType); ok && at.Len == nil {
				elem, isList = at.Elt, true
			}
			if st, ok := elem.(*ast.StarExpr); ok {
				elem = st.X
			}
			id, ok := elem.(*ast.Ident)
			if !ok || !keeps[id.Name] {
				continue
			}
			for _, n := range fl.Names {
				if !isList {
					return nil, fmt.Errorf("%s.%s holds a %s, which keeps its JSON: only lists of such values are supported (teach genrawjson)", name, n.Name, id.Name)
				}
				jname, _, _ := strings.Cut(tagOf(fl).Get("json"), ",")
				if jname == "" || jname == "-" {
					return nil, fmt.Errorf("%s.%s: a list of %s without a JSON name", name, n.Name, id.Name)
				}
				k.lists = append(k.lists, list{goName: n.Name, jsonName: jname, elem: id.Name})
			}
		}
		keepers = append(keepers, k)
	}
	sort.Slice(keepers, func(i, j int) bool { return keepers[i].name < keepers[j].name })

	// Every response schema keeps its JSON: a struct with the field, or a
	// union; an alias of any (a body the SDK ignores) has nothing to keep.
	unions := map[string]bool{}
	for _, b := range bodies {
		ts, ok := types[b.Schema]
		if !ok {
			return nil, fmt.Errorf("%s answers with %s, which is no type of %s (renamed by the overlay? genrawjson looks types up by schema name)", b.Operation, b.Schema, filename)
		}
		switch {
		case keeps[b.Schema]:
		case isUnion(ts):
			unions[b.Schema] = true
		case ts.Assign.IsValid() && isAny(ts.Type):
		default:
			return nil, fmt.Errorf("%s answers with %s, which keeps no JSON for RawJSON: add it to the schemas of the rawJSON action in gen/overlay.yaml", b.Operation, b.Schema)
		}
	}
	unionNames := make([]string, 0, len(unions))
	for n := range unions {
		unionNames = append(unionNames, n)
	}
	sort.Strings(unionNames)

	var b bytes.Buffer
	p := func(format string, args ...any) { fmt.Fprintf(&b, format, args...); b.WriteByte('\n') }
	p("// Code generated by internal/cmd/genrawjson from openapi.yaml and %s; DO NOT EDIT.", filename)
	p("")
	p("package %s", f.Name.Name)
	p("")
	p("import %q", "github.com/cerebras-go/cerebras/internal/rawjson")
	p("")
	p("// Every type a successful response decodes into keeps the JSON received,")
	p("// which its RawJSON method returns: encoding a value again drops what the")
	p("// server sent as zero and what no field holds. The decoders (in other")
	p("// packages) fill the unexported field through the setters registered below.")
	// Each RawJSON says where its type's JSON comes from.
	sources := map[string][]string{}
	add := func(name, what string) {
		if !slices.Contains(sources[name], what) {
			sources[name] = append(sources[name], what)
		}
	}
	for _, b := range bodies {
		if b.Event {
			add(b.Schema, "the data of the stream event")
		} else {
			add(b.Schema, "the body of the response")
		}
	}
	// A union's variants are what package client narrows a body to.
	variants := map[string]bool{}
	for _, d := range f.Decls {
		fd, ok := d.(*ast.FuncDecl)
		if !ok || fd.Recv == nil || !strings.HasPrefix(fd.Name.Name, "As") || fd.Type.Results == nil {
			continue
		}
		recv, _ := fd.Recv.List[0].Type.(*ast.Ident)
		res, _ := fd.Type.Results.List[0].Type.(*ast.Ident)
		if recv != nil && res != nil && unions[recv.Name] && keeps[res.Name] {
			add(res.Name, "the body of the response")
			variants[res.Name] = true
		}
	}
	for _, k := range keepers {
		for _, l := range k.lists {
			add(l.elem, "its part of the list it came in")
		}
	}
	for _, k := range keepers {
		from := sources[k.name]
		if n := len(from); n > 1 {
			from[n-1] = "or " + from[n-1]
		}
		sep := ", "
		if len(from) == 2 {
			sep = " "
		}
		not := "such as one built in code or accumulated from a stream"
		if variants[k.name] {
			not = "such as one built in code, or one a union's As method decoded (the union's RawJSON has its JSON)"
		}
		p("")
		comment(p, "RawJSON returns the JSON t was decoded from, as the server sent it: "+strings.Join(from, sep)+
			" (without the white space around it). It is \"\" for a value the SDK did not decode from a response, "+not+".")
		p("func (t %s) RawJSON() string { return t.%s }", k.name, rawjson.Field)
	}
	for _, n := range unionNames {
		p("")
		p("// RawJSON returns the JSON t holds: for a response, its body as the server")
		p("// sent it (without the white space around it).")
		p("func (t %s) RawJSON() string { return string(t.union) }", n)
	}
	for _, k := range keepers {
		p("")
		if len(k.lists) == 0 {
			p("func setRawJSON%s(t *%s, raw string) { t.%s = raw }", k.name, k.name, rawjson.Field)
			continue
		}
		p("func setRawJSON%s(t *%s, raw string) {", k.name, k.name)
		p("t.%s = raw", rawjson.Field)
		for _, l := range k.lists {
			p("rawjson.Items(raw, %q, len(t.%s), func(i int, item string) { setRawJSON%s(&t.%s[i], item) })", l.jsonName, l.goName, l.elem, l.goName)
		}
		p("}")
	}
	p("")
	p("func init() {")
	for _, k := range keepers {
		p("rawjson.Register(setRawJSON%s)", k.name)
	}
	p("}")
	out, err := format.Source(b.Bytes())
	if err != nil {
		return nil, fmt.Errorf("formatting the output: %v\n%s", err, b.Bytes())
	}
	return out, nil
}

// comment writes text as a // comment, its lines filled to 80 columns.
func comment(p func(string, ...any), text string) {
	line := "//"
	for _, w := range strings.Fields(text) {
		if len(line)+1+len(w) > 80 && line != "//" {
			p("%s", line)
			line = "//"
		}
		line += " " + w
	}
	p("%s", line)
}

func tagOf(fl *ast.Field) reflect.StructTag {
	if fl.Tag == nil {
		return ""
	}
	s, _ := strconv.Unquote(fl.Tag.Value)
	return reflect.StructTag(s)
}

// isUnion reports oapi-codegen's union: a struct whose one field is
// `union json.RawMessage`.
func isUnion(ts *ast.TypeSpec) bool {
	st, ok := ts.Type.(*ast.StructType)
	if !ok || len(st.Fields.List) != 1 || len(st.Fields.List[0].Names) != 1 {
		return false
	}
	return st.Fields.List[0].Names[0].Name == "union"
}

// isAny reports interface{} (or any).
func isAny(e ast.Expr) bool {
	if it, ok := e.(*ast.InterfaceType); ok {
		return it.Methods == nil || len(it.Methods.List) == 0
	}
	id, ok := e.(*ast.Ident)
	return ok && id.Name == "any"
}
