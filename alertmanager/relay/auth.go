package relay

import (
	"crypto/sha256"
	"crypto/subtle"
	"net/http"
	"strings"
)

// authenticator checks the credentials Alertmanager's http_config sends:
// "Authorization: Bearer <token>" or basic auth. Comparisons hash both sides
// first, so they take the same time whatever the input's length.
type authenticator struct {
	bearer             *[32]byte
	username, password *[32]byte
}

func newAuthenticator(c AuthConfig) *authenticator {
	a := &authenticator{}
	if c.BearerToken != "" {
		a.bearer = digest(string(c.BearerToken))
	}
	if c.BasicAuth != nil {
		a.username = digest(c.BasicAuth.Username)
		a.password = digest(string(c.BasicAuth.Password))
	}
	return a
}

func digest(s string) *[32]byte {
	d := sha256.Sum256([]byte(s))
	return &d
}

func equal(a *[32]byte, s string) bool {
	return subtle.ConstantTimeCompare(a[:], digest(s)[:]) == 1
}

// enabled reports whether requests must carry credentials.
func (a *authenticator) enabled() bool { return a.bearer != nil || a.username != nil }

// allow reports whether r carries accepted credentials.
func (a *authenticator) allow(r *http.Request) bool {
	if !a.enabled() {
		return true
	}
	if a.bearer != nil {
		if tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer "); ok && equal(a.bearer, strings.TrimSpace(tok)) {
			return true
		}
	}
	if a.username != nil {
		if user, pass, ok := r.BasicAuth(); ok {
			// Both compared, always: no early exit on a wrong user.
			u, p := equal(a.username, user), equal(a.password, pass)
			return u && p
		}
	}
	return false
}
