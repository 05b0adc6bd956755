package statefile

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
	s, _, err := Open(path, 3)
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
	reopened, _, err := Open(path, 3)
	if err != nil {
		t.Fatal(err)
	}
	for _, store := range []*Store{s, reopened} {
		if store.Len() != 3 {
			t.Errorf("%d messages kept, want 3", store.Len())
		}
		for alert, want := range map[string]string{"fp0@0": "", "fp1@0": "", "fp2@0": "102", "fp3@0": "", "fp4@0": "104", "fp5@0": "105"} {
			m, _, ok := store.Lookup("discord", alert)
			if ok != (want != "") || m != want {
				t.Errorf("Lookup(%s) = %q, %v; want %q", alert, m, ok, want)
			}
		}
		if _, _, ok := store.Lookup("slack", "fp4@0"); ok {
			t.Error("a message of another target was found")
		}
	}
}

// The rituals' last successes are kept in the same file as the message ids
// and come back with it; a reload that moves the file takes them along.
func TestRitualSuccessesPersistInTheStateFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "messages.json")
	s, _, err := Open(path, 3)
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
	reopened, _, err := Open(path, 3)
	if err != nil {
		t.Fatal(err)
	}
	if got, ok := reopened.LastSuccess("morning"); !ok || !got.Equal(at) {
		t.Errorf("after reopening: morning %v, %v; want %v", got, ok, at)
	}
	if m, _, ok := reopened.Lookup("discord", "fp0@0"); !ok || m != "100" {
		t.Errorf("the message ids went with the rituals: %+v, %v", m, ok)
	}

	moved := filepath.Join(dir, "moved.json")
	if err := os.WriteFile(moved, []byte(`{"version":1,"messages":[],"rituals":{"morning":"2026-11-30T08:00:00Z","weekly":"2026-11-30T09:00:00Z"}}`), 0o600); err != nil {
		t.Fatal(err)
	}
	next, _, err := Open(moved, 3)
	if err != nil {
		t.Fatal(err)
	}
	if err := next.AdoptRituals(reopened); err != nil {
		t.Fatal(err)
	}
	again, _, err := Open(moved, 3)
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
	s, _, err := Open(path, 3)
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
			s, damage, err := Open(path, 10)
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
				if _, _, ok := s.Lookup("discord", "fp@0"); !ok {
					t.Error("the first message is lost")
				}
			}
			// The next save writes a whole file again.
			if err := s.Sent("discord", "9", []string{"fp@2"}, time.Now()); err != nil {
				t.Fatal(err)
			}
			if _, damage, _ := Open(path, 10); damage != nil {
				t.Errorf("after a save: %v", damage)
			}
		})
	}
}

func readLines(t *testing.T, path string) []string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return strings.Split(strings.TrimSuffix(string(data), "\n"), "\n")
}

// A change is one line appended to the journal: the snapshot, whatever it
// holds, is not written again, and a restarted relay finds the change.
func TestAChangeAppendsToTheJournal(t *testing.T) {
	path := filepath.Join(t.TempDir(), "messages.json")
	s, _, err := Open(path, 5000)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 12, 2, 18, 0, 0, 0, time.UTC)
	for i := range 100 {
		if err := s.Sent("discord", fmt.Sprint(1000+i), []string{fmt.Sprintf("fp%d@0", i)}, now); err != nil {
			t.Fatal(err)
		}
	}
	snapshot, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	// The process restarts; the next changes go on in the same journal.
	s, damage, err := Open(path, 5000)
	if err != nil || damage != nil {
		t.Fatal(err, damage)
	}
	if err := s.Forget("discord", "1000"); err != nil {
		t.Fatal(err)
	}
	if err := s.RecordSuccess("morning", now); err != nil {
		t.Fatal(err)
	}
	if after, _ := os.Stat(path); !os.SameFile(snapshot, after) || after.Size() != snapshot.Size() {
		t.Error("the snapshot was written again")
	}
	lines := readLines(t, journalPath(path))
	// The header, 99 posts (the first post wrote the first snapshot), the
	// forget and the ritual.
	if len(lines) != 102 || !strings.Contains(lines[100], `"forget"`) || !strings.Contains(lines[101], `"ritual"`) {
		t.Fatalf("journal: %d lines, the last %q", len(lines), lines[len(lines)-1])
	}
	again, damage, err := Open(path, 5000)
	if err != nil || damage != nil {
		t.Fatal(err, damage)
	}
	if again.Len() != 99 {
		t.Errorf("%d messages after the restart, want 99", again.Len())
	}
	if _, _, ok := again.Lookup("discord", "fp0@0"); ok {
		t.Error("the forgotten message came back")
	}
	if m, _, ok := again.Lookup("discord", "fp99@0"); !ok || m != "1099" {
		t.Errorf("the last post: %+v, %v", m, ok)
	}
	if at, ok := again.LastSuccess("morning"); !ok || !at.Equal(now) {
		t.Errorf("the ritual's success: %v, %v", at, ok)
	}
}

