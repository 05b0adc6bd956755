package notify_test

import (
	"math"
	"strings"
	"testing"

	"github.com/quantum-resonance/telemetry/alertmanager/notify"
	"github.com/quantum-resonance/telemetry/alertmanager/notify/notifytest"
)

// The appenders write what encoding/json writes, also for text no alert
// should carry but may: every control character, invalid and truncated
// UTF-8, the separators JavaScript cannot hold in a string literal.
func FuzzAppendJSONString(f *testing.F) {
	var controls strings.Builder
	for c := range 0x20 {
		controls.WriteByte(byte(c))
	}
	for _, s := range []string{
		"", "plain ASCII", controls.String(), `a <b> & "c"\ d` + "\x7f",
		"ü 🚨 naïve", notifytest.OddText, "invalid \xff\xfe UTF-8", "truncated \xe2\x82", "\xf0\x9f\x9a",
		"line\u2028para\u2029end", "\xed\xa0\x80 surrogate",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if got, want := string(notify.AppendJSONString([]byte("x"), s)), "x"+notifytest.EncodingJSON(t, s); got != want {
			t.Errorf("AppendJSONString(%q)\n got %s\nwant %s", s, got, want)
		}
	})
}

func TestAppendJSONFloat(t *testing.T) {
	for _, v := range []float64{0, math.Copysign(0, -1), 1, -25, 0.5, 85.25, 1e-6, 9.99e-7, 1e-9, -1e-10, 1e20, 1e21, 1.5e300, math.MaxFloat64, math.SmallestNonzeroFloat64} {
		got, ok := notify.AppendJSONFloat(nil, v)
		if want := notifytest.EncodingJSON(t, v); !ok || string(got) != want {
			t.Errorf("AppendJSONFloat(%v) = %s, %v; want %s", v, got, ok, want)
		}
	}
	for _, v := range []float64{math.NaN(), math.Inf(1), math.Inf(-1)} {
		if _, ok := notify.AppendJSONFloat(nil, v); ok {
			t.Errorf("AppendJSONFloat(%v) ok, want refused as encoding/json refuses it", v)
		}
	}
}

func TestAppendJSONMapAndStrings(t *testing.T) {
	many := map[string]string{}
	for _, k := range strings.Fields("q w e r t y u i o p a s d f g h j k l z") { // more than fit on the stack
		many[k] = k + "\n"
	}
	for _, m := range []map[string]string{nil, {}, {"z": "1", "a": "2", "é": "\x00", "A": `"`}, many} {
		if got, want := string(notify.AppendJSONMap(nil, m)), notifytest.EncodingJSON(t, m); got != want {
			t.Errorf("AppendJSONMap(%v)\n got %s\nwant %s", m, got, want)
		}
	}
	for _, ss := range [][]string{nil, {}, {"a"}, {"a", "\"b\"", ""}} {
		if got, want := string(notify.AppendJSONStrings(nil, ss)), notifytest.EncodingJSON(t, ss); got != want {
			t.Errorf("AppendJSONStrings(%q) = %s, want %s", ss, got, want)
		}
	}
}
