package otelcerebras

import (
	"net/http"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/propagation"

	"github.com/cerebras-go/cerebras/client"
)

// Propagation returns a client.Middleware that sends the trace context of
// each attempt's request (the operation's span, when the client has an
// Observer from New) to the API in W3C headers (traceparent, tracestate,
// and whatever else p injects). With p nil it uses the global propagator,
// otel.GetTextMapPropagator(), which injects nothing until the program
// sets one. It is off unless added, since the headers tell the API about
// the caller's traces:
//
//	tel := otelcerebras.New()
//	c, err := client.New(client.WithObserver(tel), client.WithMiddleware(otelcerebras.Propagation(nil)))
//
// It changes a clone of the request, never the caller's.
func Propagation(p propagation.TextMapPropagator) client.Middleware {
	return func(req *http.Request, next client.Next) (*http.Response, error) {
		prop := p
		if prop == nil {
			prop = otel.GetTextMapPropagator()
		}
		carrier := propagation.HeaderCarrier(make(http.Header, 2))
		prop.Inject(req.Context(), carrier)
		if len(carrier) == 0 {
			return next(req)
		}
		r := req.Clone(req.Context())
		for k, v := range carrier {
			r.Header[k] = v
		}
		return next(r)
	}
}
