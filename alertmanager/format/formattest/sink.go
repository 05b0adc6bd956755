package formattest

import (
	"io"
	"net/http"
	"sync"
	"time"
)

// Reply is a scripted answer of a Sink.
type Reply struct {
	Status int
	Header map[string]string
	Body   string
}

// Sink is a fake channel for httptest: it answers scripted replies first,
// then the reply given to Refuse if any, then checks each message against
// the channel's real limits and answers as the channel does (see
// DiscordLimits, SlackLimits).
type Sink struct {
	check func(body []byte) (status int, reply string)

	mu       sync.Mutex
	script   []Reply
	refuse   *Reply
	accepted []Delivery
	refused  int
	requests []*http.Request
}

// Delivery is a body the sink accepted and when it arrived.
type Delivery struct {
	At   time.Time
	Body []byte
}

// NewSink returns a sink validating with check; nil accepts everything with
// 204.
func NewSink(check func(body []byte) (int, string)) *Sink {
	if check == nil {
		check = func([]byte) (int, string) { return http.StatusNoContent, "" }
	}
	return &Sink{check: check}
}

// Script queues replies given before any validation, one per request.
func (s *Sink) Script(replies ...Reply) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.script = append(s.script, replies...)
}

// Refuse makes the sink answer every later request with r once the
// scripted replies are spent, as a deleted webhook answers 404 for good.
func (s *Sink) Refuse(r Reply) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.refuse = &r
}

// Accepted returns the bodies the sink accepted, in order.
func (s *Sink) Accepted() [][]byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([][]byte, len(s.accepted))
	for i, d := range s.accepted {
		out[i] = d.Body
	}
	return out
}

// Deliveries returns what the sink accepted and when, in order.
func (s *Sink) Deliveries() []Delivery {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Delivery(nil), s.accepted...)
}

// Refused is how many requests the sink answered with an error status:
// scripted replies, Refuse's, and messages the channel's limits refuse.
func (s *Sink) Refused() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.refused
}

// Requests returns every request received (bodies consumed).
func (s *Sink) Requests() []*http.Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]*http.Request(nil), s.requests...)
}

func (s *Sink) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	s.mu.Lock()
	s.requests = append(s.requests, r)
	var reply Reply
	switch {
	case len(s.script) > 0:
		reply, s.script = s.script[0], s.script[1:]
	case s.refuse != nil:
		reply = *s.refuse
	default:
		status, text := s.check(body)
		reply = Reply{Status: status, Body: text}
		if status < 300 {
			s.accepted = append(s.accepted, Delivery{At: time.Now(), Body: body})
		}
	}
	if reply.Status >= 300 {
		s.refused++
	}
	s.mu.Unlock()

	for k, v := range reply.Header {
		w.Header().Set(k, v)
	}
	w.WriteHeader(reply.Status)
	io.WriteString(w, reply.Body)
}
