package gencheck

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// What a user writes: a program that imports client, and the same with a test
// that imports cerebrastest.
const (
	consumerMain = `package main

import (
	"fmt"

	"github.com/cerebras-go/cerebras/client"
)

func main() { fmt.Println(client.ModelGPTOSS120B) }
`
	consumerTest = `package main

import (
	"testing"

	"github.com/cerebras-go/cerebras/cerebrastest"
)

func TestFake(t *testing.T) { _ = cerebrastest.NewServer(t) }
`
)

// Footprint budgets of a consumer module, measured with a replace directive,
// so go.sum does not list this module itself (a published version adds its
// own 2 lines).
//
// The 34 go.sum lines of a module importing client are
//   - 20 held by github.com/oapi-codegen/runtime v1.9.0, which gen's code
//     imports: runtime, apapsch/go-jsonmerge/v2 and google/uuid (compiled),
//     testify, nullable and go.yaml.in/yaml/v3 (imported by runtime's tests,
//     which go mod tidy loads), and 8 go.mod-only lines from go-jsonmerge
//     v2.0.0's go.mod, a go 1.12 one that module graph pruning cannot cut;
//   - 14 held by client's own tests, which go mod tidy loads as well: they
//     validate every request against openapi.yaml with kin-openapi and the
//     fake (kin-openapi, go-openapi/jsonpointer, go-openapi/swag/jsonname,
//     santhosh-tekuri/jsonschema/v6, go.yaml.in/yaml/v4, x/text) and check
//     for leaked goroutines (go.uber.org/goleak).
//
// So issue 20's goal of 20 lines cannot be met while gen uses the
// oapi-codegen runtime; this test keeps what is left from growing.
const (
	maxConsumerModules = 40 // go list -m all, with the consumer and this module
	maxClientSumLines  = 34
)

// TestConsumerFootprint builds, in a temporary directory, the module a user
// starts with (go mod init, an import of client, go mod tidy) and fails when
// its module graph or go.sum outgrows the budgets above, or when importing
// cerebrastest in a test makes go mod tidy look up a module that no go.mod in
// the graph pins: every requirement of this module's go.mod, tools and test
// dependencies included, lands in its users' graph.
func TestConsumerFootprint(t *testing.T) {
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("go is not on PATH")
	}
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name    string
		files   map[string]string
		maxSums int // 0: not bounded
	}{
		{"client", map[string]string{"main.go": consumerMain}, maxClientSumLines},
		{"client and cerebrastest in a test", map[string]string{"main.go": consumerMain, "main_test.go": consumerTest}, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			for name, src := range tc.files {
				if err := os.WriteFile(filepath.Join(dir, name), []byte(src), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			goIn(t, dir, "mod", "init", "example.com/consumer")
			goIn(t, dir, "mod", "edit", "-replace", "github.com/cerebras-go/cerebras="+root)
			tidy(t, dir)

			// go.sum as tidy leaves it, to be committed; -mod=mod on go list
			// would add go.mod lines for modules whose requirements the graph prunes.
			sum, err := os.ReadFile(filepath.Join(dir, "go.sum"))
			if err != nil {
				t.Fatal(err)
			}
			modules := strings.Split(strings.TrimSpace(goIn(t, dir, "list", "-mod=readonly", "-m", "all")), "\n")
			sums := strings.Count(string(sum), "\n")
			t.Logf("%d modules in go list -m all, %d go.sum lines", len(modules), sums)
			if len(modules) > maxConsumerModules {
				t.Errorf("go list -m all lists %d modules, more than %d:\n%s", len(modules), maxConsumerModules, strings.Join(modules, "\n"))
			}
			if tc.maxSums > 0 && sums > tc.maxSums {
				t.Errorf("go.sum has %d lines, more than %d:\n%s", sums, tc.maxSums, sum)
			}
		})
	}
}

// tidy runs go mod tidy in dir from the module cache alone, and with the
// module proxy only when a pinned module is missing from the cache. Either
// way it fails the test when tidy went looking for a module to provide a
// package: one that no go.mod in the consumer's graph pins, so the consumer
// gets whatever version is latest that day.
func tidy(t *testing.T, dir string) {
	t.Helper()
	out, err := goRun(dir, []string{"GOPROXY=off"}, "mod", "tidy")
	if err != nil && !strings.Contains(out, "finding module for package") && strings.Contains(out, "GOPROXY=off") {
		t.Logf("the module cache lacks a pinned module; asking the module proxy:\n%s", out)
		out, err = goRun(dir, nil, "mod", "tidy")
	}
	for _, line := range strings.Split(out, "\n") {
		if strings.Contains(line, "finding module for package") {
			t.Errorf("go mod tidy looked up a module no go.mod pins: %s", strings.TrimPrefix(line, "go: "))
		}
	}
	if err != nil {
		t.Fatalf("go mod tidy: %v\n%s", err, out)
	}
}

// goIn runs the go command in dir and returns its standard output, failing the
// test on an error.
func goIn(t *testing.T, dir string, args ...string) string {
	t.Helper()
	cmd := goCmd(dir, nil, args...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go %s: %v\n%s", strings.Join(args, " "), err, stderr.String())
	}
	return string(out)
}

// goRun runs the go command in dir with env added and returns its standard
// output and error together.
func goRun(dir string, env []string, args ...string) (string, error) {
	out, err := goCmd(dir, env, args...).CombinedOutput()
	return string(out), err
}

// goCmd is the go command in dir, away from any workspace and toolchain
// switch, with env added.
func goCmd(dir string, env []string, args ...string) *exec.Cmd {
	cmd := exec.Command("go", args...)
	cmd.Dir = dir
	cmd.Env = append(append(os.Environ(), "GOFLAGS=-mod=mod", "GOWORK=off", "GOTOOLCHAIN=local"), env...)
	return cmd
}
