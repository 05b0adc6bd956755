package collector

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
)

// walletState is what pi.state_file holds: the Horizon paging cursor and the
// counters, written together after each page is accounted. Keeping the
// counters beside the cursor makes them resume after a restart instead of
// dropping to 0: a counter that resets loses nothing for rate(), but the
// cursor means the restarted exporter never sees those payments again, so
// the count since the wallet has been watched would otherwise be gone.
type walletState struct {
	Version int `json:"version"`
	// Account is the wallet the cursor belongs to: a state file left by
	// another wallet address is not resumed.
	Account string `json:"account"`
	// Cursor is the paging_token of the last accounted payment.
	Cursor       string `json:"cursor"`
	Unauthorized uint64 `json:"unauthorized"`
	Payments     struct {
		Incoming uint64 `json:"incoming"`
		Outgoing uint64 `json:"outgoing"`
	} `json:"payments"`
}

const walletStateVersion = 1

// loadWalletState reads path; found is false when there is no file yet.
func loadWalletState(path string) (st walletState, found bool, err error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return walletState{}, false, nil
	}
	if err != nil {
		return walletState{}, false, err
	}
	if err := json.Unmarshal(data, &st); err != nil {
		return walletState{}, false, fmt.Errorf("%s is not a wallet state file (%w); fix or delete it", path, err)
	}
	if st.Version != walletStateVersion {
		return walletState{}, false, fmt.Errorf("%s has version %d, this exporter reads version %d", path, st.Version, walletStateVersion)
	}
	if st.Cursor != "" && !pagingTokenValid(st.Cursor) {
		return walletState{}, false, fmt.Errorf("%s has cursor %q, which is not a paging token; fix or delete it", path, st.Cursor)
	}
	return st, true, nil
}

// saveWalletState replaces path atomically: a crash leaves either the old
// or the new state, never half of one. The data is fsynced before the
// rename and the directory after it, so that the new state survives a power
// loss once this returns.
func saveWalletState(path string, st walletState) error {
	st.Version = walletStateVersion
	data, err := json.MarshalIndent(st, "", "  ")
	if err != nil {
		return err
	}
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, filepath.Base(path)+".tmp*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name()) // fails harmlessly once renamed
	if _, err := tmp.Write(append(data, '\n')); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return err
	}
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// stateFileLocks serializes the polls of every wallet collector sharing a
// state file. On a config reload the new collector is built (and polls)
// before the old one is closed; without this lock both could account the
// same page from the same cursor and count it twice.
var stateFileLocks sync.Map // path -> *sync.Mutex

func stateFileLock(path string) *sync.Mutex {
	if abs, err := filepath.Abs(path); err == nil {
		path = abs
	}
	l, _ := stateFileLocks.LoadOrStore(path, &sync.Mutex{})
	return l.(*sync.Mutex)
}
