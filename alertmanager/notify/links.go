package notify

import "unicode/utf8"

// Link is one link of an alert's Links field.
type Link struct{ Text, URL string }

// LinkSeparator separates the links of a field.
const LinkSeparator = " · "

// JoinLinks writes the links that have a URL, each as appendLink appends
// it, separated by LinkSeparator. One that would take the field beyond
// limit characters is left out whole: a cut URL would lead nowhere. They
// are written in one buffer rather than a string per link joined: fewer
// allocations per alert.
func JoinLinks(links []Link, limit int, appendLink func(b []byte, l Link) []byte) string {
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
