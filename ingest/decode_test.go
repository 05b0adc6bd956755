package ingest

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// maxErrorLen bounds a decoder's error message, whatever its input.
const maxErrorLen = 512

var fuzzNow = time.Date(2025, 12, 11, 2, 0, 0, 0, time.UTC)

// checkRejection holds for every decoder: a body that is not JSON is never
// accepted and is reported as such; any other refusal names what is wrong.
func checkRejection(t *testing.T, data []byte, err error) {
	t.Helper()
	if err == nil {
		if !json.Valid(data) {
			t.Fatalf("accepted invalid JSON %q", data)
		}
		return
	}
	// Echoed input is cut (truncateForError): no refusal grows with the
	// input.
	if len(err.Error()) > maxErrorLen {
		t.Fatalf("%d-byte error for %d bytes of input: %.200s", len(err.Error()), len(data), err)
	}
	var in *InputError
	var nj *NotJSONError
	switch {
	case asErr(err, &nj):
		if json.Valid(data) && len(strings.TrimSpace(string(data))) > 0 && !strings.Contains(err.Error(), "after") {
			t.Fatalf("valid JSON %q reported as not JSON: %v", data, err)
		}
	case asErr(err, &in):
		if in.Msg == "" {
			t.Fatalf("input error without message for %q", data)
		}
	default:
		t.Fatalf("unexpected error type %T: %v", err, err)
	}
}

