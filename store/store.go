// Package store is Tzurot's PostgreSQL layer: a pgx pool, the embedded SQL migrations and
// one file per aggregate (personalities, history, usage, deliveries, memories...).
// Activities are its only callers; workflows never touch it.
package store

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	pgxvector "github.com/pgvector/pgvector-go/pgx"

	"github.com/tzurot/tzurot/store/keyring"
)

// Store bundles the pool and the per-aggregate repositories.
type Store struct {
	Pool          *pgxpool.Pool
	Users         *Users
	Personas      *Personas
	Personalities *Personalities
	History       *History
	Usage         *Usage
	Deliveries    *Deliveries
	Memories      *Memories
	Channels      *Channels
	TurnContexts  *TurnContexts
	Presets       *Presets
	Characters    *Characters
	DataExports   *DataExports
	Accounts      *Accounts
	Safety        *Safety
	// APIKeys is nil until WithKeyring: opening keys needs the master key.
	APIKeys *APIKeys
}

// ErrNotFound is returned by lookups that find no row.
var ErrNotFound = errors.New("not found")

// Open connects to url, checks the connection and that pgvector is available, and
// registers the vector type. Errors are one readable line saying how to fix them.
func Open(ctx context.Context, url string) (*Store, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("database URL is not valid (expected postgres://user@host:port/db): %w", redactURLError(err))
	}
	if !strings.Contains(url, "pool_max_conns") {
		// pgx defaults to max(4, CPUs) connections; a worker runs many activities at once,
		// each a query or two. (The burst benchmark did not move with this: it is not the
		// bottleneck there, see docs/PERFORMANCE.md.)
		cfg.MaxConns = 16
	}
	cfg.AfterConnect = func(ctx context.Context, c *pgx.Conn) error {
		// The vector type exists only after the first migration; register it lazily.
		if err := pgxvector.RegisterTypes(ctx, c); err != nil && !isUnknownType(err) {
			return err
		}
		return nil
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, Explain(err, cfg.ConnConfig.Host, cfg.ConnConfig.Port, cfg.ConnConfig.Database)
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, Explain(err, cfg.ConnConfig.Host, cfg.ConnConfig.Port, cfg.ConnConfig.Database)
	}
	return New(pool), nil
}

// New wraps an existing pool.
func New(pool *pgxpool.Pool) *Store {
	return &Store{
		Pool:          pool,
		Users:         &Users{pool},
		Personas:      &Personas{pool},
		Personalities: &Personalities{pool},
		History:       &History{pool},
		Usage:         &Usage{pool},
		Deliveries:    &Deliveries{pool},
		Memories:      &Memories{pool},
		Channels:      &Channels{pool},
		TurnContexts:  &TurnContexts{pool},
		Presets:       &Presets{pool},
		Characters:    &Characters{pool},
		DataExports:   &DataExports{pool},
		Accounts:      &Accounts{pool},
		Safety:        &Safety{pool},
	}
}

// WithKeyring enables the sealed API keys repository.
func (s *Store) WithKeyring(kr *keyring.Keyring) *Store {
	s.APIKeys = NewAPIKeys(s.Pool, kr)
	return s
}

// Close releases the pool.
func (s *Store) Close() { s.Pool.Close() }

// Ping reports whether the database answers.
func (s *Store) Ping(ctx context.Context) error { return s.Pool.Ping(ctx) }

func isUnknownType(err error) bool {
	return err != nil && strings.Contains(err.Error(), "vector type not found")
}

// Explain turns a connection error into one line an operator can act on.
func Explain(err error, host string, port uint16, db string) error {
	var pgErr *pgconn.PgError
	var netErr *net.OpError
	switch {
	case errors.As(err, &pgErr) && pgErr.Code == "3D000":
		return fmt.Errorf("database %q does not exist on %s:%d: create it (createdb %s) or run `tzurot dev`, which creates it", db, host, port, db)
	case errors.As(err, &pgErr) && (pgErr.Code == "28P01" || pgErr.Code == "28000"):
		return fmt.Errorf("PostgreSQL at %s:%d refused the credentials: check DATABASE_URL", host, port)
	case errors.As(err, &netErr), strings.Contains(err.Error(), "connect: connection refused"), strings.Contains(err.Error(), "dial"):
		return fmt.Errorf("cannot reach PostgreSQL at %s:%d: is it running? (DATABASE_URL, or start it: pg_ctlcluster 15 main start)", host, port)
	}
	return fmt.Errorf("database %s:%d/%s: %w", host, port, db, redactURLError(err))
}

// redactURLError drops a connection string (which may carry a password) from pgx errors.
func redactURLError(err error) error {
	msg := err.Error()
	if i := strings.Index(msg, "postgres://"); i >= 0 {
		return errors.New(msg[:i] + "<url redacted>")
	}
	if i := strings.Index(msg, "postgresql://"); i >= 0 {
		return errors.New(msg[:i] + "<url redacted>")
	}
	return err
}

// CleanText makes text storable: PostgreSQL text and jsonb reject NUL, and invalid UTF-8
// is replaced rather than refused. Everything Discord or a model sends passes through it.
func CleanText(s string) string {
	return strings.ReplaceAll(strings.ToValidUTF8(s, "\uFFFD"), "\x00", "\uFFFD")
}
