package notify

import (
	"bytes"
	"math"
	"slices"
	"strconv"
	"sync"
	"unicode/utf8"
)

// The formatters write their messages with these appenders instead of a
// reflection-based encoder: encoding a message was the largest share of
// the relay's own CPU after decoding the webhook. They write what
// encoding/json writes without HTML escaping (tested against it).

// EncodeJSON returns what appendJSON appends to an empty slice, built in a
// reused buffer and copied out at its size: a message's final size is not
// known in advance, and growing a new slice to it costs several copies.
func EncodeJSON(appendJSON func([]byte) []byte) []byte {
	buf := encodeBuffers.Get().(*[]byte)
	b := appendJSON((*buf)[:0])
	body := bytes.Clone(b)
	if cap(b) <= 1<<20 { // a rare huge message is not kept
		*buf = b
		encodeBuffers.Put(buf)
	}
	return body
}

var encodeBuffers = sync.Pool{New: func() any { b := make([]byte, 0, 16<<10); return &b }}

// AppendJSONStringField appends the member name: value, a string; see
// AppendJSONField.
func AppendJSONStringField(dst []byte, name, value string) []byte {
	return AppendJSONString(AppendJSONField(dst, name), value)
}

// AppendJSONString appends s as a JSON string: quotes, backslashes and
// control characters escaped, U+2028 and U+2029 escaped, invalid UTF-8
// written as U+FFFD.
func AppendJSONString(dst []byte, s string) []byte {
	const hex = "0123456789abcdef"
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		if b := s[i]; b < utf8.RuneSelf {
			if b >= 0x20 && b != '"' && b != '\\' {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch b {
			case '\\', '"':
				dst = append(dst, '\\', b)
			case '\b':
				dst = append(dst, '\\', 'b')
			case '\f':
				dst = append(dst, '\\', 'f')
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hex[b>>4], hex[b&0xF])
			}
			i++
			start = i
			continue
		}
		c, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case c == utf8.RuneError && size == 1:
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
		case c == '\u2028' || c == '\u2029':
			dst = append(dst, s[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', hex[c&0xF])
		default:
			i += size
			continue
		}
		i += size
		start = i
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}

// AppendJSONFloat appends f as encoding/json writes a float64; ok is false
// for NaN and infinities, which JSON cannot carry.
func AppendJSONFloat(dst []byte, f float64) (_ []byte, ok bool) {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return dst, false
	}
	format := byte('f')
	if abs := math.Abs(f); abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	dst = strconv.AppendFloat(dst, f, format, -1, 64)
	if format == 'e' { // e-09 → e-9, as encoding/json writes it
		if n := len(dst); n >= 4 && dst[n-4] == 'e' && dst[n-3] == '-' && dst[n-2] == '0' {
			dst[n-2] = dst[n-1]
			dst = dst[:n-1]
		}
	}
	return dst, true
}

// AppendJSONArray appends s as a JSON array, null when nil, each element
// written by appendElem (a method expression such as (*Embed).append).
func AppendJSONArray[T any](dst []byte, s []T, appendElem func(*T, []byte) []byte) []byte {
	if s == nil {
		return append(dst, "null"...)
	}
	dst = append(dst, '[')
	for i := range s {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = appendElem(&s[i], dst)
	}
	return append(dst, ']')
}

// AppendJSONStrings appends ss as a JSON array of strings, null when nil.
func AppendJSONStrings(dst []byte, ss []string) []byte {
	return AppendJSONArray(dst, ss, func(s *string, dst []byte) []byte { return AppendJSONString(dst, *s) })
}

// AppendJSONField appends the name of an object member, with the comma
// before it unless it is the first (dst then ends with '{'). name is the
// constant of a struct tag: it is not escaped.
func AppendJSONField(dst []byte, name string) []byte {
	if dst[len(dst)-1] != '{' {
		dst = append(dst, ',')
	}
	dst = append(dst, '"')
	dst = append(dst, name...)
	return append(dst, '"', ':')
}

// AppendJSONMap appends m as a JSON object with its keys sorted, as
// encoding/json writes a map; null when nil.
func AppendJSONMap(dst []byte, m map[string]string) []byte {
	if m == nil {
		return append(dst, "null"...)
	}
	var stack [16]string // the labels of an alert fit
	keys := stack[:0]
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	dst = append(dst, '{')
	for i, k := range keys {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = AppendJSONString(dst, k)
		dst = append(dst, ':')
		dst = AppendJSONString(dst, m[k])
	}
	return append(dst, '}')
}