func FuzzDecodeLogs(f *testing.F) {
	f.Add([]byte(planPayload))
	f.Add([]byte(`{"logs":[{"level":"warn","timestamp":"2025-12-11T01:54:16.123456"}]}`))
	f.Add([]byte(`{"logs":[{"level":"INFO","message":5}]}`))
	// Control characters in label-bound fields: JSON escapes, raw DEL and
	// a raw C1 control (U+0085 as UTF-8).
	f.Add([]byte(`{"logs":[{"level":"INFO","service":"a\u0000b\u001b[31mc"}],"source":"s\u0007\u009b` + "\x7f\u0085" + `"}`))
	f.Add([]byte(`{"logs":[{"level":"ERROR","service":"\n\r\t\u001f"},{"level":"INFO"}],"source":"\u0000"}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		b, err := DecodeLogs(data, fuzzNow)
		checkRejection(t, data, err)
		if err != nil {
			return
		}
		if len(b.Logs) == 0 {
			t.Fatal("accepted an empty batch")
		}
		checkLabel(t, "source", b.Source)
		for i, e := range b.Logs {
			if e.Level >= numLevels || e.Time.IsZero() {
				t.Fatalf("entry %d accepted with %+v", i, e)
			}
			checkLabel(t, "service", e.Service)
		}
	})
}

func FuzzDecodeEvents(f *testing.F) {
	f.Add([]byte(`{"events":[{"type":"api_request","endpoint":"/x","method":"GET","status":200,"duration_ms":12,"user":"u"}]}`))
	f.Add([]byte(`{"events":[{"type":"upstream_call","upstream":"huggingface","duration_ms":4200,"ok":false}]}`))
	f.Add([]byte(`{"events":[{"type":"transaction","status":"completed","authorized":false,"amount":1}]}`))
	f.Add([]byte(`{"events":[{"type":"api_request","endpoint":"/x\u0000\u001b[2J` + "\x7f" + `","method":"G\u0000","status":200,"duration_ms":1}]}`))
	f.Add([]byte(`{"events":[{"type":"upstream_call","upstream":"\u001b]0;x\u0007","operation":"` + "\u009b" + `\u0085op","duration_ms":1,"ok":true}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		b, err := DecodeEvents(data, fuzzNow)
		checkRejection(t, data, err)
		if err != nil {
			return
		}
		for i, e := range b.Events {
			switch e.Type {
			case EventAPIRequest:
				if e.Code < 100 || e.Code > 599 || e.durationS < 0 || e.Endpoint == "" {
					t.Fatalf("event %d accepted with %+v", i, e)
				}
				checkLabel(t, "endpoint", e.Endpoint)
				checkLabel(t, "method", e.methodNorm)
			case EventUpstreamCall:
				if e.OK == nil || e.Upstream == "" {
					t.Fatalf("event %d accepted with %+v", i, e)
				}
				checkLabel(t, "upstream", e.Upstream)
				checkLabel(t, "operation", e.Operation)
			case EventTransaction:
				if !validTxStatus(e.TxStatus) {
					t.Fatalf("event %d accepted with %+v", i, e)
				}
			default:
				t.Fatalf("event %d accepted with type %d", i, e.Type)
			}
		}
	})
}

func FuzzDecodeBusiness(f *testing.F) {
	f.Add([]byte(`{"active_users":3,"mining_boost_active":true,"wallet_balance":12.5,"community_resonance":37}`))
	f.Add([]byte(`{"wallet_balance":-1}`))
	f.Add([]byte(`{"typo":1}`))
	f.Add([]byte(`{"started_at":"2025-12-11T02:00:00.5+01:00","resident_memory_bytes":734003200}`))
	f.Add([]byte(`{"started_at":"9999-12-31T23:59:59Z"}`))
	f.Add([]byte(`{"started_at":"yesterday","resident_memory_bytes":-1}`))
	f.Add([]byte(`{"version":"1.4.2"}`))
	f.Add([]byte(`{"version":"v1\n2"}`))
	f.Add([]byte(`{"started_at":"\u001b[31m\u0000` + "\x7f\u0085" + `","t\u0000ypo\u001b":1}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		u, err := DecodeBusiness(data, fuzzNow)
		checkRejection(t, data, err)
		if err != nil {
			return
		}
		if u.Len() == 0 {
			t.Fatal("accepted an update without values")
		}
		if v := u.CommunityResonance; v != nil && (*v < 0 || *v > 100) {
			t.Fatalf("accepted community_resonance %v", *v)
		}
		if (u.StartedAt == nil) != (u.StartedAtText == nil) {
			t.Fatalf("started_at %v parsed as %v", u.StartedAtText, u.StartedAt)
		}
		if v := u.StartedAt; v != nil && (v.After(fuzzNow.Add(maxStartedAtAhead)) || v.Before(minStartedAt)) {
			t.Fatalf("accepted started_at %v", *v)
		}
		if v := u.ResidentMemoryBytes; v != nil && (*v < 0 || *v != math.Trunc(*v)) {
			t.Fatalf("accepted resident_memory_bytes %v", *v)
		}
		if v := u.Version; v != nil && checkVersion(*v) != "" {
			t.Fatalf("accepted version %q", *v)
		}
	})
}

// started_at is refused more than 5 minutes ahead of the exporter's clock
// (a wrong clock or value) and before 2000.
func TestDecodeBusinessStartedAtBounds(t *testing.T) {
	at := func(t time.Time) string { return t.Format(time.RFC3339Nano) }
	for _, ok := range []string{
		at(fuzzNow.Add(time.Minute)),
		at(fuzzNow.Add(maxStartedAtAhead)),
		"2025-12-10T18:30:00Z",
		"2025-12-11T03:04:00+01:00", // fuzzNow + 4m, written in another zone
		"2000-01-01T00:00:00Z",
	} {
		u, err := DecodeBusiness([]byte(`{"started_at":"`+ok+`"}`), fuzzNow)
		if err != nil {
			t.Errorf("%s refused: %v", ok, err)
			continue
		}
		if want, _ := time.Parse(time.RFC3339Nano, ok); !u.StartedAt.Equal(want) {
			t.Errorf("%s decoded as %v", ok, u.StartedAt)
		}
	}
	for _, c := range []struct{ in, msg string }{
		{"9999-12-31T23:59:59Z", `"9999-12-31T23:59:59Z" is more than 5m in the future (clock skew?)`},
		{at(fuzzNow.Add(10 * time.Minute)), `"2025-12-11T02:10:00Z" is more than 5m in the future (clock skew?)`},
		{at(fuzzNow.Add(maxStartedAtAhead + time.Nanosecond)), `"2025-12-11T02:05:00.000000001Z" is more than 5m in the future (clock skew?)`},
		{"1999-12-31T23:59:59Z", `"1999-12-31T23:59:59Z" is before 2000-01-01`},
		{"2000-01-01T00:30:00+01:00", `"2000-01-01T00:30:00+01:00" is before 2000-01-01`},
		{"0001-01-01T00:00:00Z", `"0001-01-01T00:00:00Z" is before 2000-01-01`},
	} {
		_, err := DecodeBusiness([]byte(`{"started_at":"`+c.in+`"}`), fuzzNow)
		var in *InputError
		if !errors.As(err, &in) || in.Field != "started_at" || in.Msg != c.msg {
			t.Errorf("%s: got %v, want started_at: %s", c.in, err, c.msg)
		}
	}
}

// checkLabel holds for every accepted value that becomes a label value: as
// long as the client may send it (the limit applies to what was sent, and
// a replaced byte grows to three), valid UTF-8, and no control character.
func checkLabel(t *testing.T, field, v string) {
	t.Helper()
	if len(v) > 3*maxLabelLen || !utf8.ValidString(v) {
		t.Fatalf("%s accepted as %q", field, v)
	}
	for _, r := range v {
		if isControl(r) {
			t.Fatalf("%s %q keeps control character %U", field, v, r)
		}
	}
}

func TestDecodeBusinessVersion(t *testing.T) {
	for _, ok := range []string{"1.4.2", "v2.0.0-rc.1+build.7", "2026.12.02 (abc1234)", strings.Repeat("9", MaxVersionLen), "ü-1"} {
		body, _ := json.Marshal(map[string]string{"version": ok})
		u, err := DecodeBusiness(body, fuzzNow)
		if err != nil {
			t.Errorf("%q refused: %v", ok, err)
			continue
		}
		if u.Version == nil || *u.Version != ok || u.Len() != 1 {
			t.Errorf("%q decoded as %v (%d values)", ok, u.Version, u.Len())
		}
	}
	for _, c := range []struct{ body, msg string }{
		{`{"version":"` + strings.Repeat("x", MaxVersionLen+1) + `"}`, "longer than 64 bytes"},
		{`{"version":"` + strings.Repeat("é", MaxVersionLen/2) + `x"}`, "longer than 64 bytes"}, // bytes, not characters
		{`{"version":1.4}`, "number is not a valid string"},
		{`{"version":true}`, "bool is not a valid string"},
		{`{"version":["1"]}`, "array is not a valid string"},
		{`{"version":""}`, "empty: a version needs at least one character"},
		{`{"version":"1.0\n"}`, `"1.0\n" contains a control character`},
		{`{"version":"1\u0000"}`, `"1\x00" contains a control character`},
		{`{"version":"1\u007f"}`, `"1\x7f" contains a control character`},
		{`{"version":"1\u0085"}`, `"1\u0085" contains a control character`},
		{`{"wallet_balance":3,"version":"\t1"}`, `"\t1" contains a control character`},
	} {
		_, err := DecodeBusiness([]byte(c.body), fuzzNow)
		var in *InputError
		if !errors.As(err, &in) || in.Field != "version" || in.Msg != c.msg {
			t.Errorf("%s: got %v, want version: %s", c.body, err, c.msg)
		}
	}
}

func TestCleanLabel(t *testing.T) {
	for in, want := range map[string]string{
		"":                     "",
		"quantum-resonance":    "quantum-resonance",
		"/api/ünïcode/€/😀":     "/api/ünïcode/€/😀",
		"a\x00b":               "a\ufffdb",
		"\x1b[31mred\x1b[0m":   "\ufffd[31mred\ufffd[0m",
		"tab\there\nnl\r":      "tab\ufffdhere\ufffdnl\ufffd",
		"del\x7f":              "del\ufffd",
		"c1\u0085\u009b\u0080": "c1\ufffd\ufffd\ufffd",
		"\u00a0nbsp\u00bf":     "\u00a0nbsp\u00bf", // the first printable runes after C1
	} {
		if got := cleanLabel(in); got != want {
			t.Errorf("cleanLabel(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestDecodeLogsTimestamps(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"2025-12-11T01:54:16.123Z", "2025-12-11T01:54:16.123Z"},
		{"2025-12-11T01:54:16.123456", "2025-12-11T01:54:16.123456Z"}, // Python's utcnow().isoformat()
		{"2025-12-11T03:54:16+02:00", "2025-12-11T01:54:16Z"},
		{"", fuzzNow.Format(time.RFC3339Nano)},
		{"2024-02-29T23:59:59.5", "2024-02-29T23:59:59.5Z"},
		{"2025-12-11T01:54:16.000000001Z", "2025-12-11T01:54:16.000000001Z"},
	} {
		b, err := DecodeLogs([]byte(fmt.Sprintf(`{"logs":[{"level":"INFO","timestamp":%q}]}`, c.in)), fuzzNow)
		if err != nil {
			t.Fatalf("%q: %v", c.in, err)
		}
		if got := b.Logs[0].Time.UTC().Format(time.RFC3339Nano); got != c.want {
			t.Errorf("%q: %s, want %s", c.in, got, c.want)
		}
	}
	for _, bad := range []string{"2025-02-29T00:00:00", "2025-12-11T24:00:00", "2025-12-11T01:54:16.", "2025-12-11 01:54:16", "2025-12-11T01:54:16Zjunk"} {
		if _, err := DecodeLogs([]byte(fmt.Sprintf(`{"logs":[{"level":"INFO","timestamp":%q}]}`, bad)), fuzzNow); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

// The fast path agrees with time.Parse wherever it accepts.
func FuzzParseISOFast(f *testing.F) {
	f.Add("2025-12-11T01:54:16.123456")
	f.Add("2025-12-11T01:54:16Z")
	f.Fuzz(func(t *testing.T, s string) {
		got, ok := parseISOFast(s)
		if !ok {
			return
		}
		want, err := time.ParseInLocation("2006-01-02T15:04:05.999999999Z07:00", s, time.UTC)
		if err != nil {
			want, err = time.ParseInLocation("2006-01-02T15:04:05.999999999", s, time.UTC)
		}
		if err != nil || !got.Equal(want) {
			t.Fatalf("%q: fast %v, time.Parse %v (%v)", s, got, want, err)
		}
	})
}

func asErr[T error](err error, target *T) bool {
	return errors.As(err, target)
}

// An echoed value is cut to maxEchoLen bytes on a rune boundary, marked,
// and stays valid UTF-8.
func TestTruncateForError(t *testing.T) {
	for _, s := range []string{
		strings.Repeat("a", 64),
		strings.Repeat("a", 65),
		strings.Repeat("é", 100),        // 2 bytes: the cut falls on a boundary
		strings.Repeat("€", 100),        // 3 bytes: 64 is inside a rune
		"a" + strings.Repeat("😀", 100),  // 4 bytes
		"ab" + strings.Repeat("😀", 100), // 4 bytes, another offset
		strings.Repeat("\x80", 100),     // invalid UTF-8 stays bounded
	} {
		got := truncateForError(s)
		if len(s) <= maxEchoLen {
			if got != s {
				t.Errorf("%q (%d bytes) changed to %q", s, len(s), got)
			}
			continue
		}
		body, ok := strings.CutSuffix(got, "…")
		if !ok || !strings.HasPrefix(s, body) || len(body) > maxEchoLen || len(body) < maxEchoLen-utf8.UTFMax+1 {
			t.Errorf("%q: cut to %q", s, got)
		}
		if utf8.ValidString(s) && !utf8.ValidString(got) {
			t.Errorf("%q: cut splits a rune: %q", s, got)
		}
	}
}
