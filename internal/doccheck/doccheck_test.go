package doccheck

import (
	"bufio"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cerebras-go/cerebras/cerebrastest"
	"github.com/cerebras-go/cerebras/client"
	"github.com/cerebras-go/cerebras/pricing"
)

// docs are the Markdown files whose code blocks are checked, relative to the
// repository root.
var docs = []string{"README.md", "CONTRIBUTING.md"}

// languages are the fence languages a block may have: Go is compiled, shell
// is checked for the targets, scripts and paths it names, text (output, a
// layout) is prose.
var languages = []string{"go", "sh", "text"}

// block is one fenced code block of a Markdown file.
type block struct {
	doc   string // the file, such as README.md
	path  string // the file's absolute path
	lang  string // the fence's language
	first int    // the line of the block's first line of code
	fence int    // the line of its closing fence
	code  string
}

func (b block) String() string { return fmt.Sprintf("%s:%d", b.doc, b.first-1) }

// kind says what a Go block is: "file" (a whole file, with its package
// clause), "decls" (top-level declarations, such as a test function) or
// "stmts" (statements, the body of a function).
func (b block) kind() string {
	fset := token.NewFileSet()
	if _, err := parser.ParseFile(fset, "", b.code, parser.PackageClauseOnly); err == nil {
		return "file"
	}
	if _, err := parser.ParseFile(fset, "", "package p\n"+b.code, parser.SkipObjectResolution); err == nil {
		return "decls"
	}
	return "stmts"
}

// dir is the block's package directory in the scratch module, named after
// the line of its opening fence: readme_L23.
func (b block) dir() string {
	return fmt.Sprintf("%s_L%d", strings.ToLower(strings.TrimSuffix(b.doc, ".md")), b.first-1)
}

func repoRoot(t *testing.T) string {
	t.Helper()
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	return root
}

// readBlocks returns the fenced code blocks of doc, failing the test on a
// block without a language or with one not in languages, and on an
// unclosed block.
func readBlocks(t *testing.T, root, doc string) []block {
	t.Helper()
	path := filepath.Join(root, doc)
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var blocks []block
	var cur *block
	var code []string
	indent := ""
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		trimmed := strings.TrimLeft(line, " ")
		if !strings.HasPrefix(trimmed, "```") {
			if cur != nil {
				code = append(code, strings.TrimPrefix(line, indent))
			}
			continue
		}
		if cur != nil { // the closing fence
			cur.fence, cur.code = n, strings.Join(code, "\n")+"\n"
			blocks = append(blocks, *cur)
			cur, code = nil, nil
			continue
		}
		lang := strings.TrimSpace(strings.TrimPrefix(trimmed, "```"))
		if !slices.Contains(languages, lang) {
			t.Errorf("%s:%d: a code block marked %q: mark it ```go (compiled), ```sh (checked) or ```text", doc, n, lang)
		}
		cur, indent = &block{doc: doc, path: path, lang: lang, first: n + 1}, line[:len(line)-len(trimmed)]
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if cur != nil {
		t.Errorf("%s: the code block that starts at line %d is never closed", doc, cur.first-1)
	}
	return blocks
}

// imports are what a fragment may use without importing it: the wrapper
// imports them all and uses each once, so none is unused.
var imports = []struct{ path, use string }{
	{"bytes", "bytes.NewReader"},
	{"context", "context.Background"},
	{"encoding/json", "json.Marshal"},
	{"errors", "errors.Is"},
	{"fmt", "fmt.Sprint"},
	{"io", "io.EOF"},
	{"log", "log.Print"},
	{"log/slog", "slog.Info"},
	{"net/http", "http.StatusOK"},
	{"os", "os.Exit"},
	{"strings", "strings.Cut"},
	{"testing", "testing.Short"},
	{"time", "time.Second"},
	{"github.com/cerebras-go/cerebras/batchfile", "batchfile.NewWriter"},
	{"github.com/cerebras-go/cerebras/cerebrastest", "cerebrastest.NewServer"},
	{"github.com/cerebras-go/cerebras/client", "client.New"},
	{"github.com/cerebras-go/cerebras/otelcerebras", "otelcerebras.New"},
	{"github.com/cerebras-go/cerebras/pricing", "pricing.DefaultTTL"},
	{"github.com/cerebras-go/cerebras/streaming", "streaming.ErrTruncated"},
	{"github.com/cerebras-go/cerebras/toolrunner", "toolrunner.DefaultMaxTurns"},
}

