package llm

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
)

// KeyState is what a key check found.
type KeyState string

// The outcomes of CheckKey.
const (
	KeyValid     KeyState = "valid"      // works, with a spending limit left
	KeyUnlimited KeyState = "unlimited"  // works, no limit set (OpenRouter)
	KeyNoCredit  KeyState = "no_credit"  // accepted but out of credit
	KeyInvalid   KeyState = "invalid"    // rejected (401/403)
	KeyUnchecked KeyState = "unverified" // the provider could not be asked (5xx, network)
)

// KeyStatus is a key check's verdict and what the user should read about it.
type KeyStatus struct {
	State     KeyState
	Remaining *float64 // credits left, when the provider says
	Detail    string
}

// CheckKey validates a key with a cheap real call before it is stored: OpenRouter's
// key-info endpoint (GET /key: invalid, out of credit, or unlimited), else any
// OpenAI-compatible provider's model list (GET /models). It spends no tokens. The key
// is never part of the returned text.
func (c *Client) CheckKey(ctx context.Context, provider, apiKey string) (KeyStatus, error) {
	if strings.TrimSpace(apiKey) == "" {
		return KeyStatus{State: KeyInvalid, Detail: "the key is empty"}, nil
	}
	path := "/models"
	if provider == "openrouter" {
		path = "/key"
	}
	ctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.baseURL+path, nil)
	if err != nil {
		return KeyStatus{}, fmt.Errorf("key check: %s", redact(err.Error(), apiKey))
	}
	req.Header.Set("Authorization", "Bearer "+apiKey)
	resp, err := c.http.Do(req)
	if err != nil {
		return KeyStatus{State: KeyUnchecked, Detail: "the provider could not be reached: " + redact(err.Error(), apiKey)}, nil
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	switch {
	case resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden:
		return KeyStatus{State: KeyInvalid, Detail: "the provider rejected this key"}, nil
	case resp.StatusCode == http.StatusPaymentRequired:
		return KeyStatus{State: KeyNoCredit, Detail: "the key has no credit left"}, nil
	case resp.StatusCode != http.StatusOK:
		return KeyStatus{State: KeyUnchecked, Detail: fmt.Sprintf("the provider answered HTTP %d", resp.StatusCode)}, nil
	}
	if provider != "openrouter" {
		return KeyStatus{State: KeyValid, Detail: "the provider accepted this key"}, nil
	}
	var info struct {
		Data struct {
			Limit          *float64 `json:"limit"`
			LimitRemaining *float64 `json:"limit_remaining"`
			Usage          float64  `json:"usage"`
		} `json:"data"`
	}
	if err := json.Unmarshal(body, &info); err != nil {
		return KeyStatus{State: KeyUnchecked, Detail: "the provider's key info was unreadable"}, nil
	}
	d := info.Data
	remaining := d.LimitRemaining
	if remaining == nil && d.Limit != nil {
		r := *d.Limit - d.Usage
		remaining = &r
	}
	switch {
	case d.Limit == nil:
		return KeyStatus{State: KeyUnlimited, Detail: "the key works and has no spending limit"}, nil
	case remaining != nil && *remaining <= 0:
		return KeyStatus{State: KeyNoCredit, Remaining: remaining, Detail: "the key works but its credit limit is used up"}, nil
	}
	return KeyStatus{State: KeyValid, Remaining: remaining, Detail: fmt.Sprintf("the key works; %.2f credits left on its limit", *remaining)}, nil
}
