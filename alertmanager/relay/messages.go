package relay

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
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
// A damaged file (truncated by a power cut, empty, an entry that is no
// message) costs only what is damaged: the store starts with the valid
// entries before the damage, and damage says what was lost, for the caller
// to log and count. Only a file that cannot be read at all is an error.
func openSentMessages(path string, capacity int) (s *sentMessages, damage error, err error) {
	s = &sentMessages{path: path, max: capacity, messages: map[string]*sentMessage{}, byAlert: map[string]string{}, rituals: map[string]time.Time{}}
	if path == "" {
		return s, nil, nil
	}
	data, err := os.ReadFile(path)
	if os.IsNotExist(err) {
		return s, nil, nil
	}
	if err != nil {
		return nil, nil, err
	}
	f, damage := decodeStore(data)
	for _, m := range f.Messages {
		s.add(m)
	}
	for r, t := range f.Rituals {
		s.rituals[r] = t
	}
	if damage != nil {
		damage = fmt.Errorf("%s: %w (kept %d messages)", path, damage, len(f.Messages))
	}
	return s, damage, nil
}

// decodeStore reads a store file entry by entry, so that everything before
// a damage is kept: entries that are not a message with a target and an id
// are skipped (counted in the error), and a file cut short keeps what came
// before the cut.
func decodeStore(data []byte) (storeFile, error) {
	var f storeFile
	dec := json.NewDecoder(bytes.NewReader(data))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		if err == io.EOF {
			return f, errors.New("the file is empty")
		}
		return f, fmt.Errorf("not a JSON object: %w", err)
	}
	skipped := 0
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return f, cutShort(err, skipped)
		}
		switch t {
		case "version":
			err = dec.Decode(&f.Version)
		case "rituals":
			err = dec.Decode(&f.Rituals)
		case "messages":
			if t, err := dec.Token(); err != nil || t != json.Delim('[') {
				return f, fmt.Errorf("messages: not a list (%w)", err)
			}
			for dec.More() {
				var m *sentMessage
				if err := dec.Decode(&m); err != nil {
					var typeErr *json.UnmarshalTypeError
					if !errors.As(err, &typeErr) {
						return f, cutShort(err, skipped)
					}
					skipped++
					continue
				}
				if m == nil || m.Target == "" || m.ID == "" {
					skipped++
					continue
				}
				f.Messages = append(f.Messages, m)
			}
			_, err = dec.Token() // ]
		default:
			var unknown json.RawMessage
			err = dec.Decode(&unknown)
		}
		if err != nil {
			return f, cutShort(err, skipped)
		}
	}
	if _, err := dec.Token(); err != nil { // }
		return f, cutShort(err, skipped)
	}
	if skipped > 0 {
		return f, fmt.Errorf("skipped %d entries that are not a message", skipped)
	}
	return f, nil
}

func cutShort(err error, skipped int) error {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		err = errors.New("the file ends early")
	}
	if skipped > 0 {
		return fmt.Errorf("%w, and %d entries were not a message", err, skipped)
	}
	return err
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

// storeBytesWritten counts the bytes the stores wrote to their files, for
// BenchmarkMessageStore.
var storeBytesWritten atomic.Int64

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
	// Synced before the rename, and the directory after it: a power cut
	// leaves the old file or the new one, never a cut one.
	n, err := tmp.Write(data)
	storeBytesWritten.Add(int64(n))
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(tmp.Name())
		return err
	}
	if err := os.Rename(tmp.Name(), s.path); err != nil {
		return err
	}
	dir, err := os.Open(filepath.Dir(s.path))
	if err != nil {
		return err
	}
	defer dir.Close()
	return dir.Sync()
}
