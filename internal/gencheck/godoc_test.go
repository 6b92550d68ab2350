package gencheck

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// moduleRoot returns the go command (go test puts its own first in PATH)
// and the directory of go.mod.
func moduleRoot(t *testing.T) (goCmd, root string) {
	t.Helper()
	goCmd, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("the go command: %v", err)
	}
	out, err := exec.Command(goCmd, "env", "GOMOD").Output()
	if err != nil {
		t.Fatalf("go env GOMOD: %v", err)
	}
	gomod := strings.TrimSpace(string(out))
	if gomod == "" || gomod == "/dev/null" {
		t.Fatalf("go env GOMOD = %q: not in the module", gomod)
	}
	return goCmd, filepath.Dir(gomod)
}

// TestGoDocShowsFields: `go doc` of an alias prints only the alias and its
// comment (issue 19), so the comment must say what users read and set.
func TestGoDocShowsFields(t *testing.T) {
	goCmd, root := moduleRoot(t)
	for _, tc := range []struct {
		name string
		want []string
	}{
		{"ChatCompletion", []string{
			"ChatCompletion is",
			"Choices []client.ChatCompletionChoice: the completion choices",
			"Usage *client.Usage: token usage of the request. Nil means unset.",
		}},
		{"ChatCompletionNewParams", []string{
			"ChatCompletionNewParams is",
			"Model string: the model id",
			"Messages []client.ChatMessage: a list of messages",
			"Temperature *float64: sampling temperature between 0 and 2 (default 1.0). Nil means unset.",
		}},
		{"ChatMessage", []string{"client.UserMessageParam: AsUserMessageParam, FromUserMessageParam"}},
		{"FinishReason", []string{`FinishReasonToolCalls = "tool_calls"`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cmd := exec.Command(goCmd, "doc", "./client", tc.name)
			cmd.Dir = root
			out, err := cmd.CombinedOutput()
			if err != nil {
				t.Fatalf("go doc ./client %s: %v\n%s", tc.name, err, out)
			}
			text := strings.Join(strings.Fields(string(out)), " ") // go doc wraps lines
			for _, w := range tc.want {
				if !strings.Contains(text, w) {
					t.Errorf("go doc ./client %s does not say %q; it prints:\n%s", tc.name, w, out)
				}
			}
		})
	}
}

// TestAliasDocsAreComplete: the comment of every alias in client/types.gen.go
// lists every exported field of its gen struct, every variant (As method) of
// its gen union and every value of its gen enum, and names no gen type, so
// genclient cannot silently leave one out.
func TestAliasDocsAreComplete(t *testing.T) {
	_, root := moduleRoot(t)
	fset := token.NewFileSet()
	genFile, err := parser.ParseFile(fset, filepath.Join(root, "gen", "cerebras.gen.go"), nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	clientFile, err := parser.ParseFile(fset, filepath.Join(root, "client", "types.gen.go"), nil, parser.ParseComments)
	if err != nil {
		t.Fatal(err)
	}

	genTypes := map[string]ast.Expr{}
	methods := map[string][]string{} // receiver type → method names
	consts := map[string][]string{}  // type → its constants
	for _, decl := range genFile.Decls {
		switch d := decl.(type) {
		case *ast.FuncDecl:
			if d.Recv != nil {
				recv := d.Recv.List[0].Type
				if star, ok := recv.(*ast.StarExpr); ok {
					recv = star.X
				}
				if id, ok := recv.(*ast.Ident); ok {
					methods[id.Name] = append(methods[id.Name], d.Name.Name)
				}
			}
		case *ast.GenDecl:
			for _, s := range d.Specs {
				switch s := s.(type) {
				case *ast.TypeSpec:
					genTypes[s.Name.Name] = s.Type
				case *ast.ValueSpec:
					if id, ok := s.Type.(*ast.Ident); ok && d.Tok == token.CONST {
						for _, n := range s.Names {
							consts[id.Name] = append(consts[id.Name], n.Name)
						}
					}
				}
			}
		}
	}

	var structs, unions, enums int
	for _, decl := range clientFile.Decls {
		gd, ok := decl.(*ast.GenDecl)
		if !ok || gd.Tok != token.TYPE {
			continue
		}
		for _, s := range gd.Specs {
			s := s.(*ast.TypeSpec)
			sel, ok := s.Type.(*ast.SelectorExpr)
			if !s.Assign.IsValid() || !ok {
				continue
			}
			if pkg, ok := sel.X.(*ast.Ident); !ok || pkg.Name != "gen" {
				continue
			}
			name, doc := s.Name.Name, s.Doc.Text()
			if sel.Sel.Name != name {
				t.Errorf("%s aliases gen.%s: an alias has its target's name", name, sel.Sel.Name)
			}
			if !strings.HasPrefix(doc, name+" ") {
				t.Errorf("the comment of %s does not start with its name:\n%s", name, doc)
			}
			if strings.Contains(doc, "gen.") {
				t.Errorf("the comment of %s names a gen type; users name client's:\n%s", name, doc)
			}
			mentions := func(what, word string) {
				t.Helper()
				if !regexp.MustCompile(`\b` + regexp.QuoteMeta(word) + `\b`).MatchString(doc) {
					t.Errorf("the comment of %s does not list %s %s:\n%s", name, what, word, doc)
				}
			}
			st, _ := genTypes[name].(*ast.StructType)
			switch {
			case st != nil && len(st.Fields.List) == 1 && len(st.Fields.List[0].Names) == 1 && st.Fields.List[0].Names[0].Name == "union":
				unions++
				for _, m := range methods[name] {
					if strings.HasPrefix(m, "As") || strings.HasPrefix(m, "From") {
						mentions("the variant method", m)
					}
				}
			case st != nil:
				structs++
				for _, f := range st.Fields.List {
					for _, n := range f.Names {
						if n.IsExported() && !regexp.MustCompile(`(?m)^\s*- `+n.Name+` `).MatchString(doc) {
							t.Errorf("the comment of %s has no list item for its field %s:\n%s", name, n.Name, doc)
						}
					}
				}
			case len(consts[name]) > 0:
				enums++
				for _, c := range consts[name] {
					mentions("the value", c)
				}
			}
		}
	}
	// The checks above pass vacuously if the files' shape changes.
	if structs < 10 || unions < 5 || enums < 5 {
		t.Errorf("checked %d struct, %d union and %d enum aliases; expected more: did client/types.gen.go change shape?", structs, unions, enums)
	}
}
