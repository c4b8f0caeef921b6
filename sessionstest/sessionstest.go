// Package sessionstest checks that an implementation of sessions.Store keeps
// the whole Store contract: tombstones that refuse every later Write, a
// Remove that reports atomically whether it removed a live record, deltas
// that merge key by key, no record created by a delta or a touch, expiry of
// records and tombstones, atomic Writes under concurrency, context
// cancellation, binary-safe values and copy-on-write records.
//
// Call Run from a test in the store's own package, with a function that
// returns a new, empty store for each check:
//
//	func TestStoreConformance(t *testing.T) {
//		sessionstest.Run(t, func(t *testing.T) sessions.Store {
//			s := mystore.New()
//			t.Cleanup(func() { s.Close() })
//			return s
//		})
//	}
//
// A store with a simulated clock lets the suite advance it instead of
// sleeping. With miniredis:
//
//	func TestRedisStoreConformance(t *testing.T) {
//		m := miniredis.RunT(t)
//		sessionstest.Run(t, func(t *testing.T) sessions.Store {
//			m.FlushAll()
//			client := redis.NewClient(&redis.Options{Addr: m.Addr()})
//			t.Cleanup(func() { client.Close() })
//			return redisstore.New(client)
//		}, sessionstest.Wait(m.FastForward))
//	}
//
// The checks run one after another, never in parallel, so a store may share
// a server (or a simulated clock) between them as long as newStore empties
// it. With real time the suite sleeps for about two and a half seconds in all.
package sessionstest

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sessionkit/sessions"
)

// The durations below leave wide margins, so that the checks hold on a
// loaded machine: a record that must have expired is looked at after at
// least three times its TTL, and a record that must still be alive has a
// TTL at least ten times the time waited. Where a record of shortTTL must
// still be alive when it is changed, a stalled machine makes the check
// start again with a longer TTL instead of failing.
const (
	// longTTL is the TTL of records and tombstones that must outlive a check.
	longTTL = time.Minute
	// shortTTL is the TTL of records and tombstones that must expire during
	// a check.
	shortTTL = 250 * time.Millisecond
	// expireWait is how long a check waits for shortTTL to pass.
	expireWait = 800 * time.Millisecond
	// touchDelay is how long a check waits before extending a record of
	// shortTTL.
	touchDelay = 20 * time.Millisecond
	// tombTTL and tombWait check that a tombstone still refuses Writes some
	// time after Remove, and after the dozen calls that check it.
	tombTTL  = 10 * time.Second
	tombWait = 200 * time.Millisecond
)

type config struct {
	wait   func(time.Duration)
	rounds float64
	header string
}

// Option configures Run and RunHTTP.
type Option func(*config)

// Wait sets how the suite lets time pass for the expiry checks (default
// time.Sleep). A store with a simulated clock, such as miniredis, passes a
// function that advances it (m.FastForward).
func Wait(f func(time.Duration)) Option {
	return func(c *config) {
		if f != nil {
			c.wait = f
		}
	}
}

// Run checks that the Store returned by newStore keeps the whole Store
// contract of package sessions. Each rule is a subtest of t, named after the
// rule, and newStore is called once per subtest: it must return a store
// that holds no records and no tombstones.
func Run(t *testing.T, newStore func(t *testing.T) sessions.Store, opts ...Option) {
	t.Helper()
	c := config{wait: time.Sleep}
	for _, opt := range opts {
		opt(&c)
	}
	for _, tc := range checks {
		t.Run(tc.name, func(t *testing.T) {
			s := newStore(t)
			if s == nil {
				t.Fatal("newStore returned a nil Store")
			}
			tc.run(&suite{t: t, s: s, wait: c.wait})
		})
	}
}

