package ingest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// InputError is a request the client must fix: the batch is rejected whole
// and nothing of it is applied. Index is the offending entry of the batch,
// or -1 when the error is not about one entry.
type InputError struct {
	Field string // JSON path of the offending value, e.g. logs[3].level
	Index int
	Msg   string
}

func (e *InputError) Error() string {
	if e.Field == "" {
		return e.Msg
	}
	return e.Field + ": " + e.Msg
}

func entryError(list string, i int, field, format string, args ...any) *InputError {
	return &InputError{Field: fmt.Sprintf("%s[%d].%s", list, i, field), Index: i, Msg: fmt.Sprintf(format, args...)}
}

// MaxDurationMS bounds duration_ms: no request or upstream call the app
// reports takes an hour.
const MaxDurationMS = 3_600_000

// NotJSONError is a body that is not JSON at all, as opposed to JSON of the
// wrong shape (an InputError); both answer 400.
type NotJSONError struct{ Err error }

func (e *NotJSONError) Error() string { return "body is not valid JSON: " + e.Err.Error() }
func (e *NotJSONError) Unwrap() error { return e.Err }

// Level is a log level, normalised to the label value it is counted under.
type Level uint8

// The plan's levels; WARN is an alias of WARNING.
const (
	LevelDebug Level = iota
	LevelInfo
	LevelWarning
	LevelError
	LevelCritical
	numLevels
)

var levelNames = [numLevels]string{"debug", "info", "warning", "error", "critical"}

// String returns the label value: lower case.
func (l Level) String() string { return levelNames[l] }

func parseLevel(s string) (Level, bool) {
	// Exact upper case is what every client sends; check it before the
	// case-insensitive comparisons.
	switch s {
	case "INFO":
		return LevelInfo, true
	case "ERROR":
		return LevelError, true
	case "WARNING", "WARN":
		return LevelWarning, true
	case "DEBUG":
		return LevelDebug, true
	case "CRITICAL":
		return LevelCritical, true
	}
	switch {
	case strings.EqualFold(s, "info"):
		return LevelInfo, true
	case strings.EqualFold(s, "error"):
		return LevelError, true
	case strings.EqualFold(s, "warning"), strings.EqualFold(s, "warn"):
		return LevelWarning, true
	case strings.EqualFold(s, "debug"):
		return LevelDebug, true
	case strings.EqualFold(s, "critical"):
		return LevelCritical, true
	}
	return 0, false
}

// LogBatch is the plan's HubLogStream payload.
type LogBatch struct {
	Logs   []LogEntry `json:"logs"`
	Source string     `json:"source"`
}

// LogEntry is one log line of a batch. Unknown keys are ignored: the
// plan's entries are free-form beyond these.
type LogEntry struct {
	Timestamp string `json:"timestamp"`
	LevelText string `json:"level"`
	Message   string `json:"message"`
	// Metadata is kept as the client sent it: it is only forwarded (to
	// Loki), never interpreted, so decoding it into maps would be waste.
	Metadata json.RawMessage `json:"metadata"`
	Service  string          `json:"service"`

	// Filled by validation.
	Level Level     `json:"-"`
	Time  time.Time `json:"-"`
}

// maxStringLen bounds every string the decoders keep. A log message may be
// long; a label value may not.
const (
	maxMessageLen = 64 << 10
	maxLabelLen   = 256
	// maxMetadataLen caps an entry's metadata: it travels to Loki with
	// the message, and the queue towards Loki holds thousands of entries.
	maxMetadataLen = 16 << 10
)

