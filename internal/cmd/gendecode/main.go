// Command gendecode generates the single-pass JSON decoders of the SDK's
// response types, and the merge of streamed deltas into a message, from the
// oapi-codegen output. It reads the generated Go source with go/parser, not
// the compiled package, so that a stale or broken gen/ never stops it. Run
// by `make generate` (gen/generate.go), after oapi-codegen.
//
//	gendecode -in cerebras.gen.go -out ../internal/decode/decode.gen.go \
//		-roots ChatCompletionChunk,ChatCompletion,Completion \
//		-merge ChatCompletionChunkDelta:ChatCompletionMessage:MessageText -first-wins role \
//		-carry 'ChatCompletionChunk:ChatCompletion:CompletionFields:first=id,model,created:except=object'
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
	"strconv"
	"strings"

	"github.com/cerebras-go/cerebras/internal/rawjson"
)

func main() {
	in := flag.String("in", "cerebras.gen.go", "the oapi-codegen output to read")
	out := flag.String("out", "", "the Go file to write")
	pkg := flag.String("pkg", "decode", "the package name of the output")
	genPath := flag.String("genpkg", "github.com/cerebras-go/cerebras/gen", "the import path of the types' package")
	roots := flag.String("roots", "ChatCompletionChunk,ChatCompletion,Completion", "comma-separated root types: each gets a Decoder method")
	merge := flag.String("merge", "", "Delta:Message:Name: generate Name, which concatenates every string field of Delta that Message has (by JSON name) across deltas")
	firstWins := flag.String("first-wins", "", "comma-separated JSON names of merged fields that are not concatenated: the first non-empty value wins")
	share := flag.String("share", "", "comma-separated JSON names of string fields whose value is new in every document, such as a delta's text: with Decoder.Share they decode to slices of the JSON the root keeps, not to allocations of their own (the other strings are interned)")
	var carries carryFlag
	flag.Var(&carries, "carry", "From:To:Name[:first=a,b][:except=c,d] (repeatable): generate Name, which carries every field From and To share (by JSON name, of the same type) from a sequence of From into a To: the last non-zero value wins, or the first for the first= names, and lists are appended; except= names are left to the caller. A shared field of another type, or of a type without a zero test, is an error unless excepted")
	flag.Parse()
	log.SetFlags(0)
	log.SetPrefix("gendecode: ")
	if *out == "" {
		log.Fatal("-out is required")
	}
	src, err := generate(*in, *pkg, *genPath, split(*roots), *merge, split(*firstWins), split(*share), carries...)
	if err != nil {
		log.Fatal(err)
	}
	if err := os.WriteFile(*out, src, 0o644); err != nil {
		log.Fatal(err)
	}
}

// carryFlag collects the -carry flags.
type carryFlag []string

func (c *carryFlag) String() string     { return strings.Join(*c, " ") }
func (c *carryFlag) Set(v string) error { *c = append(*c, v); return nil }

func split(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(s, ",")
}

// kind is how a Go type decodes.
type kind int

const (
	kRaw    kind = iota // handed to encoding/json
	kString             // string
	kInt
	kInt64
	kFloat64
	kBool
	kEnum   // a named string type: its constants are matched without allocating
	kStruct // a named struct type without its own unmarshaling
	kSlice  // a slice of a non-raw, non-slice element
	kPtr    // a pointer to a scalar, an enum or a struct: null sets it nil
)

type typ struct {
	kind kind
	name string // of kEnum, kStruct
	elem *typ   // of kSlice, kPtr
	expr string // the Go type, qualified
}

type field struct {
	goName, jsonName string
	t                *typ
}

type gen struct {
	types   map[string]*ast.TypeSpec
	methods map[string]bool // types with UnmarshalJSON or UnmarshalText
	consts  map[string][][2]string
	structs map[string][]field
	order   []string // structs in discovery order
	slices  map[string]*typ
	sorder  []string
	ptrs    map[string]*typ
	porder  []string
	enums   []string
	seen    map[string]bool
	sites   int
	raw     map[string]bool // structs that keep their JSON (rawjson.Field)
	share   map[string]bool // -share: JSON names of the string fields decoded with s.Text
	shared  map[string]bool // the -share names some field has
}

