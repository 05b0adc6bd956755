package slack

import "encoding/json"

// Refusal reads a 2xx Slack reply: incoming webhooks answer "ok", the Web
// API {"ok": true}; {"ok": false, "error": "msg_blocks_too_long"} is a
// refusal despite its 200, and reason is Slack's error code.
func Refusal(reply []byte) (reason string, refused bool) {
	if len(reply) == 0 || reply[0] != '{' {
		return "", false
	}
	var r struct {
		OK    *bool  `json:"ok"`
		Error string `json:"error"`
	}
	if json.Unmarshal(reply, &r) != nil || r.OK == nil || *r.OK {
		return "", false
	}
	return r.Error, true
}
