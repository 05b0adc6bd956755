package relay

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// The store of Discord message ids keeps at most max messages, the oldest
// going first, forgets on request, and comes back from its file.
func TestSentMessagesBoundedAndPersistent(t *testing.T) {
	path := filepath.Join(t.TempDir(), "messages.json")
	s, _, err := openSentMessages(path, 3)
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
	reopened, _, err := openSentMessages(path, 3)
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
	s, _, err := openSentMessages(path, 3)
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
	reopened, _, err := openSentMessages(path, 3)
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
	next, _, err := openSentMessages(moved, 3)
	if err != nil {
		t.Fatal(err)
	}
	if err := next.adoptRituals(reopened); err != nil {
		t.Fatal(err)
	}
	again, _, err := openSentMessages(moved, 3)
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
	s, _, err := openSentMessages(path, 3)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := s.LastSuccess("morning"); ok || s.Len() != 1 {
		t.Errorf("old file: %d messages, a ritual success %v", s.Len(), ok)
	}
}

// A damaged store never stops the relay: it starts with the entries before
// the damage and says what was lost. A null entry used to panic at start and
// on SIGHUP; a cut or empty file (a power cut during a write) refused to start.
func TestDamagedStoreKeepsTheValidEntries(t *testing.T) {
	const one = `{"target":"discord","id":"7","alerts":["fp@0"],"sent":"2026-12-01T00:00:00Z"}`
	const two = `{"target":"discord","id":"8","alerts":["fp@1"],"sent":"2026-12-01T00:01:00Z"}`
	for _, c := range []struct {
		name, file, damage string
		kept               int
	}{
		{"a null entry", `{"version":1,"messages":[null,` + one + `]}`, "skipped 1 entries", 1},
		{"an entry of the wrong type", `{"version":1,"messages":[5,"x",` + one + `,` + two + `]}`, "skipped 2 entries", 2},
		{"an entry without an id", `{"version":1,"messages":[{"target":"discord"},` + one + `]}`, "skipped 1 entries", 1},
		{"cut inside the second entry", `{"version":1,"messages":[` + one + `,` + two[:30], "the file ends early", 1},
		{"cut after the list", `{"version":1,"messages":[` + one + `,` + two + `]`, "the file ends early", 2},
		{"empty", ``, "the file is empty", 0},
		{"not JSON", `version 1`, "not a JSON object", 0},
		{"intact", `{"version":1,"messages":[` + one + `,` + two + `],"rituals":{"morning":"2026-11-30T08:00:00Z"}}`, "", 2},
	} {
		t.Run(c.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "messages.json")
			if err := os.WriteFile(path, []byte(c.file), 0o600); err != nil {
				t.Fatal(err)
			}
			s, damage, err := openSentMessages(path, 10)
			if err != nil {
				t.Fatalf("refused to open: %v", err)
			}
			if s.Len() != c.kept {
				t.Errorf("kept %d messages, want %d", s.Len(), c.kept)
			}
			if c.damage == "" && damage != nil || c.damage != "" && (damage == nil || !strings.Contains(damage.Error(), c.damage)) {
				t.Errorf("damage %v, want %q", damage, c.damage)
			}
			if c.kept > 0 {
				if _, ok := s.Lookup("discord", "fp@0"); !ok {
					t.Error("the first message is lost")
				}
			}
			// The next save writes a whole file again.
			if err := s.Sent("discord", "9", []string{"fp@2"}, time.Now()); err != nil {
				t.Fatal(err)
			}
			if _, damage, _ := openSentMessages(path, 10); damage != nil {
				t.Errorf("after a save: %v", damage)
			}
		})
	}
}
