package collector

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	commonconfig "github.com/prometheus/common/config"
	"github.com/prometheus/common/version"

	"github.com/quantum-resonance/telemetry/config"
)

// sourceHorizon is the source label of what the wallet collector read from
// the chain. The balance and unauthorized-transaction families also hold the
// app's own reports (source="app", sent by the ingest collector), so their
// descriptors here are the only ones: one HELP and type for one family.
const sourceHorizon = "horizon"

var (
	walletUpDesc = prometheus.NewDesc(
		"resonance_wallet_up",
		"Whether the last poll of Horizon read the balance and the new payments (1) or not (0).",
		nil, nil,
	)
	walletBalanceDesc = prometheus.NewDesc(
		"resonance_wallet_balance_pi",
		"Wallet balance in Pi (plan: wallet_balance), by who reported it (app: pushed business value; horizon: read from the chain).",
		[]string{"source"}, nil,
	)
	walletBalanceTimestampDesc = prometheus.NewDesc(
		"resonance_wallet_balance_timestamp_seconds",
		"Unix time the balance resonance_wallet_balance_pi{source=\"horizon\"} was last read.",
		nil, nil,
	)
	walletPaymentsDesc = prometheus.NewDesc(
		"resonance_wallet_payments_total",
		"Successful Pi (native) payments of the wallet read from the chain, by direction (incoming, outgoing); create_account and account_merge count as payments.",
		[]string{"direction"}, nil,
	)
	walletUnauthorizedDesc = prometheus.NewDesc(
		"resonance_wallet_unauthorized_transactions_total",
		"Outgoing wallet transactions not to an authorized destination, by who reported them (app: ingest events; horizon: the chain).",
		[]string{"source"}, nil,
	)
	walletHorizonErrorsDesc = prometheus.NewDesc(
		"resonance_wallet_horizon_errors_total",
		"Failed Horizon requests of the wallet collector, by reason: timeout, network, http_429, http_4xx, http_5xx, malformed (a reply that could not be accounted; the cursor stays where it was).",
		[]string{"reason"}, nil,
	)
)

const (
	// paymentsPageLimit is Horizon's largest page.
	paymentsPageLimit = 200
	// maxPagesPerPoll bounds one poll, so that a long backlog (an old
	// start_cursor) is caught up over several polls without hogging Horizon
	// or our rate limit.
	maxPagesPerPoll = 10
)

func init() {
	registerCollector("wallet", newWalletCollector)
	reuseWhileUnchanged("wallet", func(c *config.Config) any { return c.Pi })
}

// walletCollector polls Horizon in the background for the wallet's native
// balance and its new payments, and exposes the last results.
type walletCollector struct {
	wallet       string
	authorized   map[string]bool
	statePath    string
	startCursor  string
	pollInterval time.Duration
	pageLimit    int // records a page, paymentsPageLimit but in tests
	maxPages     int // pages a poll, maxPagesPerPoll but in tests
	horizon      *horizonClient
	logger       *slog.Logger
	now          func() time.Time
	// stateLock is shared by every collector of the same state file.
	stateLock *sync.Mutex

	mu         sync.Mutex
	counts     walletState // as last written to the state file
	polled     bool        // a poll has finished, so up is known
	up         bool
	hasBalance bool
	balance    float64
	balanceAt  time.Time
	errors     map[string]float64

	loop *background
}

func newWalletCollector(d Deps) (Collector, error) {
	if d.Config.Pi.WalletAddress == "" {
		return nil, nil
	}
	return newWallet(d.Config.Pi, d.Logger)
}

// start reads the state file again, now that the collector this one
// replaces has stopped and committed its last page, and starts polling.
func (w *walletCollector) start() {
	w.stateLock.Lock()
	st, found, err := loadWalletState(w.statePath)
	w.stateLock.Unlock()
	switch {
	case err != nil:
		w.logger.Error("Re-reading the wallet state file; going on with the state read at load", "err", err)
	case found && st.Account == w.wallet:
		w.mu.Lock()
		w.counts = st
		w.mu.Unlock()
	}
	w.loop = startBackground(w.pollAndWait)
}