var checks = []struct {
	name string
	run  func(*suite)
}{
	{"ReadMissing", (*suite).readMissing},
	{"ReplaceThenRead", (*suite).replaceThenRead},
	{"ReplaceDiscardsOldKeys", (*suite).replaceDiscardsOldKeys},
	{"DeltaMergesKeys", (*suite).deltaMergesKeys},
	{"DeltaToMissingIDCreatesNothing", (*suite).deltaToMissingIDCreatesNothing},
	{"TouchNeverCreates", (*suite).touchNeverCreates},
	{"CreateMakesMissingRecord", (*suite).createMakesMissingRecord},
	{"CreateMergesLiveRecord", (*suite).createMergesLiveRecord},
	{"ConcurrentCreatesAllPersist", (*suite).concurrentCreatesAllPersist},
	{"NonPositiveTTLExpiresAtOnce", (*suite).nonPositiveTTLExpiresAtOnce},
	{"ManagerKeyForms", (*suite).managerKeyForms},
	{"RemoveLeavesTombstone", (*suite).removeLeavesTombstone},
	{"RemoveOfUnknownIDLeavesTombstone", (*suite).removeOfUnknownIDLeavesTombstone},
	{"RemoveReportsWhetherRecordWasLive", (*suite).removeReportsWhetherRecordWasLive},
	{"RemoveKeepsLongerTombstone", (*suite).removeKeepsLongerTombstone},
	{"UpsertKeepsLongerExpiry", (*suite).upsertKeepsLongerExpiry},
	{"ConcurrentRemovesExactlyOneWins", (*suite).concurrentRemovesExactlyOneWins},
	{"RecordsExpire", (*suite).recordsExpire},
	{"TombstonesExpire", (*suite).tombstonesExpire},
	{"TouchExtendsExpiry", (*suite).touchExtendsExpiry},
	{"DeltaExtendsExpiry", (*suite).deltaExtendsExpiry},
	{"WriteSetsExpiryFromNow", (*suite).writeSetsExpiryFromNow},
	{"ConcurrentWritesToDifferentKeys", (*suite).concurrentWritesToDifferentKeys},
	{"ConcurrentWritesToSameKey", (*suite).concurrentWritesToSameKey},
	{"RemoveRacingWrites", (*suite).removeRacingWrites},
	{"CancelledContext", (*suite).cancelledContext},
	{"BinarySafe", (*suite).binarySafe},
	{"KeysRoundTrip", (*suite).keysRoundTrip},
	{"ReadRecordUnchangedByLaterWrite", (*suite).readRecordUnchangedByLaterWrite},
}

type suite struct {
	t    *testing.T
	s    sessions.Store
	wait func(time.Duration)
}

var bg = context.Background()

func (c *suite) readMissing() {
	c.expectGone(newID(), "an ID that was never written must read as missing")
}

func (c *suite) replaceThenRead() {
	id := newID()
	want := rec("user", `"alice"`, "__created", "1700000000", "n", "42")
	c.mustWrite(id, replace(want), longTTL, "the first Write of a new session")
	c.expectRecord(id, want, "after a Write with Replace, Read must return exactly ch.Set")
}

func (c *suite) replaceDiscardsOldKeys() {
	id := newID()
	c.mustWrite(id, replace(rec("a", "1", "b", "2", "c", "3")), longTTL, "the first Write")
	want := rec("b", "20", "d", "4")
	c.mustWrite(id, replace(want), longTTL, "a second Write with Replace")
	c.expectRecord(id, want, "a Write with Replace must discard every key stored before and keep exactly ch.Set")
}

func (c *suite) deltaMergesKeys() {
	id := newID()
	c.mustWrite(id, replace(rec("keep", "k", "over", "old", "gone", "g")), longTTL, "the first Write")
	c.mustWrite(id, sessions.Change{
		Set:    rec("over", "new", "added", "a"),
		Delete: []string{"gone", "never-there"},
	}, longTTL, "a Write in ModeMerge to a live record")
	c.expectRecord(id, rec("keep", "k", "over", "new", "added", "a"),
		"a delta Write must set the keys in ch.Set, delete those in ch.Delete and keep every other key")
}

func (c *suite) deltaToMissingIDCreatesNothing() {
	for _, ch := range []sessions.Change{
		{Set: rec("a", "1")},
		{Delete: []string{"a"}},
		{Set: rec("a", "1"), Delete: []string{"b"}},
	} {
		id := newID()
		c.expectWriteErr(id, ch, longTTL, sessions.ErrNotFound,
			"a Write in ModeMerge to an ID with no record must give ErrNotFound")
		c.expectGone(id, "a delta Write to an ID with no record must not create one")
	}
}

func (c *suite) touchNeverCreates() {
	id := newID()
	c.expectWriteErr(id, sessions.Change{}, longTTL, sessions.ErrNotFound,
		"an empty Change (a touch) to an ID with no record must give ErrNotFound")
	c.expectGone(id, "an empty Change (a touch) must never create a record")
}

func (c *suite) createMakesMissingRecord() {
	id := newID()
	want := rec("h1", "1")
	c.mustWrite(id, sessions.Change{Mode: sessions.ModeUpsert, Set: want, Delete: []string{"h0"}}, longTTL,
		"a Write in ModeUpsert to an ID with no record")
	c.expectRecord(id, want, "a Write in ModeUpsert to an ID with no record must create it from ch.Set")
	expired := newID()
	c.mustWrite(expired, replace(rec("old", "o")), shortTTL, "a Write")
	c.wait(expireWait)
	c.mustWrite(expired, sessions.Change{Mode: sessions.ModeUpsert, Set: rec("new", "n")}, longTTL,
		"a Write in ModeUpsert to an expired record")
	c.expectRecord(expired, rec("new", "n"),
		"a Write in ModeUpsert to an expired record must start from an empty record: nothing of the expired one comes back")
	touched := newID()
	c.expectWriteErr(touched, sessions.Change{Mode: sessions.ModeUpsert}, longTTL, sessions.ErrNotFound,
		"a Write in ModeUpsert that sets and deletes nothing is a touch: to an ID with no record it must give ErrNotFound")
	c.expectGone(touched, "a touch in ModeUpsert must not create a record")
}

