package sessionstest_test

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sessionkit/sessions"
	"github.com/sessionkit/sessions/sessionstest"
)

// refStore is a small, correct Store: one map and one mutex, with
// Change.Apply doing the merge. Its flaw field, when set, breaks one rule of
// the contract on purpose, to show that the suite catches it.
type refStore struct {
	flaw string
	now  func() time.Time

	mu      sync.Mutex
	records map[string]refEntry
	tombs   map[string]time.Time
}

type refEntry struct {
	rec     sessions.Record
	expires time.Time
}

// The flaws a refStore can have.
const (
	flawIgnoreTombstones   = "ignore-tombstones"     // Remove deletes, but leaves no tombstone
	flawReplaceDeltas      = "replace-deltas"        // a delta overwrites the whole record
	flawCreateOnDelta      = "create-on-delta"       // a delta or touch to a missing ID creates the record
	flawNoExpiry           = "no-expiry"             // TTLs are ignored
	flawTouchIgnored       = "touch-ignored"         // an empty Change does not extend the expiry
	flawMutateInPlace      = "mutate-in-place"       // Write modifies the map Read handed out
	flawIgnoreContext      = "ignore-context"        // a cancelled context is ignored
	flawRemoveNotAtomic    = "remove-not-atomic"     // Remove deletes, unlocks, then tombstones
	flawRemoveCheckThenAct = "remove-check-then-act" // Remove checks for the record, unlocks, then removes it
	flawRemoveAlwaysNil    = "remove-always-nil"     // Remove of a missing record gives nil
	flawShortenTombstone   = "shorten-tombstone"     // Remove replaces a longer tombstone
	flawCreateIgnored      = "create-ignored"        // Create to a missing ID gives ErrNotFound
	flawCreateNotAtomic    = "create-not-atomic"     // Create checks for the record, unlocks, then writes a new one
	flawUpsertShortens     = "upsert-shortens"       // an upsert sets the expiry even when it is shorter
	flawEnv                = "SESSIONSTEST_BROKEN"   // names the flaw for TestBrokenStoreHelper
)

func newRefStore(flaw string, now func() time.Time) *refStore {
	return &refStore{
		flaw:    flaw,
		now:     now,
		records: make(map[string]refEntry),
		tombs:   make(map[string]time.Time),
	}
}

func (s *refStore) ctxErr(ctx context.Context) error {
	if s.flaw == flawIgnoreContext {
		return nil
	}
	return ctx.Err()
}

// live returns the record under id if it has not expired. s.mu is held.
func (s *refStore) live(id string) (refEntry, bool) {
	e, ok := s.records[id]
	if !ok || (s.flaw != flawNoExpiry && !s.now().Before(e.expires)) {
		return refEntry{}, false
	}
	return e, true
}

func (s *refStore) Read(ctx context.Context, id string) (sessions.Record, error) {
	if err := s.ctxErr(ctx); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	e, ok := s.live(id)
	if !ok {
		return nil, sessions.ErrNotFound
	}
	return e.rec, nil
}

func (s *refStore) Write(ctx context.Context, id string, ch sessions.Change, ttl time.Duration) error {
	if err := s.ctxErr(ctx); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if exp, ok := s.tombs[id]; ok && (s.flaw == flawNoExpiry || s.now().Before(exp)) {
		return sessions.ErrInvalidated
	}
	e, ok := s.live(id)
	switch {
	case ch.Mode == sessions.ModeReplace:
		e.rec = ch.Apply(nil)
	case !ok && s.flaw == flawCreateOnDelta:
		e.rec = ch.Apply(nil)
	case !ok && ch.Mode == sessions.ModeUpsert && !ch.IsTouch() && s.flaw == flawCreateNotAtomic:
		s.mu.Unlock()
		time.Sleep(time.Millisecond)
		s.mu.Lock()
		e.rec = ch.Apply(nil)
	case !ok && ch.Mode == sessions.ModeUpsert && !ch.IsTouch() && s.flaw != flawCreateIgnored:
		e.rec = ch.Apply(nil)
	case !ok:
		return sessions.ErrNotFound
	case ch.IsTouch():
		if s.flaw == flawTouchIgnored {
			return nil
		}
	case s.flaw == flawReplaceDeltas:
		e.rec = sessions.Change{Mode: sessions.ModeReplace, Set: ch.Set}.Apply(nil)
	case s.flaw == flawMutateInPlace:
		for k, v := range ch.Set {
			e.rec[k] = v
		}
		for _, k := range ch.Delete {
			delete(e.rec, k)
		}
	default:
		e.rec = ch.Apply(e.rec)
	}
	expires := s.now().Add(ttl)
	if ch.Mode == sessions.ModeUpsert && !ch.IsTouch() && ok && e.expires.After(expires) && s.flaw != flawUpsertShortens {
		expires = e.expires
	}
	e.expires = expires
	s.records[id] = e
	return nil
}

