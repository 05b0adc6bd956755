// Package statefile is the relay's state file (delivery.messages_file):
// which Discord message carries which firing alert, per target, so that
// the message can be edited when its alerts resolve, and each scheduled
// ritual's last success. It is a snapshot and an fsynced journal of the
// changes since; see Store.
package statefile

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// Store remembers which channel message carries which firing alert,
// per target, so that Discord can edit that message when the alerts
// resolve. It holds at most max messages, the oldest going first. The same
// store keeps each scheduled ritual's last success, so that a restarted
// relay still knows how late a ritual is. Without a file it lives in
// memory.
//
// With a file it is kept in two: path, a snapshot of the whole store
// (written atomically: a temporary file synced, renamed over it, the
// directory synced), and path + ".journal", the changes since that
// snapshot, one JSON line each, appended and synced one by one. A change
// costs one line, whatever the store holds. When the journal grows past
// twice the live messages (and at least compactMinLines), the next change
// writes a new snapshot and starts an empty journal (compaction). Both
// files carry the snapshot's generation: a journal of another generation
// (left behind by a power cut between the two renames of a compaction) is
// already in the snapshot and is ignored.
type Store struct {
	path string
	max  int

	mu       sync.Mutex
	messages map[string]*Message // target + "\x00" + message id
	byAlert  map[string]string   // target + "\x00" + alert identity → message key
	// order holds message keys, oldest first; keys forgotten since stay
	// until they reach the front (a key not in messages is skipped).
	order []string
	// rituals is each ritual's last success.
	rituals map[string]time.Time

	// gen is the generation of the snapshot at path, and of the journal
	// that goes with it.
	gen int64
	// journal is open for appending, lines past its header; nil before
	// the first change (resume then reopens the journal read at start,
	// when it was whole and of this generation; else the first change
	// compacts) and after a failed write (the next change compacts).
	journal *os.File
	lines   int
	resume  bool
	// closed: replaced by another store (a reload moved the file); its
	// changes stay in memory.
	closed bool
}

// Message is one posted message: its id and the identities of the
// alerts it carries, in order.
type Message struct {
	Target string    `json:"target"`
	ID     string    `json:"id"`
	Alerts []string  `json:"alerts"`
	Sent   time.Time `json:"sent"`
}

// storeVersion is the version of the snapshot and journal written. Version
// 1 was a snapshot rewritten on every change, without a journal; it loads
// as a snapshot of generation 0, and the first change writes version 2.
const storeVersion = 2

// storeFile is the snapshot's content.
type storeFile struct {
	Version int `json:"version"`
	// Journal is the snapshot's generation, which its journal's header
	// repeats (version 2 on; 0 in a version 1 file).
	Journal  int64      `json:"journal,omitempty"`
	Messages []*Message `json:"messages"`
	// Rituals is each ritual's last success. A relay that predates it
	// ignores it and drops it at its next save.
	Rituals map[string]time.Time `json:"rituals,omitempty"`
}

// journalLine is one line of the journal: its header (the first line:
// version and generation) or one change.
type journalLine struct {
	Version int   `json:"version,omitempty"`
	Journal int64 `json:"journal,omitempty"`
	// A posted message remembered.
	Sent *Message `json:"sent,omitempty"`
	// A message forgotten (edited, or gone).
	Forget *messageRef `json:"forget,omitempty"`
	// A ritual's success.
	Ritual *ritualSuccess `json:"ritual,omitempty"`
}

type messageRef struct {
	Target string `json:"target"`
	ID     string `json:"id"`
}

type ritualSuccess struct {
	Name string    `json:"name"`
	At   time.Time `json:"at"`
}

// compactMinLines is the journal's length below which it is never
// compacted, so that a nearly empty store does not rewrite its snapshot on
// every other change.
const compactMinLines = 1024

func journalPath(path string) string { return path + ".journal" }

