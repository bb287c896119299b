package activities

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/tzurot/tzurot/store"
)

// ErrTypeGuestQuota marks a guest turn refused by the free tier's limits.
const ErrTypeGuestQuota = "GuestQuota"

// GuestPolicy bounds what the operator's key does for users without their own: only
// models on the free allowlist, a per-user token bucket of turns, and a global daily
// token cap.
type GuestPolicy struct {
	FreeModels    []string // the system key runs only these for guests; the first is the fallback
	TurnsPerHour  float64  // per-user refill rate of the bucket (0: no per-user limit)
	Burst         int      // per-user bucket size
	DailyTokenCap int      // all guests together, per UTC day (0 = no cap)
}

// DefaultGuestPolicy is a conservative free tier.
func DefaultGuestPolicy() GuestPolicy {
	return GuestPolicy{
		FreeModels:    []string{"meta-llama/llama-3.3-70b-instruct:free", "google/gemini-2.0-flash-exp:free"},
		TurnsPerHour:  20,
		Burst:         5,
		DailyTokenCap: 2_000_000,
	}
}

// Allows reports whether a guest may use model on the system key (an empty allowlist
// allows every model: the operator chose to pay for all).
func (g GuestPolicy) Allows(model string) bool {
	return len(g.FreeModels) == 0 || slices.Contains(g.FreeModels, model)
}

// GuestFooter is shown under replies paid by the operator's free tier.
const GuestFooter = "-# A free model answered. Use your own key for any model: /settings apikey set"

// UserKeys is the BYOK KeySource: a user's own sealed key when they have one for the
// provider, else the operator's key under the guest policy.
type UserKeys struct {
	Keys     *store.APIKeys
	Usage    *store.Usage
	System   SystemKey
	Provider string // which provider's user keys pay for conversations
	Guest    GuestPolicy
	Now      func() time.Time

	mu      sync.Mutex
	buckets map[string]*rate.Limiter // per guest user, in this worker (replicas each keep their own)
}

// Resolve implements KeySource: it names the key without decrypting it, and charges a
// guest's bucket (and checks the daily cap) before any tokens are spent.
func (k *UserKeys) Resolve(ctx context.Context, userID, personalityID string) (KeyHandle, error) {
	if userID != "" && k.Keys != nil {
		have, err := k.Keys.Providers(ctx, userID)
		if err != nil {
			return KeyHandle{}, fmt.Errorf("look up the user's keys: %w", err)
		}
		if v, ok := have[k.Provider]; ok {
			return KeyHandle{Provider: k.Provider, OwnerUserID: userID, KeyVersion: v}, nil
		}
	}
	if k.System.APIKey == "" {
		return KeyHandle{}, NonRetryable(ErrTypeGuestQuota, errors.New("this bot has no free tier: add your own key with /settings apikey set"))
	}
	if k.Guest.TurnsPerHour > 0 && !k.bucket(userID).Allow() {
		return KeyHandle{}, NonRetryable(ErrTypeGuestQuota, fmt.Errorf("the free tier allows %d replies at once and %.0f per hour; add your own key with /settings apikey set, or wait a little", k.Guest.Burst, k.Guest.TurnsPerHour))
	}
	if k.Guest.DailyTokenCap > 0 && k.Usage != nil {
		now := time.Now
		if k.Now != nil {
			now = k.Now
		}
		day := now().UTC().Truncate(24 * time.Hour)
		used, err := k.Usage.GuestTokensSince(ctx, day)
		if err != nil {
			return KeyHandle{}, err
		}
		if used >= k.Guest.DailyTokenCap {
			return KeyHandle{}, NonRetryable(ErrTypeGuestQuota, errors.New("the free tier is used up for today; add your own key with /settings apikey set, or try again tomorrow"))
		}
	}
	return KeyHandle{Provider: k.System.Provider, Guest: true}, nil
}

// Reveal implements KeySource: the user's key is decrypted here, inside the activity
// that makes the call, and nowhere else.
func (k *UserKeys) Reveal(ctx context.Context, h KeyHandle) (string, string, error) {
	if h.OwnerUserID == "" {
		return k.System.Reveal(ctx, h)
	}
	key, baseURL, _, err := k.Keys.Reveal(ctx, h.OwnerUserID, h.Provider)
	if errors.Is(err, store.ErrNotFound) {
		return "", "", NonRetryable(ErrTypeLLMAuth, errors.New("your API key was removed during the reply"))
	}
	if err != nil {
		return "", "", fmt.Errorf("open the user's key: %w", err) // never the key itself
	}
	return key, baseURL, nil
}

func (k *UserKeys) bucket(userID string) *rate.Limiter {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.buckets == nil {
		k.buckets = map[string]*rate.Limiter{}
	}
	b, ok := k.buckets[userID]
	if !ok {
		b = rate.NewLimiter(rate.Limit(k.Guest.TurnsPerHour/3600), max(k.Guest.Burst, 1))
		k.buckets[userID] = b
	}
	return b
}