// The journal is compacted into a new snapshot once it is longer than
// twice the live messages (and compactMinLines): a relay that posts for
// months keeps two bounded files and loses nothing at the compactions.
func TestTheJournalIsCompacted(t *testing.T) {
	path := filepath.Join(t.TempDir(), "messages.json")
	s, _, err := Open(path, 3)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Unix(0, 0)
	for i := range 2*compactMinLines + 10 {
		if err := s.Sent("discord", fmt.Sprint(100+i), []string{fmt.Sprintf("fp%d@0", i)}, now); err != nil {
			t.Fatal(err)
		}
	}
	if n := len(readLines(t, journalPath(path))); n > compactMinLines+1 {
		t.Errorf("the journal holds %d lines, want at most %d", n, compactMinLines+1)
	}
	reopened, damage, err := Open(path, 3)
	if err != nil || damage != nil {
		t.Fatal(err, damage)
	}
	last := 2*compactMinLines + 9
	for i := last - 2; i <= last; i++ {
		if m, _, ok := reopened.Lookup("discord", fmt.Sprintf("fp%d@0", i)); !ok || m != fmt.Sprint(100+i) {
			t.Errorf("message %d: %+v, %v", i, m, ok)
		}
	}
	if reopened.Len() != 3 {
		t.Errorf("%d messages, want 3", reopened.Len())
	}
}

// A power cut in the middle of an append leaves the journal's last line
// cut: the relay starts with everything before it, without calling that
// damage, and its next change starts a whole journal again rather than
// appending after the cut.
func TestAJournalCutByAPowerCut(t *testing.T) {
	path := filepath.Join(t.TempDir(), "messages.json")
	s, _, err := Open(path, 10)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		if err := s.Sent("discord", fmt.Sprint(100+i), []string{fmt.Sprintf("fp%d@0", i)}, time.Unix(0, 0)); err != nil {
			t.Fatal(err)
		}
	}
	j, err := os.OpenFile(journalPath(path), os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	j.WriteString(`{"sent":{"target":"discord","id":"103","ale`)
	j.Close()

	s, damage, err := Open(path, 10)
	if err != nil || damage != nil {
		t.Fatalf("a cut last line: %v, damage %v", err, damage)
	}
	if s.Len() != 3 {
		t.Errorf("%d messages, want the 3 before the cut", s.Len())
	}
	if err := s.Sent("discord", "104", []string{"fp4@0"}, time.Unix(0, 0)); err != nil {
		t.Fatal(err)
	}
	again, damage, err := Open(path, 10)
	if err != nil || damage != nil || again.Len() != 4 {
		t.Fatalf("after the next change: %d messages, %v, damage %v", again.Len(), err, damage)
	}
	if m, _, ok := again.Lookup("discord", "fp4@0"); !ok || m != "104" {
		t.Errorf("the change after the cut: %+v, %v", m, ok)
	}
}