// DecodeLogs decodes and validates a whole log batch; now stands for entries
// without a timestamp.
func DecodeLogs(data []byte, now time.Time) (*LogBatch, error) {
	var b LogBatch
	if err := unmarshal(data, &b, "logs"); err != nil {
		return nil, err
	}
	if len(b.Logs) == 0 {
		return nil, &InputError{Field: "logs", Index: -1, Msg: "missing or empty: a batch needs at least one entry"}
	}
	if len(b.Source) > maxLabelLen {
		return nil, &InputError{Field: "source", Index: -1, Msg: fmt.Sprintf("longer than %d bytes", maxLabelLen)}
	}
	b.Source = cleanLabel(b.Source)
	for i := range b.Logs {
		e := &b.Logs[i]
		lvl, ok := parseLevel(e.LevelText)
		if !ok {
			return nil, entryError("logs", i, "level", "%q is not one of DEBUG, INFO, WARNING, WARN, ERROR, CRITICAL", truncateForError(e.LevelText))
		}
		e.Level = lvl
		if len(e.Message) > maxMessageLen {
			return nil, entryError("logs", i, "message", "longer than %d bytes", maxMessageLen)
		}
		if len(e.Service) > maxLabelLen {
			return nil, entryError("logs", i, "service", "longer than %d bytes", maxLabelLen)
		}
		e.Service = cleanLabel(e.Service)
		if err := checkObject(e.Metadata); err != nil {
			return nil, entryError("logs", i, "metadata", "%s", err)
		}
		if len(e.Metadata) > maxMetadataLen {
			return nil, entryError("logs", i, "metadata", "longer than %d bytes", maxMetadataLen)
		}
		t, err := parseTimestamp(e.Timestamp, now)
		if err != nil {
			return nil, entryError("logs", i, "timestamp", "%s", err)
		}
		e.Time = t
	}
	return &b, nil
}

// checkObject accepts an absent or null metadata and a JSON object.
func checkObject(raw json.RawMessage) error {
	if len(raw) == 0 || raw[0] == '{' || string(raw) == "null" {
		return nil
	}
	return errors.New("must be a JSON object")
}

// parseTimestamp accepts RFC 3339 and, because the plan's Python writes
// datetime.utcnow().isoformat(), an ISO 8601 time without a zone, read as
// UTC. An empty timestamp is the receive time.
func parseTimestamp(s string, now time.Time) (time.Time, error) {
	if s == "" {
		return now, nil
	}
	if t, ok := parseISOFast(s); ok {
		return t, nil
	}
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t, nil
	}
	if t, err := time.ParseInLocation("2006-01-02T15:04:05.999999999", s, time.UTC); err == nil {
		return t, nil
	}
	return time.Time{}, fmt.Errorf("%q is not an RFC 3339 or ISO 8601 time", truncateForError(s))
}

// unmarshal decodes data into v. encoding/json names the field of a type
// mismatch but not the index of the entry; on that (rare) path the list is
// decoded again entry by entry to find it.
func unmarshal(data []byte, v any, list string) error {
	err := json.Unmarshal(data, v)
	if err == nil {
		return nil
	}
	var syntax *json.SyntaxError
	if errors.As(err, &syntax) || errors.Is(err, io.ErrUnexpectedEOF) {
		return &NotJSONError{Err: err}
	}
	var typeErr *json.UnmarshalTypeError
	if !errors.As(err, &typeErr) {
		return &InputError{Index: -1, Msg: err.Error()}
	}
	field := typeErr.Field
	if rest, ok := strings.CutPrefix(field, list+"."); ok && list != "" {
		// Find the entry that fails on its own.
		var raw map[string]json.RawMessage
		var entries []json.RawMessage
		if json.Unmarshal(data, &raw) == nil && json.Unmarshal(raw[list], &entries) == nil {
			elem := newElem(v)
			for i, e := range entries {
				if json.Unmarshal(e, elem) != nil {
					return &InputError{Field: fmt.Sprintf("%s[%d].%s", list, i, rest), Index: i, Msg: typeMsg(typeErr)}
				}
			}
		}
	}
	return &InputError{Field: field, Index: -1, Msg: typeMsg(typeErr)}
}

func typeMsg(e *json.UnmarshalTypeError) string {
	// Value is "number <the literal>" for numbers: cut like any echoed
	// input.
	return fmt.Sprintf("%s is not a valid %s", truncateForError(e.Value), jsonTypeName(e.Type.Kind().String()))
}

func jsonTypeName(kind string) string {
	switch {
	case kind == "string":
		return "string"
	case kind == "bool":
		return "boolean"
	case strings.HasPrefix(kind, "int"), strings.HasPrefix(kind, "uint"):
		return "integer"
	case strings.HasPrefix(kind, "float"):
		return "number"
	case kind == "slice":
		return "array"
	case kind == "struct", kind == "map":
		return "object"
	}
	return kind
}

