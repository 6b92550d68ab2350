package gen

//go:generate go run github.com/oapi-codegen/oapi-codegen/v2/cmd/oapi-codegen -config oapi-codegen.yaml ../openapi.yaml
//go:generate go run ../internal/cmd/gendecode -in cerebras.gen.go -out ../internal/decode/decode.gen.go -roots ChatCompletionChunk,ChatCompletion,Completion -merge ChatCompletionChunkDelta:ChatCompletionMessage:MessageText -first-wins role
