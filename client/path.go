package client

import (
	"net/url"
)

// checkPathID checks an id that a call puts into its URL path, such as the
// model id of Models.Get, before anything is sent; every path parameter goes
// through it. The generated client escapes the id with url.PathEscape, which
// keeps '/', '?', '#' and '%' inside the segment, but URL resolution still
// removes the dot segments: "/v1/models/.." is "/v1/", and "/v1/models/." is
// "/v1/models/", the list. So an id must not be "", "." or "..". call and
// param name the call and the parameter in the error, such as "Models.Get"
// and "model id".
func checkPathID(call, param, id string) error {
	switch url.PathEscape(id) {
	case "":
		return paramError(param, "%s with an empty %s", call, param)
	case ".", "..":
		return paramError(param, "%s: invalid %s %q: a dot segment would send the request to another path", call, param, id)
	}
	return nil
}
