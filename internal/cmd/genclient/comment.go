package main

import (
	"fmt"
	"go/ast"
	"go/doc/comment"
	"go/token"
	"go/types"
	"strings"
	"unicode"

	"github.com/cerebras-go/cerebras/internal/rawjson"
)

// model is one type of the gen source, with what its comment lists.
type model struct {
	spec   *ast.TypeSpec
	doc    string
	consts []constant // an enum's values, in source order
	as     []method   // a union's As methods, in source order
	from   map[string]string
}

type constant struct{ name, value string }

// method is a union's As or From method and the variant type it takes or returns.
type method struct {
	name    string
	variant ast.Expr
}

// isUnion reports whether the type is oapi-codegen's union: a struct whose
// one field is the unexported `union json.RawMessage`.
func (m *model) isUnion() bool {
	st, ok := m.spec.Type.(*ast.StructType)
	if !ok || len(st.Fields.List) != 1 {
		return false
	}
	f := st.Fields.List[0]
	return len(f.Names) == 1 && f.Names[0].Name == "union"
}

// aliasDoc returns the lines of the doc comment of alias name, in gofmt's form.
func aliasDoc(name, pkg string, models map[string]*model, keep map[string]bool) ([]string, error) {
	m := models[name]
	text := name + " is" + summary(name, m.doc) + "\n"
	typ := func(e ast.Expr) (string, error) { return goType(e, pkg, models, keep) }

	switch st, _ := m.spec.Type.(*ast.StructType); {
	case len(m.consts) > 0:
		text += "\nThe values known when the SDK was generated (others decode unchanged):\n"
		for _, c := range m.consts {
			text += fmt.Sprintf("  - [%s] = %s\n", c.name, c.value)
		}
	case m.isUnion():
		if len(m.as) == 0 {
			return nil, fmt.Errorf("union %s: no As methods", name)
		}
		text += "\nIt holds one of these variants, read with its As method and set with its From method:\n"
		for _, v := range m.as {
			t, err := typ(v.variant)
			if err != nil {
				return nil, fmt.Errorf("%s.%s: %w", name, v.name, err)
			}
			from, ok := m.from[types.ExprString(v.variant)]
			if !ok {
				return nil, fmt.Errorf("union %s: %s has no From method", name, v.name)
			}
			text += fmt.Sprintf("  - %s: %s, %s\n", t, v.name, from)
		}
	case st != nil && len(st.Fields.List) > 0:
		text += "\nIts fields:\n"
		raw := false
		for _, f := range st.Fields.List {
			if len(f.Names) == 0 {
				return nil, fmt.Errorf("%s: embedded field %s: genclient lists named fields only", name, types.ExprString(f.Type))
			}
			if len(f.Names) == 1 && f.Names[0].Name == rawjson.Field {
				raw = true // users read it with RawJSON, not as a field
				continue
			}
			t, err := typ(f.Type)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", name, err)
			}
			for _, n := range f.Names {
				if !n.IsExported() {
					return nil, fmt.Errorf("%s: unexported field %s", name, n.Name)
				}
				item := fmt.Sprintf("  - %s %s", n.Name, t)
				if d := summary(n.Name, f.Doc.Text()); d != "." {
					item += d
				}
				if _, ptr := f.Type.(*ast.StarExpr); ptr && f.Tag != nil && strings.Contains(f.Tag.Value, ",omitempty") {
					item += " Nil means unset."
				}
				text += item + "\n"
			}
		}
		if raw {
			text += "\nIts RawJSON method returns the JSON it was decoded from, as received.\n"
		}
	case st != nil: // no fields: nothing to list
	default:
		// An alias (type Text = string) or a defined non-struct type.
		t, err := typ(m.spec.Type)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		text += "\nIts type is " + t + ".\n"
	}

	// Print it as gofmt would: gofmt reformats only top-level comments, not
	// these in the type block, so the canonical form is written here.
	var p comment.Parser
	c := string((&comment.Printer{}).Comment(p.Parse(text)))
	lines := strings.Split(strings.TrimSuffix(c, "\n"), "\n")
	for i, l := range lines {
		if l == "" {
			lines[i] = "//"
		} else {
			lines[i] = "// " + l
		}
	}
	return lines, nil
}

