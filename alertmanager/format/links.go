package format

import (
	"net/url"
	"strings"
	"unicode/utf8"
)

// Link is one link of an alert's Links field.
type Link struct{ Text, URL string }

// LinkSeparator separates the links of a field.
const LinkSeparator = " · "

// FieldUnsafeLink is the truncation recorded for a link left out because its
// URL is not one a link may carry (see SafeURL).
const FieldUnsafeLink = "unsafe_link"

// linkEnders are the characters that end or open a Markdown link (")", "[")
// or end the URL
// itself (white space) early: escaped, they stay in the URL and cannot
// splice a second link after it. Slack's "|" and ">" its appendLink escapes.
var linkEnders = strings.NewReplacer("(", "%28", ")", "%29", "[", "%5B", "]", "%5D", " ", "%20", "\t", "%09", "\n", "%0A", "\r", "%0D")

// SafeURL is raw as a link may carry it: an absolute http or https URL with
// a host, with linkEnders escaped. A runbook_url of
// "https://ok.example/rb) [Phish](https://evil.example" stays one link to
// ok.example; "javascript:..." or a relative path is none.
func SafeURL(raw string) (string, bool) {
	raw = strings.TrimSpace(raw)
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil {
		return "", false
	}
	return linkEnders.Replace(raw), true
}

// JoinLinks writes the links that have a URL, each as appendLink appends
// it, separated by LinkSeparator. One that would take the field beyond
// limit characters is left out whole: a cut URL would lead nowhere. They
// are written in one buffer rather than a string per link joined: fewer
// allocations per alert.
//
// A URL that is not safe (SafeURL) is left out too and recorded in cut as
// FieldUnsafeLink.
func JoinLinks(links []Link, limit int, appendLink func(b []byte, l Link) []byte, cut *Truncations) string {
	n := 0
	for _, l := range links {
		n += len(l.URL) + len(l.Text) + 8
	}
	b := make([]byte, 0, n)
	size := 0
	for _, l := range links {
		if l.URL == "" {
			continue
		}
		safe, ok := SafeURL(l.URL)
		if !ok {
			*cut = append(*cut, FieldUnsafeLink)
			continue
		}
		l.URL = safe
		start := len(b)
		if start > 0 {
			b = append(b, LinkSeparator...)
		}
		mdStart := len(b)
		b = appendLink(b, l)
		// Each link counts a separator, the first too.
		chars := utf8.RuneCount(b[mdStart:]) + utf8.RuneCountInString(LinkSeparator)
		if size+chars > limit {
			b = b[:start]
			continue
		}
		size += chars
	}
	return string(b)
}
