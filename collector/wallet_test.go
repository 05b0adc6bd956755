package collector

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/quantum-resonance/telemetry/config"
	"github.com/quantum-resonance/telemetry/expositiontest"
)

// Accounts of the fixtures (real ids from Stellar's Horizon documentation).
const (
	testWallet     = "GD42RQNXTRIW6YR3E2HXV5T2AI27LBRHOERV2JIYNFMXOBA234SWLQQB"
	testAuthorized = "GCEZWKCA5VLDNRLN3RPRJMRZOX3Z6G5CHCGSNFHEYVXM3XOJMDS674JZ"
	testStranger   = "GCXKG6RN4ONIEPCMNFB732A436Z5PNDSRLGWK7GBLCMQLIFO4S7EYWVU"
)

// The history in testdata/horizon/payments.json, oldest first: the wallet's
// creation (in), 500 Pi from the authorized account (in), 25 Pi to it (out),
// a FOO payment (not Pi), funding a stranger's account (out, unauthorized),
// a failed payment (Horizon leaves it out), 42 Pi to the stranger (out,
// unauthorized), a path payment spending Pi (out, unauthorized).
const (
	historyIncoming     = 2
	historyOutgoing     = 4
	historyUnauthorized = 3
	historyListed       = 7 // records Horizon lists with include_failed=false
)

var testNow = time.Unix(1795700000, 0)

// fakeHorizon serves the account and payments endpoints the way Horizon
// does: HAL pages of the fixture's records after a cursor, asc or desc,
// honouring limit and include_failed, with _links built from the request.
type fakeHorizon struct {
	*httptest.Server

	mu       sync.Mutex
	account  []byte
	records  []json.RawMessage // oldest first
	override func(w http.ResponseWriter, r *http.Request) bool
	queries  []string // query of each payments request
}

func newFakeHorizon(t *testing.T) *fakeHorizon {
	t.Helper()
	f := &fakeHorizon{account: readFixture(t, "horizon/account.json")}
	var page struct {
		Embedded struct {
			Records []json.RawMessage `json:"records"`
		} `json:"_embedded"`
	}
	if err := json.Unmarshal(readFixture(t, "horizon/payments.json"), &page); err != nil {
		t.Fatal(err)
	}
	f.records = page.Embedded.Records
	f.Server = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.Close)
	return f
}

func readFixture(t *testing.T, name string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// setOverride makes fn answer requests first; fn returns false to let the
// normal handler answer.
func (f *fakeHorizon) setOverride(fn func(w http.ResponseWriter, r *http.Request) bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.override = fn
}

func (f *fakeHorizon) addRecord(rec string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.records = append(f.records, json.RawMessage(rec))
}

func (f *fakeHorizon) paymentQueries() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.queries...)
}