func (c *suite) createMergesLiveRecord() {
	id := newID()
	c.mustWrite(id, replace(rec("keep", "k", "over", "old", "gone", "g")), longTTL, "the first Write")
	c.mustWrite(id, sessions.Change{Mode: sessions.ModeUpsert, Set: rec("over", "new", "added", "a"), Delete: []string{"gone"}}, longTTL,
		"a Write in ModeUpsert to a live record")
	c.expectRecord(id, rec("keep", "k", "over", "new", "added", "a"),
		"a Write in ModeUpsert to a live record must merge like a delta: set ch.Set, delete ch.Delete, keep every other key")
}

// concurrentCreatesAllPersist is the first logins of one user on several
// servers at once: each adds its own key to a record that none of them saw.
func (c *suite) concurrentCreatesAllPersist() {
	const writers = 50
	for round := 0; round < 3; round++ {
		id := newID()
		together(writers, func(i int) {
			ch := sessions.Change{Mode: sessions.ModeUpsert, Set: rec(fmt.Sprintf("key-%d", i), "1")}
			if err := c.s.Write(bg, id, ch, longTTL); err != nil {
				c.t.Errorf("a Write in ModeUpsert gave %v, want nil", err)
			}
		})
		want := rec()
		for i := 0; i < writers; i++ {
			want[fmt.Sprintf("key-%d", i)] = []byte("1")
		}
		if !c.expectRecord(id, want, fmt.Sprintf(
			"%d concurrent Writes in ModeUpsert to an ID with no record, each setting its own key, must all persist: the check for a live record and the merge are one atomic step",
			writers)) {
			return
		}
	}
}

func (c *suite) nonPositiveTTLExpiresAtOnce() {
	for _, ttl := range []time.Duration{0, -time.Second} {
		id := newID()
		if err := c.s.Write(bg, id, replace(rec("a", "1")), ttl); err != nil {
			c.t.Errorf("a Write with Replace and a ttl of %v gave %v, want nil", ttl, err)
		}
		c.expectGone(id, fmt.Sprintf("a ttl of %v means expires at once: a Write with it must leave no live record", ttl))
		c.mustWrite(id, replace(rec("a", "1")), longTTL, "a Write")
		if err := c.s.Write(bg, id, sessions.Change{Set: rec("b", "2")}, ttl); err != nil && !errors.Is(err, sessions.ErrNotFound) {
			c.t.Errorf("a delta Write with a ttl of %v to a live record gave %v, want nil or ErrNotFound", ttl, err)
		}
		c.expectGone(id, fmt.Sprintf("a delta Write with a ttl of %v must leave no live record", ttl))
		c.mustWrite(id, replace(rec("a", "1")), longTTL, "a Write")
		if err := c.s.Remove(bg, id, ttl); err != nil {
			c.t.Errorf("Remove of a live record with a ttl of %v gave %v, want nil", ttl, err)
		}
		c.expectGone(id, fmt.Sprintf("Remove with a ttl of %v must remove the record", ttl))
	}
}

// managerKeyForms writes under each form of id the Manager uses: a handle,
// a successor record and a user's index.
func (c *suite) managerKeyForms() {
	h := newID()
	for _, id := range []string{h, "s:" + h, "u:" + h} {
		want := rec(newID(), "1")
		c.mustWrite(id, sessions.Change{Mode: sessions.ModeUpsert, Set: want}, longTTL, fmt.Sprintf("a Write in ModeUpsert under %q", id))
		c.expectRecord(id, want, fmt.Sprintf("the store must keep a record under %q apart from the others", id))
	}
}

func (c *suite) removeLeavesTombstone() {
	id := newID()
	c.mustWrite(id, replace(rec("user", "alice")), longTTL, "the first Write")
	c.mustRemove(id, tombTTL)
	c.expectTombstone(id, "right after Remove")
	c.wait(tombWait)
	c.expectTombstone(id, fmt.Sprintf("%v after Remove with a tombstone TTL of %v", tombWait, tombTTL))
}

func (c *suite) removeOfUnknownIDLeavesTombstone() {
	id := newID()
	c.expectRemoveErr(id, longTTL, sessions.ErrNotFound,
		"Remove of an ID that was never written must give ErrNotFound")
	c.expectTombstone(id, "after Remove of an ID that was never written")
	c.expectRemoveErr(id, longTTL, sessions.ErrNotFound,
		"a second Remove of an ID that was never written must give ErrNotFound")
	c.expectTombstone(id, "after a second Remove of the same ID")
}

