package apierror

import (
	"bytes"
	"encoding/json"
)

var errorKey = []byte(`"error"`)

// InBand reports whether an event's data is an in-band error: an object
// whose top-level "error" marks one (MarksError). The JSON is decoded only
// when the bytes `"error"` occur in data, which in valid JSON they can only
// as a key or as the exact string "error".
func InBand(data []byte) bool {
	if !bytes.Contains(data, errorKey) {
		return false
	}
	var probe struct {
		Error json.RawMessage `json:"error"`
	}
	return json.Unmarshal(data, &probe) == nil && MarksError(probe.Error)
}

// MarksError reports whether the raw value of a top-level "error" key marks
// an error event: anything but absent, null or false.
func MarksError(raw []byte) bool {
	raw = bytes.TrimSpace(raw)
	return len(raw) > 0 && string(raw) != "null" && string(raw) != "false"
}
