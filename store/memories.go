package store

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/pgvector/pgvector-go"
)

// EmbeddingDim is the vector dimension fixed by the migrations.
const EmbeddingDim = 384

// Memory sectors (the CHECK constraint of memories.sector).
const (
	SectorEpisodic   = "episodic"
	SectorSemantic   = "semantic"
	SectorEmotional  = "emotional"
	SectorProcedural = "procedural"
	SectorReflective = "reflective"
)

// Memory origins (memories.origin): what wrote it.
const (
	OriginTurn    = "turn"    // a conversation turn, by RecordTurn
	OriginSummary = "summary" // the summarize agent, replacing older turns
	OriginDream   = "dream"   // a dream's reflection
	OriginImport  = "import"  // an import, or a row older than origins
)

// Memory is one long-term memory of a personality about a persona.
type Memory struct {
	ID            string
	PersonaID     string
	PersonalityID string
	Content       string
	Embedding     []float32
	// Embedder names the model that wrote Embedding ("" while there is none).
	Embedder         string
	Sector           string
	Salience         float32
	Origin           string
	Locked           bool
	Archived         bool
	SourceMessageIDs []string
	CreatedAt        time.Time
	LastRecalledAt   time.Time // zero: never recalled
	// Similarity is filled by Search: cosine similarity to the query in [-1, 1].
	Similarity float64
}

// Memories is the repository of long-term memories (pgvector), their links, the scheduled
// agents' bookkeeping (summaries, dreams) and users' memory switches.
type Memories struct{ pool *pgxpool.Pool }

// ContentHash is the deduplication key of a memory's text.
func ContentHash(s string) string {
	sum := sha256.Sum256([]byte(strings.TrimSpace(s)))
	return hex.EncodeToString(sum[:])
}

// memoryCols are the columns scanMemory reads, for a table aliased m.
const memoryCols = `m.id::text, COALESCE(m.persona_id::text,''), m.personality_id::text, m.content, m.embedder,
	m.sector, m.salience, m.origin, m.locked, m.archived, m.source_message_ids, m.created_at,
	COALESCE(m.last_recalled_at, 'epoch'::timestamptz)`

func scanMemory(row pgx.Row, m *Memory, extra ...any) error {
	dest := append([]any{&m.ID, &m.PersonaID, &m.PersonalityID, &m.Content, &m.Embedder, &m.Sector, &m.Salience,
		&m.Origin, &m.Locked, &m.Archived, &m.SourceMessageIDs, &m.CreatedAt, &m.LastRecalledAt}, extra...)
	if err := row.Scan(dest...); err != nil {
		return err
	}
	if m.LastRecalledAt.Equal(time.Unix(0, 0)) {
		m.LastRecalledAt = time.Time{}
	}
	return nil
}

// collectMemories scans every row; extra names further columns to read into a memory.
func collectMemories(rows pgx.Rows, err error, extra func(*Memory) []any) ([]Memory, error) {
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Memory
	for rows.Next() {
		var m Memory
		var ex []any
		if extra != nil {
			ex = extra(&m)
		}
		if err := scanMemory(rows, &m, ex...); err != nil {
			return nil, err
		}
		out = append(out, m)
	}
	return out, rows.Err()
}

// vectorArg is a memory's embedding as a query argument (NULL when it has none).
func vectorArg(v []float32) any {
	if len(v) == 0 {
		return nil
	}
	return pgvector.NewVector(v)
}

// Insert stores a memory that has an embedding; the same content for the same scope is
// stored once. It returns the id of the stored (or existing) memory.
func (r *Memories) Insert(ctx context.Context, m Memory) (string, error) {
	if len(m.Embedding) != EmbeddingDim {
		return "", fmt.Errorf("memory embedding has %d dimensions, want %d", len(m.Embedding), EmbeddingDim)
	}
	id, _, err := r.Write(ctx, m)
	return id, err
}

