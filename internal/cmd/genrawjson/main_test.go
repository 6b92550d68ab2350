package main

import (
	"strings"
	"testing"

	"github.com/cerebras-go/cerebras/internal/spec"
)

const src = `package gen

import "encoding/json"

type Item struct {
	ID      string ` + "`json:\"id\"`" + `
	rawJSON string ` + "`json:\"-\"`" + `
}

type Page struct {
	Data    []Item ` + "`json:\"data\"`" + `
	rawJSON string ` + "`json:\"-\"`" + `
}

type Plain struct {
	ID string ` + "`json:\"id\"`" + `
}

type Either struct {
	union json.RawMessage
}

func (t Either) AsItem() (Item, error) { return Item{}, nil }

type Ignored = interface{}
`

func TestGenerate(t *testing.T) {
	body := func(schema string) spec.ResponseBody {
		return spec.ResponseBody{Schema: schema, Operation: "GET /x 200 application/json"}
	}
	out, err := generate("cerebras.gen.go", []byte(src), []spec.ResponseBody{body("Page"), body("Either"), body("Ignored"),
		{Schema: "Item", Operation: "POST /x 200 text/event-stream", Event: true}})
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"func (t Item) RawJSON() string { return t.rawJSON }",
		"func (t Page) RawJSON() string { return t.rawJSON }",
		"func (t Either) RawJSON() string { return string(t.union) }",
		`rawjson.Items(raw, "data", len(t.Data), func(i int, item string) { setRawJSONItem(&t.Data[i], item) })`,
		"rawjson.Register(setRawJSONItem)", "rawjson.Register(setRawJSONPage)",
		// Where each type's JSON comes from.
		"the data of the stream event, the body of the response, or its part of the list it came in",
		"one a union's As method decoded",
	} {
		if !strings.Contains(strings.ReplaceAll(string(out), "\n// ", " "), want) {
			t.Errorf("the output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(string(out), "Plain") || strings.Contains(string(out), "Ignored") {
		t.Errorf("a type that keeps no JSON got code:\n%s", out)
	}
}

// TestGenerateRefusesAResponseWithoutRawJSON: a response schema that keeps
// no JSON (not listed in the overlay) stops generation, naming the fix.
func TestGenerateRefusesAResponseWithoutRawJSON(t *testing.T) {
	_, err := generate("cerebras.gen.go", []byte(src), []spec.ResponseBody{{Schema: "Plain", Operation: "GET /plain 200 application/json"}})
	if err == nil || !strings.Contains(err.Error(), "GET /plain 200 application/json answers with Plain") || !strings.Contains(err.Error(), "gen/overlay.yaml") {
		t.Errorf("err = %v", err)
	}
	_, err = generate("cerebras.gen.go", []byte(src), []spec.ResponseBody{{Schema: "Gone", Operation: "GET /gone 200 application/json"}})
	if err == nil || !strings.Contains(err.Error(), "Gone") {
		t.Errorf("err = %v", err)
	}
}
