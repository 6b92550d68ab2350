package spec

import (
	"fmt"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
)

// ResponseBody is a component schema that a successful response decodes
// into: the JSON body of a 2xx response, or each event of a
// text/event-stream one (its x-event-schema).
type ResponseBody struct {
	// Schema is the component's name.
	Schema string
	// Operation says where: "GET /v1/models 200 application/json".
	Operation string
	// Event reports a stream's event schema.
	Event bool
}

// ResponseBodies lists the schemas the operations' successful responses
// decode into, in the document's order: the types a user of the SDK gets
// back. A JSON body whose schema is not a component is an error: the
// generated code has no type of its own for it.
func ResponseBodies(doc *openapi3.T) ([]ResponseBody, error) {
	var out []ResponseBody
	for _, p := range doc.Paths.InMatchingOrder() {
		item := doc.Paths.Value(p)
		for _, method := range sortedKeys(item.Operations()) {
			op := item.Operations()[method]
			for _, status := range sortedKeys(op.Responses.Map()) {
				r := op.Responses.Value(status)
				if !strings.HasPrefix(status, "2") || r == nil || r.Value == nil {
					continue
				}
				for _, media := range sortedKeys(r.Value.Content) {
					mt := r.Value.Content[media]
					if mt == nil || mt.Schema == nil {
						continue
					}
					where := fmt.Sprintf("%s %s %s %s", method, p, status, media)
					name, isRef := strings.CutPrefix(mt.Schema.Ref, "#/components/schemas/")
					switch {
					case media == "text/event-stream":
						ev, _ := mt.Schema.Value.Extensions["x-event-schema"].(string)
						if ev == "" {
							return nil, fmt.Errorf("%s: the stream's schema names no x-event-schema", where)
						}
						out = append(out, ResponseBody{Schema: ev, Operation: where, Event: true})
					case media != "application/json" && !strings.HasSuffix(media, "+json"):
						// Not one JSON value (a file's bytes, JSON lines): read as a stream.
					case !isRef:
						return nil, fmt.Errorf("%s: the body's schema is not a component (a $ref), so no generated type is its own", where)
					default:
						out = append(out, ResponseBody{Schema: name, Operation: where})
					}
				}
			}
		}
	}
	return out, nil
}
