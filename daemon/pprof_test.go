package daemon

import (
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/common/promslog"
)

// landingHrefs serves mux as NewServer would (its WriteTimeout bounds a CPU
// profile) and returns the server and the links of its landing page.
func landingHrefs(t *testing.T, l Lifecycle) (*httptest.Server, []string) {
	t.Helper()
	mux := http.NewServeMux()
	if err := l.Register(mux); err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewUnstartedServer(mux)
	srv := NewServer(mux, promslog.NewNopLogger())
	ts.Config.ReadHeaderTimeout, ts.Config.ReadTimeout, ts.Config.WriteTimeout = srv.ReadHeaderTimeout, srv.ReadTimeout, srv.WriteTimeout
	ts.Start()
	t.Cleanup(ts.Close)
	resp, err := http.Get(ts.URL + "/")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	page, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /: %d %v", resp.StatusCode, err)
	}
	var hrefs []string
	for _, m := range regexp.MustCompile(`href="([^"]*)"`).FindAllStringSubmatch(string(page), -1) {
		hrefs = append(hrefs, m[1])
	}
	return ts, hrefs
}

func get(t *testing.T, u string) int {
	t.Helper()
	resp, err := http.Get(u)
	if err != nil {
		t.Fatalf("GET %s: %v", u, err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	return resp.StatusCode
}

func TestEveryLandingPageLinkAnswersWithPprofEnabled(t *testing.T) {
	ts, hrefs := landingHrefs(t, Lifecycle{Name: "test", EnablePprof: true})
	base, _ := url.Parse(ts.URL + "/")
	profiles := 0
	for _, href := range hrefs {
		ref, err := url.Parse(href)
		if err != nil {
			t.Fatal(err)
		}
		if ref.IsAbs() {
			continue // links off the daemon
		}
		u := base.ResolveReference(ref)
		if strings.Contains(u.Path, "debug/pprof") {
			profiles++
		}
		if u.Path == "/debug/pprof/profile" {
			// The link's profile must fit in the server's WriteTimeout,
			// else net/http/pprof answers 400; the test then asks for a
			// one-second one.
			seconds, err := strconv.Atoi(u.Query().Get("seconds"))
			if err != nil || time.Duration(seconds)*time.Second >= WriteTimeout {
				t.Errorf("%s: a CPU profile of %q seconds, want less than WriteTimeout %v", href, u.Query().Get("seconds"), WriteTimeout)
			}
			q := u.Query()
			q.Set("seconds", "1")
			u.RawQuery = q.Encode()
		}
		if code := get(t, u.String()); code != http.StatusOK {
			t.Errorf("landing page link %s: %d, want 200", href, code)
		}
	}
	if profiles != len(PprofLinks) {
		t.Errorf("%d profiling links on the landing page, want %d: %q", profiles, len(PprofLinks), hrefs)
	}
	if code := get(t, ts.URL+"/debug/pprof/goroutine?debug=1"); code != http.StatusOK {
		t.Errorf("/debug/pprof/goroutine: %d, want 200", code)
	}
}

func TestNoPprofByDefault(t *testing.T) {
	ts, hrefs := landingHrefs(t, Lifecycle{Name: "test"})
	for _, href := range hrefs {
		if strings.Contains(href, "pprof") {
			t.Errorf("landing page links %s without --web.enable-pprof", href)
		}
	}
	for _, path := range []string{"/debug/pprof/", "/debug/pprof/heap", "/debug/pprof/profile?seconds=1"} {
		if code := get(t, ts.URL+path); code != http.StatusNotFound {
			t.Errorf("GET %s without --web.enable-pprof: %d, want 404", path, code)
		}
	}
}
