package channeltest

import (
	"io"
	"net/http"
	"sync"
)

// Reply is a scripted answer of a Sink.
type Reply struct {
	Status int
	Header map[string]string
	Body   string
}

// Sink is a fake channel for httptest: it answers scripted replies first,
// then checks each message against the channel's real limits and answers
// as the channel does (see DiscordLimits, SlackLimits).
type Sink struct {
	check func(body []byte) (status int, reply string)

	mu       sync.Mutex
	script   []Reply
	accepted [][]byte
	requests []*http.Request
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

// Accepted returns the bodies the sink accepted, in order.
func (s *Sink) Accepted() [][]byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([][]byte(nil), s.accepted...)
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
	var reply *Reply
	if len(s.script) > 0 {
		reply = &s.script[0]
		s.script = s.script[1:]
	}
	s.mu.Unlock()

	if reply == nil {
		status, text := s.check(body)
		reply = &Reply{Status: status, Body: text}
		if status < 300 {
			s.mu.Lock()
			s.accepted = append(s.accepted, body)
			s.mu.Unlock()
		}
	}
	for k, v := range reply.Header {
		w.Header().Set(k, v)
	}
	w.WriteHeader(reply.Status)
	io.WriteString(w, reply.Body)
}