// Open loads path and its journal if they exist ("" keeps the
// store in memory); it writes nothing. A damaged file (truncated by a power
// cut, empty, an entry or a journal line that is no message) costs only
// what is damaged: the store starts with the valid entries, and damage says
// what was lost, for the caller to log and count. The journal's last line
// cut short by a power cut during its append is no damage: that change was
// never written, as a power cut during the atomic rewrite of a snapshot
// loses that change. Only a file that cannot be read at all is an error.
func Open(path string, capacity int) (s *Store, damage error, err error) {
	s = &Store{path: path, max: capacity, messages: map[string]*Message{}, byAlert: map[string]string{}, rituals: map[string]time.Time{}}
	if path == "" {
		return s, nil, nil
	}
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
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
	s.gen = f.Journal
	if s.gen == 0 {
		return s, damage, nil // version 1: no journal
	}
	data, err = os.ReadFile(journalPath(path))
	if errors.Is(err, fs.ErrNotExist) {
		return s, damage, nil // a power cut before the compaction wrote it
	}
	if err != nil {
		return nil, nil, err
	}
	whole, jdamage := s.replay(data)
	s.resume = whole && damage == nil
	if jdamage != nil {
		jdamage = fmt.Errorf("%s: %w", journalPath(path), jdamage)
		damage = errors.Join(damage, jdamage)
	}
	return s, damage, nil
}

// replay applies the journal's changes, when its header names s's
// generation. whole: every line read and applied, so that the journal can
// be appended to.
func (s *Store) replay(data []byte) (whole bool, damage error) {
	header, rest, found := bytes.Cut(data, []byte("\n"))
	var h journalLine
	if !found || json.Unmarshal(header, &h) != nil || h.Journal == 0 {
		// Journals are created whole (renamed into place).
		return false, errors.New("its first line is no journal header; its changes are lost")
	}
	if h.Journal != s.gen {
		return false, nil // stale: the snapshot already holds its changes
	}
	whole = true
	skipped, applied := 0, 0
	for len(rest) > 0 {
		var line []byte
		line, rest, found = bytes.Cut(rest, []byte("\n"))
		if !found {
			whole = false // cut by a power cut during its append
			break
		}
		var l journalLine
		if json.Unmarshal(line, &l) != nil || !s.apply(&l) {
			skipped++
			whole = false
			continue
		}
		applied++
	}
	s.lines = applied + skipped
	if skipped > 0 {
		return whole, fmt.Errorf("skipped %d lines that are no change (kept %d)", skipped, applied)
	}
	return whole, nil
}

// apply makes the change l. False: l is no change.
func (s *Store) apply(l *journalLine) bool {
	switch {
	case l.Sent != nil && l.Sent.Target != "" && l.Sent.ID != "":
		s.add(l.Sent)
	case l.Forget != nil && l.Forget.Target != "" && l.Forget.ID != "":
		s.remove(storeKey(l.Forget.Target, l.Forget.ID))
	case l.Ritual != nil && l.Ritual.Name != "":
		s.rituals[l.Ritual.Name] = l.Ritual.At
	default:
		return false
	}
	return true
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
		case "journal":
			err = dec.Decode(&f.Journal)
		case "rituals":
			err = dec.Decode(&f.Rituals)
		case "messages":
			if t, err := dec.Token(); err != nil || t != json.Delim('[') {
				return f, fmt.Errorf("messages: not a list (%w)", err)
			}
			for dec.More() {
				var m *Message
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

// add records m, evicting the oldest message when full; false when m was
// there already. Caller holds mu (or owns s).
func (s *Store) add(m *Message) bool {
	key := storeKey(m.Target, m.ID)
	if _, ok := s.messages[key]; ok {
		return false
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
	return true
}

// remove forgets the message of key; false when it was not there.
func (s *Store) remove(key string) bool {
	m, ok := s.messages[key]
	if !ok {
		return false
	}
	delete(s.messages, key)
	for _, a := range m.Alerts {
		if s.byAlert[storeKey(m.Target, a)] == key {
			delete(s.byAlert, storeKey(m.Target, a))
		}
	}
	return true
}

// Sent records a posted message and writes the change.
func (s *Store) Sent(target, id string, alerts []string, now time.Time) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	m := &Message{Target: target, ID: id, Alerts: alerts, Sent: now}
	if !s.add(m) {
		return nil
	}
	return s.commit(&journalLine{Sent: m})
}

// Lookup returns the id of the message carrying alert on target, and the
// identities of all the alerts it carries, in order.
func (s *Store) Lookup(target, alert string) (id string, alerts []string, ok bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	key, ok := s.byAlert[storeKey(target, alert)]
	if !ok {
		return "", nil, false
	}
	m := s.messages[key]
	return m.ID, m.Alerts, true
}

// Forget drops a message (edited for good, or gone) and writes the change.
func (s *Store) Forget(target, id string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.remove(storeKey(target, id)) {
		return nil // the second copy of a resolution
	}
	return s.commit(&journalLine{Forget: &messageRef{Target: target, ID: id}})
}

// Len is the number of remembered messages.
func (s *Store) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.messages)
}