// newWallet builds the collector without starting its loop. An unreadable
// state file is an error here, so that a start or a reload fails loudly
// instead of silently starting over.
func newWallet(cfg config.PiConfig, logger *slog.Logger) (*walletCollector, error) {
	base, err := url.Parse(cfg.HorizonURL)
	if err != nil {
		return nil, errors.New("pi.horizon_url is not a valid URL")
	}
	client, err := commonconfig.NewClientFromConfig(cfg.HTTPClientConfig, "pi_horizon",
		commonconfig.WithUserAgent("resonance-exporter/"+version.Version))
	if err != nil {
		return nil, fmt.Errorf("pi.http_config: %w", err)
	}
	st, found, err := loadWalletState(cfg.StateFile)
	if err != nil {
		return nil, fmt.Errorf("pi.state_file: %w", err)
	}
	if !found || st.Account != cfg.WalletAddress {
		st = walletState{Account: cfg.WalletAddress}
	}
	authorized := make(map[string]bool, len(cfg.AuthorizedDestinations))
	for _, d := range cfg.AuthorizedDestinations {
		authorized[d] = true
	}
	errorCounts := make(map[string]float64, len(horizonErrorReasons))
	for _, r := range horizonErrorReasons {
		errorCounts[r] = 0
	}
	w := &walletCollector{
		wallet:       cfg.WalletAddress,
		authorized:   authorized,
		statePath:    cfg.StateFile,
		startCursor:  cfg.StartCursor,
		pollInterval: time.Duration(cfg.PollInterval),
		pageLimit:    paymentsPageLimit,
		maxPages:     maxPagesPerPoll,
		logger:       logger,
		now:          time.Now,
		stateLock:    stateFileLock(cfg.StateFile),
		counts:       st,
		errors:       errorCounts,
	}
	w.horizon = &horizonClient{base: base, client: client, timeout: time.Duration(cfg.Timeout), now: func() time.Time { return w.now() }}
	return w, nil
}

// Close stops polling, aborting a request in flight, and closes the
// connections to Horizon.
func (w *walletCollector) Close() error {
	if w.loop != nil {
		w.loop.stop()
	}
	w.horizon.client.CloseIdleConnections()
	return nil
}

// pollAndWait is the background job. It waits at least pi.poll_interval,
// longer when Horizon's Retry-After asks for it.
func (w *walletCollector) pollAndWait(ctx context.Context) time.Duration {
	retryAfter := w.poll(ctx)
	return max(w.pollInterval, retryAfter)
}

// poll reads the balance, then the payments since the cursor, and returns
// the Retry-After of a 429 (0 otherwise).
func (w *walletCollector) poll(ctx context.Context) time.Duration {
	w.stateLock.Lock()
	defer w.stateLock.Unlock()

	balanceErr := w.readBalance(ctx)
	var paymentsErr error
	if !isRateLimited(balanceErr) {
		// Even without a balance (a merged account answers 404) the
		// payments are worth reading: they say where the Pi went.
		paymentsErr = w.readPayments(ctx)
	}
	if ctx.Err() != nil {
		return 0 // stopped mid-poll: not Horizon's fault, record nothing
	}

	err := errors.Join(balanceErr, paymentsErr)
	w.mu.Lock()
	wasUp, hadPolled := w.up, w.polled
	w.polled, w.up = true, err == nil
	w.mu.Unlock()

	switch {
	case err != nil && (wasUp || !hadPolled):
		w.logger.Warn("Wallet poll failed; keeping the last good balance", "err", err)
	case err != nil:
		w.logger.Debug("Wallet poll failed", "err", err)
	case hadPolled && !wasUp:
		w.logger.Info("Wallet poll recovered")
	}

	var retryAfter time.Duration
	for _, e := range []error{balanceErr, paymentsErr} {
		var he *horizonError
		if errors.As(e, &he) && he.retryAfter > 0 {
			retryAfter = max(retryAfter, he.retryAfter)
		}
	}
	return retryAfter
}

func (w *walletCollector) readBalance(ctx context.Context) error {
	account, err := w.horizon.account(ctx, w.wallet)
	if err == nil {
		var balance float64
		balance, err = account.nativeBalance()
		if err == nil {
			w.mu.Lock()
			w.hasBalance, w.balance, w.balanceAt = true, balance, w.now()
			w.mu.Unlock()
			return nil
		}
		err = &horizonError{reason: horizonMalformed, msg: "account reply: " + err.Error()}
	}
	w.countError(ctx, err)
	return fmt.Errorf("balance: %w", err)
}

