package notifytest

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/alertmanager/template"
)

// EncodingJSON is what encoding/json writes for v without HTML escaping,
// as the channels' messages are written: the reference for their
// hand-written encoders.
func EncodingJSON(t testing.TB, v any) string {
	t.Helper()
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		t.Fatal(err)
	}
	return strings.TrimSuffix(buf.String(), "\n")
}

// OddText is text no alert should carry but may: HTML, quotes and
// backslashes, control characters, invalid UTF-8, the separators
// JavaScript cannot hold in a string literal.
const OddText = "odd <text> & \"quotes\"\\ \x00\x1f\x7f\t\n\b\f \xff\xe2\x82 \u2028\u2029 ✓ 🚨"

// OddAlerts are three alerts whose text every encoder must escape: the
// second resolved, with OddText in its description and instance and no
// number in current_value; the third with invalid UTF-8 in a label, a tiny
// threshold and no source link.
func OddAlerts() *template.Data {
	data := Many(3)
	data.Alerts[1].Status = "resolved"
	data.Alerts[1].EndsAt = data.Alerts[1].StartsAt.Add(90 * time.Second)
	data.Alerts[1].Annotations["current_value"] = "n/a"
	data.Alerts[1].Annotations["description"] = OddText
	data.Alerts[1].Labels["instance"] = OddText
	data.Alerts[2].Labels["instance"] = "\xfe"
	data.Alerts[2].Annotations["threshold"] = "1e-9"
	data.Alerts[2].GeneratorURL = ""
	return data
}