// Write stores a memory, with or without an embedding (without one, the re-embed job
// fills it in later and Search skips it until then). The same content in the same scope
// is stored once: a second write keeps the higher salience, adds its source messages and
// fills a missing vector. created is false when the memory already existed.
func (r *Memories) Write(ctx context.Context, m Memory) (id string, created bool, err error) {
	return writeMemory(ctx, r.pool, m)
}

// rowQuerier is a pool or a transaction.
type rowQuerier interface {
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

func writeMemory(ctx context.Context, q rowQuerier, m Memory) (id string, created bool, err error) {
	if len(m.Embedding) != 0 && len(m.Embedding) != EmbeddingDim {
		return "", false, fmt.Errorf("memory embedding has %d dimensions, want %d", len(m.Embedding), EmbeddingDim)
	}
	if m.Sector == "" {
		m.Sector = SectorEpisodic
	}
	if m.Origin == "" {
		m.Origin = OriginTurn
	}
	if len(m.Embedding) == 0 {
		m.Embedder = ""
	}
	if m.SourceMessageIDs == nil {
		m.SourceMessageIDs = []string{}
	}
	var at *time.Time
	if !m.CreatedAt.IsZero() {
		at = &m.CreatedAt
	}
	content := CleanText(strings.TrimSpace(m.Content))
	err = q.QueryRow(ctx, `
		INSERT INTO memories (persona_id, personality_id, content, content_hash, embedding, embedder, sector, salience,
			origin, source_message_ids, created_at)
		VALUES (NULLIF($1,'')::uuid, $2, $3, $4, $5, $6, $7, $8, $9, $10, COALESCE($11::timestamptz, now()))
		ON CONFLICT (personality_id, COALESCE(persona_id, '00000000-0000-0000-0000-000000000000'::uuid), content_hash)
		DO UPDATE SET salience = GREATEST(memories.salience, EXCLUDED.salience),
			source_message_ids = ARRAY(SELECT DISTINCT unnest(memories.source_message_ids || EXCLUDED.source_message_ids) ORDER BY 1),
			embedder = CASE WHEN memories.embedding IS NULL THEN EXCLUDED.embedder ELSE memories.embedder END,
			embedding = COALESCE(memories.embedding, EXCLUDED.embedding)
		RETURNING id::text, (xmax = 0)`,
		m.PersonaID, m.PersonalityID, content, ContentHash(content), vectorArg(m.Embedding), m.Embedder, m.Sector,
		m.Salience, m.Origin, m.SourceMessageIDs, at).Scan(&id, &created)
	if err != nil {
		return "", false, fmt.Errorf("write memory: %w", err)
	}
	return id, created, nil
}

// Search returns the k memories of a persona with a personality nearest to query by
// cosine distance, through the HNSW index, whoever embedded them. Retrieval uses Nearest,
// which also checks the embedder.
func (r *Memories) Search(ctx context.Context, personaID, personalityID string, query []float32, k int) ([]Memory, error) {
	return r.Nearest(ctx, MemoryQuery{PersonaID: personaID, PersonalityID: personalityID, Vector: query, K: k, AnyEmbedder: true})
}

// MemoryQuery is a nearest-neighbour search in one persona's memories.
type MemoryQuery struct {
	PersonaID     string // "" = memories about no persona
	PersonalityID string // "" = with every character (memories shared across characters)
	Embedder      string // only memories whose vector this embedder wrote
	AnyEmbedder   bool   // ignore Embedder (benchmarks and tools)
	Vector        []float32
	K             int
}

// Nearest returns the K active memories of a scope nearest to the query vector by cosine
// distance, through the HNSW index. Iterative index scans (pgvector >= 0.8) keep the scope
// filter from starving the result below K. The persona predicate is a plain equality so
// the planner may also read a small scope through memories_scope and sort it exactly.
func (r *Memories) Nearest(ctx context.Context, q MemoryQuery) ([]Memory, error) {
	if len(q.Vector) != EmbeddingDim {
		return nil, fmt.Errorf("query embedding has %d dimensions, want %d", len(q.Vector), EmbeddingDim)
	}
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
	args := []any{pgvector.NewVector(q.Vector), q.K}
	where := []string{"NOT m.archived", "m.embedding IS NOT NULL"}
	if q.PersonaID == "" {
		where = append(where, "m.persona_id IS NULL")
	} else {
		args = append(args, q.PersonaID)
		where = append(where, fmt.Sprintf("m.persona_id = $%d::uuid", len(args)))
	}
	if q.PersonalityID != "" {
		args = append(args, q.PersonalityID)
		where = append(where, fmt.Sprintf("m.personality_id = $%d::uuid", len(args)))
	}
	if !q.AnyEmbedder {
		args = append(args, q.Embedder)
		where = append(where, fmt.Sprintf("m.embedder = $%d", len(args)))
	}
	rows, err := tx.Query(ctx, `SELECT `+memoryCols+`, 1 - (m.embedding <=> $1) FROM memories m
		WHERE `+strings.Join(where, " AND ")+` ORDER BY m.embedding <=> $1 LIMIT $2`, args...)
	out, err := collectMemories(rows, err, func(m *Memory) []any { return []any{&m.Similarity} })
	if err != nil {
		return nil, fmt.Errorf("search memories: %w", err)
	}
	return out, nil
}

// ByIDs loads memories by id, in the order given (ids that no longer exist are skipped).
func (r *Memories) ByIDs(ctx context.Context, ids []string) ([]Memory, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	rows, err := r.pool.Query(ctx, `SELECT `+memoryCols+`
		FROM unnest($1::uuid[]) WITH ORDINALITY AS q(id, ord) JOIN memories m ON m.id = q.id ORDER BY q.ord`, ids)
	return collectMemories(rows, err, nil)
}

// WithEmbeddings loads up to limit active memories of one persona with one personality
// that the embedder wrote, with their vectors, most salient first (what a dream compares).
func (r *Memories) WithEmbeddings(ctx context.Context, personaID, personalityID, embedder string, limit int) ([]Memory, error) {
	rows, err := r.pool.Query(ctx, `SELECT `+memoryCols+`, m.embedding FROM memories m
		WHERE m.persona_id = $1 AND m.personality_id = $2 AND m.embedder = $3 AND m.embedding IS NOT NULL AND NOT m.archived
		ORDER BY m.salience DESC, m.created_at DESC, m.id LIMIT $4`, personaID, personalityID, embedder, limit)
	var vecs []*pgvector.Vector
	out, err := collectMemories(rows, err, func(m *Memory) []any {
		v := new(pgvector.Vector)
		vecs = append(vecs, v)
		return []any{v}
	})
	if err != nil {
		return nil, fmt.Errorf("memories with embeddings: %w", err)
	}
	for i := range out {
		out[i].Embedding = vecs[i].Slice()
	}
	return out, nil
}

// EnforceQuota archives the lowest-value memories of one persona with one personality
// beyond max active ones: lowest salience first, then the longest unrecalled. Locked
// memories count but are never archived. It returns how many it archived.
func (r *Memories) EnforceQuota(ctx context.Context, personaID, personalityID string, max int, now time.Time) (int, error) {
	if max <= 0 || personaID == "" {
		return 0, nil
	}
	tag, err := r.pool.Exec(ctx, `
		WITH active AS (
			SELECT count(*) AS n FROM memories WHERE persona_id = $1 AND personality_id = $2 AND NOT archived
		), victims AS (
			SELECT id FROM memories WHERE persona_id = $1 AND personality_id = $2 AND NOT archived AND NOT locked
			ORDER BY salience, COALESCE(last_recalled_at, created_at), id
			LIMIT GREATEST((SELECT n FROM active) - $3, 0)
		)
		UPDATE memories m SET archived = true, archived_at = $4, archive_reason = 'quota'
		FROM victims v WHERE m.id = v.id`, personaID, personalityID, max, now)
	if err != nil {
		return 0, fmt.Errorf("memory quota: %w", err)
	}
	return int(tag.RowsAffected()), nil
}
