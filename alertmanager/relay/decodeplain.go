package relay

import (
	"time"

	jsoniter "github.com/json-iterator/go"
	"github.com/prometheus/alertmanager/template"
)

// readPlainWebhook decodes the webhook bodies Alertmanager sends without
// jsoniter, its strings sharing one copy of the body: the strings jsoniter
// allocated one by one (field names, label names and values) were a third
// of all the relay's allocations. It reads only the fields of
// notification, each at most once and spelled exactly, strings (with
// escapes handed to jsoniter), an unsigned integer, null where the
// jsoniter decoder takes it; false for anything else, which
// decodeWebhookIter then reads or refuses. What it accepts it reads as
// decodeWebhookIter does (FuzzReadPlainWebhook).
func readPlainWebhook(data []byte, n *notification) bool {
	// One copy of the body for all its strings: the notification lives
	// only as long as its delivery, and so does the copy.
	p := plainParser{data: data, text: string(data)}
	var seen uint16
	ok := p.object(func(field string) bool {
		bit, known := webhookFieldBits[field]
		if !known || seen&bit != 0 {
			return false
		}
		seen |= bit
		switch field {
		case "version":
			return p.str(&n.Version)
		case "groupKey":
			return p.str(&n.GroupKey)
		case "truncatedAlerts":
			return p.uint(&n.TruncatedAlerts)
		case "receiver":
			return p.str(&n.Receiver)
		case "status":
			return p.str(&n.Status)
		case "externalURL":
			return p.str(&n.ExternalURL)
		case "groupLabels":
			return p.kv(&n.GroupLabels)
		case "commonLabels":
			return p.kv(&n.CommonLabels)
		case "commonAnnotations":
			return p.kv(&n.CommonAnnotations)
		case "routeLabels":
			return p.kv(&n.RouteLabels)
		case "notification_reason":
			return p.str(&n.NotificationReason)
		default: // alerts
			return p.alerts(&n.Alerts)
		}
	})
	p.space()
	return ok && p.i == len(p.data)
}

var webhookFieldBits = func() map[string]uint16 {
	bits := map[string]uint16{}
	for i, f := range webhookFields {
		bits[f] = 1 << i
	}
	return bits
}()

type plainParser struct {
	data []byte
	text string // data, from which the strings are cut
	i    int
}

func (p *plainParser) space() {
	for p.i < len(p.data) {
		switch p.data[p.i] {
		case ' ', '\t', '\n', '\r':
			p.i++
		default:
			return
		}
	}
}

// next skips white space and reports whether the next byte is c, taking it.
func (p *plainParser) next(c byte) bool {
	p.space()
	if p.i < len(p.data) && p.data[p.i] == c {
		p.i++
		return true
	}
	return false
}

// null takes a null.
func (p *plainParser) null() bool {
	p.space()
	if len(p.data)-p.i >= 4 && string(p.data[p.i:p.i+4]) == "null" {
		p.i += 4
		return true
	}
	return false
}

// object reads {"field": value, ...}, member calling the parser on each
// value.
func (p *plainParser) object(member func(field string) bool) bool {
	if !p.next('{') {
		return false
	}
	if p.next('}') {
		return true
	}
	for {
		field, ok := p.plain()
		if !ok || !p.next(':') || !member(field) {
			return false
		}
		if p.next('}') {
			return true
		}
		if !p.next(',') {
			return false
		}
	}
}

// plain reads a string without escapes or control characters, cut from
// text.
func (p *plainParser) plain() (string, bool) {
	if !p.next('"') {
		return "", false
	}
	for j := p.i; j < len(p.data); j++ {
		switch c := p.data[j]; {
		case c == '"':
			s := p.text[p.i:j]
			p.i = j + 1
			return s, true
		case c == '\\' || c < ' ':
			return "", false
		}
	}
	return "", false
}

// str reads a string (cut from text when plain) or null ("", as jsoniter's
// ReadString reads it).
func (p *plainParser) str(dst *string) bool {
	if p.null() {
		*dst = ""
		return true
	}
	start := p.i
	if s, ok := p.plain(); ok {
		*dst = s
		return true
	}
	p.i = start
	return p.escaped(dst)
}

// escaped reads a string with escapes: jsoniter decodes it.
func (p *plainParser) escaped(dst *string) bool {
	p.space()
	start := p.i
	if !p.next('"') {
		return false
	}
	for ; p.i < len(p.data); p.i++ {
		switch c := p.data[p.i]; {
		case c == '\\':
			p.i++
		case c == '"':
			p.i++
			iter := jsoniter.ConfigDefault.BorrowIterator(p.data[start:p.i])
			defer jsoniter.ConfigDefault.ReturnIterator(iter)
			*dst = iter.ReadString()
			return iter.Error == nil
		case c < ' ':
			return false
		}
	}
	return false
}

func (p *plainParser) uint(dst *uint64) bool {
	p.space()
	start := p.i
	var v uint64
	for p.i < len(p.data) && p.data[p.i] >= '0' && p.data[p.i] <= '9' {
		d := uint64(p.data[p.i] - '0')
		if v > (1<<64-1-d)/10 {
			return false
		}
		v = v*10 + d
		p.i++
	}
	// No leading zero, no fraction or exponent: those are jsoniter's.
	if p.i == start || (p.data[start] == '0' && p.i-start > 1) {
		return false
	}
	if p.i < len(p.data) && (p.data[p.i] == '.' || p.data[p.i] == 'e' || p.data[p.i] == 'E') {
		return false
	}
	*dst = v
	return true
}

func (p *plainParser) kv(dst *template.KV) bool {
	if p.null() {
		*dst = nil
		return true
	}
	kv := make(template.KV, 8)
	*dst = kv
	return p.object(func(key string) bool {
		var v string
		if !p.str(&v) {
			return false
		}
		if _, dup := kv[key]; dup {
			return false // a repeated key is decodeWebhookIter's
		}
		kv[key] = v
		return true
	})
}

func (p *plainParser) time(dst *time.Time) bool {
	if p.null() {
		*dst = time.Time{}
		return true
	}
	s, ok := p.plain()
	if !ok {
		return false
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	*dst = t
	return err == nil
}

func (p *plainParser) alerts(dst *template.Alerts) bool {
	if !p.next('[') {
		return false
	}
	if p.next(']') {
		return true // nil, as decodeWebhookIter leaves it
	}
	for {
		*dst = append(*dst, template.Alert{})
		a := &(*dst)[len(*dst)-1]
		var seen uint8
		ok := p.object(func(field string) bool {
			var bit uint8
			switch field {
			case "status":
				bit = 1
			case "labels":
				bit = 2
			case "annotations":
				bit = 4
			case "startsAt":
				bit = 8
			case "endsAt":
				bit = 16
			case "generatorURL":
				bit = 32
			case "fingerprint":
				bit = 64
			default:
				return false
			}
			if seen&bit != 0 {
				return false
			}
			seen |= bit
			switch bit {
			case 1:
				return p.str(&a.Status)
			case 2:
				return p.kv(&a.Labels)
			case 4:
				return p.kv(&a.Annotations)
			case 8:
				return p.time(&a.StartsAt)
			case 16:
				return p.time(&a.EndsAt)
			case 32:
				return p.str(&a.GeneratorURL)
			default:
				return p.str(&a.Fingerprint)
			}
		})
		if !ok {
			return false
		}
		if p.next(']') {
			return true
		}
		if !p.next(',') {
			return false
		}
	}
}
