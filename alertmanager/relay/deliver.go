package relay

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode"

	"github.com/prometheus/common/version"

	"github.com/quantum-resonance/telemetry/httpretry"
)

// sink delivers one request to where a target points.
type sink interface {
	// Send delivers req and returns the channel's reply body (nil when the
	// sink has none).
	Send(ctx context.Context, req request) (reply []byte, err error)
}

// request is one message to deliver: a POST of Body to the target's URL by
// default; Method and Path (appended to the URL's path) and Query (added to
// its query) address something else, such as a Discord message to edit.
type request struct {
	Method string
	Path   string
	Query  url.Values
	Body   []byte
	// ContentType is application/json unless set (a report with charts is
	// multipart/form-data).
	ContentType string
}

// minAttemptTime is the least time before the deadline at which a paced
// request still goes out.
const minAttemptTime = 500 * time.Millisecond

// errPacedBeyondDeadline: the channel's turn came too close to the
// delivery deadline for the request to finish.
var errPacedBeyondDeadline = errors.New("the channel's rate limit allows no request with time to finish before the delivery deadline")

// pacer spaces a webhook's requests by its rate limit (discord.Pacer).
type pacer interface {
	// Wait blocks until a request may go out; waited tells whether it had
	// to wait its turn.
	Wait(ctx context.Context) (waited bool, err error)
	// Done records the answer's headers (nil: none) and ends the turn.
	Done(h http.Header, status int, retryAfter time.Duration)
}

// Attempt results, the values of the result label of
// resonance_relay_delivery_attempts_total.
const (
	resultSuccess      = "success"
	resultRateLimited  = "rate_limited"
	resultServerError  = "server_error"
	resultClientError  = "client_error"
	resultNetworkError = "network_error"
)

// httpSink posts messages to a channel's webhook URL.
type httpSink struct {
	client *http.Client
	url    string // secret: never logged, stripped from errors
	// parsedURL is url parsed once and waitURL it with Discord's
	// ?wait=true (nil: parsed for each request): net/http would otherwise
	// parse the URL of every message again.
	parsedURL, waitURL *url.URL
	// retrier repeats network errors, 429 and 5xx: after the channel's
	// own delay for a 429, with backoff otherwise, never past the
	// delivery deadline.
	retrier   httpretry.Retrier
	onAttempt func(result string)
	// The channel's own behaviour, from its package (see channels):
	// pacer, when set, spaces requests by the channel's rate-limit
	// headers; retryAfter, when set, reads a retryable answer's wait
	// instead of the Retry-After header alone; refusal, when set, reads a
	// 2xx reply that may still be a refusal (Slack's {"ok": false}).
	pacer      pacer
	retryAfter func(status int, h http.Header, body []byte) (time.Duration, bool)
	refusal    func(reply []byte) (reason string, refused bool)
}

var userAgent = "resonance-relay/" + version.Version

// Send posts body until the channel accepts it, it is rejected, or the next
// attempt could not happen before ctx's deadline.
func (s *httpSink) Send(ctx context.Context, req request) ([]byte, error) {
	var reply []byte
	err := s.retrier.Do(ctx, func(ctx context.Context) error {
		var err error
		reply, err = s.attempt(ctx, req)
		return err
	})
	if err != nil {
		return nil, err
	}
	return reply, nil
}

// target is the URL of req: the webhook URL with req's path and query.
// The result may be shared between requests and must not be modified.
func (s *httpSink) target(req request) (*url.URL, error) {
	if req.Path == "" {
		switch {
		case len(req.Query) == 0 && s.parsedURL != nil:
			return s.parsedURL, nil
		case isWaitQuery(req.Query) && s.waitURL != nil:
			return s.waitURL, nil
		}
	}
	return resolve(s.url, req)
}

// resolve parses rawURL and adds req's path and query.
func resolve(rawURL string, req request) (*url.URL, error) {
	u, err := url.Parse(rawURL)
	if err != nil || req.Path == "" && len(req.Query) == 0 {
		return u, err
	}
	u.Path = strings.TrimSuffix(u.Path, "/") + req.Path
	if u.RawPath != "" {
		u.RawPath = strings.TrimSuffix(u.RawPath, "/") + req.Path
	}
	q := u.Query()
	for k, v := range req.Query {
		q[k] = v
	}
	u.RawQuery = q.Encode()
	return u, nil
}

func isWaitQuery(q url.Values) bool {
	return len(q) == 1 && len(q["wait"]) == 1 && q["wait"][0] == "true"
}