func generate(in, pkg, genPath string, roots []string, merge string, firstWins, share []string, carries ...string) ([]byte, error) {
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, in, nil, parser.SkipObjectResolution)
	if err != nil {
		return nil, err
	}
	g := &gen{types: map[string]*ast.TypeSpec{}, methods: map[string]bool{}, consts: map[string][][2]string{},
		structs: map[string][]field{}, slices: map[string]*typ{}, ptrs: map[string]*typ{}, seen: map[string]bool{}, raw: map[string]bool{},
		share: map[string]bool{}, shared: map[string]bool{}}
	for _, n := range share {
		g.share[n] = true
	}
	for _, d := range f.Decls {
		switch d := d.(type) {
		case *ast.GenDecl:
			for _, sp := range d.Specs {
				switch sp := sp.(type) {
				case *ast.TypeSpec:
					g.types[sp.Name.Name] = sp
				case *ast.ValueSpec:
					id, ok := sp.Type.(*ast.Ident)
					if d.Tok != token.CONST || !ok {
						continue
					}
					for i, n := range sp.Names {
						if i < len(sp.Values) {
							if lit, ok := sp.Values[i].(*ast.BasicLit); ok && lit.Kind == token.STRING {
								v, _ := strconv.Unquote(lit.Value)
								g.consts[id.Name] = append(g.consts[id.Name], [2]string{n.Name, v})
							}
						}
					}
				}
			}
		case *ast.FuncDecl:
			if d.Recv != nil && (d.Name.Name == "UnmarshalJSON" || d.Name.Name == "UnmarshalText") {
				r := d.Recv.List[0].Type
				if st, ok := r.(*ast.StarExpr); ok {
					r = st.X
				}
				if id, ok := r.(*ast.Ident); ok {
					g.methods[id.Name] = true
				}
			}
		}
	}
	for _, r := range roots {
		t, err := g.named(r)
		if err != nil {
			return nil, err
		}
		if t.kind != kStruct {
			return nil, fmt.Errorf("root %s is not a struct decoded field by field", r)
		}
	}
	var mergeSrc string
	if merge != "" {
		mergeSrc, err = g.merge(merge, firstWins)
		if err != nil {
			return nil, err
		}
	}
	usesStrings := mergeSrc != ""
	for _, c := range carries {
		src, err := g.carry(c)
		if err != nil {
			return nil, err
		}
		mergeSrc += src
	}
	src := g.emit(pkg, genPath, roots, mergeSrc, usesStrings)
	for _, n := range share {
		if !g.shared[n] {
			return nil, fmt.Errorf("-share %s: no string field of that JSON name is decoded", n)
		}
	}
	out, err := format.Source(src)
	if err != nil {
		return nil, fmt.Errorf("formatting the output: %v\n%s", err, src)
	}
	return out, nil
}

