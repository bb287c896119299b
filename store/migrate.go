package store

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// ErrNoPgvector says the server lacks the vector extension; the setup script installs it.
var ErrNoPgvector = errors.New("the PostgreSQL server has no pgvector extension: run scripts/setup-pgvector.sh (or install postgresql-15-pgvector) and retry")

// MigrationStatus is one migration's state for `tzurot migrate status`.
type MigrationStatus struct {
	Version int64
	Name    string
	Applied bool
	At      string
}

// Migrator applies the embedded migrations (goose, with a Postgres advisory lock so a bot
// and a worker starting together do not race).
type Migrator struct {
	db       *sql.DB
	provider *goose.Provider
}

// NewMigrator builds a migrator over the pool's connections.
func NewMigrator(pool *pgxpool.Pool) (*Migrator, error) {
	db := stdlib.OpenDBFromPool(pool)
	sub, err := fs.Sub(migrationFiles, "migrations")
	if err != nil {
		return nil, err
	}
	locker, err := lock.NewPostgresSessionLocker()
	if err != nil {
		return nil, err
	}
	p, err := goose.NewProvider(goose.DialectPostgres, db, sub, goose.WithSessionLocker(locker))
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("load migrations: %w", err)
	}
	return &Migrator{db: db, provider: p}, nil
}

// Close releases the database handle (not the pool).
func (m *Migrator) Close() error { return m.db.Close() }

// Up applies every pending migration and returns the names applied.
func (m *Migrator) Up(ctx context.Context) ([]string, error) {
	res, err := m.provider.Up(ctx)
	if err != nil {
		var pgErr *pgconn.PgError
		if errors.As(err, &pgErr) && pgErr.Code == "0A000" && strings.Contains(pgErr.Message, "vector") {
			return nil, ErrNoPgvector
		}
		if strings.Contains(err.Error(), `extension "vector" is not available`) {
			return nil, ErrNoPgvector
		}
		return nil, fmt.Errorf("migrate: %w", err)
	}
	names := make([]string, 0, len(res))
	for _, r := range res {
		names = append(names, r.Source.Path)
	}
	return names, nil
}

// Status lists every embedded migration and whether it is applied.
func (m *Migrator) Status(ctx context.Context) ([]MigrationStatus, error) {
	st, err := m.provider.Status(ctx)
	if err != nil {
		return nil, fmt.Errorf("migration status: %w", err)
	}
	out := make([]MigrationStatus, 0, len(st))
	for _, s := range st {
		ms := MigrationStatus{Version: s.Source.Version, Name: s.Source.Path, Applied: s.State == goose.StateApplied}
		if ms.Applied {
			ms.At = s.AppliedAt.UTC().Format("2006-01-02 15:04:05Z")
		}
		out = append(out, ms)
	}
	return out, nil
}

// Migrate is the one-call form used at startup: apply pending migrations, then re-register
// pgvector's types on new connections (the type exists now).
func Migrate(ctx context.Context, s *Store) ([]string, error) {
	m, err := NewMigrator(s.Pool)
	if err != nil {
		return nil, err
	}
	defer m.Close()
	applied, err := m.Up(ctx)
	if err != nil {
		return nil, err
	}
	if len(applied) > 0 {
		// Connections opened before the vector type existed lack its codec.
		s.Pool.Reset()
	}
	return applied, nil
}

// EnsureDatabase creates the database named in url if it is missing, by connecting to the
// server's maintenance database. `tzurot dev` and the tests use it; production does not.
func EnsureDatabase(ctx context.Context, url string) error {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return fmt.Errorf("database URL is not valid: %w", redactURLError(err))
	}
	name := cfg.ConnConfig.Database
	cfg.ConnConfig.Database = "postgres"
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return Explain(err, cfg.ConnConfig.Host, cfg.ConnConfig.Port, name)
	}
	defer pool.Close()
	var exists bool
	if err := pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)`, name).Scan(&exists); err != nil {
		return Explain(err, cfg.ConnConfig.Host, cfg.ConnConfig.Port, name)
	}
	if exists {
		return nil
	}
	_, err = pool.Exec(ctx, `CREATE DATABASE `+quoteIdent(name))
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == "42P04" { // created concurrently
		return nil
	}
	return err
}

// DropDatabase removes a database (tests clean up after themselves with it).
func DropDatabase(ctx context.Context, url string) error {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return err
	}
	name := cfg.ConnConfig.Database
	cfg.ConnConfig.Database = "postgres"
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return err
	}
	defer pool.Close()
	_, err = pool.Exec(ctx, `DROP DATABASE IF EXISTS `+quoteIdent(name)+` WITH (FORCE)`)
	return err
}

func quoteIdent(s string) string { return `"` + strings.ReplaceAll(s, `"`, `""`) + `"` }
