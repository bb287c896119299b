// Package storetest gives tests a fresh, migrated PostgreSQL database of their own on the
// local server, and drops it afterwards. Tests use the real database, never a mock.
package storetest

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"strings"
	"sync/atomic"
	"time"

	"github.com/tzurot/tzurot/store"
)

// BaseURL is the server tests connect to; TZUROT_TEST_DATABASE_URL overrides it.
func BaseURL() string {
	if u := os.Getenv("TZUROT_TEST_DATABASE_URL"); u != "" {
		return u
	}
	return "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"
}

var counter atomic.Int64

// DB is a throwaway database.
type DB struct {
	URL   string
	Store *store.Store
}

// New creates a uniquely named database, migrates it and opens a Store on it.
func New(ctx context.Context, prefix string) (*DB, error) {
	u, err := url.Parse(BaseURL())
	if err != nil {
		return nil, fmt.Errorf("TZUROT_TEST_DATABASE_URL: %w", err)
	}
	u.Path = "/" + fmt.Sprintf("tzurot_test_%s_%d_%d_%d", sanitize(prefix), os.Getpid(), time.Now().UnixNano()%1e6, counter.Add(1))
	url := u.String()
	if err := store.EnsureDatabase(ctx, url); err != nil {
		return nil, err
	}
	s, err := store.Open(ctx, url)
	if err != nil {
		return nil, err
	}
	if _, err := store.Migrate(ctx, s); err != nil {
		s.Close()
		return nil, err
	}
	return &DB{URL: url, Store: s}, nil
}

// Close closes the store and drops the database.
func (d *DB) Close() {
	d.Store.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	_ = store.DropDatabase(ctx, d.URL)
}

func sanitize(s string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(s) {
		if (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9') {
			b.WriteRune(r)
		}
	}
	return b.String()
}