// newElem returns a pointer to a zero entry of the batch type v points to.
func newElem(v any) any {
	switch v.(type) {
	case *LogBatch:
		return new(LogEntry)
	case *EventBatch:
		return new(Event)
	}
	return new(map[string]any)
}

// EventBatch is the body of POST /api/v1/events.
type EventBatch struct {
	Events []Event `json:"events"`
}

// EventType tells what an event reports.
type EventType uint8

// Event types.
const (
	EventAPIRequest EventType = iota + 1
	EventUpstreamCall
	EventTransaction
)

// Event is one app event. The fields used depend on Type; fields of other
// types are ignored.
type Event struct {
	TypeText string `json:"type"`
	// api_request
	Endpoint string `json:"endpoint"`
	Method   string `json:"method"`
	// Status is an HTTP status code for api_request and a word for
	// transaction, so it is decoded by type after the fact.
	Status     json.RawMessage `json:"status"`
	DurationMS *float64        `json:"duration_ms"`
	User       string          `json:"user"`
	Timestamp  string          `json:"timestamp"`
	// upstream_call
	Upstream  string `json:"upstream"`
	Operation string `json:"operation"`
	OK        *bool  `json:"ok"`
	// transaction
	Amount     *float64 `json:"amount"`
	Authorized *bool    `json:"authorized"`

	// Filled by validation.
	Type       EventType `json:"-"`
	Code       int       `json:"-"` // api_request
	TxStatus   string    `json:"-"` // transaction
	Time       time.Time `json:"-"`
	durationS  float64
	methodNorm string
}

// Transaction statuses; anything else is rejected.
var txStatuses = []string{"completed", "failed", "cancelled"}

// DecodeEvents decodes and validates a whole event batch.
func DecodeEvents(data []byte, now time.Time) (*EventBatch, error) {
	var b EventBatch
	if err := unmarshal(data, &b, "events"); err != nil {
		return nil, err
	}
	if len(b.Events) == 0 {
		return nil, &InputError{Field: "events", Index: -1, Msg: "missing or empty: a batch needs at least one event"}
	}
	for i := range b.Events {
		if err := b.Events[i].validate(i, now); err != nil {
			return nil, err
		}
	}
	return &b, nil
}

func (e *Event) validate(i int, now time.Time) error {
	duration := func(required bool) error {
		if e.DurationMS == nil {
			if required {
				return entryError("events", i, "duration_ms", "missing")
			}
			return nil
		}
		d := *e.DurationMS
		if d < 0 || math.IsInf(d, 0) || math.IsNaN(d) {
			return entryError("events", i, "duration_ms", "%v is not a duration in milliseconds (0 or more)", d)
		}
		// One absurd value would make a histogram's _sum +Inf, or so
		// large that no rate of it moves again: SlowAPI could never fire.
		if d > MaxDurationMS {
			return entryError("events", i, "duration_ms", "%v is over the maximum of %d (one hour)", d, MaxDurationMS)
		}
		e.durationS = d / 1000
		return nil
	}
	label := func(field, v string, required bool) error {
		if v == "" && required {
			return entryError("events", i, field, "missing or empty")
		}
		if len(v) > maxLabelLen {
			return entryError("events", i, field, "longer than %d bytes", maxLabelLen)
		}
		return nil
	}
	switch e.TypeText {
	case "api_request":
		e.Type = EventAPIRequest
		if err := label("endpoint", e.Endpoint, true); err != nil {
			return err
		}
		e.Endpoint = cleanLabel(e.Endpoint)
		if err := label("method", e.Method, true); err != nil {
			return err
		}
		e.methodNorm = normalizeMethod(e.Method)
		var code int
		if len(e.Status) == 0 {
			return entryError("events", i, "status", "missing")
		}
		if err := json.Unmarshal(e.Status, &code); err != nil || code < 100 || code > 599 {
			return entryError("events", i, "status", "%s is not an HTTP status code (100-599)", truncateForError(string(e.Status)))
		}
		e.Code = code
		if err := duration(true); err != nil {
			return err
		}
		if len(e.User) > maxLabelLen {
			return entryError("events", i, "user", "longer than %d bytes", maxLabelLen)
		}
		t, err := parseTimestamp(e.Timestamp, now)
		if err != nil {
			return entryError("events", i, "timestamp", "%s", err)
		}
		e.Time = t
	case "upstream_call":
		e.Type = EventUpstreamCall
		if err := label("upstream", e.Upstream, true); err != nil {
			return err
		}
		if err := label("operation", e.Operation, false); err != nil {
			return err
		}
		e.Upstream, e.Operation = cleanLabel(e.Upstream), cleanLabel(e.Operation)
		if err := duration(true); err != nil {
			return err
		}
		if e.OK == nil {
			return entryError("events", i, "ok", "missing: true when the call succeeded, false when it failed")
		}
	case "transaction":
		e.Type = EventTransaction
		var status string
		if len(e.Status) == 0 {
			return entryError("events", i, "status", "missing")
		}
		if err := json.Unmarshal(e.Status, &status); err != nil || !validTxStatus(status) {
			return entryError("events", i, "status", "%s is not one of %s", truncateForError(string(e.Status)), strings.Join(txStatuses, ", "))
		}
		e.TxStatus = status
		if e.Amount != nil && (*e.Amount < 0 || math.IsInf(*e.Amount, 0) || math.IsNaN(*e.Amount)) {
			return entryError("events", i, "amount", "%v is not an amount (0 or more)", *e.Amount)
		}
	case "":
		return entryError("events", i, "type", "missing: one of api_request, upstream_call, transaction")
	default:
		return entryError("events", i, "type", "%q is not one of api_request, upstream_call, transaction", truncateForError(e.TypeText))
	}
	return nil
}