// source returns the Go file that compiles a block. A whole file is kept as
// it is; declarations get a package clause and the imports; statements
// become the body of a function with ctx, c and params, that returns an
// error. A //line directive makes the compiler and vet report positions in
// the Markdown file.
func source(b block) string {
	at := fmt.Sprintf("//line %s:%d:1\n", b.path, b.first)
	kind := b.kind()
	if kind == "file" {
		return at + b.code
	}
	var s strings.Builder
	s.WriteString("package frag\n\nimport (\n")
	for _, im := range imports {
		fmt.Fprintf(&s, "\t%q\n", im.path)
	}
	s.WriteString(")\n\n")
	for _, im := range imports {
		fmt.Fprintf(&s, "var _ = %s\n", im.use)
	}
	s.WriteString("\n")
	if kind == "decls" {
		s.WriteString(at + b.code)
		return s.String()
	}
	// A block of its own, so that the fragment may declare ctx, c or params anew.
	s.WriteString("func _(ctx context.Context, c *client.Client, params client.ChatCompletionNewParams) error {\n{\n")
	s.WriteString(at + b.code)
	fmt.Fprintf(&s, "//line %s:%d:1\n}\n", b.path, b.fence)
	if !endsTerminating(s.String() + "}\n") {
		s.WriteString("return nil\n") // vet reports it unreachable after a fragment that returns
	}
	s.WriteString("}\n")
	return s.String()
}

// endsTerminating reports whether the body of the function in src ends in
// a terminating statement (the Go spec's), so that nothing may follow it.
func endsTerminating(src string) bool {
	f, err := parser.ParseFile(token.NewFileSet(), "", src, parser.SkipObjectResolution)
	if err != nil {
		return false // the compiler will report it, in Markdown lines
	}
	for _, d := range f.Decls {
		if fn, ok := d.(*ast.FuncDecl); ok {
			return terminating(fn.Body)
		}
	}
	return false
}

func terminating(s ast.Stmt) bool {
	switch s := s.(type) {
	case *ast.ReturnStmt:
		return true
	case *ast.BranchStmt:
		return s.Tok == token.GOTO
	case *ast.ExprStmt:
		call, ok := s.X.(*ast.CallExpr)
		if !ok {
			return false
		}
		id, ok := call.Fun.(*ast.Ident)
		return ok && id.Name == "panic"
	case *ast.BlockStmt:
		return len(s.List) > 0 && terminating(s.List[len(s.List)-1])
	case *ast.LabeledStmt:
		return terminating(s.Stmt)
	case *ast.IfStmt:
		return s.Else != nil && terminating(s.Body) && terminating(s.Else)
	case *ast.ForStmt:
		return s.Cond == nil && !breaks(s.Body)
	case *ast.SwitchStmt:
		return clausesTerminate(s.Body)
	case *ast.TypeSwitchStmt:
		return clausesTerminate(s.Body)
	case *ast.SelectStmt:
		return clausesTerminate(s.Body)
	}
	return false
}

// clausesTerminate: a switch or select terminates when it has a default
// (a select needs none), no break, and every clause ends terminating.
func clausesTerminate(body *ast.BlockStmt) bool {
	if breaks(body) {
		return false
	}
	def := false
	for _, cl := range body.List {
		var list []ast.Stmt
		switch cl := cl.(type) {
		case *ast.CaseClause:
			def = def || cl.List == nil
			list = cl.Body
		case *ast.CommClause:
			def = true
			list = cl.Body
		}
		if len(list) == 0 {
			return false
		}
		last := list[len(list)-1]
		if br, ok := last.(*ast.BranchStmt); ok && br.Tok == token.FALLTHROUGH {
			continue
		}
		if !terminating(last) {
			return false
		}
	}
	return def
}

