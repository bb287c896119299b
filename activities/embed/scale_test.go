package embed_test

import (
	"context"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/pgvector/pgvector-go"

	"github.com/tzurot/tzurot/activities/embed"
	"github.com/tzurot/tzurot/store"
	"github.com/tzurot/tzurot/store/storetest"
)

// Settings of the scale benchmark, reported beside its numbers.
const (
	// scaleIndexMemory is maintenance_work_mem for the HNSW build: the whole graph of 1M
	// 384-dimension vectors (about 2 GB) fits, so the build never spills to the slower
	// on-disk phase. The machine has 24 GiB.
	scaleIndexMemory = "4GB"
	// scaleIndexWorkers is max_parallel_maintenance_workers: the leader plus one worker
	// on a 2-core machine.
	scaleIndexWorkers = 1
	// scaleQueries is how many distinct query vectors are measured per scope.
	scaleQueries = 200
	scaleK       = 5
)

// scaleScope is one persona x personality scope of the benchmark table.
type scaleScope struct {
	name          string
	share         float64 // of all rows
	personaID     string
	personalityID string
	persona       pgtype.UUID
	personality   pgtype.UUID
}

// BenchmarkMemorySearchAtScale loads TZUROT_BENCH_MEMORIES synthetic memories (a comma
// list of sizes, e.g. "10000,100000,1000000") into a dedicated database, builds the HNSW
// index as the migration defines it and measures store.Memories.Search (k=5) in two
// scopes: a heavy user holding 10% of the table and a light one holding 1%; the other
// 89% sit in 18 distractor scopes the index must skip. Recall is against the exact top 5
// of the same scope (the same query with index scans off). It runs only when -bench
// names it and the variable is set: a million rows take tens of minutes.
//
//	TZUROT_BENCH_MEMORIES=10000,100000 go test ./activities/embed/ -run '^$' \
//	    -bench MemorySearchAtScale -benchtime 300x -timeout 3h
func BenchmarkMemorySearchAtScale(b *testing.B) {
	spec := os.Getenv("TZUROT_BENCH_MEMORIES")
	if spec == "" {
		b.Skip("set TZUROT_BENCH_MEMORIES=10000,100000[,1000000] to run (needs PostgreSQL with pgvector)")
	}
	for _, f := range strings.Split(spec, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 1000 {
			b.Fatalf("TZUROT_BENCH_MEMORIES: %q is not a size of at least 1000", f)
		}
		b.Run(fmt.Sprintf("memories=%d", n), func(b *testing.B) { benchScale(b, n) })
	}
}

func benchScale(b *testing.B, n int) {
	ctx := context.Background()
	db, err := storetest.New(ctx, "embedscale")
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	db.Store.Close()
	// A pool opened after the migration, so every connection knows the vector type (COPY
	// sends it in binary).
	st, err := store.Open(ctx, db.URL)
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()

	scopes, err := makeScopes(ctx, st)
	if err != nil {
		b.Fatal(err)
	}
	if _, err := st.Pool.Exec(ctx, `DROP INDEX memories_embedding_hnsw`); err != nil {
		b.Fatal(err)
	}
	start := time.Now()
	if err := loadMemories(ctx, st, scopes, n); err != nil {
		b.Fatal(err)
	}
	load := time.Since(start)
	build, err := buildIndex(ctx, st)
	if err != nil {
		b.Fatal(err)
	}
	var size string
	_ = st.Pool.QueryRow(ctx, `SELECT pg_size_pretty(pg_relation_size('memories_embedding_hnsw'))`).Scan(&size)
	b.Logf("n=%d: loaded in %s (%.0f rows/s), HNSW built in %s (maintenance_work_mem=%s, %d parallel worker), index %s",
		n, load.Round(time.Second), float64(n)/load.Seconds(), build.Round(time.Second), scaleIndexMemory, scaleIndexWorkers, size)

	gen := newSynthetic(uint64(n) + 7)
	texts := make([]string, scaleQueries)
	for i := range texts {
		texts[i] = gen.query()
	}
	queries, err := embed.Local{}.EmbedBatch(ctx, texts)
	if err != nil {
		b.Fatal(err)
	}
	for _, sc := range scopes[:2] {
		b.Run("scope="+sc.name, func(b *testing.B) {
			measureScope(ctx, b, st, sc, n, queries)
			b.ReportMetric(build.Seconds(), "build-s")
			b.ReportMetric(load.Seconds(), "load-s")
		})
	}
}

