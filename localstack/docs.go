package localstack

import (
	"errors"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"time"

	"github.com/quantum-resonance/telemetry/rules"
)

// StandardDocsURL is where `make stack` serves the repository's docs/.
const StandardDocsURL = "http://127.0.0.1:9863"

// serveDocs serves root's docs/ at /docs/ on addr, Markdown as plain text,
// so that the runbook and SLO links of the stack's alerts open: the
// shipped rules link to the runbooks where the table's runbook_base_url
// says, which a fresh clone may not be able to reach.
func serveDocs(root, addr string) (*http.Server, error) {
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	files := http.StripPrefix("/docs/", http.FileServer(http.Dir(filepath.Join(root, "docs"))))
	mux := http.NewServeMux()
	mux.Handle("GET /docs/", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, ".md") {
			w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		}
		files.ServeHTTP(w, r)
	}))
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(l) }() // ends with Close, at the stack's Stop
	return srv, nil
}

// docsBase is the part of the table's runbook_base_url before docs/: the
// shipped rules' links start with it, and the stack puts its docs server
// in its stead.
func docsBase(root string) (string, error) {
	table, err := rules.LoadThresholds(filepath.Join(root, rules.DefaultThresholdsPath))
	if err != nil {
		return "", err
	}
	base, _, ok := strings.Cut(table.RunbookBaseURL, "docs/")
	if !ok {
		return "", errors.New("runbook_base_url does not point into docs/")
	}
	return base, nil
}