// named classifies the gen type called name, discovering struct fields.
func (g *gen) named(name string) (*typ, error) {
	sp, ok := g.types[name]
	if !ok {
		return nil, fmt.Errorf("type %s not found", name)
	}
	q := "gen." + name
	if sp.Assign.IsValid() || sp.TypeParams != nil || g.methods[name] {
		return &typ{kind: kRaw, expr: q}, nil
	}
	switch u := sp.Type.(type) {
	case *ast.Ident:
		if u.Name == "string" {
			if !g.seen[name] {
				g.seen[name] = true
				g.enums = append(g.enums, name)
			}
			return &typ{kind: kEnum, name: name, expr: q}, nil
		}
		return &typ{kind: kRaw, expr: q}, nil
	case *ast.StructType:
		t := &typ{kind: kStruct, name: name, expr: q}
		if g.seen[name] {
			return t, nil
		}
		g.seen[name] = true
		g.order = append(g.order, name)
		var fields []field
		names := map[string]bool{}
		for _, fl := range u.Fields.List {
			if len(fl.Names) == 0 {
				return nil, fmt.Errorf("%s: embedded fields are not supported", name)
			}
			tag := ""
			if fl.Tag != nil {
				tag, _ = strconv.Unquote(fl.Tag.Value)
			}
			jt := reflect.StructTag(tag).Get("json")
			jname, opts, _ := strings.Cut(jt, ",")
			if jt == "-" {
				if len(fl.Names) == 1 && fl.Names[0].Name == rawjson.Field {
					g.raw[name] = true
				}
				continue
			}
			for _, o := range strings.Split(opts, ",") {
				if o == "string" {
					return nil, fmt.Errorf("%s: the ,string option is not supported", name)
				}
			}
			ft, err := g.expr(fl.Type)
			if err != nil {
				return nil, err
			}
			for _, n := range fl.Names {
				if !n.IsExported() {
					continue
				}
				jn := jname
				if jn == "" {
					jn = n.Name
				}
				if names[jn] {
					return nil, fmt.Errorf("%s: two fields named %q", name, jn)
				}
				names[jn] = true
				fields = append(fields, field{goName: n.Name, jsonName: jn, t: ft})
			}
		}
		g.structs[name] = fields
		return t, nil
	}
	return &typ{kind: kRaw, expr: q}, nil
}

func (g *gen) expr(e ast.Expr) (*typ, error) {
	switch e := e.(type) {
	case *ast.Ident:
		switch e.Name {
		case "string":
			return &typ{kind: kString, expr: "string"}, nil
		case "int":
			return &typ{kind: kInt, expr: "int"}, nil
		case "int64":
			return &typ{kind: kInt64, expr: "int64"}, nil
		case "float64":
			return &typ{kind: kFloat64, expr: "float64"}, nil
		case "bool":
			return &typ{kind: kBool, expr: "bool"}, nil
		}
		if _, ok := g.types[e.Name]; ok {
			return g.named(e.Name)
		}
		return &typ{kind: kRaw}, nil // another builtin: encoding/json's
	case *ast.ArrayType:
		if e.Len != nil {
			return &typ{kind: kRaw}, nil
		}
		el, err := g.expr(e.Elt)
		if err != nil {
			return nil, err
		}
		if el.kind == kRaw || el.kind == kSlice {
			return &typ{kind: kRaw}, nil
		}
		t := &typ{kind: kSlice, elem: el, expr: "[]" + el.expr}
		if g.slices[t.expr] == nil {
			g.slices[t.expr] = t
			g.sorder = append(g.sorder, t.expr)
		}
		return t, nil
	case *ast.StarExpr:
		el, err := g.expr(e.X)
		if err != nil {
			return nil, err
		}
		if el.kind == kRaw || el.kind == kSlice || el.kind == kPtr {
			return &typ{kind: kRaw}, nil
		}
		t := &typ{kind: kPtr, elem: el, expr: "*" + el.expr}
		if g.ptrs[t.expr] == nil {
			g.ptrs[t.expr] = t
			g.porder = append(g.porder, t.expr)
		}
		return t, nil
	}
	return &typ{kind: kRaw}, nil // maps, interfaces, other packages' types
}

// ident names a type inside generated identifiers.
func ident(t *typ) string {
	switch t.kind {
	case kStruct, kEnum:
		return t.name
	case kSlice:
		return "SliceOf" + ident(t.elem)
	case kPtr:
		return "PtrTo" + ident(t.elem)
	}
	return strings.ToUpper(t.expr[:1]) + t.expr[1:]
}