// goType writes a gen type expression as a user of package pkg names it:
// every gen model type as a doc link to its alias ([client.Usage]).
func goType(e ast.Expr, pkg string, models map[string]*model, keep map[string]bool) (string, error) {
	sub := func(e ast.Expr) (string, error) { return goType(e, pkg, models, keep) }
	switch e := e.(type) {
	case *ast.Ident:
		if _, ok := models[e.Name]; !ok {
			return e.Name, nil // predeclared
		}
		if !keep[e.Name] {
			return "", fmt.Errorf("%s has no alias in package %s (listed in -skip?)", e.Name, pkg)
		}
		return "[" + pkg + "." + e.Name + "]", nil
	case *ast.StarExpr:
		s, err := sub(e.X)
		return "*" + s, err
	case *ast.ArrayType:
		s, err := sub(e.Elt)
		if e.Len != nil {
			return "[" + types.ExprString(e.Len) + "]" + s, err
		}
		return "[]" + s, err
	case *ast.MapType:
		k, err := sub(e.Key)
		if err != nil {
			return "", err
		}
		v, err := sub(e.Value)
		return "map[" + k + "]" + v, err
	case *ast.InterfaceType:
		if len(e.Methods.List) == 0 {
			return "any", nil
		}
	case *ast.SelectorExpr:
		return types.ExprString(e), nil // json.RawMessage: users import it too
	}
	return "", fmt.Errorf("type %s: genclient cannot name it", types.ExprString(e))
}

// readModels collects the gen source's type declarations, the enum
// constants of each type, and the As and From methods of each union.
func readModels(f *ast.File) map[string]*model {
	models := map[string]*model{}
	var methods []*ast.FuncDecl
	for _, decl := range f.Decls {
		if fd, ok := decl.(*ast.FuncDecl); ok {
			methods = append(methods, fd)
			continue
		}
		gd := decl.(*ast.GenDecl)
		for _, s := range gd.Specs {
			if s, ok := s.(*ast.TypeSpec); ok {
				doc := gd.Doc
				if s.Doc != nil {
					doc = s.Doc
				}
				models[s.Name.Name] = &model{spec: s, doc: doc.Text(), from: map[string]string{}}
			}
		}
	}
	for _, decl := range f.Decls {
		gd, ok := decl.(*ast.GenDecl)
		if !ok || gd.Tok != token.CONST {
			continue
		}
		for _, s := range gd.Specs {
			s := s.(*ast.ValueSpec)
			id, ok := s.Type.(*ast.Ident)
			if !ok || models[id.Name] == nil {
				continue
			}
			for i, n := range s.Names {
				v := ""
				if i < len(s.Values) {
					v = types.ExprString(s.Values[i])
				}
				models[id.Name].consts = append(models[id.Name].consts, constant{n.Name, v})
			}
		}
	}
	for _, fd := range methods {
		if fd.Recv == nil || len(fd.Recv.List) != 1 {
			continue
		}
		recv := fd.Recv.List[0].Type
		if star, ok := recv.(*ast.StarExpr); ok {
			recv = star.X
		}
		id, ok := recv.(*ast.Ident)
		if !ok || models[id.Name] == nil || !models[id.Name].isUnion() {
			continue
		}
		m, name := models[id.Name], fd.Name.Name
		switch {
		case strings.HasPrefix(name, "As") && fd.Type.Results != nil && len(fd.Type.Results.List) == 2:
			m.as = append(m.as, method{name, fd.Type.Results.List[0].Type})
		case strings.HasPrefix(name, "From") && len(fd.Type.Params.List) == 1:
			m.from[types.ExprString(fd.Type.Params.List[0].Type)] = name
		}
	}
	return models
}

// summary turns oapi-codegen's "Name Description…" comment into ": description…",
// first sentence only, or "." when there is no description.
func summary(name, doc string) string {
	var lines []string
	for _, l := range strings.Split(doc, "\n") {
		if !strings.HasPrefix(l, "Deprecated:") { // oapi-codegen's boilerplate; the description says why
			lines = append(lines, l)
		}
	}
	doc = strings.TrimSpace(strings.Join(lines, "\n"))
	doc = strings.TrimSpace(strings.TrimPrefix(doc, name))
	if i := strings.Index(doc, "\n\n"); i >= 0 {
		doc = doc[:i] // the first paragraph
	}
	doc = strings.Join(strings.Fields(doc), " ")
	if i := strings.Index(doc, ". "); i >= 0 {
		doc = doc[:i+1]
	}
	if doc == "" || strings.HasPrefix(doc, "defines model for") {
		return "."
	}
	first, _, _ := strings.Cut(doc, " ")
	if r := []rune(first); len(r) > 0 && !strings.ContainsFunc(string(r[1:]), unicode.IsUpper) {
		r[0] = unicode.ToLower(r[0]) // not a name such as OpenRouter or JSON
		doc = string(r) + strings.TrimPrefix(doc, first)
	}
	if !strings.HasSuffix(doc, ".") {
		doc += "."
	}
	return ": " + doc
}
