package cerebrastest

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"

	"github.com/cerebras-go/cerebras/internal/apierror"
)

// created is the fixed creation time of every fake response, for determinism.
const created = 1732233600

// exchange is one request being answered.
type exchange struct {
	s      *Server
	w      http.ResponseWriter
	r      *http.Request
	body   []byte
	op     string // the operationId
	path   string // the operation's path in the spec, such as /v1/models/{model_id}
	params map[string]string
	script Response
}

// handlers answers each operation of the spec, by operationId: the one
// place an operation meets its handler. An operation missing here is
// answered 501, and TestEveryOperationHasAHandler names it.
var handlers = map[string]func(*exchange){
	"createChatCompletion": (*exchange).chat,
	"createCompletion":     (*exchange).completion,
	"listModels":           (*exchange).listModels,
	"retrieveModel":        (*exchange).retrieveModel,
	"listPublicModels":     (*exchange).listModels,
	"retrievePublicModel":  (*exchange).retrieveModel,
	"uploadFile":           (*exchange).uploadFile,
	"listFiles":            (*exchange).listFiles,
	"retrieveFile":         (*exchange).retrieveFile,
	"retrieveFileContent":  (*exchange).retrieveFileContent,
	"deleteFile":           (*exchange).deleteFile,
	"createBatch":          (*exchange).createBatch,
	"listBatches":          (*exchange).listBatches,
	"retrieveBatch":        (*exchange).retrieveBatch,
	"cancelBatch":          (*exchange).cancelBatch,
	warmupOperation:        (*exchange).tcpWarming,
}

// serve answers the request from the script, or else from the operation's
// handler.
func (x *exchange) serve() {
	sc := x.script
	if sc.Body != "" {
		status := sc.Status
		if status == 0 {
			status = http.StatusOK
		}
		for k, v := range sc.Header {
			x.w.Header()[k] = v
		}
		x.w.Header().Set(apierror.HeaderXRequestID, x.s.requestID())
		x.w.WriteHeader(status)
		_, _ = io.WriteString(x.w, sc.Body)
		return
	}
	switch sc.Fault {
	case ResetBeforeHeaders:
		x.reset()
		return
	case StallBeforeHeaders:
		if !x.s.wait(x.r.Context(), sc.Stall) {
			return
		}
	}
	for k, v := range sc.Header {
		x.w.Header()[k] = v
	}
	if h, ok := handlers[x.op]; ok {
		h(x)
		return
	}
	x.notImplemented()
}

// tcpWarming answers a warm-up: its body carries no information.
func (x *exchange) tcpWarming() {
	x.s.writeJSON(x.w, http.StatusOK, nil, `{}`, "")
}

// notImplemented answers an operation of the spec that has no handler, so
// a spec that grew faster than the fake fails loudly instead of passing
// with an empty body.
func (x *exchange) notImplemented() {
	msg := fmt.Sprintf("cerebrastest: operation %s (%s %s) is not implemented by the fake", x.op, x.r.Method, x.path)
	x.fail(http.StatusNotImplemented, msg, "server_error", "", "not_implemented")
}

// reset closes the connection without a (complete) answer.
func (x *exchange) reset() {
	if hj, ok := x.w.(http.Hijacker); ok {
		if conn, _, err := hj.Hijack(); err == nil {
			if tc, ok := conn.(interface{ SetLinger(int) error }); ok {
				_ = tc.SetLinger(0) // RST, not FIN
			}
			_ = conn.Close()
		}
	}
}

func (x *exchange) fail(status int, message, typ, param, code string) {
	x.s.writeJSON(x.w, status, nil, errorBody(message, typ, param, code), "ErrorResponse")
}

// rateLimitHeaders are sent with every successful answer, like the real API;
// with WithRateLimits, admit sends the limiter's values instead.
func (x *exchange) rateLimitHeaders() {
	h := x.w.Header()
	h.Set(apierror.HeaderXRatelimitLimitRequestsDay, "14400")
	h.Set(apierror.HeaderXRatelimitRemainingRequestsDay, "14399")
	h.Set(apierror.HeaderXRatelimitResetRequestsDay, "33011.382867097855")
	h.Set(apierror.HeaderXRatelimitLimitTokensMinute, "60000")
	h.Set(apierror.HeaderXRatelimitRemainingTokensMinute, "59000")
	h.Set(apierror.HeaderXRatelimitResetTokensMinute, "11.382867097854614")
}

// readRequest decodes the body into req and checks that model exists; when
// it returns false, the error answer has been sent.
func (x *exchange) readRequest(req any, model func() string) bool {
	if err := json.Unmarshal(x.body, req); err != nil {
		x.fail(http.StatusBadRequest, "Invalid request body: "+err.Error(), "invalid_request_error", "", "invalid_body")
		return false
	}
	if id := model(); !knownModel(id) {
		x.modelNotFound(id)
		return false
	}
	return true
}
