package discord

import (
	"encoding/json"
	"math/rand/v2"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"time"

	"github.com/quantum-resonance/telemetry/httpretry"
)

// What Discord's execute-webhook API does beyond the shared HTTP rules
// (httpretry): its rate-limit answers, the API version a URL asks for, and
// ?wait=true, which makes it answer with the message (and its id, for the
// edit on resolve).

// WaitQuery asks Discord to answer an execute-webhook request with the
// message it created.
var WaitQuery = url.Values{"wait": {"true"}}

var apiVersionRE = regexp.MustCompile(`/api/v([0-9]+)/`)

// APIVersion is the API version a webhook URL asks for; 0 for an
// unversioned URL, which gets Discord's default version.
func APIVersion(rawURL string) int {
	m := apiVersionRE.FindStringSubmatch(rawURL)
	if m == nil {
		return 0
	}
	v, _ := strconv.Atoi(m[1])
	return v
}

// RetryAfter reads how long a retryable answer of the webhook at rawURL
// asks to wait (httpretry.Classifier's RetryAfter). A 429 is read from, in
// order: X-RateLimit-Reset-After and the standard Retry-After; the JSON
// body's {"retry_after": …}, in seconds from API v8 on but in
// milliseconds in the default version that unversioned webhook URLs (as
// users copy them) reach (discord/discord-api-docs#2360, #4722); else one
// second. Up to maxJitter is added so that requests held back together do
// not return together. A 5xx honours only Retry-After: the X-RateLimit-*
// headers describe the bucket, not the outage.
func RetryAfter(rawURL string) func(status int, h http.Header, body []byte) (time.Duration, bool) {
	millis := APIVersion(rawURL) < 8
	return func(status int, h http.Header, body []byte) (time.Duration, bool) {
		now := time.Now()
		if status != http.StatusTooManyRequests {
			return httpretry.ParseRetryAfter(h.Get("Retry-After"), now)
		}
		jitter := rand.N(maxJitter)
		for _, name := range []string{"X-RateLimit-Reset-After", "Retry-After"} {
			if d, ok := httpretry.ParseRetryAfter(h.Get(name), now); ok {
				return d + jitter, true
			}
		}
		var rl struct {
			RetryAfter *float64 `json:"retry_after"`
		}
		if json.Unmarshal(body, &rl) == nil && rl.RetryAfter != nil && *rl.RetryAfter >= 0 {
			if millis {
				return httpretry.Seconds(*rl.RetryAfter/1000) + jitter, true
			}
			return httpretry.Seconds(*rl.RetryAfter) + jitter, true
		}
		return time.Second + jitter, true
	}
}

// EditPath is the path, below the webhook's URL, of the message id: PATCH
// it to edit the message (Edit Webhook Message).
func EditPath(id string) string { return "/messages/" + id }

// MessageID reads the id of the message a ?wait=true request created from
// Discord's answer; ok is false without one that is a snowflake (digits
// only, so that it is safe in EditPath).
func MessageID(reply []byte) (id string, ok bool) {
	var msg struct {
		ID string `json:"id"`
	}
	if json.Unmarshal(reply, &msg) != nil || !snowflakeRE.MatchString(msg.ID) {
		return "", false
	}
	return msg.ID, true
}