func (f *fakeHorizon) serve(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	override := f.override
	f.mu.Unlock()
	if override != nil && override(w, r) {
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	switch r.URL.Path {
	case "/accounts/" + testWallet:
		w.Header().Set("Content-Type", "application/hal+json; charset=utf-8")
		w.Write(f.account)
	case "/accounts/" + testWallet + "/payments":
		f.queries = append(f.queries, r.URL.RawQuery)
		f.servePayments(w, r)
	default:
		w.Header().Set("Content-Type", "application/problem+json; charset=utf-8")
		w.WriteHeader(http.StatusNotFound)
		w.Write(readFixtureNoT("horizon/not_found.json"))
	}
}

func readFixtureNoT(name string) []byte {
	data, _ := os.ReadFile(filepath.Join("testdata", name))
	return data
}

func (f *fakeHorizon) servePayments(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	order, cursor := q.Get("order"), q.Get("cursor")
	limit, err := strconv.Atoi(q.Get("limit"))
	if err != nil || limit < 1 || limit > 200 {
		http.Error(w, "bad limit", http.StatusBadRequest)
		return
	}
	var after int64 = -1
	if cursor != "" {
		if after, err = strconv.ParseInt(cursor, 10, 64); err != nil {
			http.Error(w, "bad cursor", http.StatusBadRequest)
			return
		}
	}
	type meta struct {
		PagingToken           string `json:"paging_token"`
		TransactionSuccessful bool   `json:"transaction_successful"`
	}
	var page []json.RawMessage
	visit := func(rec json.RawMessage) {
		var m meta
		json.Unmarshal(rec, &m)
		token, _ := strconv.ParseInt(m.PagingToken, 10, 64)
		if !m.TransactionSuccessful && q.Get("include_failed") != "true" {
			return
		}
		if len(page) < limit && (order == "desc" && (cursor == "" || token < after) || order != "desc" && token > after) {
			page = append(page, rec)
		}
	}
	if order == "desc" {
		for i := len(f.records) - 1; i >= 0; i-- {
			visit(f.records[i])
		}
	} else {
		for _, rec := range f.records {
			visit(rec)
		}
	}
	next := cursor
	if len(page) > 0 {
		var m meta
		json.Unmarshal(page[len(page)-1], &m)
		next = m.PagingToken
	}
	base := fmt.Sprintf("http://%s%s", r.Host, r.URL.Path)
	body := map[string]any{
		"_links": map[string]any{
			"self": map[string]string{"href": base + "?" + r.URL.RawQuery},
			"next": map[string]string{"href": fmt.Sprintf("%s?cursor=%s&limit=%d&order=%s", base, next, limit, order)},
			"prev": map[string]string{"href": fmt.Sprintf("%s?cursor=%s&limit=%d&order=%s", base, cursor, limit, order)},
		},
		"_embedded": map[string]any{"records": page},
	}
	if page == nil {
		body["_embedded"] = map[string]any{"records": []any{}}
	}
	w.Header().Set("Content-Type", "application/hal+json; charset=utf-8")
	json.NewEncoder(w).Encode(body)
}

// lockedBuffer is a log sink the background goroutines may share.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func newTestLogger() (*slog.Logger, *lockedBuffer) {
	buf := &lockedBuffer{}
	return slog.New(slog.NewTextHandler(buf, &slog.HandlerOptions{Level: slog.LevelDebug})), buf
}

// testPiConfig is a valid pi section pointing at horizonURL.
func testPiConfig(t *testing.T, horizonURL, stateFile string) config.PiConfig {
	t.Helper()
	cfg := config.Default()
	cfg.Pi.HorizonURL = horizonURL
	cfg.Pi.WalletAddress = testWallet
	cfg.Pi.AuthorizedDestinations = []string{testAuthorized}
	cfg.Pi.StateFile = stateFile
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	return cfg.Pi
}

// newTestWallet builds a wallet collector whose polls the test runs itself.
func newTestWallet(t *testing.T, cfg config.PiConfig) (*walletCollector, *lockedBuffer) {
	t.Helper()
	logger, logs := newTestLogger()
	w, err := newWallet(cfg, logger)
	if err != nil {
		t.Fatal(err)
	}
	w.now = func() time.Time { return testNow }
	return w, logs
}

func readState(t *testing.T, path string) walletState {
	t.Helper()
	st, found, err := loadWalletState(path)
	if err != nil || !found {
		t.Fatalf("state file: found=%v err=%v", found, err)
	}
	return st
}

func wantCounts(t *testing.T, got walletState, incoming, outgoing, unauthorized uint64) {
	t.Helper()
	if got.Payments.Incoming != incoming || got.Payments.Outgoing != outgoing || got.Unauthorized != unauthorized {
		t.Fatalf("counts: incoming %d outgoing %d unauthorized %d, want %d %d %d",
			got.Payments.Incoming, got.Payments.Outgoing, got.Unauthorized, incoming, outgoing, unauthorized)
	}
}