// readPayments accounts the payments after the saved cursor, a page at a
// time. Each page is written to the state file before the next is read, so
// a restart resumes after the last accounted page: nothing missed, nothing
// counted twice.
func (w *walletCollector) readPayments(ctx context.Context) error {
	st, found, err := loadWalletState(w.statePath)
	if err != nil {
		return fmt.Errorf("state file: %w", err)
	}
	if !found || st.Account != w.wallet {
		if found {
			w.logger.Warn("The state file belongs to another wallet address; starting over for this one",
				"state_file", w.statePath, "state_account", st.Account)
		}
		if st, err = w.startState(ctx); err != nil {
			return err
		}
	}
	for range w.maxPages {
		records, err := w.horizon.payments(ctx, w.wallet, st.Cursor, "asc", w.pageLimit)
		if err != nil {
			w.countError(ctx, err)
			return fmt.Errorf("payments after cursor %s: %w", st.Cursor, err)
		}
		if len(records) == 0 {
			return nil
		}
		next, unauthorized, err := accountPage(st, records, w.wallet, w.authorized)
		if err != nil {
			err = &horizonError{reason: horizonMalformed, msg: err.Error()}
			w.countError(ctx, err)
			return fmt.Errorf("payments after cursor %s: %w", st.Cursor, err)
		}
		if err := w.commit(next); err != nil {
			return err
		}
		for _, p := range unauthorized {
			w.logger.Warn("Unauthorized outgoing payment on the chain", "type", p.Type,
				"destination", destinationOf(p), "transaction_hash", p.TransactionHash, "paging_token", p.PagingToken)
		}
		st = next
		if len(records) < w.pageLimit {
			return nil
		}
	}
	w.logger.Debug("Payments backlog continues at the next poll", "cursor", st.Cursor)
	return nil
}

// startState is the state of a wallet seen for the first time: at the
// newest payment (history is not news), or at pi.start_cursor to audit it.
func (w *walletCollector) startState(ctx context.Context) (walletState, error) {
	st := walletState{Account: w.wallet, Cursor: w.startCursor}
	if w.startCursor != "" {
		w.logger.Info("No wallet state: starting at pi.start_cursor; earlier payments are counted as they are paged",
			"state_file", w.statePath, "cursor", st.Cursor)
	} else {
		newest, err := w.horizon.payments(ctx, w.wallet, "", "desc", 1)
		if err != nil {
			w.countError(ctx, err)
			return st, fmt.Errorf("newest payment: %w", err)
		}
		if len(newest) > 0 {
			if !pagingTokenValid(newest[0].PagingToken) {
				err := &horizonError{reason: horizonMalformed, msg: fmt.Sprintf("newest payment has paging_token %q", newest[0].PagingToken)}
				w.countError(ctx, err)
				return st, err
			}
			st.Cursor = newest[0].PagingToken
		}
		w.logger.Info("No wallet state: starting at the newest payment, earlier history is not counted; "+
			"to audit it, stop the exporter, delete the state file and set pi.start_cursor: \"0\"",
			"state_file", w.statePath, "cursor", st.Cursor)
	}
	if err := w.commit(st); err != nil {
		return st, err
	}
	return st, nil
}

// commit writes st to the state file, then exposes its counters. When the
// write fails, nothing moves: the next poll re-reads the old state and
// accounts the same page again, once.
func (w *walletCollector) commit(st walletState) error {
	if err := saveWalletState(w.statePath, st); err != nil {
		w.logger.Error("Cannot write the wallet state file; the page will be accounted again", "err", err)
		return fmt.Errorf("state file: %w", err)
	}
	w.mu.Lock()
	w.counts = st
	w.mu.Unlock()
	return nil
}

// countError counts a failed Horizon request by reason. A malformed reply is
// also logged every time: unlike an outage it does not heal by itself, and
// the cursor stays stuck before it until Horizon (or a proxy) is fixed.
func (w *walletCollector) countError(ctx context.Context, err error) {
	var he *horizonError
	if ctx.Err() != nil || !errors.As(err, &he) {
		return
	}
	w.mu.Lock()
	w.errors[he.reason]++
	w.mu.Unlock()
	if he.reason == horizonMalformed {
		w.logger.Warn("Malformed Horizon reply, counted and skipped; the cursor stays where it was", "err", he)
	}
}

func isRateLimited(err error) bool {
	var he *horizonError
	return errors.As(err, &he) && he.reason == horizonHTTP429
}

