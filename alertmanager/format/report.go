package format

import "strings"

// Report is a ritual's report (morning review, evening broadcast, weekly
// audit, monthly review) as the channels post it.
type Report struct {
	Ritual string // morning, evening, weekly or monthly
	Title  string
	// Markdown is the whole report; its "## " sections are the parts the
	// channels split it into, its tables fit a monospace block.
	Markdown string
	// JSON is the report's JSON contract, what the hub receives.
	JSON []byte
	// Charts are PNG images; channels that show images attach them.
	Charts []File
}

// File is an attachment.
type File struct {
	Name  string // e.g. "evening-error-rate.png"
	Title string
	Data  []byte
}

// Post is one request of a report to a channel: a JSON payload and, for
// channels that take them, files (Discord: multipart with payload_json
// and files[n], referenced in the payload as attachment://<name>).
type Post struct {
	Body  []byte
	Files []File
}

// ReportFormatter is implemented by the formatters of channels that post
// ritual reports.
type ReportFormatter interface {
	FormatReport(r *Report) ([]Post, error)
}

// Section is one "## " section of a report's Markdown, made fit for a chat
// channel: Markdown tables, which chat channels do not render, are put in a
// code block (their columns are aligned), and image links are left out (the
// channels that show images attach the charts).
type Section struct {
	Heading string // "" for the text before the first section
	Body    string
}

// Sections splits a report's Markdown into its sections.
func (r *Report) Sections() []Section {
	var (
		out     []Section
		cur     Section
		body    []string
		inTable bool
	)
	flush := func() {
		if inTable {
			body = append(body, "```")
			inTable = false
		}
		cur.Body = strings.TrimSpace(strings.Join(body, "\n"))
		if cur.Heading != "" || cur.Body != "" {
			out = append(out, cur)
		}
		body = nil
	}
	for _, line := range strings.Split(r.Markdown, "\n") {
		isTable := strings.HasPrefix(line, "|")
		switch {
		case strings.HasPrefix(line, "## "):
			flush()
			cur = Section{Heading: strings.TrimPrefix(line, "## ")}
			continue
		case strings.HasPrefix(line, "# "):
			continue // the title travels separately
		case strings.HasPrefix(line, "!["):
			continue
		case isTable && strings.HasPrefix(strings.TrimLeft(line, "| "), "---"):
			continue // the header separator means nothing in a code block
		}
		if isTable != inTable {
			body = append(body, "```")
			inTable = isTable
		}
		body = append(body, line)
	}
	flush()
	// A section left empty (the charts section without its images) goes.
	kept := out[:0]
	for _, s := range out {
		if s.Body != "" {
			kept = append(kept, s)
		}
	}
	return kept
}

// SplitText cuts text into pieces of at most max runes, at line ends where
// possible, keeping code blocks closed in each piece.
func SplitText(text string, limit int) []string {
	if Len(text) <= limit {
		return []string{text}
	}
	var (
		out    []string
		cur    strings.Builder
		inCode bool
	)
	const fence = "```"
	for _, line := range strings.Split(text, "\n") {
		// Room for the line, its newline and a closing fence.
		if cur.Len() > 0 && Len(cur.String())+Len(line)+1+len(fence)+1 > limit {
			piece := cur.String()
			if inCode {
				piece += "\n" + fence
			}
			out = append(out, piece)
			cur.Reset()
			if inCode {
				cur.WriteString(fence + "\n")
			}
		}
		if strings.HasPrefix(line, fence) {
			inCode = !inCode
		}
		line, _ = Truncate(line, limit-2*len(fence)-2) // reports are ours: not counted
		cur.WriteString(line)
		cur.WriteByte('\n')
	}
	if s := strings.TrimRight(cur.String(), "\n"); s != "" {
		out = append(out, s)
	}
	return out
}