func (s *refStore) Remove(ctx context.Context, id string, ttl time.Duration) error {
	if err := s.ctxErr(ctx); err != nil {
		return err
	}
	s.mu.Lock()
	_, live := s.live(id)
	if s.flaw == flawRemoveCheckThenAct {
		s.mu.Unlock()
		time.Sleep(2 * time.Millisecond)
		s.mu.Lock()
	}
	delete(s.records, id)
	switch s.flaw {
	case flawIgnoreTombstones:
		s.mu.Unlock()
		return notFoundUnless(live)
	case flawRemoveNotAtomic:
		s.mu.Unlock()
		time.Sleep(2 * time.Millisecond)
		s.mu.Lock()
	}
	defer s.mu.Unlock()
	exp := s.now().Add(ttl)
	if old, ok := s.tombs[id]; !ok || old.Before(exp) || s.flaw == flawShortenTombstone {
		s.tombs[id] = exp
	}
	if s.flaw == flawRemoveAlwaysNil {
		return nil
	}
	return notFoundUnless(live)
}

func notFoundUnless(live bool) error {
	if !live {
		return sessions.ErrNotFound
	}
	return nil
}

func (s *refStore) Exists(ctx context.Context, id string) (bool, error) {
	if err := s.ctxErr(ctx); err != nil {
		return false, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	_, ok := s.live(id)
	return ok, nil
}

func TestRunPassesReferenceStore(t *testing.T) {
	t.Parallel()
	sessionstest.Run(t, func(*testing.T) sessions.Store {
		return newRefStore("", time.Now)
	})
}

// TestWaitAdvancesSimulatedClock runs the suite on a store whose clock
// moves only through the Wait option: the expiry checks pass only if the
// suite lets time pass through Wait, and they take no real time.
func TestWaitAdvancesSimulatedClock(t *testing.T) {
	t.Parallel()
	clock := sessionstest.NewFakeClock(time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC))
	var waited time.Duration
	wait := func(d time.Duration) {
		waited += d
		clock.Advance(d)
	}
	start := time.Now()
	sessionstest.Run(t, func(*testing.T) sessions.Store {
		return newRefStore("", clock.Now)
	}, sessionstest.Wait(wait))
	if waited == 0 {
		t.Error("the suite never called the Wait function")
	}
	if elapsed := time.Since(start); elapsed > waited {
		t.Logf("the suite took %v of real time for %v of simulated waits", elapsed, waited)
	}
}

// TestBrokenStoreHelper runs the suite on a broken store in a child
// process started by TestSuiteCatchesBrokenStores. It is skipped otherwise.
// The store runs on a simulated clock, so that which checks fail does not
// depend on the load of the machine.
func TestBrokenStoreHelper(t *testing.T) {
	flaw := os.Getenv(flawEnv)
	if flaw == "" {
		t.Skip("runs only as a child of TestSuiteCatchesBrokenStores")
	}
	clock := sessionstest.NewFakeClock(time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC))
	sessionstest.Run(t, func(*testing.T) sessions.Store {
		return newRefStore(flaw, clock.Now)
	}, sessionstest.Wait(clock.Advance))
}

