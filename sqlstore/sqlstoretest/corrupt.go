package sqlstoretest

import (
	"context"
	"errors"
	"maps"
	"strconv"
	"testing"
	"time"

	"github.com/sessionkit/sessions"
)

// Row is a row that a test writes into a store's table behind the store's
// back. A nil field is NULL.
type Row struct {
	State   any // the state column: 1 for a record, 2 or 3 for a tombstone (an int)
	Expires any // the expires_at column: Unix milliseconds (an int64) or, on SQLite, text
	Data    any // the data column: JSON text (a string)
}

// Table gives CorruptRows access to the table under a store.
type Table struct {
	// Insert writes r under id, as it is.
	Insert func(id string, r Row) error
	// Has reports whether a row is stored under id.
	Has func(id string) (bool, error)
	// Sweep is the store's Sweep.
	Sweep func(context.Context) (int64, error)
	// Malformed is text the data column takes that is not JSON, or "" when
	// the column holds JSON only.
	Malformed string
	// TextExpiry reports that expires_at can hold text (SQLite).
	TextExpiry bool
}

// corruptCase is a row a store did not write, and how the store must see
// it: as a record it cannot read (a corrupt record), as a tombstone (tomb),
// or as a good record (good, with the record Read must return).
type corruptCase struct {
	name string
	row  Row
	kind int
	good sessions.Record
}

const (
	corruptRecord = iota
	tomb
	good
)

// corruptCases lists the rows, with Unix milliseconds an hour from now.
func corruptCases(tab Table) []corruptCase {
	live := time.Now().Add(time.Hour).UnixMilli()
	rec := func(name string, data any) corruptCase {
		return corruptCase{name, Row{1, live, data}, corruptRecord, nil}
	}
	cases := []corruptCase{
		rec("number member", `{"a": "1", "b": 1}`), rec("null member", `{"a": null}`),
		rec("nested member", `{"a": {"b": "c"}}`), rec("array", `[1]`), rec("string", `"x"`),
		rec("bad base64 key", `{"~%%": "x"}`), rec("bad base64 value", `{"a": "~not base64!"}`),
		rec("bad base64 padding", `{"a": "~YQ="}`), rec("escaped mark, bad base64", `{"\u007e%%": "x"}`),
		rec("NULL data", nil),
		{"NULL expiry", Row{1, nil, `{"a": "1"}`}, corruptRecord, nil},
		{"NULL state", Row{nil, live, `{"a": "1"}`}, tomb, nil},
		{"tombstone, NULL expiry", Row{3, nil, `{}`}, tomb, nil},
		{"tombstone, NULL data", Row{2, live, nil}, tomb, nil},
		rec("base64 with a line break", `{"a": "~YQ=\n"}`),
		{"empty value", Row{1, live, `{"a": "~", "b": ""}`}, good, sessions.Record{"a": {}, "b": {}}},
		{"escaped mark", Row{1, live, `{"\u007eYQ==": "~Yg=="}`}, good, sessions.Record{"a": []byte("b")}},
		{"quote and control keys", Row{1, live, `{"\"~x": "1", "a\u0001b": "~YQ=="}`}, good,
			sessions.Record{`"~x`: []byte("1"), "a\x01b": []byte("a")}},
	}
	if tab.Malformed != "" {
		cases = append(cases, rec("malformed JSON", tab.Malformed))
	}
	if tab.TextExpiry {
		cases = append(cases, corruptCase{"text expiry", Row{1, "later", `{"a": "1"}`}, corruptRecord, nil},
			corruptCase{"tombstone, text expiry", Row{3, "later", `{}`}, tomb, nil})
	}
	return cases
}

// CorruptRows checks how s treats rows it did not write: a row that is not
// a readable record reads as no session (sessions.ErrCorrupt), a delta or
// touch to it gives sessions.ErrNotFound and changes nothing, a Create or
// Replace overwrites it, and Remove leaves a tombstone. A row that may be a
// tombstone (its state says so, or is NULL) refuses every Write. A row whose
// expiry the store cannot read is deleted by Sweep.
func CorruptRows(t *testing.T, s sessions.Store, tab Table) {
	for i, c := range corruptCases(tab) {
		t.Run(c.name, func(t *testing.T) {
			r := corruptRun{t: t, s: s, tab: tab, c: c, id: "k" + strconv.Itoa(i)}
			switch c.kind {
			case corruptRecord:
				r.record()
			case tomb:
				r.tomb()
			default:
				r.good()
			}
		})
	}
	t.Run("Sweep", func(t *testing.T) { sweepsUnreadableExpiry(t, tab) })
}

