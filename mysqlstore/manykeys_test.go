package mysqlstore_test

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sessionkit/sessions"
	"github.com/sessionkit/sessions/mysqlstore"
)

// manyKeys is the size of the record in TestDeltaOfManyKeys: MariaDB's
// JSON_REMOVE rescans the document for each key it removes, so that a
// delta clearing this many keys ran for tens of seconds.
const manyKeys = 20000

// keyNames returns n key names, sorted.
func keyNames(prefix string, n int) []string {
	keys := make([]string, n)
	for i := range keys {
		keys[i] = fmt.Sprintf("%s%06d", prefix, i)
	}
	return keys
}

// TestDeltaOfManyKeys clears a record of manyKeys keys with one delta, and
// a Create merges as many into it, each under a bound on a hang: a cost
// linear in the keys takes a fraction of a second, a quadratic one
// overruns it. The record's keys are stored in order and deleted in the
// reverse order, the worst case for a document rescanned per key.
func TestDeltaOfManyKeys(t *testing.T) {
	db := testDB(t)
	table := randomName("sessions")
	s, err := mysqlstore.New(bg, db, mysqlstore.WithTable(table), mysqlstore.WithSweepInterval(-1))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close(); db.Exec("DROP TABLE `" + table + "`") })
	keys := keyNames("k", manyKeys)
	members := make([]string, len(keys))
	for i, k := range keys {
		members[i] = `"` + k + `": "v"`
	}
	_, err = db.Exec("INSERT INTO `"+table+"` VALUES ('many', 1, 9000000000000, ?)", "{"+strings.Join(members, ", ")+"}")
	if err != nil {
		t.Fatal(err)
	}
	sort.Sort(sort.Reverse(sort.StringSlice(keys)))
	change := sessions.Change{Set: sessions.Record{"kept": []byte("1")}, Delete: keys}
	writeWithin(t, s, "many", change, "a delta that deletes 20,000 keys")
	expectKeys(t, s, "many", 1)
	set := sessions.Record{}
	for _, k := range keys {
		set[k] = []byte("w")
	}
	writeWithin(t, s, "many", sessions.Change{Mode: sessions.ModeUpsert, Set: set}, "a Create that sets 20,000 keys")
	expectKeys(t, s, "many", manyKeys+1)
}

// writeWithin runs a Write with a bound of 10 s on a hang: the bound
// fails a cost that grows with the square of the keys, not a slow machine.
func writeWithin(t *testing.T, s sessions.Store, id string, ch sessions.Change, what string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	start := time.Now()
	if err := s.Write(ctx, id, ch, time.Hour); err != nil {
		t.Fatalf("%s gave %v after %v", what, err, time.Since(start).Round(time.Millisecond))
	}
	t.Logf("%s took %v", what, time.Since(start).Round(time.Millisecond))
}

func expectKeys(t *testing.T, s sessions.Store, id string, n int) {
	t.Helper()
	rec, err := s.Read(context.Background(), id)
	if err != nil || len(rec) != n {
		t.Fatalf("Read gave %d keys (%v), want %d", len(rec), err, n)
	}
}

// TestManyKeysMergeAtomically runs changes of many keys, which take the
// locked path, and of one key, which do not, on different keys of one
// record at once: every change persists, and no key deleted comes back.
// Two Creates of many keys on a missing record race to create it.
func TestManyKeysMergeAtomically(t *testing.T) {
	s := newStore(t, testDB(t))
	ctx := context.Background()
	for round := 0; round < 5; round++ {
		id := fmt.Sprintf("u:%d", round)
		changes := []sessions.Change{
			{Mode: sessions.ModeUpsert, Set: recordOf(keyNames("a", 40))},
			{Mode: sessions.ModeUpsert, Set: recordOf(keyNames("b", 40))},
			{Mode: sessions.ModeUpsert, Set: sessions.Record{"c": []byte("1")}},
		}
		runAtOnce(t, func(i int) error { return s.Write(ctx, id, changes[i], time.Hour) }, len(changes))
		changes = []sessions.Change{
			{Set: recordOf(keyNames("d", 30)), Delete: keyNames("a", 20)},
			{Set: recordOf(keyNames("e", 30)), Delete: keyNames("b", 20)},
			{Set: sessions.Record{"f": []byte("1")}, Delete: []string{"c"}},
		}
		runAtOnce(t, func(i int) error { return s.Write(ctx, id, changes[i], time.Hour) }, len(changes))
		rec, err := s.Read(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if len(rec) != 20+20+30+30+1 || rec["f"] == nil || rec["a000039"] == nil || rec["e000029"] == nil || rec["a000000"] != nil || rec["c"] != nil {
			t.Fatalf("round %d: the record holds %d keys after the concurrent changes, want 101: %q", round, len(rec), rec)
		}
	}
}

func recordOf(keys []string) sessions.Record {
	r := sessions.Record{}
	for _, k := range keys {
		r[k] = []byte(k)
	}
	return r
}

// runAtOnce runs f(0) to f(n-1) in goroutines released together.
func runAtOnce(t *testing.T, f func(i int) error, n int) {
	t.Helper()
	var wg sync.WaitGroup
	start := make(chan struct{})
	errs := make([]error, n)
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			errs[i] = f(i)
		}()
	}
	close(start)
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("change %d: %v", i, err)
		}
	}
}

// BenchmarkDeltaOfManyKeys measures a delta that clears a record of n keys,
// stored in order and deleted in the reverse order: its time per key stays
// flat when the cost is linear in the keys, and doubles with n when it is
// quadratic.
func BenchmarkDeltaOfManyKeys(b *testing.B) {
	db, err := sql.Open("mysql", os.Getenv("SESSIONS_MYSQL_DSN"))
	if err != nil || os.Getenv("SESSIONS_MYSQL_DSN") == "" {
		b.Skip("SESSIONS_MYSQL_DSN is not set")
	}
	defer db.Close()
	for _, n := range []int{2000, 4000, 8000, 16000} {
		b.Run(fmt.Sprintf("keys=%d", n), func(b *testing.B) { benchClear(b, db, n) })
	}
}

func benchClear(b *testing.B, db *sql.DB, n int) {
	table := randomName("bench")
	s, err := mysqlstore.New(context.Background(), db, mysqlstore.WithTable(table), mysqlstore.WithSweepInterval(-1))
	if err != nil {
		b.Fatal(err)
	}
	defer db.Exec("DROP TABLE `" + table + "`")
	defer s.Close()
	keys := keyNames("k", n)
	members := make([]string, n)
	for i, k := range keys {
		members[i] = `"` + k + `": "v"`
	}
	doc := "{" + strings.Join(members, ", ") + "}"
	sort.Sort(sort.Reverse(sort.StringSlice(keys)))
	change := sessions.Change{Set: sessions.Record{"kept": []byte("1")}, Delete: keys}
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		if _, err := db.Exec("REPLACE INTO `"+table+"` VALUES ('many', 1, 9000000000000, ?)", doc); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		if err := s.Write(context.Background(), "many", change, time.Hour); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N*n), "µs/key")
}