// Update sends the results of the last poll; it never calls Horizon.
func (w *walletCollector) Update(ch chan<- prometheus.Metric) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, reason := range horizonErrorReasons {
		ch <- prometheus.MustNewConstMetric(walletHorizonErrorsDesc, prometheus.CounterValue, w.errors[reason], reason)
	}
	ch <- prometheus.MustNewConstMetric(walletPaymentsDesc, prometheus.CounterValue, float64(w.counts.Payments.Incoming), "incoming")
	ch <- prometheus.MustNewConstMetric(walletPaymentsDesc, prometheus.CounterValue, float64(w.counts.Payments.Outgoing), "outgoing")
	ch <- prometheus.MustNewConstMetric(walletUnauthorizedDesc, prometheus.CounterValue, float64(w.counts.Unauthorized), sourceHorizon)
	if w.polled {
		up := 0.0
		if w.up {
			up = 1
		}
		ch <- prometheus.MustNewConstMetric(walletUpDesc, prometheus.GaugeValue, up)
	}
	if w.hasBalance {
		ch <- prometheus.MustNewConstMetric(walletBalanceDesc, prometheus.GaugeValue, w.balance, sourceHorizon)
		ch <- prometheus.MustNewConstMetric(walletBalanceTimestampDesc, prometheus.GaugeValue, float64(w.balanceAt.UnixNano())/1e9)
	}
	return nil
}

// accountPage adds a page of payment records to st. It is all or nothing: a
// record it cannot read fails the whole page, so the cursor never moves past
// a payment that was not accounted.
func accountPage(st walletState, records []paymentRecord, wallet string, authorized map[string]bool) (walletState, []paymentRecord, error) {
	var unauthorized []paymentRecord
	last := int64(-1)
	if st.Cursor != "" {
		last, _ = strconv.ParseInt(st.Cursor, 10, 64)
	}
	for i, rec := range records {
		token, err := strconv.ParseInt(rec.PagingToken, 10, 64)
		if err != nil || !pagingTokenValid(rec.PagingToken) {
			return st, nil, fmt.Errorf("record %d: paging_token %q is not a payment paging token", i, rec.PagingToken)
		}
		if token <= last {
			return st, nil, fmt.Errorf("record %d: paging_token %s does not follow %d (not ascending)", i, rec.PagingToken, last)
		}
		last = token
		direction, err := paymentDirection(rec, wallet)
		if err != nil {
			return st, nil, fmt.Errorf("record %d (paging_token %s): %w", i, rec.PagingToken, err)
		}
		switch direction {
		case "incoming":
			st.Payments.Incoming++
		case "outgoing":
			st.Payments.Outgoing++
			if !authorized[destinationOf(rec)] {
				st.Unauthorized++
				unauthorized = append(unauthorized, rec)
			}
		}
		st.Cursor = rec.PagingToken
	}
	return st, unauthorized, nil
}

// paymentDirection says whether rec moved Pi (the native asset) into or out
// of the wallet: "incoming", "outgoing", or "" for a record that moved no
// Pi of the wallet (another asset, a failed transaction, a self-payment).
func paymentDirection(rec paymentRecord, wallet string) (string, error) {
	if rec.TransactionSuccessful != nil && !*rec.TransactionSuccessful {
		// Horizon leaves these out unless include_failed=true; a failed
		// transaction moved nothing either way.
		return "", nil
	}
	var from, to string
	var sentNative, receivedNative bool
	switch rec.Type {
	case "payment":
		from, to = rec.From, rec.To
		sentNative = rec.AssetType == "native"
		receivedNative = sentNative
	case "path_payment_strict_receive", "path_payment_strict_send", "path_payment":
		from, to = rec.From, rec.To
		sentNative = rec.SourceAssetType == "native"
		receivedNative = rec.AssetType == "native"
	case "create_account":
		from, to = rec.Funder, rec.Account
		sentNative, receivedNative = true, true
	case "account_merge":
		from, to = rec.Account, rec.Into
		sentNative, receivedNative = true, true
	case "":
		return "", errors.New("record has no type")
	default:
		// Newer operation types Horizon may list (e.g. contract calls) are
		// not payments of Pi between accounts.
		return "", nil
	}
	if from == "" || to == "" {
		return "", fmt.Errorf("%s record lacks its sender or receiver", rec.Type)
	}
	switch {
	case from == to:
		return "", nil
	case from == wallet && sentNative:
		return "outgoing", nil
	case to == wallet && receivedNative:
		return "incoming", nil
	}
	return "", nil
}

// destinationOf is where an outgoing record sent the wallet's Pi.
func destinationOf(rec paymentRecord) string {
	switch rec.Type {
	case "create_account":
		return rec.Account
	case "account_merge":
		return rec.Into
	default:
		return rec.To
	}
}

// pagingTokenValid: payment paging tokens are operation ids, decimal
// non-negative int64s.
func pagingTokenValid(s string) bool {
	if s == "" || len(s) > 19 {
		return false
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}
