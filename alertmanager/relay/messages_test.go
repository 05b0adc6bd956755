package relay

import (
	"fmt"
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
