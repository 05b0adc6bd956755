package relay

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	jsoniter "github.com/json-iterator/go"
	"github.com/prometheus/alertmanager/template"
)

// decodeWebhook decodes Alertmanager's webhook body: readPlainWebhook reads
// the bodies Alertmanager sends, decodeWebhookIter any other.
func decodeWebhook(data []byte, n *notification) error {
	if readPlainWebhook(data, n) {
		return nil
	}
	*n = notification{}
	return decodeWebhookIter(data, n)
}

// decodeWebhookIter decodes Alertmanager's webhook body with jsoniter's
// streaming iterator, field by field, without reflection: decoding was the
// largest share of the relay's CPU per notification. It reads what
// encoding/json would into notification (field names matched as it does,
// exactly or else ignoring case; others skipped) and fails on what it
// would fail on: malformed JSON, a value of the wrong type, a timestamp
// that is not RFC 3339, data after the object (FuzzDecodeWebhook).
func decodeWebhookIter(data []byte, n *notification) error {
	iter := jsoniter.ConfigDefault.BorrowIterator(data)
	defer jsoniter.ConfigDefault.ReturnIterator(iter)
	var err error
	fail := func(e error) {
		if err == nil {
			err = e
		}
	}
	iter.ReadObjectCB(func(iter *jsoniter.Iterator, field string) bool {
		switch canonical(field, webhookFields) {
		case "version":
			n.Version = iter.ReadString()
		case "groupKey":
			n.GroupKey = iter.ReadString()
		case "truncatedAlerts":
			n.TruncatedAlerts = iter.ReadUint64()
		case "receiver":
			n.Receiver = iter.ReadString()
		case "status":
			n.Status = iter.ReadString()
		case "externalURL":
			n.ExternalURL = iter.ReadString()
		case "groupLabels":
			n.GroupLabels = readKV(iter)
		case "commonLabels":
			n.CommonLabels = readKV(iter)
		case "commonAnnotations":
			n.CommonAnnotations = readKV(iter)
		case "routeLabels":
			n.RouteLabels = readKV(iter)
		case "notification_reason":
			n.NotificationReason = iter.ReadString()
		case "alerts":
			iter.ReadArrayCB(func(iter *jsoniter.Iterator) bool {
				var a template.Alert
				if e := readAlert(iter, &a); e != nil {
					fail(fmt.Errorf("alerts[%d]: %w", len(n.Alerts), e))
				}
				n.Alerts = append(n.Alerts, a)
				return iter.Error == nil && err == nil
			})
		default:
			iter.Skip()
		}
		return iter.Error == nil && err == nil
	})
	if iter.Error != nil {
		return iter.Error
	}
	if err != nil {
		return err
	}
	// Only white space may follow: the iterator then meets the end of its
	// input (io.EOF), not a character it cannot read.
	if iter.WhatIsNext() != jsoniter.InvalidValue || !errors.Is(iter.Error, io.EOF) {
		return errDataAfter
	}
	return nil
}

var errDataAfter = errors.New("data after the JSON object")

var (
	webhookFields = []string{"version", "groupKey", "truncatedAlerts", "receiver", "status", "externalURL",
		"groupLabels", "commonLabels", "commonAnnotations", "routeLabels", "notification_reason", "alerts"}
	alertFields = []string{"status", "labels", "annotations", "startsAt", "endsAt", "generatorURL", "fingerprint"}
)

// canonical is the known field name matches as encoding/json matches it:
// exactly, else ignoring case; field itself when none does.
func canonical(field string, known []string) string {
	for _, k := range known {
		if field == k {
			return k
		}
	}
	for _, k := range known {
		if strings.EqualFold(field, k) {
			return k
		}
	}
	return field
}

func readAlert(iter *jsoniter.Iterator, a *template.Alert) error {
	var err error
	iter.ReadObjectCB(func(iter *jsoniter.Iterator, field string) bool {
		switch canonical(field, alertFields) {
		case "status":
			a.Status = iter.ReadString()
		case "labels":
			a.Labels = readKV(iter)
		case "annotations":
			a.Annotations = readKV(iter)
		case "startsAt":
			a.StartsAt, err = readTime(iter, field)
		case "endsAt":
			a.EndsAt, err = readTime(iter, field)
		case "generatorURL":
			a.GeneratorURL = iter.ReadString()
		case "fingerprint":
			a.Fingerprint = iter.ReadString()
		default:
			iter.Skip()
		}
		return iter.Error == nil && err == nil
	})
	return err
}

func readTime(iter *jsoniter.Iterator, field string) (time.Time, error) {
	if iter.WhatIsNext() == jsoniter.NilValue {
		iter.Skip()
		return time.Time{}, nil
	}
	s := iter.ReadString()
	if iter.Error != nil {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("%s: %q is not an RFC 3339 time", field, s)
	}
	return t, nil
}

func readKV(iter *jsoniter.Iterator) template.KV {
	if iter.WhatIsNext() == jsoniter.NilValue {
		iter.Skip()
		return nil
	}
	kv := template.KV{}
	iter.ReadMapCB(func(iter *jsoniter.Iterator, key string) bool {
		kv[key] = iter.ReadString()
		return iter.Error == nil
	})
	return kv
}
