// Command specvalidate loads and validates openapi.yaml (with its examples)
// and validates the wire fixtures under testdata/ against its schemas.
//
//	go run ./internal/cmd/specvalidate -spec openapi.yaml -fixtures testdata
package main

import (
	"errors"
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
	var issues spec.Issues
	if errors.As(err, &issues) {
		// One `file:line: JSON-path: message` line per problem.
		fmt.Fprintln(os.Stderr, issues)
		fmt.Fprintf(os.Stderr, "spec-validate: %d problems in %s\n", len(issues), *specPath)
		os.Exit(1)
	}
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
