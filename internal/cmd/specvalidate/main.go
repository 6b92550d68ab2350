// Command specvalidate loads and validates openapi.yaml (with its examples)
// and validates the wire fixtures under testdata/ against its schemas.
//
//	go run ./internal/cmd/specvalidate -spec openapi.yaml -fixtures testdata
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/cerebras-go/cerebras/internal/spec"
)

func main() {
	specPath := flag.String("spec", "openapi.yaml", "the OpenAPI document")
	fixtures := flag.String("fixtures", "testdata", "directory of fixtures, one subdirectory per schema")
	flag.Parse()

	doc, err := spec.Load(*specPath)
	if err != nil {
		fmt.Fprintln(os.Stderr, "spec-validate:", err)
		os.Exit(1)
	}
	n, err := spec.ValidateFixtures(doc, *fixtures)
	if err != nil {
		fmt.Fprintln(os.Stderr, "spec-validate:", err)
		os.Exit(1)
	}
	fmt.Printf("spec-validate: %s is valid (%d paths, %d schemas, examples checked); %d fixtures under %s match their schemas\n",
		*specPath, doc.Paths.Len(), len(doc.Components.Schemas), n, *fixtures)
}
