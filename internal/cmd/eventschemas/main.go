// Command eventschemas writes a copy of an OpenAPI document in which each
// text/event-stream schema (a component with x-event-schema: Name) is
// replaced by what its events carry: Name, or a StreamError (ErrorChunk in
// older documents) reporting a failure; and each JSONL schema (one with
// x-line-schemas: [A, B], anywhere in the document) by what its lines are:
// A or B. scripts/spec-diff.sh diffs these copies, so that oasdiff, which
// follows neither extension, sees every change to the chunks of a stream
// and to the lines of a batch file.
//
//	go run ./internal/cmd/eventschemas <in.yaml >out.yaml
package main

import (
	"io"
	"log"
	"os"

	"go.yaml.in/yaml/v3"
)

func main() {
	log.SetFlags(0)
	log.SetPrefix("eventschemas: ")
	src, err := io.ReadAll(os.Stdin)
	if err != nil {
		log.Fatal(err)
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(src, &doc); err != nil {
		log.Fatal(err)
	}
	n := 0
	if schemas := lookup(&doc, "components", "schemas"); schemas != nil {
		for i := 0; i+1 < len(schemas.Content); i += 2 {
			s := schemas.Content[i+1]
			event := lookup(s, "x-event-schema")
			if event == nil {
				continue
			}
			refs := []string{"#/components/schemas/" + event.Value}
			for _, errSchema := range []string{"StreamError", "ErrorChunk"} { // the newest the document has
				if lookup(schemas, errSchema) != nil {
					refs = append(refs, "#/components/schemas/"+errSchema)
					break
				}
			}
			*s = *anyOf(refs...)
			n++
		}
	}
	n += lineSchemas(&doc)
	if n == 0 {
		log.Print("no schema has x-event-schema or x-line-schemas: the copy is unchanged")
	}
	out, err := yaml.Marshal(&doc)
	if err != nil {
		log.Fatal(err)
	}
	if _, err := os.Stdout.Write(out); err != nil {
		log.Fatal(err)
	}
}

// lookup follows mapping keys from n (a document or a mapping).
func lookup(n *yaml.Node, keys ...string) *yaml.Node {
	if n.Kind == yaml.DocumentNode && len(n.Content) > 0 {
		n = n.Content[0]
	}
	for _, k := range keys {
		if n.Kind != yaml.MappingNode {
			return nil
		}
		var next *yaml.Node
		for i := 0; i+1 < len(n.Content); i += 2 {
			if n.Content[i].Value == k {
				next = n.Content[i+1]
			}
		}
		if next == nil {
			return nil
		}
		n = next
	}
	return n
}

func anyOf(refs ...string) *yaml.Node {
	list := &yaml.Node{Kind: yaml.SequenceNode}
	for _, r := range refs {
		list.Content = append(list.Content, &yaml.Node{Kind: yaml.MappingNode, Content: []*yaml.Node{
			{Kind: yaml.ScalarNode, Value: "$ref"}, {Kind: yaml.ScalarNode, Value: r},
		}})
	}
	return &yaml.Node{Kind: yaml.MappingNode, Content: []*yaml.Node{
		{Kind: yaml.ScalarNode, Value: "type"}, {Kind: yaml.ScalarNode, Value: "object"},
		{Kind: yaml.ScalarNode, Value: "anyOf"}, list,
	}}
}

// lineSchemas replaces every mapping with x-line-schemas: [A, …] by an
// anyOf of those components, and reports how many it replaced.
func lineSchemas(n *yaml.Node) int {
	count := 0
	if n.Kind == yaml.MappingNode {
		if names := lookup(n, "x-line-schemas"); names != nil && names.Kind == yaml.SequenceNode {
			var refs []string
			for _, name := range names.Content {
				refs = append(refs, "#/components/schemas/"+name.Value)
			}
			*n = *anyOf(refs...)
			return 1
		}
	}
	for _, c := range n.Content {
		count += lineSchemas(c)
	}
	return count
}