func (c *suite) removeReportsWhetherRecordWasLive() {
	id := newID()
	c.mustWrite(id, replace(rec("user", "alice")), longTTL, "the first Write")
	if err := c.s.Remove(bg, id, longTTL); err != nil {
		c.t.Fatalf("Remove of a live record must give nil; got %v", err)
	}
	c.expectRemoveErr(id, longTTL, sessions.ErrNotFound,
		"a second Remove of the same ID must give ErrNotFound: no live record is stored under it any more")
	c.expectTombstone(id, "after a second Remove of the same ID")
}

func (c *suite) removeKeepsLongerTombstone() {
	id := newID()
	c.mustWrite(id, replace(rec("user", "alice")), longTTL, "the first Write")
	c.mustRemove(id, longTTL)
	c.expectRemoveErr(id, shortTTL, sessions.ErrNotFound,
		"a second Remove of the same ID must give ErrNotFound")
	c.wait(expireWait)
	c.expectTombstone(id, fmt.Sprintf(
		"%v after a Remove with a TTL of %v followed by one with a TTL of %v: a Remove never shortens a tombstone that already lasts longer",
		expireWait, longTTL, shortTTL))
}

// upsertKeepsLongerExpiry: a Write in ModeUpsert to a live record never
// shortens the expiry another writer set. Servers with different lifetimes
// share a user's index; the one with the shorter must not make it expire
// before a session the other listed in it.
func (c *suite) upsertKeepsLongerExpiry() {
	id := "u:" + newID()
	c.mustWrite(id, sessions.Change{Mode: sessions.ModeUpsert, Set: rec("long", "1")}, longTTL, "a Write in ModeUpsert")
	c.mustWrite(id, sessions.Change{Mode: sessions.ModeUpsert, Set: rec("short", "1"), Delete: []string{"none"}}, shortTTL,
		"a second Write in ModeUpsert, with a shorter TTL")
	c.wait(expireWait)
	c.expectRecord(id, rec("long", "1", "short", "1"), fmt.Sprintf(
		"%v after a Write in ModeUpsert with a TTL of %v followed by one with a TTL of %v: a Write in ModeUpsert never shortens the expiry of a live record",
		expireWait, longTTL, shortTTL))
}

func (c *suite) concurrentRemovesExactlyOneWins() {
	const (
		rounds   = 5
		removers = 20
	)
	for round := 0; round < rounds; round++ {
		id := newID()
		c.mustWrite(id, replace(rec("user", "alice")), longTTL, "the first Write")
		start := make(chan struct{})
		errs := make(chan error, removers)
		var wg sync.WaitGroup
		for i := 0; i < removers; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				errs <- c.s.Remove(bg, id, longTTL)
			}()
		}
		close(start)
		wg.Wait()
		close(errs)
		won := 0
		for err := range errs {
			switch {
			case err == nil:
				won++
			case !errors.Is(err, sessions.ErrNotFound):
				c.t.Errorf("a Remove racing with other Removes of one live record gave %v, want nil or ErrNotFound", err)
			}
		}
		if won != 1 {
			c.t.Errorf("of %d concurrent Removes of one live record, %d gave nil, want exactly 1 (the others ErrNotFound): checking for the record and removing it must be one atomic step", removers, won)
		}
		c.expectTombstone(id, "after concurrent Removes")
		if c.t.Failed() {
			return
		}
	}
}

// expectTombstone checks every consequence of a live tombstone under id.
func (c *suite) expectTombstone(id, when string) {
	c.t.Helper()
	c.expectGone(id, "a removed record must read as missing "+when)
	for _, w := range []struct {
		kind string
		ch   sessions.Change
	}{
		{"a Write with Replace", replace(rec("user", "mallory"))},
		{"a delta Write", sessions.Change{Set: rec("user", "mallory")}},
		{"a Write in ModeUpsert", sessions.Change{Mode: sessions.ModeUpsert, Set: rec("user", "mallory")}},
		{"an empty Change (a touch)", sessions.Change{}},
	} {
		c.expectWriteErr(id, w.ch, longTTL, sessions.ErrInvalidated,
			w.kind+" to a removed ID must give ErrInvalidated while its tombstone lasts ("+when+")")
	}
	c.expectGone(id, "a Write refused by a tombstone must change nothing ("+when+")")
}

func (c *suite) recordsExpire() {
	id := newID()
	c.mustWrite(id, replace(rec("user", "alice")), shortTTL, "a Write")
	c.wait(expireWait)
	rule := fmt.Sprintf("a record written with a TTL of %v must be gone %v later", shortTTL, expireWait)
	c.expectGone(id, rule)
	c.expectWriteErr(id, sessions.Change{Set: rec("late", "1")}, longTTL, sessions.ErrNotFound,
		"a delta Write to an expired record must give ErrNotFound")
	c.expectWriteErr(id, sessions.Change{}, longTTL, sessions.ErrNotFound,
		"an empty Change (a touch) to an expired record must give ErrNotFound")
	c.expectGone(id, "a delta Write or a touch to an expired record must not bring it back")
	c.expectRemoveErr(id, longTTL, sessions.ErrNotFound,
		"Remove of an expired record must give ErrNotFound: no live record is stored under the ID")
}