func newestToken(t *testing.T, f *fakeHorizon) string {
	t.Helper()
	var m struct {
		PagingToken string `json:"paging_token"`
	}
	json.Unmarshal(f.records[len(f.records)-1], &m)
	return m.PagingToken
}

// nativePayment is a Horizon payment record of amount Pi.
func nativePayment(token int64, from, to string) string {
	return fmt.Sprintf(`{"_links":{"self":{"href":"/operations/%[1]d"}},"id":"%[1]d","paging_token":"%[1]d",
"transaction_successful":true,"source_account":"%[2]s","type":"payment","type_i":1,
"created_at":"2024-06-10T12:00:00Z","transaction_hash":"%064[1]x","asset_type":"native",
"from":"%[2]s","to":"%[3]s","amount":"1.0000000"}`, token, from, to)
}

func TestWalletExposition(t *testing.T) {
	f := newFakeHorizon(t)
	cfg := testPiConfig(t, f.URL, filepath.Join(t.TempDir(), "wallet.json"))
	cfg.StartCursor = "0"
	w, _ := newTestWallet(t, cfg)
	w.poll(context.Background())

	expositiontest.Compare(t, collectorAdapter{w}, "wallet")
	for _, q := range f.paymentQueries() {
		if !strings.Contains(q, "include_failed=false") || !strings.Contains(q, "order=asc") || !strings.Contains(q, "limit=200") {
			t.Errorf("payments query %q: want order=asc, limit=200, include_failed=false", q)
		}
	}
}

func TestWalletWithoutStateStartsAtTheNewestPayment(t *testing.T) {
	f := newFakeHorizon(t)
	state := filepath.Join(t.TempDir(), "wallet.json")
	w, logs := newTestWallet(t, testPiConfig(t, f.URL, state))

	w.poll(context.Background())
	st := readState(t, state)
	if st.Cursor != newestToken(t, f) || st.Account != testWallet {
		t.Fatalf("state after the first poll: %+v, want the newest payment's cursor", st)
	}
	wantCounts(t, st, 0, 0, 0) // history is not news
	if !strings.Contains(logs.String(), "starting at the newest payment") || !strings.Contains(logs.String(), `pi.start_cursor: \"0\"`) {
		t.Errorf("the log must say where it starts and how to audit history:\n%s", logs)
	}

	f.addRecord(nativePayment(200000000000000001, testWallet, testStranger))
	f.addRecord(nativePayment(200000000000000002, testStranger, testWallet))
	w.poll(context.Background())
	wantCounts(t, readState(t, state), 1, 1, 1)
	if !strings.Contains(logs.String(), "Unauthorized outgoing payment") || !strings.Contains(logs.String(), testStranger) {
		t.Errorf("an unauthorized payment must be logged with its destination:\n%s", logs)
	}
}

func TestWalletAuditFromStartCursorPagesThroughHistory(t *testing.T) {
	f := newFakeHorizon(t)
	state := filepath.Join(t.TempDir(), "wallet.json")
	cfg := testPiConfig(t, f.URL, state)
	cfg.StartCursor = "0"
	w, _ := newTestWallet(t, cfg)
	w.pageLimit = 2

	w.poll(context.Background())
	st := readState(t, state)
	wantCounts(t, st, historyIncoming, historyOutgoing, historyUnauthorized)
	if st.Cursor != newestToken(t, f) {
		t.Fatalf("cursor %s, want the newest payment %s", st.Cursor, newestToken(t, f))
	}
	// 7 listed records in pages of 2: 4 pages, the last one short.
	if n := len(f.paymentQueries()); n != 4 {
		t.Fatalf("%d payments requests, want 4: %q", n, f.paymentQueries())
	}
}