func validTxStatus(s string) bool {
	for _, v := range txStatuses {
		if s == v {
			return true
		}
	}
	return false
}

// normalizeMethod keeps the standard methods (upper case) and folds any
// other into "OTHER", so a method is never a free-form label value.
func normalizeMethod(m string) string {
	switch u := strings.ToUpper(m); u {
	case "GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "CONNECT", "TRACE":
		return u
	}
	return "OTHER"
}

// BusinessUpdate is the body of PUT /api/v1/business: any subset of the
// plan's business figures. Unlike log entries its keys are a closed set, so
// an unknown key (a typo) is rejected instead of silently doing nothing.
type BusinessUpdate struct {
	ActiveUsers        *float64 `json:"active_users"`
	MiningBoostActive  *bool    `json:"mining_boost_active"`
	WalletBalance      *float64 `json:"wallet_balance"`
	CommunityResonance *float64 `json:"community_resonance"`
	// StartedAt and ResidentMemoryBytes are the app's own process figures,
	// for an app on a machine the exporter cannot watch: started_at in
	// RFC 3339, resident_memory_bytes a whole number of bytes.
	StartedAt           *time.Time `json:"-"`
	StartedAtText       *string    `json:"started_at"`
	ResidentMemoryBytes *float64   `json:"resident_memory_bytes"`
	// Version is the app's version, exposed as a label: 1 to
	// MaxVersionLen bytes, no control characters.
	Version *string `json:"version"`
}

// MaxVersionLen bounds the version of a business update: it becomes a
// label value.
const MaxVersionLen = 64

// businessKeys lists the keys of a business update, for error messages.
const businessKeys = "active_users, mining_boost_active, wallet_balance, community_resonance, started_at, resident_memory_bytes, version"

// Len is the number of values the update sets.
func (u *BusinessUpdate) Len() int {
	n := 0
	for _, set := range []bool{u.ActiveUsers != nil, u.MiningBoostActive != nil, u.WalletBalance != nil, u.CommunityResonance != nil, u.StartedAtText != nil, u.ResidentMemoryBytes != nil, u.Version != nil} {
		if set {
			n++
		}
	}
	return n
}

// The bounds of a pushed started_at: a start further ahead of the
// exporter's clock than maxStartedAtAhead is a wrong clock or a wrong
// value, and none is before minStartedAt (a zero time, a unit mix-up).
const maxStartedAtAhead = 5 * time.Minute

var minStartedAt = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)