func (c *suite) tombstonesExpire() {
	id := newID()
	c.mustWrite(id, replace(rec("user", "alice")), longTTL, "the first Write")
	c.mustRemove(id, shortTTL)
	c.wait(expireWait)
	c.expectWriteErr(id, sessions.Change{Set: rec("user", "bob")}, longTTL, sessions.ErrNotFound,
		fmt.Sprintf("once a tombstone with a TTL of %v has expired (%v later), a delta Write must give ErrNotFound: the record is gone, the ID no longer invalidated", shortTTL, expireWait))
	want := rec("user", "carol")
	if err := c.s.Write(bg, id, replace(want), longTTL); err != nil {
		c.t.Fatalf("a tombstone written with a TTL of %v must expire: a Write with Replace %v later gave %v, want nil", shortTTL, expireWait, err)
	}
	c.expectRecord(id, want, "a Write with Replace after the tombstone expired must store the record")
}

func (c *suite) touchExtendsExpiry() {
	c.extendsExpiry(sessions.Change{}, rec("user", "alice"), "an empty Change (a touch)",
		"an empty Change (a touch) must set the expiry to ttl from now and leave the keys as they are: a record written with a TTL of %v and touched with a TTL of %v must outlive its first TTL")
}

func (c *suite) deltaExtendsExpiry() {
	c.extendsExpiry(sessions.Change{Set: rec("theme", "dark")}, rec("user", "alice", "theme", "dark"), "a delta Write",
		"a delta Write must set the expiry to ttl from now: a record written with a TTL of %v and changed with a TTL of %v must outlive its first TTL")
}

// extendsExpiry writes a record with a short TTL, changes it by ch with
// longTTL before that TTL ends, and expects want after the short TTL. The
// change must reach the store while the record lives: when it is refused
// as ErrNotFound after the short TTL had passed (a stall of the machine),
// the check starts again with the TTL doubled, up to 8 times shortTTL.
func (c *suite) extendsExpiry(ch sessions.Change, want sessions.Record, what, rule string) {
	for ttl := shortTTL; ; ttl *= 2 {
		id := newID()
		start := time.Now()
		c.mustWrite(id, replace(rec("user", "alice")), ttl, "a Write")
		c.wait(touchDelay)
		err := c.s.Write(bg, id, ch, longTTL)
		if errors.Is(err, sessions.ErrNotFound) && time.Since(start) >= ttl && ttl < 8*shortTTL {
			continue
		}
		if err != nil {
			c.t.Fatalf("%s to a live record gave %v, want nil", what, err)
		}
		c.wait(expireWait * (ttl / shortTTL))
		c.expectRecord(id, want, fmt.Sprintf(rule, ttl, longTTL))
		return
	}
}

func (c *suite) writeSetsExpiryFromNow() {
	touched, changed, replaced := newID(), newID(), newID()
	for _, id := range []string{touched, changed, replaced} {
		c.mustWrite(id, replace(rec("user", "alice")), longTTL, "the first Write")
	}
	c.mustWrite(touched, sessions.Change{}, shortTTL, "an empty Change (a touch) to a live record")
	c.mustWrite(changed, sessions.Change{Set: rec("theme", "dark")}, shortTTL, "a delta Write to a live record")
	c.mustWrite(replaced, replace(rec("user", "bob")), shortTTL, "a Write with Replace to a live record")
	c.wait(expireWait)
	rule := fmt.Sprintf("a Write sets the expiry to ttl from now, also when that is sooner than before: a record written with a TTL of %v, then %%s with a TTL of %v, must be gone %v later",
		longTTL, shortTTL, expireWait)
	c.expectGone(touched, fmt.Sprintf(rule, "touched"))
	c.expectGone(changed, fmt.Sprintf(rule, "changed by a delta"))
	c.expectGone(replaced, fmt.Sprintf(rule, "replaced"))
}

