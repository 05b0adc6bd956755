package relay

import (
	"crypto/sha256"
	"log/slog"
	"net/http"
	"os"
	"sync"
	"time"

	"github.com/quantum-resonance/telemetry/bearer"
)

// authenticator checks the credentials Alertmanager's http_config sends:
// "Authorization: Bearer <token>" (basic auth is --web.config.file's).
// Comparisons hash both sides first, so they take the same time whatever
// the input's length.
//
// The tokens of bearer_tokens_file are all accepted at once, and the file is
// read again whenever it changed (one stat a request tells): Alertmanager
// re-reads its credentials_file on every request, so a rotation (add the
// new token here, switch Alertmanager's file, remove the old token) never
// meets a 401, and a removed token is refused at once.
type authenticator struct {
	bearer *[sha256.Size]byte

	tokensFile string
	logger     *slog.Logger
	mu         sync.Mutex // guards tokens and stat
	tokens     *bearer.KeySet
	stat       fileStamp
}

// fileStamp tells whether a file changed.
type fileStamp struct {
	mod  time.Time
	size int64
}

func stampOf(path string) fileStamp {
	fi, err := os.Stat(path)
	if err != nil {
		return fileStamp{}
	}
	return fileStamp{fi.ModTime(), fi.Size()}
}

// newAuthenticator uses the tokens Validate read from c.BearerTokensFile.
func newAuthenticator(c AuthConfig, logger *slog.Logger) *authenticator {
	a := &authenticator{logger: logger}
	if c.BearerToken != "" {
		a.bearer = bearer.Digest(string(c.BearerToken))
	}
	if c.BearerTokensFile != "" {
		a.tokensFile = c.BearerTokensFile
		a.tokens = c.tokens
		a.stat = c.tokensStamp
	}
	return a
}

// enabled reports whether requests must carry credentials.
func (a *authenticator) enabled() bool {
	return a.bearer != nil || a.tokensFile != ""
}

// allow reports whether r carries accepted credentials.
func (a *authenticator) allow(r *http.Request) bool {
	if !a.enabled() {
		return true
	}
	tok, ok := bearer.Token(r.Header.Get("Authorization"))
	if !ok {
		return false
	}
	if a.bearer != nil && bearer.Equal(a.bearer, tok) {
		return true
	}
	return a.tokensFile != "" && a.current().Match(tok)
}

// current loads the tokens file again if it changed since it was read, and
// returns the tokens in force. A file that became unreadable or empty
// keeps the previous tokens (and says so in the log).
func (a *authenticator) current() *bearer.KeySet {
	a.mu.Lock()
	defer a.mu.Unlock()
	st := stampOf(a.tokensFile)
	if st == a.stat {
		return a.tokens
	}
	a.stat = st
	ks, err := bearer.Load(a.tokensFile)
	if err != nil {
		a.logger.Error("Cannot read auth.bearer_tokens_file again; the previous tokens stay", "err", err)
		return a.tokens
	}
	a.tokens = ks
	a.logger.Info("Read auth.bearer_tokens_file again", "tokens", ks.Len())
	return ks
}
