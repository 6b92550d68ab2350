package gen

//go:generate go run github.com/oapi-codegen/oapi-codegen/v2/cmd/oapi-codegen -config oapi-codegen.yaml ../openapi.yaml

// Every type a response decodes into returns the JSON received with RawJSON.
//go:generate go run ../internal/cmd/genrawjson -spec ../openapi.yaml -in cerebras.gen.go -out rawjson.gen.go

// Every model type prints as its JSON (fmt shows values, not union bytes or
// pointer addresses).
//go:generate go run ../internal/cmd/genstring -in cerebras.gen.go -out string.gen.go

// The single-pass decoders of the response types. In a stream, the -share
// fields (a delta's text, new in every chunk) are slices of the chunk's
// RawJSON, not allocations of their own.
//go:generate go run ../internal/cmd/gendecode -in cerebras.gen.go -out ../internal/decode/decode.gen.go -roots ChatCompletionChunk,ChatCompletion,Completion -merge ChatCompletionChunkDelta:ChatCompletionMessage:MessageText -first-wins role -share content,reasoning,arguments,text -carry ChatCompletionChunk:ChatCompletion:CompletionFields:first=id,model,created:except=object,choices -carry ChatCompletionChunkChoice:ChatCompletionChoice:ChoiceFields:except=logprobs,reasoning_logprobs -carry ToolCall:ToolCall:ToolCallFields:first=id,type:except=function,index -carry ToolCallFunction:ToolCallFunction:FunctionFields:first=name:except=arguments

// Package client names every model type and enum constant of this package
// (users never import gen); the renamed ones are names package client uses
// for its constructors.
//go:generate go run ../internal/cmd/genclient -spec ../openapi.yaml -gen cerebras.gen.go -overlay overlay.yaml -out ../client/types.gen.go -skip BatchInputLine,BatchResultLine,BatchResultResponse,BatchResultStatus,BatchResultErrorCode,FileUploadRequest,ChatCompletionEventStream,CompletionEventStream,TCPWarmingResponse,ErrorBody,ErrorResponse,FlatErrorResponse,ErrorDetail,ErrorChunk,StreamError,HTTPValidationError,ValidationError,UnprocessableEntityResponse
//go:generate go run ../internal/cmd/genheaders -spec ../openapi.yaml -pkg apierror -out ../internal/apierror/headers.gen.go
//go:generate go run ../internal/cmd/genoptions -spec ../openapi.yaml -gen cerebras.gen.go -out ../client/options.gen.go