type corruptRun struct {
	t   *testing.T
	s   sessions.Store
	tab Table
	c   corruptCase
	id  string
}

var bgCtx = context.Background()

// fresh inserts the case's row under a new id and returns the id.
func (r *corruptRun) fresh(op string) string {
	r.t.Helper()
	id := r.id + op
	if err := r.tab.Insert(id, r.c.row); err != nil {
		r.t.Fatalf("inserting the row: %v", err)
	}
	return id
}

func (r *corruptRun) write(id string, ch sessions.Change) error {
	return r.s.Write(bgCtx, id, ch, time.Minute)
}

func (r *corruptRun) record() {
	t := r.t
	id := r.fresh("r")
	r.expectRead(id, sessions.ErrCorrupt, "")
	r.expectExists(id)
	for _, ch := range []sessions.Change{{Set: sessions.Record{"b": []byte("2")}}, {Set: manyKeys()}, {}} {
		if err := r.write(id, ch); !errors.Is(err, sessions.ErrNotFound) {
			t.Errorf("a delta of %d keys gave %v, want ErrNotFound", len(ch.Set), err)
		}
	}
	r.expectRead(id, sessions.ErrCorrupt, " after the deltas and the touch")
	created := sessions.Record{"c": []byte("3")}
	r.overwrites(sessions.Change{Mode: sessions.ModeUpsert, Set: created, Delete: []string{"a"}}, created, "c")
	r.overwrites(sessions.Change{Mode: sessions.ModeUpsert, Set: manyKeys()}, manyKeys(), "cm")
	replaced := sessions.Record{"r": []byte("4")}
	r.overwrites(sessions.Change{Mode: sessions.ModeReplace, Set: replaced}, replaced, "p")
	id = r.fresh("m")
	if err := r.s.Remove(bgCtx, id, time.Minute); !errors.Is(err, sessions.ErrNotFound) {
		t.Errorf("Remove gave %v, want ErrNotFound", err)
	}
	if err := r.write(id, sessions.Change{Mode: sessions.ModeReplace, Set: created}); !errors.Is(err, sessions.ErrInvalidated) {
		t.Errorf("a Replace after Remove gave %v, want ErrInvalidated", err)
	}
}

// overwrites checks that ch, a Create or a Replace, makes the record want.
func (r *corruptRun) overwrites(ch sessions.Change, want sessions.Record, op string) {
	r.t.Helper()
	id := r.fresh(op)
	if err := r.write(id, ch); err != nil {
		r.t.Errorf("Write (%v) gave %v, want it to overwrite the row", ch.Mode, err)
		return
	}
	if got, err := r.s.Read(bgCtx, id); err != nil || !maps.EqualFunc(got, want, bytesEqual) {
		r.t.Errorf("after Write (%v), Read gave (%q, %v), want %q", ch.Mode, got, err, want)
	}
}

func bytesEqual(a, b []byte) bool { return string(a) == string(b) }

// manyKeys is a change of more keys than a store may merge in one
// statement (mysqlstore takes another path beyond 16).
func manyKeys() sessions.Record {
	r := sessions.Record{}
	for i := 0; i < 20; i++ {
		r["m"+strconv.Itoa(i)] = []byte(strconv.Itoa(i))
	}
	return r
}

func (r *corruptRun) tomb() {
	t := r.t
	id := r.fresh("t")
	want := sessions.ErrNotFound
	if r.c.row.State == nil {
		want = sessions.ErrCorrupt
	}
	r.expectRead(id, want, "")
	r.expectExists(id)
	for _, ch := range []sessions.Change{
		{Set: sessions.Record{"b": []byte("2")}}, {}, {Mode: sessions.ModeUpsert, Set: sessions.Record{"c": nil}},
		{Mode: sessions.ModeReplace, Set: sessions.Record{"r": nil}}, {Set: manyKeys()}, {Mode: sessions.ModeUpsert, Set: manyKeys()},
	} {
		if err := r.write(id, ch); !errors.Is(err, sessions.ErrInvalidated) {
			t.Errorf("Write (%v, touch %v) gave %v, want ErrInvalidated", ch.Mode, ch.IsTouch(), err)
		}
	}
	if err := r.s.Remove(bgCtx, id, time.Millisecond); !errors.Is(err, sessions.ErrNotFound) {
		t.Errorf("Remove gave %v, want ErrNotFound", err)
	}
	if _, readable := r.c.row.Expires.(int64); !readable {
		// A tombstone that lasts longer is kept; one whose expiry cannot
		// be read takes the Remove's.
		r.expectEnds(id)
	}
}

