package cerebrastest

import (
	"encoding/json"
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
	op     string
	params map[string]string
	script Response
}

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
	switch x.op {
	case "createChatCompletion":
		x.chat()
	case "createCompletion":
		x.completion()
	case "listModels":
		x.listModels()
	case "retrieveModel":
		x.retrieveModel()
	case "listPublicModels":
		x.listModels()
	case "retrievePublicModel":
		x.retrieveModel()
	case "uploadFile":
		x.uploadFile()
	case "listFiles":
		x.listFiles()
	case "retrieveFile":
		x.retrieveFile()
	case "retrieveFileContent":
		x.retrieveFileContent()
	case "deleteFile":
		x.deleteFile()
	case "createBatch":
		x.createBatch()
	case "listBatches":
		x.listBatches()
	case "retrieveBatch":
		x.retrieveBatch()
	case "cancelBatch":
		x.cancelBatch()
	default: // tcpWarming
		x.s.writeJSON(x.w, http.StatusOK, nil, `{}`, "")
	}
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
