package discord

import (
	"fmt"

	"github.com/quantum-resonance/telemetry/alertmanager/format"
)

// Attachment limits of an execute-webhook request: at most 10 files, and a
// request body Discord refuses with 413 (code 40005, "Request entity too
// large") above the upload limit, which for webhooks has stayed at 8 MiB.
const (
	MaxFiles     = 10
	MaxFileBytes = 8 << 20
)

// reportMessage is an execute-webhook body that carries attachments: each
// is announced in attachments by its index in the files[n] parts.
type reportMessage struct {
	Content         string          `json:"content,omitempty"`
	Embeds          []reportEmbed   `json:"embeds"`
	Attachments     []attachment    `json:"attachments,omitempty"`
	AllowedMentions AllowedMentions `json:"allowed_mentions"`
}

type reportEmbed struct {
	Title       string `json:"title"`
	Description string `json:"description,omitempty"`
	Color       int    `json:"color"`
	Image       *image `json:"image,omitempty"`
}

type image struct {
	URL string `json:"url"` // attachment://<filename>
}

type attachment struct {
	ID          int    `json:"id"`
	Filename    string `json:"filename"`
	Description string `json:"description,omitempty"`
}

// FormatReport implements format.ReportFormatter: the title as content,
// one embed per section (sections longer than an embed's description
// continue in the next embed), then one embed per chart showing its
// attached PNG. Messages are split at Discord's limits; a chart never
// travels without its file. Cuts are not counted: the report's texts are
// the relay's own, not an alert's.
func (f *Formatter) FormatReport(r *format.Report) ([]format.Post, error) {
	var embeds []reportEmbed
	var files []*format.File
	for _, s := range r.Sections() {
		for i, piece := range format.SplitText(s.Body, MaxDescription) {
			title := s.Heading
			if i > 0 {
				title += " (continued)"
			}
			title, _ = format.Truncate(orTitle(title, r.Title), MaxTitle)
			embeds = append(embeds, reportEmbed{Title: title, Description: piece, Color: ColorInfo})
			files = append(files, nil)
		}
	}
	for i := range r.Charts {
		c := &r.Charts[i]
		if len(c.Data) > MaxFileBytes {
			return nil, fmt.Errorf("chart %s is %d bytes, over Discord's %d", c.Name, len(c.Data), MaxFileBytes)
		}
		title, _ := format.Truncate(c.Title, MaxTitle)
		embeds = append(embeds, reportEmbed{Title: title, Color: ColorInfo, Image: &image{URL: "attachment://" + c.Name}})
		files = append(files, c)
	}

	var (
		posts   []format.Post
		cur     reportMessage
		curFile []format.File
		chars   int
		bytes   int
	)
	flush := func() error {
		if len(cur.Embeds) == 0 {
			return nil
		}
		if len(posts) == 0 {
			cur.Content, _ = format.Truncate(r.Title, MaxContent)
		}
		cur.AllowedMentions = AllowedMentions{Parse: []string{}}
		body, err := format.Marshal(cur)
		if err != nil {
			return err
		}
		posts = append(posts, format.Post{Body: body, Files: curFile})
		cur, curFile, chars, bytes = reportMessage{}, nil, 0, 0
		return nil
	}
	for i, e := range embeds {
		size := format.Len(e.Title) + format.Len(e.Description)
		file := files[i]
		fileBytes := 0
		if file != nil {
			fileBytes = len(file.Data)
		}
		if len(cur.Embeds) == MaxEmbeds || chars+size > MaxEmbedsTotalChars ||
			(file != nil && (len(curFile) == MaxFiles || bytes+fileBytes > MaxFileBytes)) {
			if err := flush(); err != nil {
				return nil, err
			}
		}
		if file != nil {
			description, _ := format.Truncate(file.Title, 1024)
			cur.Attachments = append(cur.Attachments, attachment{ID: len(curFile), Filename: file.Name, Description: description})
			curFile = append(curFile, *file)
			bytes += fileBytes
		}
		cur.Embeds = append(cur.Embeds, e)
		chars += size
	}
	if err := flush(); err != nil {
		return nil, err
	}
	return posts, nil
}

func orTitle(heading, title string) string {
	if heading != "" {
		return heading
	}
	return title
}
