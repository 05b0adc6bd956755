package formattest

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"regexp"
	"strconv"
	"sync"
	"time"
)

// Discord is a fake of Discord's webhook API as it answers, for
// httptest: execute (POST /api[/v<N>]/webhooks/<id>/<token>, 204, or 200
// with the message under ?wait=true) and edit (PATCH …/messages/<id>, 200
// with the message, 404 code 10008 for an unknown one). Every answer
// carries the per-webhook rate-limit headers; past Limit requests in a
// Window it answers 429 as Discord does: Retry-After and
// X-RateLimit-Reset-After in seconds, and a body whose retry_after is in
// milliseconds for an unversioned URL (the default API version) and in
// seconds from v8 on. Messages are checked against DiscordLimits.
type Discord struct {
	Limit  int
	Window time.Duration

	mu          sync.Mutex
	windowStart time.Time
	used        int
	nextID      int
	messages    map[string]json.RawMessage // id → current body
	log         []DiscordOp
	tooMany     int
}

// DiscordOp is one accepted request: "post" or "edit", the message id and
// the body.
type DiscordOp struct {
	Op   string
	ID   string
	Body json.RawMessage
}

// NewDiscord returns a fake enforcing Discord's webhook limit of 5
// requests per 2 seconds.
func NewDiscord() *Discord {
	return &Discord{Limit: 5, Window: 2 * time.Second, messages: map[string]json.RawMessage{}, nextID: 1300000000000000000}
}

var discordPathRE = regexp.MustCompile(`^/api(?:/v([0-9]+))?/webhooks/[0-9]+/[A-Za-z0-9_-]+(?:/messages/([0-9]+))?$`)

func (d *Discord) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	m := discordPathRE.FindStringSubmatch(r.URL.Path)
	if m == nil {
		w.WriteHeader(http.StatusNotFound)
		io.WriteString(w, `{"message": "404: Not Found", "code": 0}`)
		return
	}
	version, _ := strconv.Atoi(m[1])
	msgID := m[2]
	body, _ := io.ReadAll(r.Body)

	d.mu.Lock()
	defer d.mu.Unlock()
	now := time.Now()
	if d.windowStart.IsZero() || now.Sub(d.windowStart) >= d.Window {
		d.windowStart, d.used = now, 0
	}
	resetAfter := d.Window - now.Sub(d.windowStart)
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("X-RateLimit-Bucket", "fake-webhook-bucket")
	h.Set("X-RateLimit-Limit", strconv.Itoa(d.Limit))
	h.Set("X-RateLimit-Reset-After", strconv.FormatFloat(resetAfter.Seconds(), 'f', 3, 64))
	h.Set("X-RateLimit-Reset", strconv.FormatFloat(float64(now.Add(resetAfter).UnixMilli())/1000, 'f', 3, 64))
	if d.used >= d.Limit {
		d.tooMany++
		h.Set("X-RateLimit-Remaining", "0")
		h.Set("X-RateLimit-Scope", "shared")
		h.Set("Retry-After", strconv.Itoa(int(math.Ceil(resetAfter.Seconds()))))
		w.WriteHeader(http.StatusTooManyRequests)
		retryAfter := strconv.FormatFloat(resetAfter.Seconds(), 'f', 3, 64)
		if version < 8 {
			retryAfter = strconv.FormatInt(resetAfter.Milliseconds(), 10)
		}
		fmt.Fprintf(w, `{"message": "You are being rate limited.", "retry_after": %s, "global": false}`, retryAfter)
		return
	}
	d.used++
	h.Set("X-RateLimit-Remaining", strconv.Itoa(d.Limit-d.used))

	if status, reply := DiscordLimits(body); status != http.StatusNoContent {
		w.WriteHeader(status)
		io.WriteString(w, reply)
		return
	}
	switch {
	case r.Method == http.MethodPost && msgID == "":
		d.nextID++
		id := strconv.Itoa(d.nextID)
		d.messages[id] = body
		d.log = append(d.log, DiscordOp{Op: "post", ID: id, Body: body})
		if r.URL.Query().Get("wait") != "true" {
			w.WriteHeader(http.StatusNoContent)
			return
		}
		d.writeMessage(w, id, body)
	case r.Method == http.MethodPatch && msgID != "":
		if _, ok := d.messages[msgID]; !ok {
			w.WriteHeader(http.StatusNotFound)
			io.WriteString(w, `{"message": "Unknown Message", "code": 10008}`)
			return
		}
		d.messages[msgID] = body
		d.log = append(d.log, DiscordOp{Op: "edit", ID: msgID, Body: body})
		d.writeMessage(w, msgID, body)
	default:
		w.WriteHeader(http.StatusMethodNotAllowed)
		io.WriteString(w, `{"message": "405: Method Not Allowed", "code": 0}`)
	}
}

// writeMessage answers with the message object Discord returns: the sent
// fields plus its id, channel and type.
func (d *Discord) writeMessage(w http.ResponseWriter, id string, body []byte) {
	var msg map[string]any
	if err := json.Unmarshal(body, &msg); err != nil || msg == nil {
		msg = map[string]any{}
	}
	msg["id"] = id
	msg["channel_id"] = "1200000000000000000"
	msg["type"] = 0
	msg["webhook_id"] = "1100000000000000000"
	_ = json.NewEncoder(w).Encode(msg)
}

// Ops returns the accepted posts and edits, in order.
func (d *Discord) Ops() []DiscordOp {
	d.mu.Lock()
	defer d.mu.Unlock()
	return append([]DiscordOp(nil), d.log...)
}

// TooManyRequests is how many requests were answered 429.
func (d *Discord) TooManyRequests() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.tooMany
}

// Delete forgets every message, as when a channel's messages are deleted.
func (d *Discord) Delete() {
	d.mu.Lock()
	defer d.mu.Unlock()
	clear(d.messages)
}
