package discord

import (
	"strings"
	"testing"
)

// FuzzEscapeMarkdown: every character Discord's Markdown reads in a value
// is escaped by a backslash, so no value can format or link, and removing
// the escapes gives the value back.
func FuzzEscapeMarkdown(f *testing.F) {
	for _, s := range []string{"[Free Nitro](https://evil.example)", `\*x\*`, "||spoiler||", "`code`", "~~s~~", "__u__", "", "ü"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		out := escapeMarkdown(s)
		var back strings.Builder
		for i := 0; i < len(out); i++ {
			c := out[i]
			if strings.IndexByte("\\*_~`|[]", c) < 0 {
				back.WriteByte(c)
				continue
			}
			if c != '\\' || i+1 == len(out) || strings.IndexByte("\\*_~`|[]", out[i+1]) < 0 {
				t.Fatalf("escapeMarkdown(%q) = %q: %q at %d is not escaped", s, out, c, i)
			}
			back.WriteByte(out[i+1])
			i++
		}
		if back.String() != s {
			t.Fatalf("escapeMarkdown(%q) = %q reads back as %q", s, out, back.String())
		}
	})
}
