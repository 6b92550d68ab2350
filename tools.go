//go:build tools

// Package cerebras pins the code generator used by `make generate` in go.mod,
// so every developer and CI run the same oapi-codegen version. Users never
// compile this file: it is excluded by the "tools" build tag.
package cerebras

import _ "github.com/oapi-codegen/oapi-codegen/v2/cmd/oapi-codegen"
