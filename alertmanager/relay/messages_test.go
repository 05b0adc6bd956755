package relay

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// The store of Discord message ids keeps at most max messages, the oldest
// going first, forgets on request, and comes back from its file.
func TestSentMessagesBoundedAndPersistent(t *testing.T) {
	path := filepath.Join(t.TempDir(), "messages.json")
	s, err := openSentMessages(path, 3)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Unix(0, 0)
	for i := range 5 {
		if err := s.Sent("discord", fmt.Sprint(100+i), []string{fmt.Sprintf("fp%d@0", i)}, now); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Forget("discord", "103"); err != nil {
		t.Fatal(err)
	}
	s.Sent("discord", "105", []string{"fp5@0"}, now)
	reopened, err := openSentMessages(path, 3)
	if err != nil {
		t.Fatal(err)
	}
	for _, store := range []*sentMessages{s, reopened} {
		if store.Len() != 3 {
			t.Errorf("%d messages kept, want 3", store.Len())
		}
		for alert, want := range map[string]string{"fp0@0": "", "fp1@0": "", "fp2@0": "102", "fp3@0": "", "fp4@0": "104", "fp5@0": "105"} {
			m, ok := store.Lookup("discord", alert)
			if ok != (want != "") || m.ID != want {
				t.Errorf("Lookup(%s) = %q, %v; want %q", alert, m.ID, ok, want)
			}
		}
		if _, ok := store.Lookup("slack", "fp4@0"); ok {
			t.Error("a message of another target was found")
		}
	}
}

// The rituals' last successes are kept in the same file as the message ids
// and come back with it; a reload that moves the file takes them along.
func TestRitualSuccessesPersistInTheStateFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "messages.json")
	s, err := openSentMessages(path, 3)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := s.LastSuccess("morning"); ok {
		t.Fatal("a success recorded in a new store")
	}
	at := time.Date(2026, 12, 2, 8, 0, 4, 500_000_000, time.UTC)
	if err := s.RecordSuccess("morning", at); err != nil {
		t.Fatal(err)
	}
	if err := s.Sent("discord", "100", []string{"fp0@0"}, at); err != nil {
		t.Fatal(err)
	}
	reopened, err := openSentMessages(path, 3)
	if err != nil {
		t.Fatal(err)
	}
	if got, ok := reopened.LastSuccess("morning"); !ok || !got.Equal(at) {
		t.Errorf("after reopening: morning %v, %v; want %v", got, ok, at)
	}
	if m, ok := reopened.Lookup("discord", "fp0@0"); !ok || m.ID != "100" {
		t.Errorf("the message ids went with the rituals: %+v, %v", m, ok)
	}

	moved := filepath.Join(dir, "moved.json")
	if err := os.WriteFile(moved, []byte(`{"version":1,"messages":[],"rituals":{"morning":"2026-11-30T08:00:00Z","weekly":"2026-11-30T09:00:00Z"}}`), 0o600); err != nil {
		t.Fatal(err)
	}
	next, err := openSentMessages(moved, 3)
	if err != nil {
		t.Fatal(err)
	}
	if err := next.adoptRituals(reopened); err != nil {
		t.Fatal(err)
	}
	again, err := openSentMessages(moved, 3)
	if err != nil {
		t.Fatal(err)
	}
	for ritual, want := range map[string]time.Time{"morning": at, "weekly": time.Date(2026, 11, 30, 9, 0, 0, 0, time.UTC)} {
		if got, ok := again.LastSuccess(ritual); !ok || !got.Equal(want) {
			t.Errorf("moved file: %s %v, %v; want %v (the newer success)", ritual, got, ok, want)
		}
	}
}

// A file written before the rituals were kept loads, without successes.
func TestStateFileWithoutRitualsLoads(t *testing.T) {
	path := filepath.Join(t.TempDir(), "messages.json")
	if err := os.WriteFile(path, []byte(`{"version":1,"messages":[{"target":"discord","id":"7","alerts":["fp@0"],"sent":"2026-12-01T00:00:00Z"}]}`), 0o600); err != nil {
		t.Fatal(err)
	}
	s, err := openSentMessages(path, 3)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := s.LastSuccess("morning"); ok || s.Len() != 1 {
		t.Errorf("old file: %d messages, a ritual success %v", s.Len(), ok)
	}
}
