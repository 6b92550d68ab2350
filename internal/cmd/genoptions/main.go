// Command genoptions writes client/options.gen.go from openapi.yaml and the
// oapi-codegen output: a client Option for every header parameter the spec
// declares (components/parameters with in: header), named With + the
// parameter's Go name (its x-go-name in gen/overlay.yaml), the converters
// that give each operation the header parameters it takes, and the table of
// the narrow options each operation takes, by operationId, with which a
// call refuses an option that does not apply to it. It runs in `make
// generate`, after oapi-codegen.
//
//	go run ./internal/cmd/genoptions -spec openapi.yaml -gen gen/cerebras.gen.go -out client/options.gen.go
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
	"sort"
	"strconv"
	"strings"
	"unicode"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/cerebras-go/cerebras/internal/spec"
)

func main() {
	specPath := flag.String("spec", "openapi.yaml", "the OpenAPI document")
	genPath := flag.String("gen", "gen/cerebras.gen.go", "the oapi-codegen output")
	out := flag.String("out", "client/options.gen.go", "the file to write")
	flag.Parse()
	log.SetFlags(0)
	log.SetPrefix("genoptions: ")
	doc, err := spec.Load(*specPath)
	if err != nil {
		log.Fatal(err)
	}
	src, err := generate(doc, *genPath)
	if err != nil {
		log.Fatal(err)
	}
	if err := os.WriteFile(*out, src, 0o644); err != nil {
		log.Fatal(err)
	}
}

// msgpackContent is the media type of a MessagePack request body.
const msgpackContent = "application/vnd.msgpack"

// header is one header parameter of the spec.
type header struct {
	component string // its key in components/parameters
	wire      string // its name on the wire, such as "CF-RAY"
	goName    string // the field oapi-codegen made of it, such as "CFRay"
	goType    string // string, float64 or int
	doc       string
	ops       []string // the operationIds that take it
}

// operation is one operation of the spec.
type operation struct {
	id       string
	goName   string   // the operationId as oapi-codegen writes it: CreateChatCompletion
	headers  []string // components of the header parameters it takes
	jsonBody bool     // its request body is application/json
	msgpack  bool     // its request body may be application/vnd.msgpack too
	params   bool     // its params struct has more than header parameters
}

func generate(doc *openapi3.T, genPath string) ([]byte, error) {
	fields, err := paramFields(genPath)
	if err != nil {
		return nil, err
	}
	headers := map[string]*header{}
	for key, ref := range doc.Components.Parameters {
		p := ref.Value
		if p.In != openapi3.ParameterInHeader {
			continue
		}
		h := &header{component: key, wire: p.Name, doc: p.Description}
		switch {
		case p.Schema.Value.Type.Is("string"):
			h.goType = "string"
		case p.Schema.Value.Type.Is("number"):
			h.goType = "float64"
		case p.Schema.Value.Type.Is("integer"):
			h.goType = "int"
		default:
			return nil, fmt.Errorf("components/parameters/%s: a header of type %v has no option type", key, p.Schema.Value.Type)
		}
		headers[key] = h
	}
	var ops []*operation
	for path, item := range doc.Paths.Map() {
		for method, o := range item.Operations() {
			if o.OperationID == "" {
				return nil, fmt.Errorf("%s %s has no operationId", method, path)
			}
			op := &operation{id: o.OperationID, goName: upperFirst(o.OperationID)}
			for _, pr := range append(append(openapi3.Parameters{}, item.Parameters...), o.Parameters...) {
				key, ok := strings.CutPrefix(pr.Ref, "#/components/parameters/")
				if pr.Value.In == openapi3.ParameterInHeader && !ok {
					return nil, fmt.Errorf("%s: header parameter %s is inline: declare it in components/parameters, so that it has one option", o.OperationID, pr.Value.Name)
				}
				h := headers[key]
				if h == nil {
					if pr.Value.In == openapi3.ParameterInQuery {
						op.params = true
					}
					continue
				}
				f, ok := fields[op.goName+"Params"][h.wire]
				if !ok {
					return nil, fmt.Errorf("%s: gen has no field for header %s in %sParams", o.OperationID, h.wire, op.goName)
				}
				if h.goName != "" && h.goName != f {
					return nil, fmt.Errorf("header %s is field %s in one params struct and %s in another", h.wire, h.goName, f)
				}
				h.goName = f
				h.ops = append(h.ops, o.OperationID)
				op.headers = append(op.headers, key)
			}
			if o.RequestBody != nil && o.RequestBody.Value.Content.Get("application/json") != nil {
				op.jsonBody = true
			}
			if o.RequestBody != nil && o.RequestBody.Value.Content.Get(msgpackContent) != nil {
				op.msgpack = true
			}
			ops = append(ops, op)
		}
	}
	sort.Slice(ops, func(i, j int) bool { return ops[i].id < ops[j].id })
	var hs []*header
	for _, h := range headers {
		if h.goName == "" {
			return nil, fmt.Errorf("components/parameters/%s: no operation takes it", h.component)
		}
		sort.Strings(h.ops)
		hs = append(hs, h)
	}
	sort.Slice(hs, func(i, j int) bool { return hs[i].goName < hs[j].goName })
	return emit(hs, ops)
}