// DecodeBusiness decodes and validates a business update; now is the
// exporter's clock, which started_at may not be more than 5 minutes ahead of.
func DecodeBusiness(data []byte, now time.Time) (*BusinessUpdate, error) {
	var u BusinessUpdate
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&u); err != nil {
		var syntax *json.SyntaxError
		var typeErr *json.UnmarshalTypeError
		switch {
		case errors.As(err, &syntax), errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
			return nil, &NotJSONError{Err: err}
		case errors.As(err, &typeErr):
			return nil, &InputError{Field: typeErr.Field, Index: -1, Msg: typeMsg(typeErr)}
		case strings.HasPrefix(err.Error(), "json: unknown field "):
			name := strings.TrimPrefix(err.Error(), "json: unknown field ")
			return nil, &InputError{Field: truncateForError(strings.Trim(name, `"`)), Index: -1,
				Msg: "unknown key: expected " + businessKeys}
		}
		return nil, &InputError{Index: -1, Msg: err.Error()}
	}
	// Decoder.More is false on a stray "}" or "]" at the top level, so
	// look at what is left of the input instead.
	if len(bytes.TrimSpace(data[dec.InputOffset():])) > 0 {
		return nil, &NotJSONError{Err: errors.New("data after the JSON object")}
	}
	if u.Len() == 0 {
		return nil, &InputError{Index: -1, Msg: "no value: set at least one of " + businessKeys}
	}
	finite := func(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }
	if v := u.ActiveUsers; v != nil && (!finite(*v) || *v < 0 || *v != math.Trunc(*v)) {
		return nil, &InputError{Field: "active_users", Index: -1, Msg: fmt.Sprintf("%v is not a count (a whole number, 0 or more)", *v)}
	}
	if v := u.WalletBalance; v != nil && (!finite(*v) || *v < 0) {
		return nil, &InputError{Field: "wallet_balance", Index: -1, Msg: fmt.Sprintf("%v is not a balance in Pi (0 or more)", *v)}
	}
	if v := u.CommunityResonance; v != nil && (!finite(*v) || *v < 0 || *v > 100) {
		return nil, &InputError{Field: "community_resonance", Index: -1, Msg: fmt.Sprintf("%v is not a score from 0 to 100", *v)}
	}
	if v := u.StartedAtText; v != nil {
		t, err := time.Parse(time.RFC3339Nano, *v)
		if err != nil {
			return nil, &InputError{Field: "started_at", Index: -1, Msg: fmt.Sprintf("%q is not an RFC 3339 time, e.g. 2026-11-27T04:00:00Z", truncateForError(*v))}
		}
		switch {
		case t.After(now.Add(maxStartedAtAhead)):
			return nil, &InputError{Field: "started_at", Index: -1, Msg: fmt.Sprintf("%q is more than 5m in the future (clock skew?)", truncateForError(*v))}
		case t.Before(minStartedAt):
			return nil, &InputError{Field: "started_at", Index: -1, Msg: fmt.Sprintf("%q is before 2000-01-01", truncateForError(*v))}
		}
		u.StartedAt = &t
	}
	if v := u.ResidentMemoryBytes; v != nil && (!finite(*v) || *v < 0 || *v != math.Trunc(*v)) {
		return nil, &InputError{Field: "resident_memory_bytes", Index: -1, Msg: fmt.Sprintf("%v is not a byte count (a whole number, 0 or more)", *v)}
	}
	if v := u.Version; v != nil {
		if msg := checkVersion(*v); msg != "" {
			return nil, &InputError{Field: "version", Index: -1, Msg: msg}
		}
	}
	return &u, nil
}

// checkVersion says what is wrong with a pushed version, "" when nothing.
func checkVersion(v string) string {
	switch {
	case v == "":
		return "empty: a version needs at least one character"
	case len(v) > MaxVersionLen:
		return fmt.Sprintf("longer than %d bytes", MaxVersionLen)
	}
	for _, r := range v {
		if unicode.IsControl(r) {
			return fmt.Sprintf("%q contains a control character", v)
		}
	}
	return ""
}