// expectEnds checks that a Remove of 1 ms gave the row an expiry that
// passes: a Replace is accepted once it has.
func (r *corruptRun) expectEnds(id string) {
	r.t.Helper()
	ch := sessions.Change{Mode: sessions.ModeReplace, Set: sessions.Record{"r": nil}}
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		err := r.write(id, ch)
		if err == nil {
			return
		}
		if !errors.Is(err, sessions.ErrInvalidated) || time.Now().After(deadline) {
			r.t.Errorf("a Replace after a Remove of 1 ms still gives %v 10 s later: the row never ends", err)
			return
		}
	}
}

func (r *corruptRun) good() {
	id := r.fresh("g")
	if got, err := r.s.Read(bgCtx, id); err != nil || !maps.EqualFunc(got, r.c.good, bytesEqual) {
		r.t.Errorf("Read gave (%q, %v), want %q", got, err, r.c.good)
	}
	if err := r.write(id, sessions.Change{Set: sessions.Record{"z": []byte("9")}}); err != nil {
		r.t.Errorf("a delta gave %v", err)
	}
	want := maps.Clone(r.c.good)
	want["z"] = []byte("9")
	if err := r.write(id, sessions.Change{Set: manyKeys()}); err != nil {
		r.t.Errorf("a delta of many keys gave %v", err)
	}
	maps.Copy(want, manyKeys())
	if got, err := r.s.Read(bgCtx, id); err != nil || !maps.EqualFunc(got, want, bytesEqual) {
		r.t.Errorf("after a delta, Read gave (%q, %v), want %q", got, err, want)
	}
}

func (r *corruptRun) expectRead(id string, want error, when string) {
	r.t.Helper()
	if got, err := r.s.Read(bgCtx, id); !errors.Is(err, want) {
		r.t.Errorf("Read%s gave (%q, %v), want %v", when, got, err, want)
	}
}

func (r *corruptRun) expectExists(id string) {
	r.t.Helper()
	ex, ok := r.s.(interface {
		Exists(context.Context, string) (bool, error)
	})
	if !ok {
		return
	}
	if live, err := ex.Exists(bgCtx, id); live || err != nil {
		r.t.Errorf("Exists gave (%v, %v), want (false, nil)", live, err)
	}
}

// sweepsUnreadableExpiry checks that Sweep deletes rows whose expiry is
// NULL (or text), which no TTL can end, and keeps a corrupt record that
// has a live expiry: that one ends with it.
func sweepsUnreadableExpiry(t *testing.T, tab Table) {
	live := time.Now().Add(time.Hour).UnixMilli()
	gone := map[string]Row{"sn1": {1, nil, `{"a": "1"}`}, "sn2": {3, nil, `{}`}, "sn3": {nil, nil, nil}}
	if tab.TextExpiry {
		gone["st1"], gone["st2"] = Row{1, "later", `{"a": "1"}`}, Row{2, "later", `{}`}
	}
	kept := map[string]Row{"sk1": {1, live, `[1]`}, "sk2": {nil, live, nil}}
	for id, row := range mergeRows(gone, kept) {
		if err := tab.Insert(id, row); err != nil {
			t.Fatalf("inserting %s: %v", id, err)
		}
	}
	if _, err := tab.Sweep(bgCtx); err != nil {
		t.Fatalf("Sweep: %v", err)
	}
	for id := range mergeRows(gone, kept) {
		_, keep := kept[id]
		if has, err := tab.Has(id); err != nil || has != keep {
			t.Errorf("after Sweep, row %s (%v) is there: %v (%v), want %v", id, mergeRows(gone, kept)[id], has, err, keep)
		}
	}
}

func mergeRows(a, b map[string]Row) map[string]Row {
	out := maps.Clone(a)
	maps.Copy(out, b)
	return out
}
