package main

import (
	"fmt"
	"io"
)

// sqlDBs are the databases of BenchmarkSQL, in the order of the tables.
var sqlDBs = []string{"postgres", "mysql", "sqlite"}

// sqlTargets are the scenarios whose statements and time are checked
// against scs's.
var sqlTargets = []string{"CookieRead", "CookieWrite", "NewSessionWrite", "Destroy"}

// sqlTable prints, for one database, each scenario's time, allocations,
// statements and prepared statements per request, ours and scs's, and the
// ratio of the times.
func sqlTable(w io.Writer, res map[key]result, db string, runs []string) {
	group := "SQL-" + db
	if _, ok := res[key{group, "CookieRead", "ours", "serial"}]; !ok {
		return
	}
	fmt.Fprintf(w, "\n### SQL: %s\n\n", db)
	fmt.Fprintf(w, "| scenario | run | ours ns/op | allocs | stmts | prep | scs ns/op | allocs | stmts | prep | ours/scs |\n")
	fmt.Fprintf(w, "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n")
	for _, sc := range scenarios {
		for _, run := range runs {
			o, s, ok := sqlPair(res, group, sc, run)
			if !ok {
				continue
			}
			fmt.Fprintf(w, "| %s | %s | %s | %.0f | %s | %s | %s | %.0f | %s | %s | %.2fx |\n", sc, run,
				ns(o["ns/op"]), o["allocs/op"], num(o["stmts/op"]), num(o["prep/op"]),
				ns(s["ns/op"]), s["allocs/op"], num(s["stmts/op"]), num(s["prep/op"]), o["ns/op"]/s["ns/op"])
		}
	}
}

// checkSQL checks the SQL targets on one database: never more statements
// than scs; where both make the same round trips (statements and the
// statements prepared for them), at most 1.2x scs's time; where scs makes
// more, faster. A Renew may send one statement more than scs's: the
// successor record, written before the old ID is removed, which keeps it
// from undoing a concurrent logout. A database that did not run is left
// out; a target without results on a database that ran is missed.
func checkSQL(c *checker, res map[key]result, db string, runs []string) {
	group := "SQL-" + db
	if !ran(res, group) {
		return
	}
	trips := func(r result) float64 { return r["stmts/op"] + r["prep/op"] }
	for _, run := range runs {
		if o, s, ok := sqlPair(res, group, "Renew", run); ok {
			c.check(o["stmts/op"] <= s["stmts/op"]+1, "SQL %s Renew %s: ours %s statements/op, scs %s (at most one more: the successor record)", db, run, num(o["stmts/op"]), num(s["stmts/op"]))
		}
	}
	for _, sc := range sqlTargets {
		for _, run := range runs {
			o, s, ok := sqlPair(res, group, sc, run)
			if !ok {
				c.check(false, "SQL %s %s %s: no result for ours or scs", db, sc, run)
				continue
			}
			c.check(o["stmts/op"] <= s["stmts/op"], "SQL %s %s %s: ours %s statements/op, scs %s", db, sc, run, num(o["stmts/op"]), num(s["stmts/op"]))
			r := o["ns/op"] / s["ns/op"]
			if trips(s) > trips(o) {
				c.check(r < 1, "SQL %s %s %s: ours %s = %.2fx scs (%s), which makes more round trips (%s against %s); target < 1x", db, sc, run, ns(o["ns/op"]), r, ns(s["ns/op"]), num(trips(s)), num(trips(o)))
			} else {
				c.check(r <= 1.2, "SQL %s %s %s: ours %s = %.2fx scs (%s), the same round trips; target <= 1.2x", db, sc, run, ns(o["ns/op"]), r, ns(s["ns/op"]))
			}
		}
	}
}

// ran reports whether any benchmark of group has a result.
func ran(res map[key]result, group string) bool {
	for k := range res {
		if k.group == group {
			return true
		}
	}
	return false
}

// sqlPair returns ours and scs's results of one scenario and run, and
// whether both are there.
func sqlPair(res map[key]result, group, sc, run string) (ours, scs result, ok bool) {
	ours, ok1 := res[key{group, sc, "ours", run}]
	scs, ok2 := res[key{group, sc, "scs", run}]
	return ours, scs, ok1 && ok2
}
