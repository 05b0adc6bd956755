package relay

import (
	"errors"
	"fmt"
	"time"

	jsoniter "github.com/json-iterator/go"
	"github.com/prometheus/alertmanager/template"
)

// decodeWebhook decodes Alertmanager's webhook body with jsoniter's
// streaming iterator, field by field, without reflection: decoding was the
// largest share of the relay's CPU per notification. It reads exactly what
// Alertmanager writes (field names as it spells them; others are skipped)
// and fails on what encoding/json would fail on: malformed JSON, a value
// of the wrong type, a timestamp that is not RFC 3339, data after the
// object.
func decodeWebhook(data []byte, n *notification) error {
	iter := jsoniter.ConfigDefault.BorrowIterator(data)
	defer jsoniter.ConfigDefault.ReturnIterator(iter)
	var err error
	fail := func(e error) {
		if err == nil {
			err = e
		}
	}
	iter.ReadObjectCB(func(iter *jsoniter.Iterator, field string) bool {
		switch field {
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
	if iter.WhatIsNext() != jsoniter.InvalidValue {
		return errDataAfter
	}
	return nil
}

var errDataAfter = errors.New("data after the JSON object")

func readAlert(iter *jsoniter.Iterator, a *template.Alert) error {
	var err error
	iter.ReadObjectCB(func(iter *jsoniter.Iterator, field string) bool {
		switch field {
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
