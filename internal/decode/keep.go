package decode

import "unsafe"

// keep returns the JSON that a root value decoded from data keeps for its
// RawJSON: a copy of its own, or data itself when the caller handed it over
// (Owned). With Share, the value's -share strings then lie in it, or, when
// unescaped, in d.room.
func (d *Decoder) keep(data []byte) string {
	var src string
	if d.Owned {
		src = unsafe.String(unsafe.SliceData(data), len(data))
	} else {
		src = string(data)
	}
	if d.Share {
		d.S.Share(src, &d.room)
	}
	return src
}
