package approval

import (
	"bytes"
	"context"
	"crypto/hmac"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Webhook headers. The signature is HMAC-SHA256 over
// "<timestamp>.<body>" with the key named by the key id, hex encoded,
// so a receiver can check both the body and its freshness.
const (
	HeaderSignature = "X-Mcpkit-Signature"
	HeaderTimestamp = "X-Mcpkit-Timestamp"
	HeaderKeyID     = "X-Mcpkit-Key-Id"
)

// WebhookConfig configures a Webhook.
type WebhookConfig struct {
	// URL receives a POST for each pending request. Required.
	URL string
	// Keys sign the body (with the newest key). Required.
	Keys *Keyring
	// Client sends the requests; a client with a 10 s timeout if nil.
	Client *http.Client
	// Attempts is how many times a delivery is tried (default 4).
	Attempts int
	// Backoff is the wait before the first retry, doubled after each
	// (default 250 ms, at most 5 s between attempts).
	Backoff time.Duration
}

// Webhook is a Notifier that posts each pending request as JSON to a URL
// (a chat bot, an incident tool), signed, retried with backoff on network
// errors, 429 and 5xx answers.
type Webhook struct {
	opts WebhookConfig
}

// WebhookPayload is the JSON body a webhook receives.
type WebhookPayload struct {
	Type    string  `json:"type"`
	Request Request `json:"request"`
}

// NewWebhook returns a webhook notifier.
func NewWebhook(opts WebhookConfig) (*Webhook, error) {
	if opts.URL == "" {
		return nil, errors.New("approval: a Webhook needs a URL")
	}
	if opts.Keys == nil {
		return nil, errors.New("approval: a Webhook needs Keys to sign its body")
	}
	if opts.Client == nil {
		opts.Client = &http.Client{Timeout: 10 * time.Second}
	}
	if opts.Attempts <= 0 {
		opts.Attempts = 4
	}
	if opts.Backoff <= 0 {
		opts.Backoff = 250 * time.Millisecond
	}
	return &Webhook{opts: opts}, nil
}

const maxBackoff = 5 * time.Second

// Notify implements Notifier.
func (w *Webhook) Notify(ctx context.Context, r Request) error {
	body, err := json.Marshal(WebhookPayload{Type: "approval.pending", Request: r})
	if err != nil {
		return err
	}
	wait := w.opts.Backoff
	var last error
	for attempt := 1; ; attempt++ {
		retry, err := w.post(ctx, body)
		if err == nil {
			return nil
		}
		last = err
		if !retry || attempt >= w.opts.Attempts {
			break
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("webhook: %w (last attempt: %v)", ctx.Err(), last)
		case <-t.C:
		}
		wait = min(2*wait, maxBackoff)
	}
	return fmt.Errorf("webhook: delivery failed after %d attempts: %w", w.opts.Attempts, last)
}

// post sends one attempt and reports whether a failure is worth retrying.
func (w *Webhook) post(ctx context.Context, body []byte) (retry bool, err error) {
	ts := strconv.FormatInt(time.Now().Unix(), 10)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, w.opts.URL, bytes.NewReader(body))
	if err != nil {
		return false, err
	}
	key := w.opts.Keys.sign
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(HeaderTimestamp, ts)
	req.Header.Set(HeaderKeyID, key.ID)
	req.Header.Set(HeaderSignature, "sha256="+hex.EncodeToString(mac(key.Secret, ts+"."+string(body))))
	res, err := w.opts.Client.Do(req)
	if err != nil {
		return ctx.Err() == nil, err
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(res.Body, 64<<10))
	res.Body.Close()
	switch {
	case res.StatusCode >= 200 && res.StatusCode < 300:
		return false, nil
	case res.StatusCode == http.StatusTooManyRequests || res.StatusCode >= 500:
		return true, fmt.Errorf("webhook answered %s", res.Status)
	}
	return false, fmt.Errorf("webhook answered %s", res.Status)
}

// VerifyWebhook checks a received webhook's signature and freshness, for
// the receiving side (a chat bot written in Go, and tests).
func VerifyWebhook(h http.Header, body []byte, keys *Keyring, maxSkew time.Duration, now time.Time) error {
	ts := h.Get(HeaderTimestamp)
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return errors.New("webhook: missing or malformed timestamp")
	}
	if d := now.Sub(time.Unix(sec, 0)); d > maxSkew || d < -maxSkew {
		return errors.New("webhook: timestamp outside the allowed skew (replayed or clock drift)")
	}
	secret, ok := keys.keys[h.Get(HeaderKeyID)]
	if !ok {
		return errors.New("webhook: unknown key id")
	}
	sig, ok := strings.CutPrefix(h.Get(HeaderSignature), "sha256=")
	got, err := hex.DecodeString(sig)
	if !ok || err != nil || !hmac.Equal(got, mac(secret, ts+"."+string(body))) {
		return errors.New("webhook: signature does not verify")
	}
	return nil
}