// decode returns the statement that decodes into the field at ptr.
func (g *gen) decode(t *typ, ptr string) string {
	site := func() string { g.sites++; return fmt.Sprintf("&d.last[%d]", g.sites-1) }
	switch t.kind {
	case kString:
		return fmt.Sprintf("s.String(%s, %s)", ptr, site())
	case kInt:
		return fmt.Sprintf("s.Int(%s)", ptr)
	case kInt64:
		return fmt.Sprintf("s.Int64(%s)", ptr)
	case kFloat64:
		return fmt.Sprintf("s.Float64(%s)", ptr)
	case kBool:
		return fmt.Sprintf("s.Bool(%s)", ptr)
	case kEnum:
		return fmt.Sprintf("d.dec%s(%s, %s)", t.name, ptr, site())
	case kStruct:
		return fmt.Sprintf("d.dec%s(%s)", t.name, ptr)
	case kSlice:
		if t.elem.kind == kString || t.elem.kind == kEnum {
			return fmt.Sprintf("d.dec%s(%s, %s)", ident(t), ptr, site())
		}
		return fmt.Sprintf("d.dec%s(%s, nil)", ident(t), ptr)
	case kPtr:
		if t.elem.kind == kString || t.elem.kind == kEnum {
			return fmt.Sprintf("d.dec%s(%s, %s)", ident(t), ptr, site())
		}
		return fmt.Sprintf("d.dec%s(%s, nil)", ident(t), ptr)
	}
	return fmt.Sprintf("s.Unmarshal(%s)", ptr)
}