// paramFields returns, for every struct of the gen source, its fields by the
// name of their json tag: the header parameters of an operation's params
// struct are tagged with their wire name.
func paramFields(genPath string) (map[string]map[string]string, error) {
	f, err := parser.ParseFile(token.NewFileSet(), genPath, nil, 0)
	if err != nil {
		return nil, err
	}
	out := map[string]map[string]string{}
	for _, d := range f.Decls {
		gd, ok := d.(*ast.GenDecl)
		if !ok {
			continue
		}
		for _, s := range gd.Specs {
			ts, ok := s.(*ast.TypeSpec)
			if !ok {
				continue
			}
			st, ok := ts.Type.(*ast.StructType)
			if !ok || !strings.HasSuffix(ts.Name.Name, "Params") {
				continue
			}
			m := map[string]string{}
			for _, fl := range st.Fields.List {
				if fl.Tag == nil || len(fl.Names) != 1 {
					continue
				}
				tag, _ := strconv.Unquote(fl.Tag.Value)
				name, _, _ := strings.Cut(reflect.StructTag(tag).Get("json"), ",")
				m[name] = fl.Names[0].Name
			}
			out[ts.Name.Name] = m
		}
	}
	return out, nil
}

func emit(hs []*header, ops []*operation) ([]byte, error) {
	var b bytes.Buffer
	p := func(format string, args ...any) { fmt.Fprintf(&b, format, args...); b.WriteByte('\n') }
	p("// Code generated by internal/cmd/genoptions from openapi.yaml and gen/; DO NOT EDIT.")
	p("")
	p("package client")
	p("")
	p(`import "github.com/cerebras-go/cerebras/gen"`)
	p("")
	p("// headerParams are the header parameters of openapi.yaml that options set;")
	p("// nil is unset.")
	p("type headerParams struct {")
	for _, h := range hs {
		p("%s *%s", lowerFirst(h.goName), h.goType)
	}
	p("}")
	p("")
	p("// The options of the header parameters, each a bit of an optionSet.")
	p("const (")
	for i, h := range hs {
		if i == 0 {
			p("opt%s optionSet = optFirstHeader << iota", h.goName)
		} else {
			p("opt%s", h.goName)
		}
	}
	p(")")
	p("")
	p("// headerOptionNames names the option of each header parameter bit.")
	p("var headerOptionNames = map[optionSet]string{")
	for _, h := range hs {
		p("opt%s: %q,", h.goName, "With"+h.goName)
	}
	p("}")
	for _, h := range hs {
		name := "With" + h.goName
		p("")
		for _, line := range docLines(fmt.Sprintf("%s sets the %s header parameter. %s", name, h.wire, sentence(h.doc))) {
			p("// %s", line)
		}
		p("//")
		for _, line := range docLines(fmt.Sprintf("It applies to %s (operationIds); a call of another operation refuses it with a *ParamError, and a client option applies it only to those.", strings.Join(h.ops, ", "))) {
			p("// %s", line)
		}
		p("func %s(v %s) Option {", name, h.goType)
		p("return func(c *config) error {")
		if h.goType == "string" {
			p("if err := checkHeaderValue(%q, %q, v); err != nil { return err }", name, h.wire)
		}
		p("c.headerParams.%s = &v", lowerFirst(h.goName))
		p("c.set |= opt%s", h.goName)
		p("return nil")
		p("}")
		p("}")
	}
	p("")
	p("// operationOptions are, by operationId, the narrow options each operation")
	p("// takes: its header parameters, optJSONBody when its request body is JSON, and")
	p("// optRequestEncoding when it may be MessagePack too (the API's payload optimisation).")
	p("var operationOptions = map[string]optionSet{")
	for _, op := range ops {
		var bits []string
		for _, key := range op.headers {
			for _, h := range hs {
				if h.component == key {
					bits = append(bits, "opt"+h.goName)
				}
			}
		}
		if op.jsonBody {
			bits = append(bits, "optJSONBody")
		}
		if op.msgpack {
			bits = append(bits, "optRequestEncoding")
		}
		if len(bits) == 0 {
			bits = []string{"0"}
		}
		p("%q: %s,", op.id, strings.Join(bits, " | "))
	}
	p("}")
	for _, op := range ops {
		if len(op.headers) == 0 {
			continue
		}
		typ := "gen." + op.goName + "Params"
		p("")
		if op.params {
			for _, line := range docLines(fmt.Sprintf("%s returns the params of %s with the header parameters h sets; the caller sets the others.", op.id, op.id)) {
				p("// %s", line)
			}
			p("func (h *headerParams) %s() %s {", op.id, typ)
			p("return %s{", typ)
		} else {
			for _, line := range docLines(fmt.Sprintf("%s returns the header parameters of %s that h sets, or nil when it sets none.", op.id, op.id)) {
				p("// %s", line)
			}
			p("func (h *headerParams) %s() *%s {", op.id, typ)
			var none []string
			for _, key := range op.headers {
				for _, hd := range hs {
					if hd.component == key {
						none = append(none, "h."+lowerFirst(hd.goName)+" == nil")
					}
				}
			}
			p("if %s { return nil }", strings.Join(none, " && "))
			p("return &%s{", typ)
		}
		for _, key := range op.headers {
			for _, h := range hs {
				if h.component == key {
					p("%s: h.%s,", h.goName, lowerFirst(h.goName))
				}
			}
		}
		p("}")
		p("}")
	}
	return format.Source(b.Bytes())
}

// sentence is the first paragraph of a description, on one line, ending in
// a full stop.
func sentence(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.Index(s, "\n\n"); i >= 0 {
		s = s[:i]
	}
	s = strings.Join(strings.Fields(s), " ")
	if !strings.HasSuffix(s, ".") {
		s += "."
	}
	return s
}

// docLines wraps s at 76 columns.
func docLines(s string) []string {
	var lines []string
	line := ""
	for _, w := range strings.Fields(s) {
		if line != "" && len(line)+1+len(w) > 76 {
			lines = append(lines, line)
			line = ""
		}
		if line != "" {
			line += " "
		}
		line += w
	}
	return append(lines, line)
}

func upperFirst(s string) string { return strings.ToUpper(s[:1]) + s[1:] }

// lowerFirst lowers the leading upper-case run of a Go name: CFRay → cfRay,
// APIVersion → apiVersion.
func lowerFirst(s string) string {
	r := []rune(s)
	n := 0
	for n < len(r) && unicode.IsUpper(r[n]) {
		n++
	}
	if n > 1 && n < len(r) {
		n-- // the last upper letter starts the next word
	}
	for i := range n {
		r[i] = unicode.ToLower(r[i])
	}
	return string(r)
}