// parseISOFast parses the two forms clients send nearly always,
// 2006-01-02T15:04:05[.fraction] followed by Z or nothing (UTC), without
// time.Parse's layout interpretation: it was an eighth of the decode time.
// Anything else (offsets, odd forms) is left to time.Parse.
func parseISOFast(s string) (time.Time, bool) {
	if len(s) < 19 || s[4] != '-' || s[7] != '-' || s[10] != 'T' || s[13] != ':' || s[16] != ':' {
		return time.Time{}, false
	}
	num := func(i, n int) (int, bool) {
		v := 0
		for _, c := range []byte(s[i : i+n]) {
			if c < '0' || c > '9' {
				return 0, false
			}
			v = v*10 + int(c-'0')
		}
		return v, true
	}
	year, ok1 := num(0, 4)
	month, ok2 := num(5, 2)
	day, ok3 := num(8, 2)
	hour, ok4 := num(11, 2)
	minute, ok5 := num(14, 2)
	sec, ok6 := num(17, 2)
	if !ok1 || !ok2 || !ok3 || !ok4 || !ok5 || !ok6 || month < 1 || month > 12 || day < 1 ||
		day > daysIn(time.Month(month), year) || hour > 23 || minute > 59 || sec > 59 {
		return time.Time{}, false
	}
	rest := s[19:]
	nsec := 0
	if len(rest) > 0 && rest[0] == '.' {
		digits := 0
		for digits+1 < len(rest) && rest[digits+1] >= '0' && rest[digits+1] <= '9' {
			digits++
		}
		if digits == 0 || digits > 9 {
			return time.Time{}, false
		}
		nsec, _ = num(20, digits)
		for range 9 - digits {
			nsec *= 10
		}
		rest = rest[1+digits:]
	}
	if rest != "" && rest != "Z" {
		return time.Time{}, false
	}
	return time.Date(year, time.Month(month), day, hour, minute, sec, nsec, time.UTC), true
}

func daysIn(m time.Month, year int) int {
	return time.Date(year, m+1, 0, 0, 0, 0, 0, time.UTC).Day()
}

// cleanLabel replaces the control characters of a free-form label value
// (C0 controls, DEL and the C1 controls U+0080-U+009F) with U+FFFD, as
// encoding/json already replaces invalid UTF-8: the text exposition escapes
// only backslash, double quote and newline, so NUL or ESC (a terminal
// escape such as "\x1b[31m") would otherwise reach /metrics, and whoever
// reads it in a terminal, raw. The value is accepted, not refused, so that
// one odd byte in a service name does not lose a whole batch. Length
// limits apply to the value as sent; a replaced byte grows to the three
// of U+FFFD.
func cleanLabel(s string) string {
	i := 0
	for ; i < len(s); i++ {
		c := s[i]
		// 0xC2 leads U+0080-U+00BF; U+0080-U+009F are C1 controls.
		if c < 0x20 || c == 0x7f || (c == 0xc2 && i+1 < len(s) && s[i+1] < 0xa0) {
			break
		}
	}
	if i == len(s) {
		return s // the common case: nothing to replace, no allocation
	}
	var b strings.Builder
	b.Grow(len(s) + 8)
	b.WriteString(s[:i])
	for _, r := range s[i:] {
		if isControl(r) {
			r = utf8.RuneError
		}
		b.WriteRune(r)
	}
	return b.String()
}

// isControl reports a C0 control, DEL or a C1 control.
func isControl(r rune) bool {
	return r < 0x20 || (r >= 0x7f && r <= 0x9f)
}

// maxEchoLen bounds an input value quoted in an error message.
const maxEchoLen = 64

// truncateForError keeps an echoed input short: at most maxEchoLen bytes,
// cut before a UTF-8 sequence that would not fit whole, and marked with
// an ellipsis when cut. Every input value an error message quotes goes
// through it, so an error body stays small whatever the request held.
func truncateForError(s string) string {
	if len(s) <= maxEchoLen {
		return s
	}
	cut := maxEchoLen
	// Back off to the start of the rune that straddles the cut; a run of
	// stray continuation bytes (invalid UTF-8) backs off no further than
	// a rune could be long.
	for i := 0; i < utf8.UTFMax-1 && cut > 0 && !utf8.RuneStart(s[cut]); i++ {
		cut--
	}
	return s[:cut] + "…"
}