// breaks reports whether body holds a break out of the statement it belongs
// to: an unlabeled one outside nested loops, switches and selects, or any
// labeled one (to be safe).
func breaks(body *ast.BlockStmt) bool {
	found := false
	ast.Inspect(body, func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.BranchStmt:
			if n.Tok == token.BREAK {
				found = true
			}
		case *ast.ForStmt, *ast.RangeStmt, *ast.SwitchStmt, *ast.TypeSwitchStmt, *ast.SelectStmt, *ast.FuncLit:
			if n != ast.Node(body) {
				ast.Inspect(n, func(m ast.Node) bool {
					if br, ok := m.(*ast.BranchStmt); ok && br.Tok == token.BREAK && br.Label != nil {
						found = true
					}
					return true
				})
				return false
			}
		}
		return true
	})
	return found
}

// position matches a Markdown position in the go command's output, however
// the go command shortened the path.
var position = regexp.MustCompile(`(?:[^\s:]*/)?((?:README|CONTRIBUTING)\.md):(\d+)((?::\d+)?)`)

// report fails the test once for each block the go command's output names,
// quoting the lines about it; output naming no block is quoted whole.
func report(t *testing.T, what string, blocks []block, out []byte) {
	t.Helper()
	text := position.ReplaceAllString(string(out), "$1:$2$3")
	byBlock := map[string][]string{}
	var order []string
	for _, line := range strings.Split(text, "\n") {
		m := position.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		n, _ := strconv.Atoi(m[2])
		for _, b := range blocks {
			if b.doc == m[1] && b.first <= n && n <= b.fence {
				if byBlock[b.String()] == nil {
					order = append(order, b.String())
				}
				byBlock[b.String()] = append(byBlock[b.String()], "\t"+line)
			}
		}
	}
	for _, at := range order {
		t.Errorf("%s: the ```go block %s:\n%s", at, what, strings.Join(byBlock[at], "\n"))
	}
	if len(order) == 0 {
		t.Errorf("%s, naming no block:\n%s", what, text)
	}
}

// TestDocCodeBlocks keeps every Go block of README.md and CONTRIBUTING.md
// compiling, vetted, and (for complete programs) running: the blocks become
// the packages of one scratch module that requires this repository, built
// with one go build and one go vet, so a failure names the block's line in
// the Markdown file. Each complete program (package main) then runs against
// the fake API with CEREBRAS_BASE_URL set, as the README tells a newcomer to
// run the first one, and must exit 0. README.md's first Go block must be
// such a program.
func TestDocCodeBlocks(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a scratch module")
	}
	root := repoRoot(t)
	var blocks []block
	for _, doc := range docs {
		all := readBlocks(t, root, doc)
		for _, b := range all {
			if b.lang == "go" {
				blocks = append(blocks, b)
			}
		}
		if doc == "README.md" {
			if i := slices.IndexFunc(all, func(b block) bool { return b.lang == "go" }); i < 0 || !isProgram(all[i]) {
				t.Errorf("README.md's first ```go block should be a complete program (package main), one copy-paste from a first call")
			}
		}
	}
	if len(blocks) == 0 {
		t.Fatal("no ```go block found")
	}

	mod := t.TempDir()
	goVersion, err := goDirective(filepath.Join(root, "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	// The blocks may use the OpenTelemetry module (otelcerebras) too: it
	// is required from its directory, with its go.sum.
	gomod := fmt.Sprintf("module doccheck.test\n\ngo %[1]s\n\nrequire (\n\tgithub.com/cerebras-go/cerebras v0.0.0\n\tgithub.com/cerebras-go/cerebras/otelcerebras v0.0.0\n)\n\n"+
		"replace github.com/cerebras-go/cerebras => %[2]s\n\nreplace github.com/cerebras-go/cerebras/otelcerebras => %[3]s\n",
		goVersion, root, filepath.Join(root, "otelcerebras"))
	sum, err := os.ReadFile(filepath.Join(root, "go.sum"))
	if err != nil {
		t.Fatal(err)
	}
	otelSum, err := os.ReadFile(filepath.Join(root, "otelcerebras", "go.sum"))
	if err != nil {
		t.Fatal(err)
	}
	sum = append(sum, otelSum...)
	write(t, filepath.Join(mod, "go.mod"), gomod)
	write(t, filepath.Join(mod, "go.sum"), string(sum))
	for _, b := range blocks {
		write(t, filepath.Join(mod, b.dir(), "block.go"), source(b))
	}

	env := append(os.Environ(), "GOWORK=off", "GOFLAGS="+strings.TrimSpace(os.Getenv("GOFLAGS")+" -mod=mod"))
	bin := t.TempDir()
	// go build -o writes the programs but skips the other packages: build
	// them all first, then link the programs (from the build cache).
	link := []string{"build", "-o", bin + string(filepath.Separator)}
	for _, b := range blocks {
		if isProgram(b) {
			link = append(link, "./"+b.dir())
		}
	}
	for _, step := range []struct {
		what string
		args []string
	}{
		{"does not compile (go build)", []string{"build", "./..."}},
		{"does not pass go vet", []string{"vet", "./..."}},
		{"does not link (go build -o)", link},
	} {
		cmd := exec.Command("go", step.args...)
		cmd.Dir, cmd.Env = mod, env
		if out, err := cmd.CombinedOutput(); err != nil {
			report(t, step.what, blocks, out)
			return
		}
	}

	srv := cerebrastest.NewServer(t)
	for _, b := range blocks {
		if !isProgram(b) {
			continue
		}
		cmd := exec.Command(filepath.Join(bin, b.dir()))
		cmd.Env = append(withoutCerebrasVars(os.Environ()), "CEREBRAS_BASE_URL="+srv.URL, "CEREBRAS_API_KEY=doccheck")
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Errorf("%s: the program fails against the fake API (CEREBRAS_BASE_URL=%s): %v\n%s", b, srv.URL, err, out)
			continue
		}
		t.Logf("%s: the program printed:\n%s", b, out)
	}
}