func TestSuiteCatchesBrokenStores(t *testing.T) {
	tests := []struct {
		flaw     string
		mustFail []string
		mustPass []string
		mustSay  string
	}{
		{
			flaw:     flawIgnoreTombstones,
			mustFail: []string{"RemoveLeavesTombstone", "RemoveOfUnknownIDLeavesTombstone", "RemoveRacingWrites"},
			mustPass: []string{"DeltaMergesKeys", "RecordsExpire", "ConcurrentWritesToDifferentKeys"},
			mustSay:  "must give ErrInvalidated while its tombstone lasts",
		},
		{
			flaw:     flawReplaceDeltas,
			mustFail: []string{"DeltaMergesKeys", "ConcurrentWritesToDifferentKeys", "DeltaExtendsExpiry"},
			mustPass: []string{"ReplaceDiscardsOldKeys", "RemoveLeavesTombstone", "TouchExtendsExpiry"},
			mustSay:  "keep every other key",
		},
		{
			flaw:     flawCreateOnDelta,
			mustFail: []string{"DeltaToMissingIDCreatesNothing", "TouchNeverCreates", "RecordsExpire"},
			mustPass: []string{"DeltaMergesKeys", "RemoveLeavesTombstone"},
			mustSay:  "must not create one",
		},
		{
			flaw:     flawNoExpiry,
			mustFail: []string{"RecordsExpire", "TombstonesExpire", "WriteSetsExpiryFromNow"},
			mustPass: []string{"TouchExtendsExpiry", "DeltaMergesKeys"},
			mustSay:  "must be gone",
		},
		{
			flaw:     flawTouchIgnored,
			mustFail: []string{"TouchExtendsExpiry", "WriteSetsExpiryFromNow"},
			mustPass: []string{"DeltaExtendsExpiry", "TouchNeverCreates"},
			mustSay:  "must outlive its first TTL",
		},
		{
			flaw:     flawUpsertShortens,
			mustFail: []string{"UpsertKeepsLongerExpiry"},
			mustPass: []string{"CreateMergesLiveRecord", "DeltaExtendsExpiry"},
			mustSay:  "never shortens the expiry",
		},
		{
			flaw:     flawMutateInPlace,
			mustFail: []string{"ReadRecordUnchangedByLaterWrite"},
			mustPass: []string{"DeltaMergesKeys", "ConcurrentWritesToDifferentKeys"},
			mustSay:  "must not change when a later Write is made",
		},
		{
			flaw:     flawIgnoreContext,
			mustFail: []string{"CancelledContext"},
			mustPass: []string{"ReadMissing", "RemoveLeavesTombstone"},
			mustSay:  "must honour its context",
		},
		{
			flaw:     flawRemoveCheckThenAct,
			mustFail: []string{"ConcurrentRemovesExactlyOneWins"},
			mustPass: []string{"RemoveReportsWhetherRecordWasLive", "RemoveLeavesTombstone"},
			mustSay:  "exactly 1",
		},
		{
			flaw:     flawRemoveAlwaysNil,
			mustFail: []string{"RemoveOfUnknownIDLeavesTombstone", "RemoveReportsWhetherRecordWasLive", "ConcurrentRemovesExactlyOneWins"},
			mustPass: []string{"RemoveLeavesTombstone", "RemoveRacingWrites"},
			mustSay:  "must give ErrNotFound",
		},
		{
			flaw:     flawShortenTombstone,
			mustFail: []string{"RemoveKeepsLongerTombstone"},
			mustPass: []string{"RemoveLeavesTombstone", "RemoveOfUnknownIDLeavesTombstone"},
			mustSay:  "never shortens a tombstone",
		},
		{
			flaw:     flawCreateIgnored,
			mustFail: []string{"CreateMakesMissingRecord", "ConcurrentCreatesAllPersist", "ManagerKeyForms"},
			mustPass: []string{"CreateMergesLiveRecord", "DeltaToMissingIDCreatesNothing"},
			mustSay:  "a Write in ModeUpsert to an ID with no record gave",
		},
		{
			flaw:     flawCreateNotAtomic,
			mustFail: []string{"ConcurrentCreatesAllPersist"},
			mustPass: []string{"CreateMakesMissingRecord", "CreateMergesLiveRecord"},
			mustSay:  "must all persist",
		},
		{
			flaw:     flawRemoveNotAtomic,
			mustFail: []string{"RemoveRacingWrites"},
			mustPass: []string{"RemoveLeavesTombstone", "RemoveOfUnknownIDLeavesTombstone"},
			mustSay:  "Remove",
		},
	}
	for _, tt := range tests {
		t.Run(tt.flaw, func(t *testing.T) {
			t.Parallel()
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			defer cancel()
			cmd := exec.CommandContext(ctx, os.Args[0],
				"-test.run=^TestBrokenStoreHelper$", "-test.v", "-test.count=1")
			cmd.Env = append(os.Environ(), flawEnv+"="+tt.flaw)
			out, err := cmd.CombinedOutput()
			output := string(out)
			var exit *exec.ExitError
			if !errors.As(err, &exit) {
				t.Fatalf("the suite passed a store with the flaw %q (err %v), want it to fail; output:\n%s", tt.flaw, err, output)
			}
			for _, name := range tt.mustFail {
				if !strings.Contains(output, "--- FAIL: TestBrokenStoreHelper/"+name+" ") {
					t.Errorf("check %s did not fail on a store with the flaw %q", name, tt.flaw)
				}
			}
			for _, name := range tt.mustPass {
				if !strings.Contains(output, "--- PASS: TestBrokenStoreHelper/"+name+" ") {
					t.Errorf("check %s did not pass on a store with only the flaw %q", name, tt.flaw)
				}
			}
			if !strings.Contains(output, tt.mustSay) {
				t.Errorf("the failures on a store with the flaw %q do not say %q", tt.flaw, tt.mustSay)
			}
			if t.Failed() {
				t.Logf("output of the suite on the store with the flaw %q:\n%s", tt.flaw, output)
			}
		})
	}
}
