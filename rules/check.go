package rules

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"strings"
	"unicode"
)

// CheckGenerated fails when the committed rules file differs from what the
// generator writes for the table, naming the first line that differs.
func (t *Table) CheckGenerated(rulesPath string) error {
	return t.CheckRendered(rulesPath, Options{Format: FormatPlain})
}

// CheckRendered is CheckGenerated for a file rendered with opts, such as
// the Helm chart's PrometheusRule.
func (t *Table) CheckRendered(rulesPath string, opts Options) error {
	want, err := t.Render(opts)
	if err != nil {
		return err
	}
	got, err := os.ReadFile(rulesPath)
	if err != nil {
		return err
	}
	if err := Validate(got, opts.Format); err != nil {
		return fmt.Errorf("%s: %w", rulesPath, err)
	}
	if bytes.Equal(got, want) {
		return nil
	}
	gotLines, wantLines := strings.Split(string(got), "\n"), strings.Split(string(want), "\n")
	for i := 0; ; i++ {
		g, w := lineAt(gotLines, i), lineAt(wantLines, i)
		if g != w {
			return fmt.Errorf("%s:%d: differs from what %s generates (have %q, want %q): run resonancetool rules generate",
				rulesPath, i+1, t.Path, g, w)
		}
	}
}

func lineAt(lines []string, i int) string {
	if i < len(lines) {
		return lines[i]
	}
	return "<end of file>"
}

// CheckRunbooks fails when an alert's runbook anchor is not a heading of the
// runbooks page, so no runbook_url leads nowhere.
func (t *Table) CheckRunbooks(runbooksPath string) error {
	f, err := os.Open(runbooksPath)
	if err != nil {
		return err
	}
	defer f.Close()
	anchors := map[string]bool{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "#") {
			anchors[headingAnchor(strings.TrimLeft(line, "#"))] = true
		}
	}
	if err := sc.Err(); err != nil {
		return err
	}
	var missing []string
	for _, a := range t.AllAlerts() {
		if !anchors[a.RunbookAnchor] {
			missing = append(missing, fmt.Sprintf("%s:%d: alert %s: no heading with anchor #%s in %s", t.Path, a.Line, a.Name, a.RunbookAnchor, runbooksPath))
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("%s", strings.Join(missing, "\n"))
	}
	return nil
}

// headingAnchor is the anchor GitHub gives a Markdown heading: lower case,
// punctuation dropped, spaces turned into hyphens.
func headingAnchor(heading string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(strings.TrimSpace(heading)) {
		switch {
		case unicode.IsLetter(r) || unicode.IsDigit(r) || r == '-' || r == '_':
			b.WriteRune(r)
		case r == ' ':
			b.WriteRune('-')
		}
	}
	return b.String()
}
