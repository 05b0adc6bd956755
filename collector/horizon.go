package collector

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/quantum-resonance/telemetry/httpretry"
)

// This file is a minimal client for the two Horizon endpoints the wallet
// collector reads (Pi runs Stellar's Horizon): the account, for its native
// balance, and the account's payments, paged by cursor.

// Reasons a Horizon request failed, the values of the reason label of
// resonance_wallet_horizon_errors_total.
const (
	horizonTimeout   = "timeout"
	horizonNetwork   = "network"
	horizonHTTP429   = "http_429"
	horizonHTTP4xx   = "http_4xx"
	horizonHTTP5xx   = "http_5xx"
	horizonMalformed = "malformed"
)

var horizonErrorReasons = []string{
	horizonTimeout, horizonNetwork, horizonHTTP429, horizonHTTP4xx, horizonHTTP5xx, horizonMalformed,
}

// maxHorizonBody bounds a reply: a page of 200 payments is ~200 KiB.
const maxHorizonBody = 4 << 20

// horizonError is a failed request, with its reason label and, for 429 or
// 5xx, how long Horizon asked us to wait (capped by httpretry, so that a
// broken or hostile value cannot stop the wallet from being watched for
// days).
type horizonError struct {
	reason     string
	retryAfter time.Duration
	msg        string
}

func (e *horizonError) Error() string { return e.msg }

// horizonClient requests Horizon under a per-request timeout.
type horizonClient struct {
	base    *url.URL
	client  *http.Client
	timeout time.Duration
	now     func() time.Time
}

// horizonAccount is the part of GET /accounts/{id} the collector reads.
type horizonAccount struct {
	AccountID string `json:"account_id"`
	Balances  []struct {
		Balance   string `json:"balance"`
		AssetType string `json:"asset_type"`
	} `json:"balances"`
}

// nativeBalance is the balance of the chain's own asset (Pi on Pi's chain,
// asset_type "native"), among the account's trust lines.
func (a horizonAccount) nativeBalance() (float64, error) {
	for _, b := range a.Balances {
		if b.AssetType != "native" {
			continue
		}
		v, err := strconv.ParseFloat(b.Balance, 64)
		if err != nil {
			return 0, fmt.Errorf("native balance %q is not a number", b.Balance)
		}
		return v, nil
	}
	return 0, errors.New("no balance with asset_type native")
}

// paymentsPage is a page of GET /accounts/{id}/payments (HAL: records under
// _embedded).
type paymentsPage struct {
	Embedded *struct {
		Records []paymentRecord `json:"records"`
	} `json:"_embedded"`
}

// paymentRecord holds the fields of the payment-like operations Horizon
// lists for an account: payment, path_payment_strict_send/receive,
// create_account and account_merge.
type paymentRecord struct {
	PagingToken           string `json:"paging_token"`
	Type                  string `json:"type"`
	TransactionSuccessful *bool  `json:"transaction_successful"`
	TransactionHash       string `json:"transaction_hash"`
	// payment and path payments: to receives asset_type; from sends
	// source_asset_type on a path payment, asset_type on a payment.
	From            string `json:"from"`
	To              string `json:"to"`
	AssetType       string `json:"asset_type"`
	SourceAssetType string `json:"source_asset_type"`
	// create_account: funder creates account. account_merge: account is
	// merged into into.
	Funder  string `json:"funder"`
	Account string `json:"account"`
	Into    string `json:"into"`
}

func (h *horizonClient) account(ctx context.Context, id string) (horizonAccount, error) {
	var a horizonAccount
	if err := h.get(ctx, h.base.JoinPath("accounts", id), nil, &a); err != nil {
		return a, err
	}
	if a.AccountID != id {
		return a, &horizonError{reason: horizonMalformed, msg: "account reply is for another account_id"}
	}
	return a, nil
}

// payments reads one page of the account's payments. Payments of failed
// transactions are left out (include_failed=false, Horizon's default, said
// explicitly): they moved nothing.
func (h *horizonClient) payments(ctx context.Context, id, cursor, order string, limit int) ([]paymentRecord, error) {
	q := url.Values{}
	q.Set("order", order)
	q.Set("limit", strconv.Itoa(limit))
	q.Set("include_failed", "false")
	if cursor != "" {
		q.Set("cursor", cursor)
	}
	var page paymentsPage
	if err := h.get(ctx, h.base.JoinPath("accounts", id, "payments"), q, &page); err != nil {
		return nil, err
	}
	if page.Embedded == nil {
		return nil, &horizonError{reason: horizonMalformed, msg: "payments reply has no _embedded.records"}
	}
	return page.Embedded.Records, nil
}

func (h *horizonClient) get(ctx context.Context, u *url.URL, q url.Values, into any) error {
	ctx, cancel := context.WithTimeout(ctx, h.timeout)
	defer cancel()
	if q != nil {
		u.RawQuery = q.Encode()
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return &horizonError{reason: horizonNetwork, msg: "cannot build the request"}
	}
	req.Header.Set("Accept", "application/hal+json, application/json")
	resp, err := h.client.Do(req)
	if err != nil {
		reason, cleaned := transportFailure(err)
		return &horizonError{reason: reason, msg: cleaned.Error()}
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxHorizonBody+1))
	if err != nil {
		reason, cleaned := transportFailure(err)
		return &horizonError{reason: reason, msg: "reading the reply: " + cleaned.Error()}
	}
	if resp.StatusCode != http.StatusOK {
		return h.statusError(resp, body)
	}
	if len(body) > maxHorizonBody {
		return &horizonError{reason: horizonMalformed, msg: fmt.Sprintf("reply is larger than %d bytes", maxHorizonBody)}
	}
	if err := json.Unmarshal(body, into); err != nil {
		return &horizonError{reason: horizonMalformed, msg: "reply is not the expected JSON: " + err.Error()}
	}
	return nil
}

// statusError turns a non-200 answer into an error carrying Horizon's own
// words: its errors are problem+json ({"type","title","status","detail"}).
func (h *horizonClient) statusError(resp *http.Response, body []byte) error {
	var problem struct {
		Title  string `json:"title"`
		Detail string `json:"detail"`
	}
	msg := resp.Status
	if json.Unmarshal(body, &problem) == nil && problem.Title != "" {
		msg += ": " + problem.Title
	}
	e := &horizonError{msg: msg}
	verdict, wait := httpretry.Classifier{Now: h.now}.Classify(resp.StatusCode, resp.Header, body)
	switch {
	case resp.StatusCode == http.StatusTooManyRequests:
		e.reason, e.retryAfter = horizonHTTP429, wait
	case verdict == httpretry.Retry:
		e.reason, e.retryAfter = horizonHTTP5xx, wait
	default:
		e.reason = horizonHTTP4xx
	}
	return e
}