func TestWalletBoundsPagesPerPoll(t *testing.T) {
	f := newFakeHorizon(t)
	state := filepath.Join(t.TempDir(), "wallet.json")
	cfg := testPiConfig(t, f.URL, state)
	cfg.StartCursor = "0"
	w, _ := newTestWallet(t, cfg)
	w.pageLimit, w.maxPages = 2, 2

	w.poll(context.Background())
	if n := len(f.paymentQueries()); n != 2 {
		t.Fatalf("%d payments requests in one poll, want at most 2", n)
	}
	w.poll(context.Background())
	wantCounts(t, readState(t, state), historyIncoming, historyOutgoing, historyUnauthorized)
}

// A restart in the middle of paging: the first process accounts two pages
// and dies on the third (Horizon drops the connection). The restarted
// process resumes from the state file: every payment is counted exactly
// once, and the counters resume instead of starting at 0.
func TestWalletRestartInTheMiddleOfPaging(t *testing.T) {
	f := newFakeHorizon(t)
	state := filepath.Join(t.TempDir(), "wallet.json")
	cfg := testPiConfig(t, f.URL, state)
	cfg.StartCursor = "0"

	thirdPageCursor := make(chan string, 1)
	f.setOverride(func(w http.ResponseWriter, r *http.Request) bool {
		if !strings.HasSuffix(r.URL.Path, "/payments") || len(f.paymentQueries()) < 2 {
			return false
		}
		select { // net/http retries a GET once on a fresh connection
		case thirdPageCursor <- r.URL.Query().Get("cursor"):
		default:
		}
		conn, _, err := w.(http.Hijacker).Hijack()
		if err == nil {
			conn.Close() // the network fails mid-paging
		}
		return true
	})
	first, _ := newTestWallet(t, cfg)
	first.pageLimit = 2
	first.poll(context.Background())

	st := readState(t, state)
	if want := <-thirdPageCursor; st.Cursor != want {
		t.Fatalf("state cursor %s, want the end of the second page %s", st.Cursor, want)
	}
	// Records 1-4 of the fixture: created (in), 500 in, 25 out, FOO (not Pi).
	wantCounts(t, st, 2, 1, 0)
	if testutil.ToFloat64(upOf(first)) != 0 {
		t.Fatal("a failed page must set resonance_wallet_up to 0")
	}

	// Restart: a new collector from the same config and state file.
	f.setOverride(nil)
	second, _ := newTestWallet(t, cfg)
	second.pageLimit = 2
	if second.counts.Payments.Incoming != 2 {
		t.Fatalf("a restarted collector must expose the saved counters before its first poll: %+v", second.counts)
	}
	second.poll(context.Background())
	wantCounts(t, readState(t, state), historyIncoming, historyOutgoing, historyUnauthorized)

	// And once more: nothing new, nothing counted twice.
	third, _ := newTestWallet(t, cfg)
	third.poll(context.Background())
	wantCounts(t, readState(t, state), historyIncoming, historyOutgoing, historyUnauthorized)
}

// On a reload the new collector is built, and polls, before the old one is
// closed: two collectors of one state file must not account a page twice.
func TestWalletCollectorsSharingAStateFileCountOnce(t *testing.T) {
	f := newFakeHorizon(t)
	state := filepath.Join(t.TempDir(), "wallet.json")
	cfg := testPiConfig(t, f.URL, state)
	cfg.StartCursor = "0"
	old, _ := newTestWallet(t, cfg)
	next, _ := newTestWallet(t, cfg)

	var wg sync.WaitGroup
	wg.Go(func() { old.poll(context.Background()) })
	wg.Go(func() { next.poll(context.Background()) })
	wg.Wait()
	wantCounts(t, readState(t, state), historyIncoming, historyOutgoing, historyUnauthorized)
}