func (c *suite) concurrentWritesToDifferentKeys() {
	const writers = 100
	for round := 0; round < 3; round++ {
		id := newID()
		base := rec("base", "b")
		for i := 0; i < writers; i++ {
			base[fmt.Sprintf("del-%d", i)] = []byte("x")
		}
		c.mustWrite(id, replace(base), longTTL, "the first Write")
		together(writers, func(i int) {
			ch := sessions.Change{
				Set:    rec(fmt.Sprintf("key-%d", i), fmt.Sprintf("v-%d", i)),
				Delete: []string{fmt.Sprintf("del-%d", i)},
			}
			if err := c.s.Write(bg, id, ch, longTTL); err != nil {
				c.t.Errorf("a delta Write to a live record gave %v, want nil", err)
			}
		})
		want := rec("base", "b")
		for i := 0; i < writers; i++ {
			want[fmt.Sprintf("key-%d", i)] = []byte(fmt.Sprintf("v-%d", i))
		}
		if !c.expectRecord(id, want, fmt.Sprintf(
			"%d concurrent delta Writes, each setting one key and deleting another, must all persist: a Write changes only its own keys, it never writes back a whole record it read before",
			writers)) {
			return
		}
	}
}

func (c *suite) concurrentWritesToSameKey() {
	const writers = 50
	id := newID()
	c.mustWrite(id, replace(rec("other", "o")), longTTL, "the first Write")
	values := make([][]byte, writers)
	for i := range values {
		v := bytes.Repeat([]byte{byte(i)}, 1024)
		values[i] = append(v, fmt.Sprintf("writer-%d", i)...)
	}
	together(writers, func(i int) {
		ch := sessions.Change{Set: sessions.Record{"same": values[i]}}
		if err := c.s.Write(bg, id, ch, longTTL); err != nil {
			c.t.Errorf("a delta Write to a live record gave %v, want nil", err)
		}
	})
	got, err := c.s.Read(bg, id)
	if err != nil {
		c.t.Fatalf("after %d concurrent Writes to one key, Read gave %v, want the record", writers, err)
	}
	found := false
	for _, v := range values {
		if bytes.Equal(got["same"], v) {
			found = true
			break
		}
	}
	if !found {
		c.t.Errorf("after %d concurrent Writes to one key, its value must be exactly one of the written values (the last Write wins); got %s",
			writers, quote(got["same"]))
	}
	if !bytes.Equal(got["other"], []byte("o")) {
		c.t.Errorf("concurrent Writes to one key must keep the other keys: key %q is %s, want %q", "other", quoteMaybe(got, "other"), "o")
	}
}

func (c *suite) removeRacingWrites() {
	const (
		rounds  = 5
		writers = 16
		// Each writer goes on until it has seen this many of its Writes
		// refused after Remove returned.
		writesAfterRemove = 3
	)
	for round := 0; round < rounds; round++ {
		id := newID()
		c.mustWrite(id, replace(rec("user", "alice")), longTTL, "the first Write")
		var removed atomic.Bool
		var failed atomic.Bool
		var started, done sync.WaitGroup
		started.Add(writers)
		done.Add(writers)
		for w := 0; w < writers; w++ {
			go func() {
				defer done.Done()
				after := 0
				for i := 0; after < writesAfterRemove; i++ {
					afterRemove := removed.Load()
					kind, ch := "a delta Write", sessions.Change{Set: rec(fmt.Sprintf("w%d", w), fmt.Sprint(i))}
					if (w+i)%2 == 1 {
						kind, ch = "a Write with Replace", replace(rec("user", "mallory"))
					}
					err := c.s.Write(bg, id, ch, longTTL)
					if i == 0 {
						started.Done()
					}
					switch {
					case afterRemove && !errors.Is(err, sessions.ErrInvalidated):
						if failed.CompareAndSwap(false, true) {
							c.t.Errorf("%s that started after Remove returned gave %v, want ErrInvalidated: the tombstone must refuse every later Write", kind, err)
						}
					case !afterRemove && err != nil && !errors.Is(err, sessions.ErrInvalidated):
						if failed.CompareAndSwap(false, true) {
							c.t.Errorf("%s running concurrently with Remove gave %v, want nil or ErrInvalidated: Remove must delete the record and leave the tombstone in one atomic step", kind, err)
						}
					}
					if afterRemove {
						after++
					}
				}
			}()
		}
		started.Wait()
		c.mustRemove(id, longTTL)
		removed.Store(true)
		done.Wait()
		c.expectGone(id, "Writes racing with Remove must not bring the record back: after Remove, the ID must read as missing")
		if c.t.Failed() {
			return
		}
	}
}