func isProgram(b block) bool {
	if b.lang != "go" || b.kind() != "file" {
		return false
	}
	f, err := parser.ParseFile(token.NewFileSet(), "", b.code, parser.PackageClauseOnly)
	return err == nil && f.Name.Name == "main"
}

// goDirective returns the go version a go.mod requires.
func goDirective(path string) (string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", err
	}
	m := regexp.MustCompile(`(?m)^go (\S+)$`).FindSubmatch(b)
	if m == nil {
		return "", fmt.Errorf("%s has no go directive", path)
	}
	return string(m[1]), nil
}

func withoutCerebrasVars(env []string) []string {
	return slices.DeleteFunc(slices.Clone(env), func(kv string) bool { return strings.HasPrefix(kv, "CEREBRAS_") })
}

func write(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// makeTargets returns the Makefile's targets.
func makeTargets(t *testing.T, root string) map[string]bool {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(root, "Makefile"))
	if err != nil {
		t.Fatal(err)
	}
	targets := map[string]bool{}
	for _, m := range regexp.MustCompile(`(?m)^([a-z][a-z-]*):`).FindAllSubmatch(b, -1) {
		targets[string(m[1])] = true
	}
	return targets
}

var (
	makeCommand = regexp.MustCompile(`\bmake ([a-z][a-z-]*)`)
	relPath     = regexp.MustCompile(`(?:^|\s)\./([A-Za-z0-9_./-]+)`)
	scriptPath  = regexp.MustCompile(`\bscripts/[A-Za-z0-9_.-]+`)
	modulePath  = regexp.MustCompile(`github\.com/cerebras-go/cerebras/([A-Za-z0-9_/-]+)@`)
)