// newRequest is http.NewRequestWithContext without parsing u again; u is
// copied, so the request may change its own.
func newRequest(ctx context.Context, method string, u *url.URL, body []byte) (*http.Request, error) {
	req, err := http.NewRequestWithContext(ctx, method, "", bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	copied := *u
	req.URL = &copied
	req.Host = strings.TrimSuffix(u.Host, ":") // as NewRequest's removeEmptyPort
	return req, nil
}

// attempt makes one request. A failure worth repeating is a
// *httpretry.RecoverableError carrying the delay a 429 asked for.
func (s *httpSink) attempt(ctx context.Context, r request) (reply []byte, err error) {
	method := r.Method
	if method == "" {
		method = http.MethodPost
	}
	u, err := s.target(r)
	var req *http.Request
	if err == nil {
		req, err = newRequest(ctx, method, u, r.Body)
	}
	if err != nil {
		return nil, errors.New("cannot build the request (check the target's URL)")
	}
	contentType := r.ContentType
	if contentType == "" {
		contentType = "application/json"
	}
	req.Header.Set("Content-Type", contentType)
	req.Header.Set("User-Agent", userAgent)
	if s.pacer != nil {
		waited, err := s.pacer.Wait(ctx)
		if err != nil {
			return nil, err
		}
		// A request cut by the deadline may still be delivered by the
		// channel, and then again on Alertmanager's retry: after waiting
		// for its turn, go only with time to finish.
		if deadline, ok := ctx.Deadline(); waited && ok && time.Until(deadline) < minAttemptTime {
			s.pacer.Done(nil, 0, 0)
			return nil, errPacedBeyondDeadline
		}
	}
	resp, err := s.client.Do(req)
	if err != nil {
		if s.pacer != nil {
			s.pacer.Done(nil, 0, 0)
		}
		s.onAttempt(resultNetworkError)
		return nil, &httpretry.RecoverableError{Err: redact(err, s.url)}
	}
	defer func() {
		// Drain a little so the connection can be reused.
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 4<<10))
		resp.Body.Close()
	}()
	// A message with its embeds comes back from Discord's ?wait=true.
	const maxReply = 64 << 10
	reply, _ = io.ReadAll(io.LimitReader(resp.Body, maxReply))

	code := resp.StatusCode
	verdict, wait := httpretry.Classifier{RetryAfter: s.retryAfter}.Classify(code, resp.Header, reply)
	if s.pacer != nil {
		s.pacer.Done(resp.Header, code, wait)
	}
	switch {
	case verdict == httpretry.OK:
		if s.refusal != nil {
			if why, refused := s.refusal(reply); refused {
				s.onAttempt(resultClientError)
				return nil, &httpretry.RejectedError{Status: code, Reason: `{"ok": false, "error": ` + strconv.Quote(reason([]byte(why), "")) + `}`}
			}
		}
		s.onAttempt(resultSuccess)
		return reply, nil
	case code == http.StatusTooManyRequests:
		s.onAttempt(resultRateLimited)
		return nil, &httpretry.RecoverableError{Err: fmt.Errorf("channel rate-limited the relay (429), retry after %s", wait), RetryAfter: wait}
	case verdict == httpretry.Retry:
		s.onAttempt(resultServerError)
		return nil, &httpretry.RecoverableError{Err: fmt.Errorf("channel answered %d %s: %s", code, http.StatusText(code), reason(reply, s.url)), RetryAfter: wait}
	default:
		s.onAttempt(resultClientError)
		return nil, &httpretry.RejectedError{Status: code, Reason: reason(reply, s.url)}
	}
}

// reason is a channel's error reply made fit for a log line: one line, no
// control characters, at most 512 characters, and never the webhook URL.
func reason(reply []byte, secretURL string) string {
	s := strings.TrimSpace(string(reply))
	if s == "" {
		return "(empty reply)"
	}
	s = redactSecrets(s, secretURL)
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return ' '
		}
		return r
	}, s)
	if len(s) > 512 {
		s = s[:512] + "…"
	}
	return s
}

// redact removes the webhook URL from err. Go's *url.Error prints the URL it
// failed on ("Post \"https://discord.com/api/webhooks/<id>/<token>\": ..."),
// and that URL is the webhook's credential.
func redact(err error, secretURL string) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = &url.Error{Op: ue.Op, URL: "<redacted>", Err: ue.Err}
	}
	if msg := redactSecrets(err.Error(), secretURL); msg != err.Error() {
		return errors.New(msg)
	}
	return err
}

// redactSecrets replaces every part of the webhook URL that is a credential
// wherever it appears in s: the URL, its path, every path segment that is
// not a plain lower-case word (Discord's id and token, Slack's three ids),
// every query value and the password. A channel's 404 page saying "Cannot
// POST /api/webhooks/888/<token>" quotes the token without the URL.
func redactSecrets(s, secretURL string) string {
	if secretURL == "" {
		return s
	}
	secrets := []string{secretURL}
	if u, err := url.Parse(secretURL); err == nil {
		secrets = append(secrets, u.Path, u.RawPath, u.RawQuery)
		for _, seg := range strings.Split(u.Path, "/") {
			if strings.Trim(seg, "abcdefghijklmnopqrstuvwxyz-_") != "" {
				secrets = append(secrets, seg, url.PathEscape(seg))
			}
		}
		for _, vs := range u.Query() {
			secrets = append(secrets, vs...)
		}
		if p, ok := u.User.Password(); ok {
			secrets = append(secrets, p)
		}
	}
	// Longest first, so the URL goes whole before its parts.
	slices.SortFunc(secrets, func(a, b string) int { return len(b) - len(a) })
	for _, secret := range secrets {
		if len(secret) >= 3 && secret != "/" {
			s = strings.ReplaceAll(s, secret, "<redacted>")
		}
	}
	return s
}

// fileSink appends each message as one JSON line, for local runs without
// channel URLs: {"time":…,"target":…,"payload":<message>}.
type fileSink struct {
	path   string
	target string
	now    func() time.Time
}

// fileLocks serialises appends per file, since several targets may share
// one file and a long line is not written atomically.
var fileLocks sync.Map // cleaned path → *sync.Mutex

func (s *fileSink) Send(_ context.Context, req request) ([]byte, error) {
	line, err := json.Marshal(struct {
		Time    string          `json:"time"`
		Target  string          `json:"target"`
		Payload json.RawMessage `json:"payload"`
	}{s.now().UTC().Format(time.RFC3339Nano), s.target, req.Body})
	if err != nil {
		return nil, err
	}
	line = append(line, '\n')
	mu, _ := fileLocks.LoadOrStore(filepath.Clean(s.path), &sync.Mutex{})
	mu.(*sync.Mutex).Lock()
	defer mu.(*sync.Mutex).Unlock()
	// Opened for each message so that a rotated or deleted file is simply
	// created again.
	f, err := os.OpenFile(s.path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return nil, err
	}
	if _, err := f.Write(line); err != nil {
		f.Close()
		return nil, err
	}
	return nil, f.Close()
}
