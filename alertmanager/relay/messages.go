package relay

import (
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"time"
)

// sentMessages remembers which channel message carries which firing alert,
// per target, so that Discord can edit that message when the alerts
// resolve. It holds at most max messages, the oldest going first, and is
// saved to a file (written atomically: a temporary file renamed over it)
// after each change, so that a restart does not turn edits into new posts.
// Without a file it lives in memory. The same file keeps each scheduled
// ritual's last success, so that a restarted relay still knows how late a
// ritual is.
type sentMessages struct {
	path string
	max  int

	mu       sync.Mutex
	messages map[string]*sentMessage // target + "\x00" + message id
	byAlert  map[string]string       // target + "\x00" + alert identity → message key
	// order holds message keys, oldest first; keys forgotten since stay
	// until they reach the front (a key not in messages is skipped).
	order []string
	// rituals is each ritual's last success.
	rituals map[string]time.Time
}

// sentMessage is one posted message: its id and the identities of the
// alerts it carries, in order.
type sentMessage struct {
	Target string    `json:"target"`
	ID     string    `json:"id"`
	Alerts []string  `json:"alerts"`
	Sent   time.Time `json:"sent"`
}

// storeFile is the file's content.
type storeFile struct {
	Version  int            `json:"version"`
	Messages []*sentMessage `json:"messages"`
	// Rituals is each ritual's last success. A relay that predates it
	// ignores it and drops it at its next save.
	Rituals map[string]time.Time `json:"rituals,omitempty"`
}

// openSentMessages loads path if it exists ("" keeps the store in memory).
// A file that cannot be read is an error: the relay would otherwise start
// and silently post instead of editing.
func openSentMessages(path string, capacity int) (*sentMessages, error) {
	s := &sentMessages{path: path, max: capacity, messages: map[string]*sentMessage{}, byAlert: map[string]string{}, rituals: map[string]time.Time{}}
	if path == "" {
		return s, nil
	}
	data, err := os.ReadFile(path)
	if os.IsNotExist(err) {
		return s, nil
	}
	if err != nil {
		return nil, err
	}
	var f storeFile
	if err := json.Unmarshal(data, &f); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	for _, m := range f.Messages {
		s.add(m)
	}
	for r, t := range f.Rituals {
		s.rituals[r] = t
	}
	return s, nil
}

func storeKey(target, id string) string { return target + "\x00" + id }

// add records m, evicting the oldest message when full. Caller holds mu
// (or owns s).
func (s *sentMessages) add(m *sentMessage) {
	key := storeKey(m.Target, m.ID)
	if _, ok := s.messages[key]; ok {
		return
	}
	for len(s.messages) >= s.max {
		oldest := s.order[0]
		s.order = s.order[1:]
		s.remove(oldest)
	}
	if len(s.order) > 2*s.max { // forgotten keys piled up: compact
		s.order = slices.DeleteFunc(s.order, func(k string) bool { _, ok := s.messages[k]; return !ok })
	}
	s.messages[key] = m
	s.order = append(s.order, key)
	for _, a := range m.Alerts {
		s.byAlert[storeKey(m.Target, a)] = key
	}
}

func (s *sentMessages) remove(key string) {
	m, ok := s.messages[key]
	if !ok {
		return
	}
	delete(s.messages, key)
	for _, a := range m.Alerts {
		if s.byAlert[storeKey(m.Target, a)] == key {
			delete(s.byAlert, storeKey(m.Target, a))
		}
	}
}

// Sent records a posted message and saves the store.
func (s *sentMessages) Sent(target, id string, alerts []string, now time.Time) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.add(&sentMessage{Target: target, ID: id, Alerts: alerts, Sent: now})
	return s.save()
}

// Lookup returns the message carrying alert on target.
func (s *sentMessages) Lookup(target, alert string) (sentMessage, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	key, ok := s.byAlert[storeKey(target, alert)]
	if !ok {
		return sentMessage{}, false
	}
	return *s.messages[key], true
}

// Forget drops a message (edited for good, or gone) and saves the store.
func (s *sentMessages) Forget(target, id string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.remove(storeKey(target, id))
	return s.save()
}

// Len is the number of remembered messages.
func (s *sentMessages) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.messages)
}

// LastSuccess is when ritual last succeeded, if recorded.
func (s *sentMessages) LastSuccess(ritual string) (time.Time, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.rituals[ritual]
	return t, ok
}

// RecordSuccess records a success of ritual and saves the store.
func (s *sentMessages) RecordSuccess(ritual string, at time.Time) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.rituals[ritual] = at
	return s.save()
}

// adoptRituals takes over the rituals' successes of prev, the store this
// one replaces, where they are newer than this one's.
func (s *sentMessages) adoptRituals(prev *sentMessages) error {
	prev.mu.Lock()
	rituals := maps.Clone(prev.rituals)
	prev.mu.Unlock()
	s.mu.Lock()
	defer s.mu.Unlock()
	changed := false
	for r, t := range rituals {
		if mine, ok := s.rituals[r]; !ok || t.After(mine) {
			s.rituals[r] = t
			changed = true
		}
	}
	if !changed {
		return nil
	}
	return s.save()
}

// save writes the store atomically. Caller holds mu.
func (s *sentMessages) save() error {
	if s.path == "" {
		return nil
	}
	f := storeFile{Version: 1, Messages: make([]*sentMessage, 0, len(s.messages)), Rituals: s.rituals}
	for _, k := range s.order {
		if m, ok := s.messages[k]; ok {
			f.Messages = append(f.Messages, m)
		}
	}
	data, err := json.Marshal(f)
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(s.path), ".messages-*")
	if err != nil {
		return err
	}
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		os.Remove(tmp.Name())
		return err
	}
	if err := tmp.Close(); err != nil {
		os.Remove(tmp.Name())
		return err
	}
	return os.Rename(tmp.Name(), s.path)
}