// TestDocShellCommands checks the ```sh blocks of README.md and
// CONTRIBUTING.md: every make target they run exists, and so does every
// script, ./path and path inside this module they name.
func TestDocShellCommands(t *testing.T) {
	root := repoRoot(t)
	targets := makeTargets(t, root)
	exists := func(b block, n int, rel string) {
		rel = strings.TrimSuffix(strings.TrimSuffix(rel, "/..."), "/")
		if rel == "" || rel == "." {
			return
		}
		if _, err := os.Stat(filepath.Join(root, rel)); err != nil {
			t.Errorf("%s:%d: %s does not exist in the repository", b.doc, n, rel)
		}
	}
	checked := 0
	for _, doc := range docs {
		for _, b := range readBlocks(t, root, doc) {
			if b.lang != "sh" {
				continue
			}
			checked++
			for i, line := range strings.Split(b.code, "\n") {
				n := b.first + i
				cmd, _, _ := strings.Cut(line, "#") // comments are prose
				for _, m := range makeCommand.FindAllStringSubmatch(cmd, -1) {
					if !targets[m[1]] {
						t.Errorf("%s:%d: make %s: the Makefile has no such target", b.doc, n, m[1])
					}
				}
				for _, m := range relPath.FindAllStringSubmatch(cmd, -1) {
					exists(b, n, m[1])
				}
				for _, m := range scriptPath.FindAllString(cmd, -1) {
					exists(b, n, m)
				}
				for _, m := range modulePath.FindAllStringSubmatch(cmd, -1) {
					exists(b, n, m[1])
				}
			}
		}
	}
	if checked == 0 {
		t.Error("no ```sh block found")
	}
}

// TestREADMEIndexesEveryExample keeps the README's index of examples/ whole:
// every program under examples/ has its line, and every line names one.
func TestREADMEIndexesEveryExample(t *testing.T) {
	root := repoRoot(t)
	readme, err := os.ReadFile(filepath.Join(root, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	_, section, ok := strings.Cut(string(readme), "\n## Examples\n")
	if !ok {
		t.Fatal(`README.md has no "## Examples" section`)
	}
	section, _, _ = strings.Cut(section, "\n## ")
	entries, err := os.ReadDir(filepath.Join(root, "examples"))
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if e.IsDir() && !strings.Contains(section, "[`examples/"+e.Name()+"`]") {
			t.Errorf("README.md's Examples section has no line for examples/%s", e.Name())
		}
	}
	for _, m := range regexp.MustCompile("\\[`examples/([^`]+)`\\]").FindAllStringSubmatch(section, -1) {
		if _, err := os.Stat(filepath.Join(root, "examples", m[1], "main.go")); err != nil {
			t.Errorf("README.md's Examples section lists examples/%s, which has no main.go", m[1])
		}
	}
}

// TestCONTRIBUTINGListsEveryMakeTarget keeps CONTRIBUTING.md's make targets
// whole: every target the Makefile documents (## after it) is named there.
func TestCONTRIBUTINGListsEveryMakeTarget(t *testing.T) {
	root := repoRoot(t)
	contributing, err := os.ReadFile(filepath.Join(root, "CONTRIBUTING.md"))
	if err != nil {
		t.Fatal(err)
	}
	makefile, err := os.ReadFile(filepath.Join(root, "Makefile"))
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range regexp.MustCompile(`(?m)^([a-z][a-z-]*):.*## `).FindAllSubmatch(makefile, -1) {
		if !regexp.MustCompile("`make " + string(m[1]) + "[` ]").Match(contributing) {
			t.Errorf("CONTRIBUTING.md does not name `make %s`, a target of the Makefile", m[1])
		}
	}
}

// TestREADMEStatesTheDefaults: the defaults README.md states in prose are
// the ones the code has, so that changing a constant fails here until the
// README says the new value.
func TestREADMEStatesTheDefaults(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	readme := strings.Join(strings.Fields(string(raw)), " ") // prose wraps anywhere
	for _, want := range []string{
		fmt.Sprintf("sends a body under %d KiB as plain JSON", client.AutoEncodingMinSize>>10),
		fmt.Sprintf("(their %dth percentile, by default)", int(client.DefaultHedgePercentile*100)),
		fmt.Sprintf("client.WithMaxRetries(4), // default %d", client.DefaultMaxRetries),
		fmt.Sprintf("// per attempt; default %d s", int(client.DefaultRequestTimeout.Seconds())),
		fmt.Sprintf("keep-alives aside; default %d min", int(client.DefaultStreamIdleTimeout.Minutes())),
	} {
		if !strings.Contains(readme, want) {
			t.Errorf("README.md does not say %q", want)
		}
	}
	if pricing.DefaultTTL != time.Hour || !strings.Contains(readme, "keeps them an hour (`TTL`)") {
		t.Errorf("README.md says the catalogue keeps prices an hour; pricing.DefaultTTL is %s", pricing.DefaultTTL)
	}
}