// measureScope times Search for each query (the b.Loop body), then the exact search, and
// reports percentiles and recall@k against exact.
func measureScope(ctx context.Context, b *testing.B, st *store.Store, sc scaleScope, n int, queries [][]float32) {
	plan, err := searchPlan(ctx, st, sc, queries[0])
	if err != nil {
		b.Fatal(err)
	}
	exact := make([][]float64, len(queries))
	var exactLat []time.Duration
	for i, q := range queries {
		t := time.Now()
		if exact[i], err = exactTopK(ctx, st, sc, q); err != nil {
			b.Fatal(err)
		}
		exactLat = append(exactLat, time.Since(t))
	}
	for _, q := range queries[:10] { // warm the caches the timed loop will use
		if _, err := st.Memories.Search(ctx, sc.personaID, sc.personalityID, q, scaleK); err != nil {
			b.Fatal(err)
		}
	}
	var lat []time.Duration
	var recallSum float64
	var recallN int
	i := 0
	for b.Loop() {
		qi := i % len(queries)
		t := time.Now()
		got, err := st.Memories.Search(ctx, sc.personaID, sc.personalityID, queries[qi], scaleK)
		lat = append(lat, time.Since(t))
		if err != nil {
			b.Fatal(err)
		}
		if i < len(queries) {
			recallSum += recallAgainst(got, exact[qi])
			recallN++
		}
		i++
	}
	p50, p95 := percentile(lat, 0.50), percentile(lat, 0.95)
	recall := recallSum / float64(max(recallN, 1))
	b.ReportMetric(ms(p50), "p50-ms")
	b.ReportMetric(ms(p95), "p95-ms")
	b.ReportMetric(recall, "recall@5")
	b.ReportMetric(ms(percentile(exactLat, 0.50)), "exact-p50-ms")
	b.Logf("| %d | %s (%d rows) | %.2f | %.2f | %.3f | %.2f | %s | load %s |", n, sc.name, int(sc.share*float64(n)),
		ms(p50), ms(p95), recall, ms(percentile(exactLat, 0.50)), plan, loadAverage())
}

// loadAverage is the 1-minute load average, logged beside each row: on a shared 2-core
// machine, tail latencies say as much about the neighbours as about the index.
func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	if f := strings.Fields(string(b)); len(f) > 0 {
		return f[0]
	}
	return "?"
}

// Search's scope predicate, and the index-friendly form of it the exact query uses.
const (
	searchScope   = `personality_id = $2 AND persona_id IS NOT DISTINCT FROM NULLIF($1,'')::uuid`
	sargableScope = `personality_id = $2 AND persona_id = $1::uuid`
)

// searchPlan names the plan PostgreSQL picks for Search's query in this scope, with
// Search's own predicate and, after a slash, with the index-friendly one.
func searchPlan(ctx context.Context, st *store.Store, sc scaleScope, q []float32) (string, error) {
	own, err := planFor(ctx, st, searchScope, sc, q)
	if err != nil {
		return "", err
	}
	sargable, err := planFor(ctx, st, sargableScope, sc, q)
	return own + " / " + sargable, err
}

func planFor(ctx context.Context, st *store.Store, scope string, sc scaleScope, q []float32) (string, error) {
	tx, err := st.Pool.Begin(ctx)
	if err != nil {
		return "", err
	}
	defer tx.Rollback(ctx)
	if _, err := tx.Exec(ctx, `SET LOCAL hnsw.iterative_scan = relaxed_order`); err != nil {
		return "", err
	}
	rows, err := tx.Query(ctx, `EXPLAIN SELECT id FROM memories WHERE `+scope+`
			AND NOT archived AND embedding IS NOT NULL
		ORDER BY embedding <=> $3 LIMIT $4`, sc.personaID, sc.personalityID, pgvector.NewVector(q), scaleK)
	if err != nil {
		return "", err
	}
	defer rows.Close()
	var plan []string
	for rows.Next() {
		var line string
		if err := rows.Scan(&line); err != nil {
			return "", err
		}
		plan = append(plan, line)
	}
	text := strings.Join(plan, "\n")
	switch {
	case strings.Contains(text, "memories_embedding_hnsw"):
		return "HNSW", rows.Err()
	case strings.Contains(text, "memories_scope"):
		return "scope index+sort", rows.Err()
	default:
		return "seq scan+sort", rows.Err()
	}
}

// exactTopK is Search's query with index scans off, so the HNSW index cannot be used:
// PostgreSQL reads the scope (a bitmap scan on memories_scope) and sorts it by exact
// distance. It returns the top k similarities, best first.
func exactTopK(ctx context.Context, st *store.Store, sc scaleScope, q []float32) ([]float64, error) {
	tx, err := st.Pool.Begin(ctx)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback(ctx)
	if _, err := tx.Exec(ctx, `SET LOCAL enable_indexscan = off`); err != nil {
		return nil, err
	}
	// persona_id = $1 rather than Search's IS NOT DISTINCT FROM, which no index can
	// serve: this way the scope is read through memories_scope, the best exact plan.
	rows, err := tx.Query(ctx, `SELECT 1 - (embedding <=> $3) FROM memories WHERE `+sargableScope+`
			AND NOT archived AND embedding IS NOT NULL
		ORDER BY embedding <=> $3 LIMIT $4`, sc.personaID, sc.personalityID, pgvector.NewVector(q), scaleK)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, pgx.RowTo[float64])
}

// recallAgainst is recall@k against the exact answer, counted by distance rather than
// by id: synthetic texts repeat, so several memories can tie with the k-th exact one,
// and returning any of them is as right as returning the one the sort happened to pick.
func recallAgainst(got []store.Memory, exact []float64) float64 {
	if len(exact) == 0 {
		return 1
	}
	kth := exact[len(exact)-1]
	hits := 0
	for _, m := range got {
		if m.Similarity >= kth-1e-6 {
			hits++
		}
	}
	return float64(min(hits, len(exact))) / float64(len(exact))
}

func percentile(d []time.Duration, p float64) time.Duration {
	if len(d) == 0 {
		return 0
	}
	s := slices.Clone(d)
	slices.Sort(s)
	return s[min(len(s)-1, int(p*float64(len(s))))]
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
