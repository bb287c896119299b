package store

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/pgvector/pgvector-go"
)

// EmbeddingDim is the vector dimension fixed by the migrations.
const EmbeddingDim = 384

// Memory is one long-term memory of a personality about a persona.
type Memory struct {
	ID            string
	PersonaID     string
	PersonalityID string
	Content       string
	Embedding     []float32
	Sector        string
	Salience      float32
	CreatedAt     time.Time
	// Similarity is filled by Search: cosine similarity to the query in [-1, 1].
	Similarity float64
}

// Memories is the repository of long-term memories (pgvector).
type Memories struct{ pool *pgxpool.Pool }

// ContentHash is the deduplication key of a memory's text.
func ContentHash(s string) string {
	sum := sha256.Sum256([]byte(strings.TrimSpace(s)))
	return hex.EncodeToString(sum[:])
}

// Insert stores a memory; the same content for the same scope is stored once. It returns
// the id of the stored (or existing) memory.
func (r *Memories) Insert(ctx context.Context, m Memory) (string, error) {
	if len(m.Embedding) != EmbeddingDim {
		return "", fmt.Errorf("memory embedding has %d dimensions, want %d", len(m.Embedding), EmbeddingDim)
	}
	if m.Sector == "" {
		m.Sector = "episodic"
	}
	var id string
	err := r.pool.QueryRow(ctx, `
		INSERT INTO memories (persona_id, personality_id, content, content_hash, embedding, sector, salience)
		VALUES (NULLIF($1,'')::uuid, $2, $3, $4, $5, $6, $7)
		ON CONFLICT (personality_id, COALESCE(persona_id, '00000000-0000-0000-0000-000000000000'::uuid), content_hash)
		DO UPDATE SET salience = GREATEST(memories.salience, EXCLUDED.salience)
		RETURNING id::text`,
		m.PersonaID, m.PersonalityID, m.Content, ContentHash(m.Content), pgvector.NewVector(m.Embedding), m.Sector, m.Salience).Scan(&id)
	if err != nil {
		return "", fmt.Errorf("insert memory: %w", err)
	}
	return id, nil
}

// Search returns the k memories of a persona with a personality nearest to query by
// cosine distance, through the HNSW index. Iterative index scans (pgvector >= 0.8) keep
// the scope filter from starving the result below k.
func (r *Memories) Search(ctx context.Context, personaID, personalityID string, query []float32, k int) ([]Memory, error) {
	tx, err := r.pool.Begin(ctx)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback(ctx)
	// SET LOCAL fails on pgvector < 0.8; the query still works without it.
	if _, err := tx.Exec(ctx, `SAVEPOINT iter`); err == nil {
		if _, err := tx.Exec(ctx, `SET LOCAL hnsw.iterative_scan = relaxed_order`); err != nil {
			_, _ = tx.Exec(ctx, `ROLLBACK TO SAVEPOINT iter`)
		}
	}
	rows, err := tx.Query(ctx, `
		SELECT id::text, COALESCE(persona_id::text,''), personality_id::text, content, sector, salience, created_at,
			1 - (embedding <=> $3) AS similarity
		FROM memories
		WHERE personality_id = $2
			AND (($1 <> '' AND persona_id = NULLIF($1,'')::uuid) OR ($1 = '' AND persona_id IS NULL))
			AND NOT archived AND embedding IS NOT NULL
		ORDER BY embedding <=> $3
		LIMIT $4`, personaID, personalityID, pgvector.NewVector(query), k)
	if err != nil {
		return nil, fmt.Errorf("search memories: %w", err)
	}
	defer rows.Close()
	var out []Memory
	for rows.Next() {
		var m Memory
		if err := rows.Scan(&m.ID, &m.PersonaID, &m.PersonalityID, &m.Content, &m.Sector, &m.Salience, &m.CreatedAt, &m.Similarity); err != nil {
			return nil, err
		}
		out = append(out, m)
	}
	return out, rows.Err()
}

// ByIDs loads memories by id, in the order given (ids that no longer exist are skipped).
func (r *Memories) ByIDs(ctx context.Context, ids []string) ([]Memory, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	rows, err := r.pool.Query(ctx, `
		SELECT m.id::text, COALESCE(m.persona_id::text,''), m.personality_id::text, m.content, m.sector, m.salience, m.created_at
		FROM unnest($1::uuid[]) WITH ORDINALITY AS q(id, ord) JOIN memories m ON m.id = q.id ORDER BY q.ord`, ids)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Memory
	for rows.Next() {
		var m Memory
		if err := rows.Scan(&m.ID, &m.PersonaID, &m.PersonalityID, &m.Content, &m.Sector, &m.Salience, &m.CreatedAt); err != nil {
			return nil, err
		}
		out = append(out, m)
	}
	return out, rows.Err()
}