// LastSuccess is when ritual last succeeded, if recorded.
func (s *Store) LastSuccess(ritual string) (time.Time, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.rituals[ritual]
	return t, ok
}

// RecordSuccess records a success of ritual and writes the change.
func (s *Store) RecordSuccess(ritual string, at time.Time) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.rituals[ritual] = at
	return s.commit(&journalLine{Ritual: &ritualSuccess{Name: ritual, At: at}})
}

// AdoptRituals takes over the rituals' successes of prev, the store this
// one replaces, where they are newer than this one's.
func (s *Store) AdoptRituals(prev *Store) error {
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
	return s.compact()
}

// storeBytesWritten counts the bytes the stores wrote to their files, for
// the benchmarks.
var storeBytesWritten atomic.Int64

// BytesWritten is the number of bytes all stores have written to their
// files so far, for benchmarks.
func BytesWritten() int64 { return storeBytesWritten.Load() }

// Path is the file s keeps ("" in memory).
func (s *Store) Path() string { return s.path }

// Capacity is the most messages s holds.
func (s *Store) Capacity() int { return s.max }

// Close stops s writing: another store took over its file. Its later
// changes (a delivery that began before the reload) stay in memory.
func (s *Store) Close() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closed = true
	if s.journal != nil {
		s.journal.Close()
		s.journal = nil
	}
}

// commit writes the change l, already made in memory, to the journal, or
// compacts. Caller holds mu.
func (s *Store) commit(l *journalLine) error {
	if s.path == "" || s.closed {
		return nil
	}
	if s.journal == nil && s.resume {
		s.resume = false
		if j, err := os.OpenFile(journalPath(s.path), os.O_WRONLY|os.O_APPEND, 0); err == nil {
			s.journal = j
		}
	}
	if s.journal == nil || s.lines >= max(2*len(s.messages), compactMinLines) {
		return s.compact()
	}
	data, err := json.Marshal(l)
	if err != nil {
		return err
	}
	n, err := s.journal.Write(append(data, '\n'))
	storeBytesWritten.Add(int64(n))
	if err == nil {
		err = s.journal.Sync()
	}
	if err != nil {
		// Maybe half a line: the next change writes a new snapshot and
		// journal instead of appending after it.
		s.journal.Close()
		s.journal = nil
		return err
	}
	s.lines++
	return nil
}

// compact writes the whole store as the snapshot of the next generation,
// then an empty journal of that generation, and opens it for appending.
// Caller holds mu.
func (s *Store) compact() error {
	if s.journal != nil {
		s.journal.Close()
		s.journal = nil
	}
	gen := s.gen + 1
	f := storeFile{Version: storeVersion, Journal: gen, Messages: make([]*Message, 0, len(s.messages)), Rituals: s.rituals}
	for _, k := range s.order {
		if m, ok := s.messages[k]; ok {
			f.Messages = append(f.Messages, m)
		}
	}
	data, err := json.Marshal(f)
	if err != nil {
		return err
	}
	if err := writeAtomic(s.path, data); err != nil {
		return err
	}
	// From here the snapshot holds every change: the journal on disk is
	// stale (another generation) until the new one replaces it.
	s.gen = gen
	header, err := json.Marshal(journalLine{Version: storeVersion, Journal: gen})
	if err != nil {
		return err
	}
	if err := writeAtomic(journalPath(s.path), append(header, '\n')); err != nil {
		return err
	}
	j, err := os.OpenFile(journalPath(s.path), os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		return err
	}
	s.journal, s.lines = j, 0
	return nil
}

// writeAtomic replaces path with data: a temporary file beside it, synced
// before the rename, and the directory after it, so that a power cut
// leaves the old file or the new one, never a cut one.
func writeAtomic(path string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".messages-*")
	if err != nil {
		return err
	}
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
	if err := os.Rename(tmp.Name(), path); err != nil {
		os.Remove(tmp.Name())
		return err
	}
	dir, err := os.Open(filepath.Dir(path))
	if err != nil {
		return err
	}
	defer dir.Close()
	return dir.Sync()
}

// Check reads path and its journal as Open does, writing nothing, and
// returns what Open would: err when they cannot be read, damage when only
// their valid entries would load. A file not written yet is fine.
func Check(path string, capacity int) (damage, err error) {
	if path == "" {
		return nil, nil
	}
	_, damage, err = Open(path, capacity)
	return damage, err
}
