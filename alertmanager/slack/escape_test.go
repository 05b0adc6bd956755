package slack

import (
	"strings"
	"testing"
	"unicode/utf8"
)

// Text from labels and annotations cannot format a Slack message: a bold
// "Free Nitro", italics, strikes and code spans read as they were written
// but render plain; snake_case names keep their underscores.
func TestEscapeNeutralisesFormatting(t *testing.T) {
	for in, want := range map[string]string{
		"*Free Nitro*":               "∗Free Nitro∗",
		"_urgent_ ~old~":             "ˍurgentˍ ∼old∼",
		"run `rm -rf /`":             "run ˋrm -rf /ˋ",
		"resonance_errors_total 5*3": "resonance_errors_total 5*3",
		"<!channel> & *x*":           "&lt;!channel&gt; &amp; ∗x∗",
		"a__b":                       "aˍˍb",
		"plain":                      "plain",
	} {
		if got := escape(in); got != want {
			t.Errorf("escape(%q) = %q, want %q", in, got, want)
		}
	}
}

// FuzzEscape: the escaped text has no raw control character, no backtick
// and no formatting character that could open or close formatting, and it
// reads back as the input.
func FuzzEscape(f *testing.F) {
	for _, s := range []string{"*Free Nitro*", "_a_", "~a~", "`a`", "snake_case", "<!channel>", "&amp;", "a*b", "ü*ü", "**", "", "\xff*"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if !utf8.ValidString(s) {
			return // the decoder made every string valid UTF-8 before
		}
		out := escape(s)
		if strings.ContainsAny(out, "<>`") {
			t.Fatalf("escape(%q) = %q keeps a control character or a backtick", s, out)
		}
		runes := []rune(out)
		for i, r := range runes {
			if r != '*' && r != '_' && r != '~' {
				continue
			}
			if i == 0 || i == len(runes)-1 || !wordRune(runes[i-1]) || !wordRune(runes[i+1]) {
				t.Fatalf("escape(%q) = %q leaves %q at a word boundary", s, out, r)
			}
		}
		back := strings.NewReplacer("&lt;", "<", "&gt;", ">", "&amp;", "&", "∗", "*", "ˍ", "_", "∼", "~", "ˋ", "`").Replace(out)
		orig := strings.NewReplacer("∗", "*", "ˍ", "_", "∼", "~", "ˋ", "`").Replace(s)
		if back != orig {
			t.Fatalf("escape(%q) = %q reads back as %q", s, out, back)
		}
	})
}
