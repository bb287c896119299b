package store

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Persona is who a user says they are to the characters: the name the prompt introduces
// them by, pronouns and a short description.
type Persona struct {
	ID            string
	OwnerID       string
	Name          string // the user's label for it ("default", "work", "dnd")
	PreferredName string // how characters address them
	Pronouns      string
	Description   string
	IsDefault     bool
}

// Personas is the repository of personas.
type Personas struct{ pool *pgxpool.Pool }

// ErrDuplicate is returned when a name is already taken in its scope.
var ErrDuplicate = errors.New("already exists")

const personaCols = `p.id::text, p.owner_id::text, p.name, p.preferred_name, p.pronouns, p.description,
	COALESCE(u.default_persona_id = p.id, false)`

func scanPersona(row pgx.Row) (Persona, error) {
	var p Persona
	err := row.Scan(&p.ID, &p.OwnerID, &p.Name, &p.PreferredName, &p.Pronouns, &p.Description, &p.IsDefault)
	if errors.Is(err, pgx.ErrNoRows) {
		return p, ErrNotFound
	}
	return p, err
}

// Create adds a persona for a user; ErrDuplicate if they already have one by that name.
func (r *Personas) Create(ctx context.Context, p Persona) (Persona, error) {
	row := r.pool.QueryRow(ctx, `
		WITH ins AS (
			INSERT INTO personas (owner_id, name, preferred_name, pronouns, description)
			VALUES ($1, $2, $3, $4, $5) RETURNING *)
		SELECT `+personaCols+` FROM ins p JOIN users u ON u.id = p.owner_id`,
		p.OwnerID, strings.TrimSpace(p.Name), p.PreferredName, p.Pronouns, p.Description)
	out, err := scanPersona(row)
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == "23505" {
		return out, fmt.Errorf("persona %q: %w", p.Name, ErrDuplicate)
	}
	return out, err
}

// Update changes a persona's fields (all of them: callers merge first).
func (r *Personas) Update(ctx context.Context, p Persona) error {
	tag, err := r.pool.Exec(ctx, `UPDATE personas SET preferred_name = $3, pronouns = $4, description = $5, updated_at = now()
		WHERE id = $1 AND owner_id = $2`, p.ID, p.OwnerID, p.PreferredName, p.Pronouns, p.Description)
	if err == nil && tag.RowsAffected() == 0 {
		return ErrNotFound
	}
	return err
}

// ByName finds one of a user's personas (case-insensitive).
func (r *Personas) ByName(ctx context.Context, ownerID, name string) (Persona, error) {
	return scanPersona(r.pool.QueryRow(ctx, `SELECT `+personaCols+` FROM personas p JOIN users u ON u.id = p.owner_id
		WHERE p.owner_id = $1 AND lower(p.name) = lower($2)`, ownerID, strings.TrimSpace(name)))
}

// ByID returns one persona.
func (r *Personas) ByID(ctx context.Context, id string) (Persona, error) {
	return scanPersona(r.pool.QueryRow(ctx, `SELECT `+personaCols+` FROM personas p JOIN users u ON u.id = p.owner_id
		WHERE p.id = $1`, id))
}

// List returns a user's personas, the default first.
func (r *Personas) List(ctx context.Context, ownerID string) ([]Persona, error) {
	rows, err := r.pool.Query(ctx, `SELECT `+personaCols+` FROM personas p JOIN users u ON u.id = p.owner_id
		WHERE p.owner_id = $1 ORDER BY (u.default_persona_id = p.id) DESC, p.name`, ownerID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Persona
	for rows.Next() {
		p, err := scanPersona(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, rows.Err()
}

// SetDefault makes a persona the one a user speaks as unless told otherwise.
func (r *Personas) SetDefault(ctx context.Context, ownerID, personaID string) error {
	tag, err := r.pool.Exec(ctx, `UPDATE users SET default_persona_id = $2, updated_at = now()
		WHERE id = $1 AND EXISTS (SELECT 1 FROM personas WHERE id = $2 AND owner_id = $1)`, ownerID, personaID)
	if err == nil && tag.RowsAffected() == 0 {
		return ErrNotFound
	}
	return err
}
