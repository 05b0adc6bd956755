package format

import "github.com/prometheus/alertmanager/template"

// FieldAnnotation is the truncation recorded for an annotation cut to its
// channel's longest text before formatting.
const FieldAnnotation = "annotation"

// TextLimited is a Formatter whose channel shows at most MaxText runes of
// any one text. The relay cuts every annotation to that before formatting
// (CutAnnotations), so an annotation of megabytes, crafted or not, costs no
// more work than the channel can show.
type TextLimited interface {
	MaxText() int
}

// CutAnnotations cuts every annotation value of data's alerts longer than
// limit runes to limit (ending with Ellipsis), in place, and returns how
// many it cut. A value within limit bytes is not even counted.
func CutAnnotations(data *template.Data, limit int) int {
	cut := 0
	for i := range data.Alerts {
		ann := data.Alerts[i].Annotations
		for k, v := range ann {
			if len(v) <= limit {
				continue
			}
			if s, ok := Truncate(v, limit); ok {
				ann[k] = s
				cut++
			}
		}
	}
	return cut
}
