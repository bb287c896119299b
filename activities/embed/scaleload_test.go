package embed_test

import (
	"context"
	"fmt"
	"runtime"
	"strconv"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/pgvector/pgvector-go"

	"github.com/tzurot/tzurot/activities/embed"
	"github.com/tzurot/tzurot/store"
)

// Setup of BenchmarkMemorySearchAtScale: scopes, the bulk load and the index build.

// makeScopes creates the users, personas and personalities: scopes[0] is the heavy user,
// scopes[1] the light one, the rest are distractors.
func makeScopes(ctx context.Context, st *store.Store) ([]scaleScope, error) {
	var owner pgtype.UUID
	if err := st.Pool.QueryRow(ctx, `INSERT INTO users (discord_id) VALUES ('bench') RETURNING id`).Scan(&owner); err != nil {
		return nil, err
	}
	var personalities [2]pgtype.UUID
	var personalityIDs [2]string
	for i := range personalities {
		slug := fmt.Sprintf("bench%d", i)
		if err := st.Pool.QueryRow(ctx, `INSERT INTO personalities (slug, name, display_name) VALUES ($1, $1, $1) RETURNING id, id::text`,
			slug).Scan(&personalities[i], &personalityIDs[i]); err != nil {
			return nil, err
		}
	}
	scopes := []scaleScope{{name: "heavy-10pct", share: 0.10}, {name: "light-1pct", share: 0.01}}
	for i := range 18 {
		scopes = append(scopes, scaleScope{name: fmt.Sprintf("distractor%d", i), share: 0.89 / 18})
	}
	for i := range scopes {
		sc := &scopes[i]
		p := i % 2
		if i < 2 {
			p = 0 // both measured scopes talk to the same personality
		}
		sc.personality, sc.personalityID = personalities[p], personalityIDs[p]
		if err := st.Pool.QueryRow(ctx, `INSERT INTO personas (owner_id, name) VALUES ($1, $2) RETURNING id, id::text`,
			owner, sc.name).Scan(&sc.persona, &sc.personaID); err != nil {
			return nil, err
		}
	}
	return scopes, nil
}

// loadMemories COPYs n synthetic memories in chunks, embedding each chunk with Local on
// every core first. Rows are spread over the scopes by their shares.
func loadMemories(ctx context.Context, st *store.Store, scopes []scaleScope, n int) error {
	const chunk = 20000
	cols := []string{"persona_id", "personality_id", "content", "content_hash", "embedding", "salience"}
	gen := newSynthetic(42)
	for done := 0; done < n; done += chunk {
		m := min(chunk, n-done)
		texts := make([]string, m)
		for i := range texts {
			texts[i] = gen.memory()
		}
		vecs := embedParallel(texts)
		rows := make([][]any, m)
		for i := range rows {
			row := done + i
			sc := scopeOf(scopes, row, n)
			// content_hash only has to be unique per scope; the row number is.
			rows[i] = []any{sc.persona, sc.personality, texts[i], strconv.Itoa(row), pgvector.NewVector(vecs[i]), float32(0.5)}
		}
		if _, err := st.Pool.CopyFrom(ctx, pgx.Identifier{"memories"}, cols, pgx.CopyFromRows(rows)); err != nil {
			return fmt.Errorf("copy rows %d..%d: %w", done, done+m, err)
		}
	}
	// Vacuum now, as a maintenance window after a bulk load would: otherwise autovacuum
	// wakes up for the inserted rows in the middle of the measurements.
	_, err := st.Pool.Exec(ctx, `VACUUM (ANALYZE) memories`)
	return err
}

// scopeOf interleaves scopes by share, so each scope's rows are spread over the table as
// a real user's memories are spread over time.
func scopeOf(scopes []scaleScope, row, n int) *scaleScope {
	// Deterministic stratification: the row's position in [0,1) after a fixed shuffle.
	x := float64((uint64(row)*0x9e3779b97f4a7c15)>>11) / float64(uint64(1)<<53)
	for i := range scopes {
		if x < scopes[i].share {
			return &scopes[i]
		}
		x -= scopes[i].share
	}
	return &scopes[len(scopes)-1]
}

func embedParallel(texts []string) [][]float32 {
	out := make([][]float32, len(texts))
	workers := runtime.GOMAXPROCS(0)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < len(texts); i += workers {
				out[i], _ = embed.Local{}.Embed(context.Background(), texts[i])
			}
		}()
	}
	wg.Wait()
	return out
}

// buildIndex recreates the migration's HNSW index (m=16, ef_construction=64 defaults) on
// one connection with the benchmark's build settings, and times it.
func buildIndex(ctx context.Context, st *store.Store) (time.Duration, error) {
	conn, err := st.Pool.Acquire(ctx)
	if err != nil {
		return 0, err
	}
	defer conn.Release()
	for _, q := range []string{
		`SET maintenance_work_mem = '` + scaleIndexMemory + `'`,
		fmt.Sprintf(`SET max_parallel_maintenance_workers = %d`, scaleIndexWorkers),
	} {
		if _, err := conn.Exec(ctx, q); err != nil {
			return 0, err
		}
	}
	start := time.Now()
	if _, err := conn.Exec(ctx, `CREATE INDEX memories_embedding_hnsw ON memories USING hnsw (embedding vector_cosine_ops)`); err != nil {
		return 0, fmt.Errorf("build HNSW index: %w", err)
	}
	took := time.Since(start)
	_, _ = conn.Exec(ctx, `RESET maintenance_work_mem`)
	_, _ = conn.Exec(ctx, `RESET max_parallel_maintenance_workers`)
	return took, nil
}