func (c *suite) cancelledContext() {
	cancelled, cancel := context.WithCancel(bg)
	cancel()
	expired, cancel2 := context.WithDeadline(bg, time.Now().Add(-time.Second))
	defer cancel2()
	for _, ctx := range []struct {
		name string
		ctx  context.Context
	}{{"a cancelled", cancelled}, {"an expired", expired}} {
		id := newID()
		c.mustWrite(id, replace(rec("user", "alice")), longTTL, "the first Write")
		want := ctx.ctx.Err()
		rule := fmt.Sprintf("every method must honour its context: with %s context, %%s must give the context's error (%v), possibly wrapped", ctx.name, want)
		if _, err := c.s.Read(ctx.ctx, id); !errors.Is(err, want) {
			c.t.Errorf(rule+"; got %v", "Read", err)
		}
		if err := c.s.Write(ctx.ctx, id, replace(rec("user", "bob")), longTTL); !errors.Is(err, want) {
			c.t.Errorf(rule+"; got %v", "Write", err)
		}
		if err := c.s.Remove(ctx.ctx, id, longTTL); !errors.Is(err, want) {
			c.t.Errorf(rule+"; got %v", "Remove", err)
		}
		if _, err := has(ctx.ctx, c.s, id); !errors.Is(err, want) {
			c.t.Errorf(rule+"; got %v", "Exists", err)
		}
	}
}