func (g *gen) emit(pkg, genPath string, roots []string, mergeSrc string, usesStrings bool) []byte {
	var b bytes.Buffer
	p := func(format string, args ...any) { fmt.Fprintf(&b, format, args...); b.WriteByte('\n') }
	var body bytes.Buffer
	bp := func(format string, args ...any) { fmt.Fprintf(&body, format, args...); body.WriteByte('\n') }

	// Type variables, for type errors.
	bp("// The Go types the decoders fill, as type errors name them.")
	bp("var (")
	for _, n := range g.order {
		bp("t%s = reflect.TypeFor[gen.%s]()", n, n)
	}
	for _, n := range g.enums {
		bp("t%s = reflect.TypeFor[gen.%s]()", n, n)
	}
	for _, k := range g.sorder {
		bp("t%s = reflect.TypeFor[%s]()", ident(g.slices[k]), k)
	}
	bp(")")
	bp("")
	bp("// For returns the generated decoder of *T, or nil when T is not one of the")
	bp("// root types: the one list of the types with a decoder, generated from")
	bp("// gendecode's -roots, which every caller asks instead of a switch of its own.")
	bp("func For[T any]() func(*Decoder, []byte, *T) error {")
	bp("var f any")
	bp("switch any((*T)(nil)).(type) {")
	for _, r := range roots {
		bp("case *gen.%s:", r)
		bp("f = (*Decoder).%s", r)
	}
	bp("}")
	bp("fn, _ := f.(func(*Decoder, []byte, *T) error)")
	bp("return fn")
	bp("}")
	var rawRoots []string
	for _, r := range roots {
		bp("")
		bp("// %s decodes data, a JSON object, into v as encoding/json would, in one pass.", r)
		bp("// Its error is a *jsonscan.SyntaxError, jsonscan.ErrNotObject, an error of a")
		bp("// type's own UnmarshalJSON, or else the first *json.UnmarshalTypeError (the rest")
		bp("// of data decoded).")
		if g.raw[r] {
			rawRoots = append(rawRoots, r)
			bp("// On success v keeps data's JSON, for its RawJSON: a copy, or data itself if")
			bp("// d.Owned (see Decoder).")
		}
		bp("func (d *Decoder) %s(data []byte, v *gen.%s) error {", r, r)
		bp("if err := d.S.Begin(data); err != nil { return err }")
		if !g.raw[r] {
			bp("if err := d.dec%s(v); err != nil { return err }", r)
			bp("return d.S.End()")
			bp("}")
			continue
		}
		bp("src := d.keep(data)")
		bp("if err := d.dec%s(v); err != nil { return err }", r)
		bp("if err := d.S.End(); err != nil { return err }")
		bp("setRawJSON%s(v, rawjson.Trim(src))", r)
		bp("return nil")
		bp("}")
	}
	if len(rawRoots) > 0 {
		bp("")
		bp("// The setters of the roots' JSON, which gen registers at init, before this")
		bp("// package's variables are set.")
		bp("var (")
		for _, r := range rawRoots {
			bp("setRawJSON%s = rawjson.Setter[gen.%s]()", r, r)
		}
		bp(")")
	}
	for _, n := range g.order {
		fields := g.structs[n]
		bp("")
		bp("var keys%s = []string{", n)
		for _, f := range fields {
			bp("%q,", f.jsonName)
		}
		bp("}")
		bp("")
		bp("func field%s(key []byte) int {", n)
		if len(fields) > 0 {
			bp("switch string(key) {")
			for i, f := range fields {
				bp("case %q: return %d", f.jsonName, i)
			}
			bp("}")
		}
		bp("return jsonscan.Fold(key, keys%s)", n)
		bp("}")
		bp("")
		bp("func (d *Decoder) dec%s(v *gen.%s) error {", n, n)
		bp("s := &d.S")
		bp("if s.Null() { return nil }")
		bp("if s.Peek() != '{' { return s.WrongType(t%s) }", n)
		bp("if err := s.Open(); err != nil { return err }")
		bp("for first := true; ; {")
		bp("key, done, err := s.NextKey(&first)")
		bp("if err != nil { return err }")
		bp("if done { s.Close(); return nil }")
		bp("f := field%s(key)", n)
		bp("if f < 0 {")
		bp("if d.Unknown != nil && s.Depth() == 1 { err = d.Unknown(s, key) } else { err = s.SkipValue() }")
		bp("} else {")
		bp("switch f {")
		for i, f := range fields {
			dec := g.decode(f.t, "&v."+f.goName)
			if f.t.kind == kString && g.share[f.jsonName] {
				g.shared[f.jsonName] = true
				dec = "s.Text" + strings.TrimPrefix(dec, "s.String")
			}
			bp("case %d: err = %s", i, dec)
		}
		bp("}")
		bp("if s.Blamed() { s.Blame(t%s, keys%s[f]) }", n, n)
		bp("}")
		bp("if err != nil { return err }")
		bp("}")
		bp("}")
	}
	for _, n := range g.enums {
		bp("")
		bp("func (d *Decoder) dec%s(p *gen.%s, last *string) error {", n, n)
		bp("b, ok, err := d.S.StringBytes(t%s)", n)
		bp("if !ok { return err }")
		if cs := g.consts[n]; len(cs) > 0 {
			bp("switch string(b) {")
			for _, c := range cs {
				bp("case %q: *p = gen.%s; return nil", c[1], c[0])
			}
			bp("}")
		}
		bp("*p = gen.%s(jsonscan.Intern(b, last))", n)
		bp("return nil")
		bp("}")
	}
	for _, k := range g.sorder {
		t := g.slices[k]
		id := ident(t)
		bp("")
		bp("// dec%s decodes an array as encoding/json does: element i decodes into the", id)
		bp("// slice's element i where there is one (a repeated key merges into what the")
		bp("// first left), then the slice is cut to the array's length; an empty array")
		bp("// gives an empty slice, null a nil one.")
		bp("func (d *Decoder) dec%s(p *%s, last *string) error {", id, k)
		bp("s := &d.S")
		bp("if s.Null() { *p = nil; return nil }")
		bp("if s.Peek() != '[' { return s.WrongType(t%s) }", id)
		bp("if err := s.Open(); err != nil { return err }")
		bp("v, n := *p, 0")
		bp("for first := true; ; {")
		bp("more, err := s.NextElem(&first)")
		bp("if err != nil { *p = v; return err }")
		bp("if !more { break }")
		bp("if n == len(v) {")
		bp("grow := 1")
		bp("if n == cap(v) && n > 0 { grow = s.CountElems() } // size a long array once")
		bp("v = slices.Grow(v, grow)[:n+1]")
		bp("}")
		bp("n++")
		var el string
		switch t.elem.kind {
		case kString:
			el = "s.String(&v[n-1], last)"
		case kEnum:
			el = fmt.Sprintf("d.dec%s(&v[n-1], last)", t.elem.name)
		default:
			save := g.sites
			el = g.decode(t.elem, "&v[n-1]")
			g.sites = save
		}
		bp("if err := %s; err != nil { *p = v; return err }", el)
		bp("}")
		bp("s.Close()")
		bp("if *p = v[:n]; n == 0 { *p = %s{} }", k)
		bp("return nil")
		bp("}")
	}

	for _, k := range g.porder {
		t := g.ptrs[k]
		id := ident(t)
		bp("")
		bp("// dec%s decodes into a pointer as encoding/json does: null sets it nil;", id)
		bp("// anything else decodes into the pointee, allocated when there is none.")
		bp("func (d *Decoder) dec%s(p *%s, last *string) error {", id, k)
		bp("if d.S.Null() { *p = nil; return nil }")
		bp("if *p == nil { *p = new(%s) }", t.elem.expr)
		var el string
		switch t.elem.kind {
		case kString:
			el = "d.S.String(*p, last)"
		case kEnum:
			el = fmt.Sprintf("d.dec%s(*p, last)", t.elem.name)
		default:
			save := g.sites
			el = g.decode(t.elem, "*p")
			g.sites = save
		}
		if strings.HasPrefix(el, "s.") {
			el = "d.S." + strings.TrimPrefix(el, "s.")
		}
		bp("return %s", el)
		bp("}")
	}

	p("// Code generated by internal/cmd/gendecode from gen/cerebras.gen.go. DO NOT EDIT.")
	p("")
	p("// Package %s holds single-pass JSON decoders for the SDK's response types,", pkg)
	p("// generated from the types oapi-codegen made of openapi.yaml, over the")
	p("// hand-written scanner of internal/jsonscan.")
	p("package %s", pkg)
	p("")
	p("import (")
	p("\"reflect\"")
	p("\"slices\"")
	if usesStrings {
		p("\"strings\"")
	}
	p("")
	p("%q", genPath)
	p("\"github.com/cerebras-go/cerebras/internal/jsonscan\"")
	if len(rawRoots) > 0 {
		p("\"github.com/cerebras-go/cerebras/internal/rawjson\"")
	}
	p(")")
	p("")
	p("// Decoder decodes response types in one pass, with the results of")
	p("// encoding/json. It interns short strings, keeping the last value of each")
	p("// string field: values repeated in every chunk of a stream are allocated once.")
	p("// The zero value is ready to use; a Decoder is not safe for concurrent use.")
	p("type Decoder struct {")
	p("// S is the scanner, reused across documents.")
	p("S jsonscan.Scanner")
	p("// Unknown, if set, is called for each key of the top-level object that")
	p("// names no field, and must consume its value (S.SkipValue, S.Raw).")
	p("Unknown func(s *jsonscan.Scanner, key []byte) error")
	if len(rawRoots) > 0 {
		p("// Owned reports that the caller hands each document over and never")
		p("// writes it again (a body read whole, a stream's event): a root value that")
		p("// keeps its JSON (RawJSON) then keeps the document itself, not a copy.")
		p("Owned bool")
		p("// Share, if set, makes the text strings of such a value (the -share")
		p("// fields of gendecode, new in every document) cost no allocation of")
		p("// their own: slices of the JSON it keeps or, unescaped, bytes in a room")
		p("// the decoder keeps (jsonscan's Share), any one of which keeps that")
		p("// memory alive. A stream sets it: its chunks keep their JSON anyway.")
		p("// The other strings are interned, as ever.")
		p("Share bool")
		p("room  []byte // Share's room for unescaped strings (jsonscan)")
	}
	p("last [%d]string", max(g.sites, 1))
	p("}")
	p("")
	b.Write(body.Bytes())
	b.WriteString(mergeSrc)
	return b.Bytes()
}

