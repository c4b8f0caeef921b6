package pgstore_test

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/sessionkit/sessions"
	"github.com/sessionkit/sessions/pgstore"
)

// TestUpsertExpiry checks the expiries the write statements leave in the
// table (see checkUpsertExpiry).
func TestUpsertExpiry(t *testing.T) {
	pool := testPool(t, nil)
	table := tableName()
	s, err := pgstore.New(bg, pool, pgstore.WithTable(table), pgstore.WithSweepInterval(-1))
	t.Cleanup(func() { pool.Exec(bg, `DROP TABLE "`+table+`"`) })
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	checkUpsertExpiry(t, s, upsertTable{
		expiry: func(id string) (int64, error) {
			var ms int64
			err := pool.QueryRow(bg, `SELECT expires_at FROM "`+table+`" WHERE id = $1`, id).Scan(&ms)
			return ms, err
		},
		insert: func(id string, expires int64, data string) error {
			_, err := pool.Exec(bg, `INSERT INTO "`+table+`" VALUES ($1, 1, $2, $3::jsonb)`, id, expires, data)
			return err
		},
	}, "", 0, false)
}

// upsertTable is what checkUpsertExpiry needs of a store's table: the
// expiry of the row under an id, in Unix milliseconds, and a record row
// inserted as another writer would.
type upsertTable struct {
	expiry func(id string) (int64, error)
	insert func(id string, expires int64, data string) error
}

// checkUpsertExpiry checks the expiry a Write leaves in the table: an
// upsert to a live record keeps the later of its expiry and ttl from now,
// capped at the record's deadline, a merge sets ttl from now, and an
// upsert to a row that holds no live record gives ttl from now. pad adds
// keys to every change, for a store whose path depends on their number;
// keepsCorrupt tells whether an upsert to a corrupt record that has not
// expired keeps its expiry too, instead of ttl from now.
func checkUpsertExpiry(t *testing.T, s sessions.Store, tab upsertTable, prefix string, pad int, keepsCorrupt bool) {
	t.Helper()
	const never = 9000000000000
	upsert := func(keys ...string) sessions.Change {
		ch := sessions.Change{Mode: sessions.ModeUpsert, Set: sessions.Record{}}
		for _, k := range keys {
			ch.Set[k] = []byte("1")
		}
		for i := 0; i < pad; i++ {
			ch.Set["pad"+strconv.Itoa(i)] = []byte("1")
		}
		return ch
	}
	write := func(id string, ch sessions.Change, ttl time.Duration) int64 {
		t.Helper()
		if err := s.Write(context.Background(), id, ch, ttl); err != nil {
			t.Fatalf("Write (%v) under %s: %v", ch.Mode, id, err)
		}
		ms, err := tab.expiry(id)
		if err != nil {
			t.Fatalf("reading the expiry of %s: %v", id, err)
		}
		return ms
	}
	insert := func(id string, expires int64, data string) {
		t.Helper()
		if err := tab.insert(id, expires, data); err != nil {
			t.Fatalf("inserting %s: %v", id, err)
		}
	}
	// about reports whether ms is d from now, give or take a few seconds.
	about := func(ms int64, d time.Duration) bool {
		want := time.Now().Add(d).UnixMilli()
		return ms > want-5000 && ms < want+5000
	}
	id := func(name string) string { return prefix + name }

	first := write(id("keeps"), upsert("a"), time.Hour)
	if got := write(id("keeps"), upsert("b"), time.Second); got != first {
		t.Errorf("an upsert with a ttl of 1s to a record that expires in 1h moved its expiry from %d to %d", first, got)
	}
	write(id("extends"), upsert("a"), time.Second)
	if got := write(id("extends"), upsert("b"), time.Hour); !about(got, time.Hour) {
		t.Errorf("an upsert with a ttl of 1h to a record that expires in 1s set its expiry %v from now, want 1h",
			time.Duration(got-time.Now().UnixMilli())*time.Millisecond)
	}
	write(id("merge"), upsert("a"), time.Hour)
	merge := upsert("b")
	merge.Mode = sessions.ModeMerge
	if got := write(id("merge"), merge, time.Second); !about(got, time.Second) {
		t.Errorf("a merge with a ttl of 1s to a record that expires in 1h set its expiry %v from now, want 1s",
			time.Duration(got-time.Now().UnixMilli())*time.Millisecond)
	}
	deadline := time.Now().Add(10 * time.Minute).UnixMilli()
	write(id("sets deadline"), upsert("a"), time.Hour)
	setsDeadline := upsert("b")
	setsDeadline.Set[sessions.DeadlineKey] = []byte(strconv.FormatInt(deadline, 10))
	if got := write(id("sets deadline"), setsDeadline, time.Hour); got != deadline {
		t.Errorf("an upsert that sets a deadline of %d to a record that expires in 1h set its expiry to %d, want the deadline", deadline, got)
	}
	if got := write(id("sets deadline"), upsert("c"), 2*time.Hour); got != deadline {
		t.Errorf("an upsert with a ttl of 2h to a record whose deadline is %d set its expiry to %d, want the deadline", deadline, got)
	}
	insert(id("expired"), 1, `{"a": "1"}`)
	if got := write(id("expired"), upsert("b"), time.Minute); !about(got, time.Minute) {
		t.Errorf("an upsert with a ttl of 1m to an expired record set its expiry to %d, want 1m from now", got)
	}
	insert(id("corrupt"), never, `{"a": 1}`)
	got := write(id("corrupt"), upsert("b"), time.Minute)
	switch {
	case !keepsCorrupt && !about(got, time.Minute):
		t.Errorf("an upsert with a ttl of 1m to a corrupt record that expires at %d set its expiry to %d, want 1m from now", int64(never), got)
	case keepsCorrupt && got != never:
		t.Errorf("an upsert with a ttl of 1m to a corrupt record that expires at %d set its expiry to %d, want it kept", int64(never), got)
	}
}