func (c *suite) binarySafe() {
	all := make([]byte, 256)
	for i := range all {
		all[i] = byte(i)
	}
	big := make([]byte, 64<<10)
	for i := range big {
		big[i] = byte(i * 7)
	}
	first := sessions.Record{
		"all-bytes":              all,
		"empty":                  {},
		"a:b:c":                  []byte("colons"),
		"with space":             []byte("space"),
		"ключ":                   []byte("значение"),
		"日本語 🎉":                  []byte("\xff\xfe\x00invalid utf-8"),
		"__reserved":             []byte("meta"),
		"{tag}":                  []byte("braces"),
		"tab\tnew\nline":         []byte("\r\n"),
		`quote"back\slash`:       []byte(`"\`),
		"nul\x00inside":          []byte("\x00"),
		"%s%d":                   []byte("%v"),
		strings.Repeat("k", 300): []byte("long key"),
	}
	id := newID()
	c.mustWrite(id, replace(first), longTTL, "a Write with Replace of binary values")
	c.expectRecord(id, first, "keys and values must round trip byte for byte through a Write with Replace (all 256 byte values, empty values, unicode, colons, spaces, NUL)")

	delta := sessions.Record{
		"all-bytes":  big,
		"empty":      []byte("no longer"),
		"a:b:c":      {},
		"new:\x00:🎉": all,
	}
	c.mustWrite(id, sessions.Change{Set: delta, Delete: []string{"with space", "nul\x00inside"}}, longTTL, "a delta Write of binary values")
	want := sessions.Record{}
	for k, v := range first {
		want[k] = v
	}
	delete(want, "with space")
	delete(want, "nul\x00inside")
	for k, v := range delta {
		want[k] = v
	}
	c.expectRecord(id, want, "keys and values must round trip byte for byte through a delta Write (a 64 KiB value, an empty value, NUL in keys)")
}

func (c *suite) readRecordUnchangedByLaterWrite() {
	id := newID()
	c.mustWrite(id, replace(rec("a", "1", "b", "2")), longTTL, "the first Write")
	got, err := c.s.Read(bg, id)
	if err != nil {
		c.t.Fatalf("Read of a live record gave %v, want the record", err)
	}
	snapshot := clone(got)
	for _, w := range []struct {
		kind string
		ch   sessions.Change
	}{
		{"an empty Change (a touch)", sessions.Change{}},
		{"a delta Write", sessions.Change{Set: rec("a", "changed", "c", "3"), Delete: []string{"b"}}},
		{"a Write with Replace", replace(rec("z", "26"))},
	} {
		c.mustWrite(id, w.ch, longTTL, w.kind)
		if d := diff(snapshot, got); d != "" {
			c.t.Fatalf("a Record returned by Read must not change when a later Write is made (a store must never modify a map it has handed out), but after %s it did:\n%s", w.kind, d)
		}
	}
	c.mustRemove(id, longTTL)
	if d := diff(snapshot, got); d != "" {
		c.t.Fatalf("a Record returned by Read must not change when the record is later removed, but it did:\n%s", d)
	}
}

func (c *suite) mustWrite(id string, ch sessions.Change, ttl time.Duration, what string) {
	c.t.Helper()
	if err := c.s.Write(bg, id, ch, ttl); err != nil {
		c.t.Fatalf("%s gave %v, want nil", what, err)
	}
}

// mustRemove removes the live record under id.
func (c *suite) mustRemove(id string, ttl time.Duration) {
	c.t.Helper()
	if err := c.s.Remove(bg, id, ttl); err != nil {
		c.t.Fatalf("Remove of a live record gave %v, want nil", err)
	}
}

func (c *suite) expectRemoveErr(id string, ttl time.Duration, want error, rule string) {
	c.t.Helper()
	if err := c.s.Remove(bg, id, ttl); !errors.Is(err, want) {
		c.t.Errorf("%s; got %v", rule, err)
	}
}

// expectGone checks that no live record is stored under id.
func (c *suite) expectGone(id, rule string) {
	c.t.Helper()
	got, err := c.s.Read(bg, id)
	if !errors.Is(err, sessions.ErrNotFound) {
		if err == nil {
			c.t.Errorf("%s: Read returned a record %s, want ErrNotFound", rule, format(got))
		} else {
			c.t.Errorf("%s: Read gave %v, want ErrNotFound", rule, err)
		}
	}
	ok, err := has(bg, c.s, id)
	if ok || err != nil {
		c.t.Errorf("%s: Exists gave (%v, %v), want (false, nil)", rule, ok, err)
	}
}

// expectRecord checks that the live record under id is exactly want, and
// reports whether it is.
func (c *suite) expectRecord(id string, want sessions.Record, rule string) bool {
	c.t.Helper()
	got, err := c.s.Read(bg, id)
	if err != nil {
		c.t.Errorf("%s: Read gave %v, want the record %s", rule, err, format(want))
		return false
	}
	if d := diff(want, got); d != "" {
		c.t.Errorf("%s: Read returned a different record:\n%s", rule, d)
		return false
	}
	ok, err := has(bg, c.s, id)
	if !ok || err != nil {
		c.t.Errorf("%s: Exists gave (%v, %v) for a record that Read returns, want (true, nil)", rule, ok, err)
		return false
	}
	return true
}

func (c *suite) expectWriteErr(id string, ch sessions.Change, ttl time.Duration, want error, rule string) {
	c.t.Helper()
	if err := c.s.Write(bg, id, ch, ttl); !errors.Is(err, want) {
		c.t.Errorf("%s; got %v", rule, err)
	}
}

// newID returns a fresh id of the form the Manager gives a store for a
// session: a handle, 64 lowercase hex digits.
func newID() string {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return hex.EncodeToString(b)
}

// rec builds a Record from key, value pairs.
func rec(kv ...string) sessions.Record {
	r := make(sessions.Record, len(kv)/2)
	for i := 0; i+1 < len(kv); i += 2 {
		r[kv[i]] = []byte(kv[i+1])
	}
	return r
}

func replace(r sessions.Record) sessions.Change {
	return sessions.Change{Mode: sessions.ModeReplace, Set: r}
}

func clone(r sessions.Record) sessions.Record {
	out := make(sessions.Record, len(r))
	for k, v := range r {
		out[k] = bytes.Clone(v)
	}
	return out
}

// diff describes how got differs from want, or returns "" when they hold
// the same keys with the same bytes.
func diff(want, got sessions.Record) string {
	var lines []string
	for _, k := range sortedKeys(want) {
		g, ok := got[k]
		switch {
		case !ok:
			lines = append(lines, fmt.Sprintf("  key %s is missing, want %s", quoteKey(k), quote(want[k])))
		case !bytes.Equal(g, want[k]):
			lines = append(lines, fmt.Sprintf("  key %s is %s, want %s", quoteKey(k), quote(g), quote(want[k])))
		}
	}
	for _, k := range sortedKeys(got) {
		if _, ok := want[k]; !ok {
			lines = append(lines, fmt.Sprintf("  key %s = %s should not be there", quoteKey(k), quote(got[k])))
		}
	}
	const maxLines = 10
	if len(lines) > maxLines {
		n := len(lines) - maxLines
		lines = append(lines[:maxLines], fmt.Sprintf("  ... and %d more differences", n))
	}
	return strings.Join(lines, "\n")
}

func format(r sessions.Record) string {
	parts := make([]string, 0, len(r))
	for _, k := range sortedKeys(r) {
		parts = append(parts, fmt.Sprintf("%s: %s", quoteKey(k), quote(r[k])))
	}
	if len(parts) > 10 {
		parts = append(parts[:10], fmt.Sprintf("... (%d keys)", len(r)))
	}
	return "{" + strings.Join(parts, ", ") + "}"
}

func quote(v []byte) string {
	const maxLen = 40
	if len(v) > maxLen {
		return fmt.Sprintf("%q... (%d bytes)", v[:maxLen], len(v))
	}
	return fmt.Sprintf("%q", v)
}

func quoteKey(k string) string {
	return quote([]byte(k))
}

func quoteMaybe(r sessions.Record, k string) string {
	v, ok := r[k]
	if !ok {
		return "missing"
	}
	return quote(v)
}

func sortedKeys(r sessions.Record) []string {
	keys := make([]string, 0, len(r))
	for k := range r {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// together runs f(0) to f(n-1) on n goroutines released at the same moment,
// and returns when all have returned.
func together(n int, f func(i int)) {
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			f(i)
		}()
	}
	close(start)
	wg.Wait()
}

// has reports whether st holds a live record under key, as Read tells.
func has(ctx context.Context, st sessions.Store, key string) (bool, error) {
	_, err := st.Read(ctx, key)
	if errors.Is(err, sessions.ErrNotFound) {
		return false, nil
	}
	return err == nil, err
}
