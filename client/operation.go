package client

import "fmt"

// operation is what a client method sends: an operation of openapi.yaml,
// named as users call it, and how its response is read. Every call names
// its operation, so that it refuses the options the operation does not take.
type operation struct {
	id     string // the operationId in openapi.yaml
	method string // the method users call, such as "Chat.Completions.New"
	read   reading
	paced  bool // rate-limit pacing applies: chat and text completions
	// create says that the operation makes something (a file, a batch) a
	// retry could make twice: it is retried only when it cannot have taken
	// effect (transport.go, retryableCreate).
	create bool
}

// reading is how a call reads a successful response.
type reading int

const (
	readBody   reading = iota // read whole (bounded by WithMaxResponseSize) and decoded
	readEvents                // an event stream, read as the caller reads it
	readRaw                   // handed over unread, such as a file's content
)

// allows returns the narrow options the operation takes: those the spec
// gives it (its header parameters, a JSON body: operationOptions), and
// those of how its response is read and whether it is paced.
func (o *operation) allows() optionSet {
	a := operationOptions[o.id]
	switch o.read {
	case readBody:
		a |= optMaxResponseSize
	case readEvents:
		a |= optEvents
	}
	if o.paced {
		a |= optPaced
	}
	if o.paced && !o.create {
		a |= optHedging // hedge.go: chat and text completions
	}
	return a
}

// refuse returns the *ParamError of a call given options its operation does
// not take, or nil.
func (o *operation) refuse(set optionSet) error {
	extra := set &^ o.allows()
	if extra == 0 {
		return nil
	}
	bit, name := extra.first()
	var why string
	switch {
	case bit&optNew != 0:
		why = "New reads it once: give it to client.New"
	case bit&optEvents != 0:
		why = "it applies to event streams (NewStreaming) only"
	case bit == optHedging:
		why = "hedging applies to chat and text completions only, never to a create"
	case bit&optPaced != 0:
		why = "rate-limit pacing paces chat and text completions only"
	case bit&optJSONBody != 0:
		why = "it applies to operations with a JSON request body only"
	case bit == optRequestEncoding:
		why = "the API takes MessagePack and gzip bodies on chat and text completions only"
	case bit == optMaxResponseSize:
		why = "the call hands its body over unread, not read whole"
	default:
		why = fmt.Sprintf("%s takes no such header parameter in openapi.yaml", o.id)
	}
	return paramError(name, "%s does not apply to %s: %s", name, o.method, why)
}