// merge generates the type that accumulates deltas into a message.
func (g *gen) merge(spec string, firstWins []string) (string, error) {
	parts := strings.Split(spec, ":")
	if len(parts) != 3 {
		return "", fmt.Errorf("-merge %q: want Delta:Message:Name", spec)
	}
	delta, msg, name := parts[0], parts[1], parts[2]
	for _, n := range []string{delta, msg} {
		if t, err := g.named(n); err != nil {
			return "", err
		} else if t.kind != kStruct {
			return "", fmt.Errorf("-merge: %s is not a struct", n)
		}
	}
	inMsg := map[string]field{}
	for _, f := range g.structs[msg] {
		inMsg[f.jsonName] = f
	}
	first := map[string]bool{}
	for _, n := range firstWins {
		first[n] = true
	}
	var b strings.Builder
	p := func(format string, args ...any) { fmt.Fprintf(&b, format, args...); b.WriteByte('\n') }
	var add, fill, decl []string
	for _, f := range g.structs[delta] {
		m, ok := inMsg[f.jsonName]
		if f.t.kind != kString || !ok || m.t.kind != kString {
			if first[f.jsonName] {
				return "", fmt.Errorf("-first-wins %s: not a string field of both %s and %s", f.jsonName, delta, msg)
			}
			continue
		}
		if first[f.jsonName] {
			delete(first, f.jsonName)
			decl = append(decl, fmt.Sprintf("f%s string // the first non-empty value wins", f.goName))
			add = append(add, fmt.Sprintf("if m.f%s == \"\" { m.f%s = d.%s }", f.goName, f.goName, f.goName))
			fill = append(fill, fmt.Sprintf("msg.%s = m.f%s", m.goName, f.goName))
			continue
		}
		decl = append(decl, fmt.Sprintf("f%s strings.Builder", f.goName))
		add = append(add, fmt.Sprintf("m.f%s.WriteString(d.%s)", f.goName, f.goName))
		fill = append(fill, fmt.Sprintf("msg.%s = m.f%s.String()", m.goName, f.goName))
	}
	for n := range first {
		return "", fmt.Errorf("-first-wins %s: no such string field in %s", n, delta)
	}
	p("")
	p("// %s accumulates the string fields of the gen.%s of one choice", name, delta)
	p("// that gen.%s also has (matched by JSON name): each is the", msg)
	p("// concatenation of its deltas, except the first-wins ones (%s). The zero", strings.Join(firstWins, ", "))
	p("// value is ready to use.")
	folder{name: name, decl: decl, from: delta, in: "d", addDoc: "Add folds one delta in.",
		to: msg, out: "msg", fillDoc: "Fill sets the merged fields of msg.", add: add, fill: fill}.emit(p)
	return b.String(), nil
}