// A power cut during a compaction, after the new snapshot replaced the old
// one and before the new journal replaced the old journal: the old journal's
// changes are in the snapshot already and are not applied twice.
func TestAPowerCutDuringACompaction(t *testing.T) {
	path := filepath.Join(t.TempDir(), "messages.json")
	s, _, err := Open(path, 2)
	if err != nil {
		t.Fatal(err)
	}
	// The first change writes the first snapshot; the posts are in its journal.
	if err := s.RecordSuccess("morning", time.Unix(0, 0)); err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		if err := s.Sent("discord", fmt.Sprint(100+i), []string{fmt.Sprintf("fp%d@0", i)}, time.Unix(0, 0)); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Forget("discord", "102"); err != nil {
		t.Fatal(err)
	}
	old, err := os.ReadFile(journalPath(path))
	if err != nil {
		t.Fatal(err)
	}
	s.mu.Lock()
	err = s.compact()
	s.mu.Unlock()
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(journalPath(path), old, 0o600); err != nil {
		t.Fatal(err)
	}
	// Replayed on the new snapshot ({101}), the old journal would bring
	// back 100 (evicted by 102) and evict 101 for 102, then forget 102.
	reopened, damage, err := Open(path, 2)
	if err != nil || damage != nil {
		t.Fatal(err, damage)
	}
	if m, _, ok := reopened.Lookup("discord", "fp1@0"); !ok || m != "101" || reopened.Len() != 1 {
		t.Errorf("%d messages, fp1@0: %+v, %v; want only 101", reopened.Len(), m, ok)
	}
}

// The file of a relay before the journal (version 1, rewritten whole on
// every change) loads as it is; the first change turns it into a version 2
// snapshot with its journal, which an upgraded relay reads back whole.
func TestAVersion1StoreIsMigrated(t *testing.T) {
	path := filepath.Join(t.TempDir(), "messages.json")
	v1 := `{"version":1,"messages":[{"target":"discord","id":"7","alerts":["fp@0"],"sent":"2026-12-01T00:00:00Z"}],"rituals":{"morning":"2026-11-30T08:00:00Z"}}`
	if err := os.WriteFile(path, []byte(v1), 0o600); err != nil {
		t.Fatal(err)
	}
	s, damage, err := Open(path, 10)
	if err != nil || damage != nil {
		t.Fatal(err, damage)
	}
	if err := s.Sent("discord", "8", []string{"fp@1"}, time.Unix(0, 0)); err != nil {
		t.Fatal(err)
	}
	if err := s.Forget("discord", "7"); err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(path)
	if !strings.HasPrefix(string(data), `{"version":2,"journal":1,`) {
		t.Errorf("snapshot after the first change: %.60s", data)
	}
	again, damage, err := Open(path, 10)
	if err != nil || damage != nil {
		t.Fatal(err, damage)
	}
	_, _, seven := again.Lookup("discord", "fp@0")
	eight, _, ok := again.Lookup("discord", "fp@1")
	_, ritual := again.LastSuccess("morning")
	if seven || !ok || eight != "8" || !ritual {
		t.Errorf("after migrating: 7 kept %v, 8 %+v %v, the ritual's success %v", seven, eight, ok, ritual)
	}
}

// A journal line that is no change (a disk error, an edit by hand) is
// skipped and reported as damage; the lines around it are kept, and the
// next change writes a whole snapshot and journal again.
func TestADamagedJournalLine(t *testing.T) {
	path := filepath.Join(t.TempDir(), "messages.json")
	s, _, err := Open(path, 10)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 2 {
		if err := s.Sent("discord", fmt.Sprint(100+i), []string{fmt.Sprintf("fp%d@0", i)}, time.Unix(0, 0)); err != nil {
			t.Fatal(err)
		}
	}
	j, _ := os.OpenFile(journalPath(path), os.O_WRONLY|os.O_APPEND, 0)
	j.WriteString("\x00\x00\x00\nnull\n" + `{"sent":{"target":"discord","id":"102","alerts":["fp2@0"],"sent":"2026-12-01T00:00:00Z"}}` + "\n")
	j.Close()
	s, damage, err := Open(path, 10)
	if err != nil {
		t.Fatal(err)
	}
	if damage == nil || !strings.Contains(damage.Error(), "skipped 2 lines") || !strings.Contains(damage.Error(), "messages.json.journal") {
		t.Errorf("damage %v, want the 2 skipped lines of the journal", damage)
	}
	if s.Len() != 3 {
		t.Errorf("%d messages, want 3", s.Len())
	}
	if err := s.Forget("discord", "100"); err != nil {
		t.Fatal(err)
	}
	if again, damage, _ := Open(path, 10); damage != nil || again.Len() != 2 {
		t.Errorf("after the next change: %d messages, damage %v", again.Len(), damage)
	}
}
