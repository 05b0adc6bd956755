package format

import (
	"strings"
	"testing"
)

func TestReportSections(t *testing.T) {
	r := &Report{Markdown: `# Evening Broadcast — Monday

2026-11-22 20:00 – 2026-11-23 20:00 (UTC)

## The day in figures

| Figure     | Today |
| ---------- | ----: |
| Error rate |  4.2/min |

## Charts

![Error rate](evening-error-rate.png)
`}
	got := r.Sections()
	if len(got) != 2 {
		t.Fatalf("sections = %+v, want the window line and the figures (the charts section is only images)", got)
	}
	if got[0].Heading != "" || got[0].Body != "2026-11-22 20:00 – 2026-11-23 20:00 (UTC)" {
		t.Errorf("first section = %+v", got[0])
	}
	want := "```\n| Figure     | Today |\n| Error rate |  4.2/min |\n```"
	if got[1].Heading != "The day in figures" || got[1].Body != want {
		t.Errorf("figures section = %q, want %q", got[1].Body, want)
	}
}

func TestSplitTextKeepsCodeBlocksClosed(t *testing.T) {
	var b strings.Builder
	b.WriteString("Intro\n```\n")
	for range 200 {
		b.WriteString("| a row of a table that is long enough |\n")
	}
	b.WriteString("```\nAfter")
	pieces := SplitText(b.String(), 1000)
	if len(pieces) < 8 {
		t.Fatalf("%d pieces", len(pieces))
	}
	rows := 0
	for _, p := range pieces {
		if Len(p) > 1000 {
			t.Errorf("piece of %d runes", Len(p))
		}
		if strings.Count(p, "```")%2 != 0 {
			t.Errorf("piece leaves a code block open:\n%s", p)
		}
		rows += strings.Count(p, "| a row")
	}
	if rows != 200 {
		t.Errorf("%d rows arrived, want 200", rows)
	}
}