// folder is a generated type that folds a sequence of gen.<from> values
// into a gen.<to>: its fields, Add (with the parameter in) and Fill (out).
type folder struct {
	name, from, to, in, out, addDoc, fillDoc string
	decl, add, fill                          []string
}

func (f folder) emit(p func(string, ...any)) {
	p("type %s struct {", f.name)
	for _, l := range f.decl {
		p("%s", l)
	}
	p("}")
	p("")
	p("// %s", f.addDoc)
	p("func (m *%s) Add(%s *gen.%s) {", f.name, f.in, f.from)
	for _, l := range f.add {
		p("%s", l)
	}
	p("}")
	p("")
	p("// %s", f.fillDoc)
	p("func (m *%s) Fill(%s *gen.%s) {", f.name, f.out, f.to)
	for _, l := range f.fill {
		p("%s", l)
	}
	p("}")
}

// carry generates the type that carries the fields two structs share from a
// sequence of one into the other: the top-level fields of chunks into a
// completion, say. Spec: From:To:Name[:first=a,b][:except=c,d].
func (g *gen) carry(spec string) (string, error) {
	parts := strings.Split(spec, ":")
	if len(parts) < 3 {
		return "", fmt.Errorf("-carry %q: want From:To:Name[:first=a,b][:except=c,d]", spec)
	}
	from, to, name := parts[0], parts[1], parts[2]
	first, except := map[string]bool{}, map[string]bool{}
	for _, opt := range parts[3:] {
		k, v, _ := strings.Cut(opt, "=")
		var set map[string]bool
		switch k {
		case "first":
			set = first
		case "except":
			set = except
		default:
			return "", fmt.Errorf("-carry %q: unknown option %q", spec, k)
		}
		for _, n := range split(v) {
			set[n] = true
		}
	}
	for _, n := range []string{from, to} {
		if t, err := g.named(n); err != nil {
			return "", err
		} else if t.kind != kStruct {
			return "", fmt.Errorf("-carry: %s is not a struct", n)
		}
	}
	inTo := map[string]field{}
	for _, f := range g.structs[to] {
		inTo[f.jsonName] = f
	}
	var decl, add, fill, carried []string
	for _, f := range g.structs[from] {
		t, ok := inTo[f.jsonName]
		if !ok || except[f.jsonName] {
			delete(except, f.jsonName)
			delete(first, f.jsonName)
			continue
		}
		if f.t.expr == "" || f.t.expr != t.t.expr {
			return "", fmt.Errorf("-carry %s: field %q is %s in %s and %s in %s: carry it by hand and list it in except=", name, f.jsonName, f.t.expr, from, t.t.expr, to)
		}
		set := zeroTest(f.t, "c."+f.goName)
		if set == "" {
			return "", fmt.Errorf("-carry %s: field %q (%s) has no zero test: carry it by hand and list it in except=", name, f.jsonName, f.t.expr)
		}
		if f.t.kind == kSlice && !first[f.jsonName] {
			// A list streams in pieces: each chunk's items are new ones.
			add = append(add, fmt.Sprintf("m.v.%s = append(m.v.%s, c.%s...)", t.goName, t.goName, f.goName))
			fill = append(fill, fmt.Sprintf("dst.%s = m.v.%s", t.goName, t.goName))
			carried = append(carried, f.jsonName+" (appended)")
			continue
		}
		if first[f.jsonName] {
			delete(first, f.jsonName)
			set = fmt.Sprintf("%s && !m.has%s", set, f.goName)
			decl = append(decl, fmt.Sprintf("has%s bool", f.goName))
			add = append(add, fmt.Sprintf("if %s { m.v.%s, m.has%s = c.%s, true }", set, t.goName, f.goName, f.goName))
			fill = append(fill, fmt.Sprintf("dst.%s = m.v.%s", t.goName, t.goName))
			carried = append(carried, f.jsonName+" (first)")
			continue
		}
		add = append(add, fmt.Sprintf("if %s { m.v.%s = c.%s }", set, t.goName, f.goName))
		fill = append(fill, fmt.Sprintf("dst.%s = m.v.%s", t.goName, t.goName))
		carried = append(carried, f.jsonName)
	}
	for n := range first {
		return "", fmt.Errorf("-carry %s: first=%s names no field %s and %s share", name, n, from, to)
	}
	for n := range except {
		return "", fmt.Errorf("-carry %s: except=%s names no field %s and %s share", name, n, from, to)
	}
	var b strings.Builder
	p := func(format string, args ...any) { fmt.Fprintf(&b, format, args...); b.WriteByte('\n') }
	p("")
	p("// %s carries the fields that gen.%s and", name, from)
	p("// gen.%s share (by JSON name) from a sequence of the first into the", to)
	p("// second: the last non-zero value wins, or the first where marked; the")
	p("// items of a list are appended.")
	p("// The zero value is ready to use. Carried:")
	for _, c := range carried {
		p("//   - %s", c)
	}
	folder{name: name, decl: append([]string{"v gen." + to}, decl...), from: from, in: "c", addDoc: "Add folds one gen." + from + " in.",
		to: to, out: "dst", fillDoc: "Fill sets the carried fields of dst.", add: add, fill: fill}.emit(p)
	return b.String(), nil
}

// zeroTest is the condition that x, of type t, is set; "" for a type
// without one (a struct value, or a type encoding/json decodes).
func zeroTest(t *typ, x string) string {
	switch t.kind {
	case kString, kEnum:
		return x + ` != ""`
	case kInt, kInt64, kFloat64:
		return x + " != 0"
	case kBool:
		return x
	case kPtr:
		return x + " != nil"
	case kSlice:
		return "len(" + x + ") > 0"
	}
	return ""
}
