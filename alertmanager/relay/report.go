package relay

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"mime/multipart"
	"net/textproto"
	"time"

	"github.com/quantum-resonance/telemetry/alertmanager/format"
	"github.com/quantum-resonance/telemetry/httpretry"
)

// SendReport posts a ritual's report to the named target: the target's
// formatter shapes it for its channel (format.ReportFormatter), and every
// part goes out through the target's client with the same retries, 429
// handling, deadline and metrics as a notification's messages. Parts are
// sent in order; the first that fails stops the rest.
func (r *Relay) SendReport(ctx context.Context, targetName string, rep *format.Report) error {
	st := r.state.Load()
	t, ok := st.targets[targetName]
	if !ok {
		return fmt.Errorf("no target named %q in the relay's config", targetName)
	}
	rf, ok := t.formatter.(format.ReportFormatter)
	if !ok {
		return fmt.Errorf("target %s: its channel cannot post reports", targetName)
	}
	posts, err := rf.FormatReport(rep)
	if err != nil {
		r.metrics.notified(targetName, outcomeFormatError).Inc()
		return fmt.Errorf("target %s: formatting the report: %w", targetName, err)
	}
	// A report is a few messages with images: the notification deadline
	// applies to each of them.
	for i, p := range posts {
		began := time.Now()
		ctx, cancel := context.WithTimeout(ctx, time.Duration(st.cfg.Delivery.Deadline))
		err := t.sendPost(ctx, p)
		cancel()
		outcome := messageDelivered
		var rejected *httpretry.RejectedError
		switch {
		case err == nil:
		case errors.As(err, &rejected):
			outcome = messageRejected
		default:
			outcome = messageFailed
		}
		r.metrics.messages.WithLabelValues(t.name, outcome).Inc()
		r.metrics.messageDuration.WithLabelValues(t.name, outcome).Observe(time.Since(began).Seconds())
		if err != nil {
			return fmt.Errorf("target %s: part %d of %d of the %s report: %w", targetName, i+1, len(posts), rep.Ritual, err)
		}
	}
	return nil
}

// sendPost sends one part of a report. Files go as Discord takes them: a
// multipart/form-data body with the JSON payload in payload_json and each
// file in files[n]. A file target keeps the JSON payload only.
func (t *target) sendPost(ctx context.Context, p format.Post) error {
	hs, isHTTP := t.sink.(*httpSink)
	if len(p.Files) == 0 || !isHTTP {
		_, err := t.sink.Send(ctx, request{Body: p.Body})
		return err
	}
	body, contentType, err := multipartBody(p)
	if err != nil {
		return err
	}
	_, err = hs.Send(ctx, request{Body: body, ContentType: contentType})
	return err
}

func multipartBody(p format.Post) ([]byte, string, error) {
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	h := textproto.MIMEHeader{}
	h.Set("Content-Disposition", `form-data; name="payload_json"`)
	h.Set("Content-Type", "application/json")
	part, err := w.CreatePart(h)
	if err != nil {
		return nil, "", err
	}
	if _, err := part.Write(p.Body); err != nil {
		return nil, "", err
	}
	for i, f := range p.Files {
		h := textproto.MIMEHeader{}
		h.Set("Content-Disposition", fmt.Sprintf(`form-data; name="files[%d]"; filename=%q`, i, f.Name))
		h.Set("Content-Type", "image/png")
		part, err := w.CreatePart(h)
		if err != nil {
			return nil, "", err
		}
		if _, err := part.Write(f.Data); err != nil {
			return nil, "", err
		}
	}
	if err := w.Close(); err != nil {
		return nil, "", err
	}
	return buf.Bytes(), w.FormDataContentType(), nil
}