func TestWalletMalformedPageIsCountedAndDoesNotMoveTheCursor(t *testing.T) {
	for _, tc := range []struct{ name, body string }{
		{"not JSON", `<html>502 Bad Gateway</html>`},
		{"no _embedded", `{"_links":{}}`},
		{"record without paging_token", `{"_embedded":{"records":[{"type":"payment","from":"` + testWallet + `","to":"` + testStranger + `","asset_type":"native"}]}}`},
		{"payment without receiver", `{"_embedded":{"records":[{"paging_token":"300000000000000001","type":"payment","from":"` + testWallet + `","asset_type":"native","transaction_successful":true}]}}`},
		{"tokens not ascending", `{"_embedded":{"records":[` + nativePayment(300000000000000002, testWallet, testStranger) + `,` + nativePayment(300000000000000001, testWallet, testStranger) + `]}}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFakeHorizon(t)
			state := filepath.Join(t.TempDir(), "wallet.json")
			w, logs := newTestWallet(t, testPiConfig(t, f.URL, state))
			w.poll(context.Background()) // starts at the newest payment
			before := readState(t, state)

			f.setOverride(func(rw http.ResponseWriter, r *http.Request) bool {
				if !strings.HasSuffix(r.URL.Path, "/payments") {
					return false
				}
				rw.Write([]byte(tc.body))
				return true
			})
			w.poll(context.Background())
			if after := readState(t, state); after != before {
				t.Fatalf("a malformed page moved the state: %+v -> %+v", before, after)
			}
			if got := w.errors[horizonMalformed]; got != 1 {
				t.Fatalf("malformed errors = %v, want 1", got)
			}
			if testutil.ToFloat64(upOf(w)) != 0 {
				t.Fatal("resonance_wallet_up must be 0 after a malformed page")
			}
			if !strings.Contains(logs.String(), "Malformed Horizon reply") {
				t.Fatalf("a malformed reply must be logged:\n%s", logs)
			}

			// Horizon recovers: the next poll picks up where the state was.
			f.setOverride(nil)
			f.addRecord(nativePayment(400000000000000001, testWallet, testStranger))
			w.poll(context.Background())
			wantCounts(t, readState(t, state), 0, 1, 1)
		})
	}
}

func TestWalletHorizonDownKeepsTheLastGoodBalance(t *testing.T) {
	f := newFakeHorizon(t)
	w, _ := newTestWallet(t, testPiConfig(t, f.URL, filepath.Join(t.TempDir(), "wallet.json")))
	w.poll(context.Background())

	w.now = func() time.Time { return testNow.Add(time.Minute) }
	f.setOverride(func(rw http.ResponseWriter, _ *http.Request) bool {
		rw.Header().Set("Content-Type", "application/problem+json")
		rw.WriteHeader(http.StatusServiceUnavailable)
		rw.Write([]byte(`{"type":"https://stellar.org/horizon-errors/server_error","title":"Internal Server Error","status":503}`))
		return true
	})
	w.poll(context.Background())

	want := `
# HELP resonance_wallet_balance_pi Wallet balance in Pi (plan: wallet_balance), by who reported it (app: pushed business value; horizon: read from the chain).
# TYPE resonance_wallet_balance_pi gauge
resonance_wallet_balance_pi{source="horizon"} 9997.6802725
# HELP resonance_wallet_balance_timestamp_seconds Unix time the balance resonance_wallet_balance_pi{source="horizon"} was last read.
# TYPE resonance_wallet_balance_timestamp_seconds gauge
resonance_wallet_balance_timestamp_seconds 1.7957e+09
# HELP resonance_wallet_up Whether the last poll of Horizon read the balance and the new payments (1) or not (0).
# TYPE resonance_wallet_up gauge
resonance_wallet_up 0
`
	if err := testutil.CollectAndCompare(collectorAdapter{w}, strings.NewReader(want),
		"resonance_wallet_balance_pi", "resonance_wallet_balance_timestamp_seconds", "resonance_wallet_up"); err != nil {
		t.Fatal(err)
	}
	if got := w.errors[horizonHTTP5xx]; got != 2 {
		t.Fatalf("http_5xx errors = %v, want 2 (account and payments)", got)
	}
}

func TestWalletNetworkDownIsNotAZeroBalance(t *testing.T) {
	f := newFakeHorizon(t)
	w, _ := newTestWallet(t, testPiConfig(t, f.URL, filepath.Join(t.TempDir(), "wallet.json")))
	f.Close() // Horizon is gone before the first poll
	w.poll(context.Background())
	if n := testutil.CollectAndCount(collectorAdapter{w}, "resonance_wallet_balance_pi"); n != 0 {
		t.Fatalf("no balance was ever read: resonance_wallet_balance_pi must be absent, got %d series", n)
	}
	if testutil.ToFloat64(upOf(w)) != 0 || w.errors[horizonNetwork] == 0 {
		t.Fatalf("up must be 0 and the network error counted: %v", w.errors)
	}
}

func TestWalletHonoursRetryAfter(t *testing.T) {
	f := newFakeHorizon(t)
	w, _ := newTestWallet(t, testPiConfig(t, f.URL, filepath.Join(t.TempDir(), "wallet.json")))
	f.setOverride(func(rw http.ResponseWriter, _ *http.Request) bool {
		rw.Header().Set("Content-Type", "application/problem+json; charset=utf-8")
		rw.Header().Set("Retry-After", "120")
		rw.WriteHeader(http.StatusTooManyRequests)
		rw.Write(readFixtureNoT("horizon/rate_limit_exceeded.json"))
		return true
	})
	if wait := w.pollAndWait(context.Background()); wait != 120*time.Second {
		t.Fatalf("next poll in %s, want Retry-After's 120s", wait)
	}
	if n := len(f.paymentQueries()); n != 0 {
		t.Fatalf("after a 429 the poll must stop, not read payments (%d requests)", n)
	}
	if got := w.errors[horizonHTTP429]; got != 1 {
		t.Fatalf("http_429 errors = %v, want 1", got)
	}

	f.setOverride(nil)
	if wait := w.pollAndWait(context.Background()); wait != 30*time.Second {
		t.Fatalf("next poll in %s, want poll_interval's 30s once Horizon stops limiting", wait)
	}
}

func TestWalletStateOfAnotherAccountIsNotResumed(t *testing.T) {
	f := newFakeHorizon(t)
	state := filepath.Join(t.TempDir(), "wallet.json")
	other := walletState{Account: testStranger, Cursor: "5", Unauthorized: 9}
	if err := saveWalletState(state, other); err != nil {
		t.Fatal(err)
	}
	w, logs := newTestWallet(t, testPiConfig(t, f.URL, state))
	if w.counts.Unauthorized != 0 {
		t.Fatal("another wallet's counters must not be exposed")
	}
	w.poll(context.Background())
	st := readState(t, state)
	if st.Account != testWallet || st.Cursor != newestToken(t, f) {
		t.Fatalf("state: %+v", st)
	}
	wantCounts(t, st, 0, 0, 0)
	if !strings.Contains(logs.String(), "belongs to another wallet address") {
		t.Fatalf("log:\n%s", logs)
	}
}

func TestWalletCorruptStateFileFailsTheBuild(t *testing.T) {
	state := filepath.Join(t.TempDir(), "wallet.json")
	if err := os.WriteFile(state, []byte("{half"), 0o600); err != nil {
		t.Fatal(err)
	}
	logger, _ := newTestLogger()
	_, err := newWallet(testPiConfig(t, "http://127.0.0.1:1", state), logger)
	if err == nil || !strings.Contains(err.Error(), "fix or delete it") {
		t.Fatalf("want an error saying what to do, got %v", err)
	}
}

func TestSaveWalletStateReplacesAtomically(t *testing.T) {
	dir := t.TempDir()
	state := filepath.Join(dir, "wallet.json")
	for i := range 3 {
		if err := saveWalletState(state, walletState{Account: testWallet, Cursor: strconv.Itoa(i)}); err != nil {
			t.Fatal(err)
		}
	}
	if got := readState(t, state); got.Cursor != "2" || got.Version != walletStateVersion {
		t.Fatalf("state: %+v", got)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Fatalf("temporary files left behind: %v", entries)
	}
}

func TestPaymentDirection(t *testing.T) {
	failed := false
	for _, tc := range []struct {
		name string
		rec  paymentRecord
		want string
	}{
		{"native out", paymentRecord{Type: "payment", From: testWallet, To: testStranger, AssetType: "native"}, "outgoing"},
		{"native in", paymentRecord{Type: "payment", From: testStranger, To: testWallet, AssetType: "native"}, "incoming"},
		{"other asset out", paymentRecord{Type: "payment", From: testWallet, To: testStranger, AssetType: "credit_alphanum4"}, ""},
		{"failed transaction", paymentRecord{Type: "payment", From: testWallet, To: testStranger, AssetType: "native", TransactionSuccessful: &failed}, ""},
		{"self payment", paymentRecord{Type: "payment", From: testWallet, To: testWallet, AssetType: "native"}, ""},
		{"create_account funded by the wallet", paymentRecord{Type: "create_account", Funder: testWallet, Account: testStranger}, "outgoing"},
		{"the wallet's own creation", paymentRecord{Type: "create_account", Funder: testStranger, Account: testWallet}, "incoming"},
		{"wallet merged away", paymentRecord{Type: "account_merge", Account: testWallet, Into: testStranger}, "outgoing"},
		{"path payment spending Pi", paymentRecord{Type: "path_payment_strict_receive", From: testWallet, To: testStranger, SourceAssetType: "native", AssetType: "credit_alphanum4"}, "outgoing"},
		{"path payment delivering Pi", paymentRecord{Type: "path_payment_strict_send", From: testStranger, To: testWallet, SourceAssetType: "credit_alphanum4", AssetType: "native"}, "incoming"},
		{"contract call", paymentRecord{Type: "invoke_host_function"}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := paymentDirection(tc.rec, testWallet)
			if err != nil || got != tc.want {
				t.Fatalf("got %q, %v; want %q", got, err, tc.want)
			}
		})
	}
}

func TestAccountPageAuthorizedDestinations(t *testing.T) {
	records := []paymentRecord{
		{PagingToken: "10", Type: "payment", From: testWallet, To: testAuthorized, AssetType: "native"},
		{PagingToken: "11", Type: "create_account", Funder: testWallet, Account: testStranger},
		{PagingToken: "12", Type: "account_merge", Account: testWallet, Into: testAuthorized},
	}
	st, unauthorized, err := accountPage(walletState{Cursor: "9"}, records, testWallet, map[string]bool{testAuthorized: true})
	if err != nil {
		t.Fatal(err)
	}
	wantCounts(t, st, 0, 3, 1)
	if len(unauthorized) != 1 || unauthorized[0].Account != testStranger || st.Cursor != "12" {
		t.Fatalf("unauthorized %+v, cursor %s", unauthorized, st.Cursor)
	}
}

// upOf returns resonance_wallet_up as a collector for testutil.ToFloat64.
func upOf(w *walletCollector) collectorAdapterFilter {
	return collectorAdapterFilter{w, "resonance_wallet_up"}
}

// collectorAdapterFilter exposes one metric family of a source, for
// testutil.ToFloat64.
type collectorAdapterFilter struct {
	c    Collector
	name string
}

func (a collectorAdapterFilter) Describe(ch chan<- *prometheus.Desc) {
	prometheus.DescribeByCollect(a, ch)
}

func (a collectorAdapterFilter) Collect(ch chan<- prometheus.Metric) {
	all := make(chan prometheus.Metric)
	go func() {
		_ = a.c.Update(all)
		close(all)
	}()
	for m := range all {
		if strings.Contains(m.Desc().String(), `fqName: "`+a.name+`"`) {
			ch <- m
		}
	}
}
