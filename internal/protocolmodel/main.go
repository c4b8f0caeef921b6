// Command protocolmodel is an exhaustive interleaving checker for the protocol by which a
// logout sticks (invalidation.go and users.go): Renew, Login, Destroy, DestroyUser,
// DestroyOthers and DestroySession over a per-key linearizable Store (no multi-key atomicity).
//
// Each operation is written as straight-line Go that calls the store; a call is one atomic step.
// A process's state is the list of results its store calls returned so far (the body is replayed
// deterministically to find its next call), so a global state is (store, every process's
// history, ghost bookkeeping) and can be memoised. The search visits every reachable state, and
// counts the complete schedules (total interleavings) and the violating ones by DP over the
// memoised DAG; the properties are checked at the end of every complete schedule.
//
//	go run ./internal/protocolmodel [-v]
//
// It checks the protocol as built and variants that each drop one of its rules: the protocol
// holds in every schedule, and each variant fails with a shortest counterexample.
package main

import (
	"flag"
	"fmt"
	"math/big"
	"sort"
	"strings"
)

// ---------------------------------------------------------------- store

type entry struct {
	live  bool
	tomb  bool
	elems []string // sorted set: successor candidates, index handles, or session data
}

type store map[string]entry

const (
	stOK      = "ok"
	stNF      = "notfound"
	stInv     = "invalidated"
	stLive    = "live"
	stPending = "pending"
	stLate    = "late"
)

type op struct {
	kind    string // read, write, remove, snapshot
	key     string
	replace bool
	create  bool
	set     []string
	del     []string
	// ghost: a successful write of a session record under key, renewed from parent (or "") and
	// owned by owner (or "").
	parent, owner string
	session       bool
}

func (o op) String() string {
	switch o.kind {
	case "write":
		mode := "merge"
		if o.replace {
			mode = "Replace"
		} else if o.create {
			mode = "Create-merge"
		}
		s := fmt.Sprintf("Write(%s, %s", o.key, mode)
		if len(o.set) > 0 {
			s += " +" + strings.Join(o.set, ",")
		}
		if len(o.del) > 0 {
			s += " -" + strings.Join(o.del, ",")
		}
		return s + ")"
	case "snapshot":
		return "(invoked)"
	default:
		return fmt.Sprintf("%s%s(%s)", strings.ToUpper(o.kind[:1]), o.kind[1:], o.key)
	}
}

type result struct {
	st    string
	elems []string
}

func (r result) String() string {
	if r.st == stOK && r.elems != nil {
		return "{" + strings.Join(r.elems, ",") + "}"
	}
	return r.st
}

func union(a, b []string) []string {
	m := map[string]bool{}
	for _, x := range a {
		m[x] = true
	}
	for _, x := range b {
		m[x] = true
	}
	out := make([]string, 0, len(m))
	for x := range m {
		out = append(out, x)
	}
	sort.Strings(out)
	return out
}

func minus(a, b []string) []string {
	var out []string
	for _, x := range a {
		keep := true
		for _, y := range b {
			if x == y {
				keep = false
			}
		}
		if keep {
			out = append(out, x)
		}
	}
	return out
}

// apply performs o atomically on s (modified in place) and returns its result.
func apply(s store, o op) result {
	e := s[o.key]
	switch o.kind {
	case "read":
		if !e.live {
			return result{st: stNF}
		}
		return result{st: stOK, elems: append([]string{}, e.elems...)}
	case "remove":
		st := stNF
		if e.live {
			st = stLive
		}
		s[o.key] = entry{tomb: true}
		return result{st: st}
	case "write":
		if e.tomb {
			return result{st: stInv}
		}
		switch {
		case o.replace:
			e = entry{live: true, elems: union(nil, o.set)}
		case o.create:
			base := e.elems
			if !e.live {
				base = nil
			}
			e = entry{live: true, elems: minus(union(base, o.set), o.del)}
		case !e.live:
			return result{st: stNF}
		default:
			e.elems = minus(union(e.elems, o.set), o.del)
		}
		s[o.key] = e
		return result{st: stOK}
	case "snapshot":
		return result{st: stOK}
	case "tick":
		s["clock"] = entry{live: true}
		return result{st: stOK}
	case "clock":
		if s["clock"].live {
			return result{st: stLate}
		}
		return result{st: stOK}
	}
	panic("bad op " + o.kind)
}

// ---------------------------------------------------------------- process bodies

type pendingPanic struct{}

type ctx struct {
	hist    []result
	i       int
	pending *op
}

func (c *ctx) do(o op) result {
	if c.i < len(c.hist) {
		r := c.hist[c.i]
		c.i++
		return r
	}
	c.pending = &o
	panic(pendingPanic{})
}

type variant struct {
	name           string
	follow         string // "causal" (the protocol), "window", "liveOnly", "never", "ignoreMark"
	writeLast      bool   // Renew writes the new record after removing the old one (else before)
	succReplace    bool   // successor is one value written with Replace (else Create-merge set)
	indexMergeElse bool   // index add is "merge, else Replace" (else Create-merge)
	indexBeforeSuc bool   // Renew adds the index entry before the successor (else after)
	othersNoSucc   bool   // DestroyOthers spares only the current handle, not its renewals
	revokeIndexOny bool   // DestroySession looks for the handle in the index only
}

func succ(h string) string  { return "succ(" + h + ")" }
func index(u string) string { return "index(" + u + ")" }

// fresh marks a record that a Renew wrote and no request carrying its ID has presented yet.
const fresh = "fresh"

func has(xs []string, x string) bool {
	for _, y := range xs {
		if y == x {
			return true
		}
	}
	return false
}

func indexAdd(c *ctx, v variant, u, n string) {
	if v.indexMergeElse {
		if c.do(op{kind: "write", key: index(u), set: []string{n}}).st == stNF {
			c.do(op{kind: "write", key: index(u), replace: true, set: []string{n}})
		}
		return
	}
	c.do(op{kind: "write", key: index(u), create: true, set: []string{n}})
}

func writeSucc(c *ctx, v variant, h, n string) {
	if v.succReplace {
		c.do(op{kind: "write", key: succ(h), replace: true, set: []string{n}})
		return
	}
	c.do(op{kind: "write", key: succ(h), create: true, set: []string{n}})
}

func writeNew(c *ctx, h, n, user string) bool {
	w := op{kind: "write", key: n, replace: true, set: []string{"data", fresh}, session: true, parent: h, owner: user}
	return c.do(w).st != stInv
}

// rotate: a Renew (or a Login of an anonymous session when user != "") of h to n. The protocol
// records the successor, then the index entry, then writes n (fresh), and only then removes h:
// a refused Renew (h no longer live) removes the n it wrote, which no one holds.
func rotate(c *ctx, v variant, h, n, user string) string {
	indexed := user != ""
	if indexed && v.indexBeforeSuc {
		indexAdd(c, v, user, n)
	}
	writeSucc(c, v, h, n)
	if indexed && !v.indexBeforeSuc {
		indexAdd(c, v, user, n)
	}
	if v.writeLast {
		if c.do(op{kind: "remove", key: h}).st == stNF {
			return "refused"
		}
		if !writeNew(c, h, n, user) {
			return "refused"
		}
		return "ok"
	}
	if !writeNew(c, h, n, user) {
		return "refused"
	}
	if c.do(op{kind: "remove", key: h}).st == stNF {
		c.do(op{kind: "remove", key: n})
		return "refused"
	}
	if indexed {
		c.do(op{kind: "write", key: index(user), del: []string{h}})
	}
	return "ok"
}

// renew: the request read h earlier (its first step), then renews it to n.
func renew(v variant, h, n, user string) func(*ctx) string {
	return func(c *ctx) string {
		if c.do(op{kind: "read", key: h}).st == stNF {
			return "nosession"
		}
		return rotate(c, v, h, n, user)
	}
}

// renewTwice: one browser renews h->n and then, holding n, n->m.
func renewTwice(v variant, h, n, m, user string) func(*ctx) string {
	return func(c *ctx) string {
		r := renew(v, h, n, user)(c)
		if r != "ok" {
			return "1st " + r
		}
		return "1st ok, 2nd " + renew(v, n, m, user)(c)
	}
}

// present: the first request that carries n: it loads n and clears the fresh mark.
func present(n string) func(*ctx) string {
	return func(c *ctx) string {
		r := c.do(op{kind: "read", key: n})
		if r.st == stNF {
			return "nosession"
		}
		if has(r.elems, fresh) {
			return "mark " + c.do(op{kind: "write", key: n, del: []string{fresh}}).st
		}
		return "seen"
	}
}

// endChain removes h and, where h was no longer live, every session renewed from it.
func endChain(c *ctx, h string, seen map[string]bool) {
	stack := []string{h}
	for len(stack) > 0 {
		x := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if seen[x] {
			continue
		}
		seen[x] = true
		if c.do(op{kind: "remove", key: x}).st == stLive {
			continue
		}
		s := c.do(op{kind: "read", key: succ(x)})
		for i := len(s.elems) - 1; i >= 0; i-- {
			if !seen[s.elems[i]] {
				stack = append(stack, s.elems[i])
			}
		}
	}
}

func late(c *ctx, v variant) bool {
	return v.follow == "window" && c.do(op{kind: "clock"}).st == stLate
}

// destroyLoaded: the commit of a Destroy in a request that loaded h live.
func destroyLoaded(c *ctx, v variant, h string) {
	if c.do(op{kind: "remove", key: h}).st == stLive || v.follow == "never" || late(c, v) {
		return
	}
	s := c.do(op{kind: "read", key: succ(h)})
	seen := map[string]bool{h: true}
	for _, n := range s.elems {
		endChain(c, n, seen)
	}
}

// destroyOld: the commit of a Destroy in a request whose load found h already ended.
func destroyOld(c *ctx, v variant, h string) {
	switch v.follow {
	case "never", "liveOnly":
		return
	case "window", "ignoreMark":
		if c.do(op{kind: "remove", key: h}).st != stLive && !late(c, v) {
			s := c.do(op{kind: "read", key: succ(h)})
			seen := map[string]bool{h: true}
			for _, n := range s.elems {
				endChain(c, n, seen)
			}
		}
		return
	}
	s := c.do(op{kind: "read", key: succ(h)})
	for _, n := range s.elems {
		if r := c.do(op{kind: "read", key: n}); r.st == stOK && has(r.elems, fresh) {
			c.do(op{kind: "remove", key: n})
		}
	}
}

// destroy: a request that loads h and destroys it.
func destroy(v variant, h string) func(*ctx) string {
	return func(c *ctx) string {
		if c.do(op{kind: "read", key: h}).st == stOK {
			destroyLoaded(c, v, h)
			return "ended live"
		}
		destroyOld(c, v, h)
		return "ended old"
	}
}

// destroyPreloaded: a Destroy whose request loaded h live before anything else ran.
func destroyPreloaded(v variant, h string) func(*ctx) string {
	return func(c *ctx) string {
		destroyLoaded(c, v, h)
		return "done"
	}
}

func destroyUser(v variant, u string) func(*ctx) string {
	return func(c *ctx) string {
		c.do(op{kind: "snapshot", key: u})
		r := c.do(op{kind: "read", key: index(u)})
		if r.st != stOK {
			return "done"
		}
		seen := map[string]bool{}
		for _, h := range r.elems {
			endChain(c, h, seen)
		}
		if len(r.elems) > 0 {
			c.do(op{kind: "write", key: index(u), del: r.elems})
		}
		return "done"
	}
}

// renewals reads the successor records down from h and returns h's renewals (not h).
func renewals(c *ctx, h string) map[string]bool {
	out := map[string]bool{}
	queue := []string{h}
	for len(queue) > 0 {
		x := queue[0]
		queue = queue[1:]
		for _, n := range c.do(op{kind: "read", key: succ(x)}).elems {
			if !out[n] {
				out[n] = true
				queue = append(queue, n)
			}
		}
	}
	return out
}

// destroyOthers: the request holding keep (a session of u) ends u's other sessions.
func destroyOthers(v variant, u, keep string) func(*ctx) string {
	return func(c *ctx) string {
		r := c.do(op{kind: "read", key: index(u)})
		spare := map[string]bool{}
		if !v.othersNoSucc {
			spare = renewals(c, keep)
		}
		spare[keep] = true
		seen := map[string]bool{}
		for _, h := range r.elems {
			if !spare[h] {
				endChain(c, h, seen)
			}
		}
		return "done"
	}
}

// destroySession: revoke h, a handle a devices page of u showed.
func destroySession(v variant, u, h string) func(*ctx) string {
	return func(c *ctx) string {
		r := c.do(op{kind: "read", key: index(u)})
		targets := []string{}
		if has(r.elems, h) {
			targets = append(targets, h)
		} else if !v.revokeIndexOny {
			d := renewals(c, h)
			for _, x := range r.elems {
				if d[x] {
					targets = append(targets, x)
				}
			}
		}
		seen := map[string]bool{}
		for _, x := range targets {
			endChain(c, x, seen)
		}
		if len(targets) == 0 {
			return "notfound"
		}
		return "done"
	}
}

// firstLogin: a brand-new session n logs in as u: index entry first, then the record.
func firstLogin(v variant, u, n string) func(*ctx) string {
	return func(c *ctx) string {
		indexAdd(c, v, u, n)
		if c.do(op{kind: "write", key: n, replace: true, set: []string{"data"}, session: true, owner: u}).st == stInv {
			return "refused"
		}
		return "ok"
	}
}

// loginOther: session h (of another user) logs in as u: Destroy h, then a fresh session n.
func loginOther(v variant, h, u, n string) func(*ctx) string {
	return func(c *ctx) string {
		if c.do(op{kind: "read", key: h}).st == stNF {
			return "nosession"
		}
		endChain(c, h, map[string]bool{})
		return firstLogin(v, u, n)(c)
	}
}

// staleWriter: a request that read h and later writes a delta to it.
func staleWriter(h string) func(*ctx) string {
	return func(c *ctx) string {
		if c.do(op{kind: "read", key: h}).st == stNF {
			return "nosession"
		}
		return "write " + c.do(op{kind: "write", key: h, set: []string{"x"}}).st
	}
}

// tick: the clock passes the follow window (only in the "window" variant's scenarios).
func tick(c *ctx) string {
	c.do(op{kind: "tick"})
	return "late"
}

// ---------------------------------------------------------------- checker

type proc struct {
	name  string
	body  func(*ctx) string
	after []int // starts only once these processes are done
}

type ghost struct {
	parent   map[string]string
	owner    map[string]string
	snapshot map[string][]string // user -> live sessions of user when DestroyUser was invoked
}

type state struct {
	st   store
	hist [][]result
	g    ghost
}

func (s state) clone() state {
	n := state{st: store{}, hist: make([][]result, len(s.hist)),
		g: ghost{parent: map[string]string{}, owner: map[string]string{}, snapshot: map[string][]string{}}}
	for k, v := range s.st {
		n.st[k] = v
	}
	for i, h := range s.hist {
		n.hist[i] = append([]result{}, h...)
	}
	for k, v := range s.g.parent {
		n.g.parent[k] = v
	}
	for k, v := range s.g.owner {
		n.g.owner[k] = v
	}
	for k, v := range s.g.snapshot {
		n.g.snapshot[k] = v
	}
	return n
}

func (s state) key() string {
	var b strings.Builder
	ks := make([]string, 0, len(s.st))
	for k := range s.st {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	for _, k := range ks {
		e := s.st[k]
		fmt.Fprintf(&b, "%s:%v%v%v;", k, e.live, e.tomb, e.elems)
	}
	b.WriteString("|")
	for _, h := range s.hist {
		for _, r := range h {
			fmt.Fprintf(&b, "%s%v,", r.st, r.elems)
		}
		b.WriteString("/")
	}
	b.WriteString("|")
	for _, m := range []map[string]string{s.g.parent, s.g.owner} {
		ks := make([]string, 0, len(m))
		for k := range m {
			ks = append(ks, k)
		}
		sort.Strings(ks)
		for _, k := range ks {
			fmt.Fprintf(&b, "%s=%s,", k, m[k])
		}
		b.WriteString("|")
	}
	ks = ks[:0]
	for k := range s.g.snapshot {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	for _, k := range ks {
		fmt.Fprintf(&b, "%s=%v,", k, s.g.snapshot[k])
	}
	return b.String()
}

// next replays p's body on its history: the pending op, or done with the body's result.
func next(p proc, hist []result) (o *op, out string, done bool) {
	c := &ctx{hist: hist}
	defer func() {
		if r := recover(); r != nil {
			if _, ok := r.(pendingPanic); !ok {
				panic(r)
			}
			o, done = c.pending, false
		}
	}()
	out = p.body(c)
	return nil, out, true
}

type scenario struct {
	name  string
	init  func(store, *ghost)
	procs []proc
	check func(s state, outs []string) string // "" when the property holds
}

type memo struct {
	total, bad *big.Int
	ex         []string // a shortest violating schedule from this state (nil: none)
	msg        string   // its verdict
}

type checker struct {
	sc   scenario
	seen map[string]memo
}

func (ch *checker) dfs(s state) memo {
	k := s.key()
	if m, ok := ch.seen[k]; ok {
		return m
	}
	outs := make([]string, len(ch.sc.procs))
	doneAll := true
	var moves []int
	var ops []*op
	done := make([]bool, len(ch.sc.procs))
	for i, p := range ch.sc.procs {
		o, out, d := next(p, s.hist[i])
		done[i], outs[i] = d, out
		if !d {
			doneAll = false
			ops = append(ops, o)
			moves = append(moves, i)
		} else {
			ops = append(ops, nil)
		}
	}
	var m memo
	if doneAll {
		m = memo{total: big.NewInt(1), bad: big.NewInt(0)}
		if msg := ch.sc.check(s, outs); msg != "" {
			m.bad = big.NewInt(1)
			var rs []string
			for i, p := range ch.sc.procs {
				rs = append(rs, p.name+" -> "+outs[i])
			}
			m.ex = []string{}
			m.msg = msg + "\n      results: " + strings.Join(rs, "; ") + "\n      final store: " + describe(s.st)
		}
		ch.seen[k] = m
		return m
	}
	m = memo{total: big.NewInt(0), bad: big.NewInt(0)}
	for _, i := range moves {
		ready := true
		for _, a := range ch.sc.procs[i].after {
			if !done[a] {
				ready = false
			}
		}
		if !ready {
			continue
		}
		o := *ops[i]
		n := s.clone()
		r := apply(n.st, o)
		n.hist[i] = append(n.hist[i], r)
		if o.session && r.st == stOK {
			if o.parent != "" {
				n.g.parent[o.key] = o.parent
				if o.owner == "" {
					o.owner = n.g.owner[o.parent]
				}
			}
			if o.owner != "" {
				n.g.owner[o.key] = o.owner
			}
		}
		if o.kind == "snapshot" {
			var live []string
			for h, e := range n.st {
				if e.live && n.g.owner[h] == o.key {
					live = append(live, h)
				}
			}
			sort.Strings(live)
			n.g.snapshot[o.key] = live
		}
		line := fmt.Sprintf("%-12s %-40s -> %s", ch.sc.procs[i].name, o.String(), r.String())
		sub := ch.dfs(n)
		m.total.Add(m.total, sub.total)
		m.bad.Add(m.bad, sub.bad)
		if sub.ex != nil && (m.ex == nil || len(sub.ex)+1 < len(m.ex)) {
			m.ex = append([]string{line}, sub.ex...)
			m.msg = sub.msg
		}
	}
	ch.seen[k] = m
	return m
}

func describe(s store) string {
	ks := make([]string, 0, len(s))
	for k := range s {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	var parts []string
	for _, k := range ks {
		e := s[k]
		switch {
		case e.live:
			parts = append(parts, fmt.Sprintf("%s=live{%s}", k, strings.Join(e.elems, ",")))
		case e.tomb:
			parts = append(parts, k+"=tomb")
		}
	}
	return strings.Join(parts, " ")
}

// ---------------------------------------------------------------- scenarios and properties

func live(s state, h string) bool { return s.st[h].live }

// descendants: hs and every session renewed (transitively) from one of them.
func descendants(s state, hs []string) map[string]bool {
	d := map[string]bool{}
	for _, h := range hs {
		d[h] = true
	}
	for changed := true; changed; {
		changed = false
		for n, p := range s.g.parent {
			if d[p] && !d[n] {
				d[n], changed = true, true
			}
		}
	}
	return d
}

func liveOf(s state, set map[string]bool) []string {
	var out []string
	for h := range set {
		if live(s, h) {
			out = append(out, h)
		}
	}
	sort.Strings(out)
	return out
}

func session(st store, g *ghost, h, u string) {
	st[h] = entry{live: true, elems: []string{"data"}}
	if u != "" {
		g.owner[h] = u
		e := st[index(u)]
		st[index(u)] = entry{live: true, elems: union(e.elems, []string{h})}
	}
}

func p1check(hs ...string) func(state, []string) string {
	return func(s state, _ []string) string {
		var bad []string
		for _, h := range hs {
			if live(s, h) {
				bad = append(bad, h)
			}
		}
		if len(bad) > 0 {
			return "P1 VIOLATED: live after Destroy and Renew completed: " + strings.Join(bad, ",")
		}
		return ""
	}
}

func p3check(root string) func(state, []string) string {
	return func(s state, _ []string) string {
		if l := liveOf(s, descendants(s, []string{root})); len(l) > 0 {
			return "P3 VIOLATED: live descendant of " + root + ": " + strings.Join(l, ",")
		}
		return ""
	}
}

func p2check(u string) func(state, []string) string {
	return func(s state, _ []string) string {
		if l := liveOf(s, descendants(s, s.g.snapshot[u])); len(l) > 0 {
			return fmt.Sprintf("P2 VIOLATED: live after DestroyUser(%s) (snapshot %v): %s", u, s.g.snapshot[u], strings.Join(l, ","))
		}
		return ""
	}
}

func p4check(u string, ns ...string) func(state, []string) string {
	return func(s state, _ []string) string {
		var miss []string
		for _, n := range ns {
			found := false
			for _, x := range s.st[index(u)].elems {
				if x == n {
					found = true
				}
			}
			if !found {
				miss = append(miss, n)
			}
		}
		if len(miss) > 0 {
			return "P4 VIOLATED: missing from " + index(u) + ": " + strings.Join(miss, ",")
		}
		return ""
	}
}

func and(cs ...func(state, []string) string) func(state, []string) string {
	return func(s state, o []string) string {
		for _, c := range cs {
			if m := c(s, o); m != "" {
				return m
			}
		}
		return ""
	}
}

func p5check(ns ...string) func(state, []string) string {
	return func(s state, _ []string) string {
		for _, n := range ns {
			if !live(s, n) {
				return "P5 VIOLATED: an old ID ended a renewal its holder had presented: " + n
			}
		}
		return ""
	}
}

func p6check(h string) func(state, []string) string {
	return func(s state, _ []string) string {
		if _, ok := s.st[h]; ok {
			return "P6 VIOLATED: a Destroy of an ID that never was a session wrote " + h
		}
		return ""
	}
}

// p7check: DestroyOthers racing a Renew of the kept session ends the others and never the renewal.
func p7check(others []string, renewProc int, n string) func(state, []string) string {
	return func(s state, outs []string) string {
		if l := liveOf(s, descendants(s, others)); len(l) > 0 {
			return "P7 VIOLATED: live after DestroyOthers: " + strings.Join(l, ",")
		}
		if outs[renewProc] == "ok" && !live(s, n) {
			return "P7 VIOLATED: DestroyOthers ended the current device's renewal " + n
		}
		return ""
	}
}

func scenarios(v variant) []scenario {
	anon := func(st store, g *ghost) { session(st, g, "h", "") }
	ofU := func(st store, g *ghost) { session(st, g, "h", "u") }
	return []scenario{
		{name: "P1a anonymous h: Renew(h->n) || Destroy(h) || stale delta write to h", init: anon,
			procs: []proc{{name: "Renew", body: renew(v, "h", "n", "")}, {name: "Destroy", body: destroy(v, "h")}, {name: "Stale", body: staleWriter("h")}},
			check: p1check("h", "n")},
		{name: "P1b h of u: Renew(h->n, index) || Destroy(h)", init: ofU,
			procs: []proc{{name: "Renew", body: renew(v, "h", "n", "u")}, {name: "Destroy", body: destroy(v, "h")}},
			check: p1check("h", "n")},
		{name: "P1c anonymous h: Login(u) (h->n) || Destroy(h)", init: anon,
			procs: []proc{{name: "Login", body: renew(v, "h", "n", "u")}, {name: "Destroy", body: destroy(v, "h")}},
			check: p1check("h", "n")},
		{name: "P1d anonymous h: Renew(h->n) then Renew(n->m) || Destroy(h)", init: anon,
			procs: []proc{{name: "Renew2x", body: renewTwice(v, "h", "n", "m", "")}, {name: "Destroy", body: destroy(v, "h")}},
			check: func(s state, outs []string) string {
				// The second Renew's request carried n: it presented n, and an old ID
				// (a Destroy that loaded h already ended) must not end what follows.
				if outs[1] == "ended live" {
					return p1check("h", "n", "m")(s, outs)
				}
				if outs[0] == "1st ok, 2nd ok" {
					return p5check("m")(s, outs)
				}
				return p1check("h")(s, outs)
			}},
		{name: "P1e delayed response: Renew(h->n), then Destroy(h) with the old cookie", init: anon,
			procs: []proc{{name: "Renew", body: renew(v, "h", "n", "")}, {name: "Destroy", body: destroy(v, "h"), after: []int{0}}},
			check: p1check("h", "n")},
		{name: "P1f slow logout: Destroy loaded h live; Renew(h->n), Present(n), n->m, then its commit", init: anon,
			procs: []proc{{name: "Renew2x", body: renewTwice(v, "h", "n", "m", "")}, {name: "Present", body: present("m"), after: []int{0}},
				{name: "Destroy", body: destroyPreloaded(v, "h"), after: []int{1}}},
			check: p1check("h", "n", "m")},
		{name: "P1g slow logout: Destroy loaded h live || Renew(h->n) then Present(n)", init: anon,
			procs: []proc{{name: "Renew", body: renew(v, "h", "n", "")}, {name: "Present", body: present("n"), after: []int{0}},
				{name: "Destroy", body: destroyPreloaded(v, "h")}},
			check: p1check("h", "n")},
		{name: "P2a u:{h1,h2}: [Renew(h1->n1) then Renew(n1->m1)] || Renew(h2->n2) || DestroyUser(u)",
			init:  func(st store, g *ghost) { session(st, g, "h1", "u"); session(st, g, "h2", "u") },
			procs: []proc{{name: "Renew2x", body: renewTwice(v, "h1", "n1", "m1", "u")}, {name: "Renew", body: renew(v, "h2", "n2", "u")}, {name: "DestroyUser", body: destroyUser(v, "u")}},
			check: p2check("u")},
		{name: "P2b u:{h}: Renew(h->n1) || Renew(h->n2) || DestroyUser(u)", init: ofU,
			procs: []proc{{name: "Renew1", body: renew(v, "h", "n1", "u")}, {name: "Renew2", body: renew(v, "h", "n2", "u")}, {name: "DestroyUser", body: destroyUser(v, "u")}},
			check: p2check("u")},
		{name: "P2c u:{h1,h2}: Login(v) on h1 || Renew(h2->n2) || DestroyUser(u)",
			init:  func(st store, g *ghost) { session(st, g, "h1", "u"); session(st, g, "h2", "u") },
			procs: []proc{{name: "LoginOther", body: loginOther(v, "h1", "w", "x")}, {name: "Renew", body: renew(v, "h2", "n2", "u")}, {name: "DestroyUser", body: destroyUser(v, "u")}},
			check: p2check("u")},
		{name: "P2d no index: FirstLogin(u,a) || FirstLogin(u,b), then DestroyUser(u)", init: func(store, *ghost) {},
			procs: []proc{{name: "Login-a", body: firstLogin(v, "u", "a")}, {name: "Login-b", body: firstLogin(v, "u", "b")}, {name: "DestroyUser", body: destroyUser(v, "u"), after: []int{0, 1}}},
			check: p2check("u")},
		{name: "P3a h: Renew(h->n1) || Renew(h->n2) || Destroy(h)", init: anon,
			procs: []proc{{name: "Renew1", body: renew(v, "h", "n1", "")}, {name: "Renew2", body: renew(v, "h", "n2", "")}, {name: "Destroy", body: destroy(v, "h")}},
			check: and(p3check("h"), p1check("h", "n1", "n2"))},
		{name: "P3b h: Renew(h->n1) || Renew(h->n2), then Destroy(h)", init: anon,
			procs: []proc{{name: "Renew1", body: renew(v, "h", "n1", "")}, {name: "Renew2", body: renew(v, "h", "n2", "")}, {name: "Destroy", body: destroy(v, "h"), after: []int{0, 1}}},
			check: and(p3check("h"), p1check("h", "n1", "n2"))},
		{name: "P3c h of u: Renew(h->n1) || Renew(h->n2) || Destroy(h), bound (index writes)", init: ofU,
			procs: []proc{{name: "Renew1", body: renew(v, "h", "n1", "u")}, {name: "Renew2", body: renew(v, "h", "n2", "u")}, {name: "Destroy", body: destroy(v, "h")}},
			check: and(p3check("h"), p1check("h", "n1", "n2"))},
		{name: "P4 no index: FirstLogin(u,a) || FirstLogin(u,b) || FirstLogin(u,c)", init: func(store, *ghost) {},
			procs: []proc{{name: "Login-a", body: firstLogin(v, "u", "a")}, {name: "Login-b", body: firstLogin(v, "u", "b")}, {name: "Login-c", body: firstLogin(v, "u", "c")}},
			check: p4check("u", "a", "b", "c")},
		{name: "P5a planted ID: Login(h->n), Present(n), then Destroy(h) with the planted ID", init: anon,
			procs: []proc{{name: "Login", body: renew(v, "h", "n", "u")}, {name: "Present", body: present("n"), after: []int{0}}, {name: "Destroy", body: destroy(v, "h"), after: []int{1}}},
			check: p5check("n")},
		{name: "P5b planted ID: Login(h->n), Present(n), Renew(n->m) || Destroy(h)", init: anon,
			procs: []proc{{name: "Login", body: renew(v, "h", "n", "u")}, {name: "Renew", body: renew(v, "n", "m", "u"), after: []int{0}}, {name: "Destroy", body: destroy(v, "h"), after: []int{0}}},
			check: func(s state, outs []string) string {
				if outs[1] == "ok" {
					return p5check("m")(s, outs)
				}
				return ""
			}},
		{name: "P6 Destroy(x) of an ID that never was a session", init: anon,
			procs: []proc{{name: "Destroy", body: destroy(v, "x")}},
			check: p6check("x")},
		{name: "P7 u:{h,k}: DestroyOthers(keep h) || Renew(h->n) in another tab",
			init:  func(st store, g *ghost) { session(st, g, "h", "u"); session(st, g, "k", "u") },
			procs: []proc{{name: "Others", body: destroyOthers(v, "u", "h")}, {name: "Renew", body: renew(v, "h", "n", "u")}},
			check: p7check([]string{"k"}, 1, "n")},
		{name: "P8a u:{h}: Renew(h->n), Present(n), then DestroySession(u, h) from an old devices page", init: ofU,
			procs: []proc{{name: "Renew", body: renew(v, "h", "n", "u")}, {name: "Present", body: present("n"), after: []int{0}},
				{name: "Revoke", body: destroySession(v, "u", "h"), after: []int{1}}},
			check: p3check("h")},
		{name: "P8b u:{h}: Renew(h->n) || DestroySession(u, h)", init: ofU,
			procs: []proc{{name: "Renew", body: renew(v, "h", "n", "u")}, {name: "Revoke", body: destroySession(v, "u", "h")}},
			check: p3check("h")},
	}
}

// protocol is the protocol as built; variants weaken it one rule at a time.
var protocol = variant{name: "V1 the protocol: follow by load and presentation, new record before Remove", follow: "causal"}

func variants() []variant {
	with := func(name string, f func(*variant)) variant {
		v := protocol
		v.name = name
		f(&v)
		return v
	}
	return []variant{
		protocol,
		with("V2 follow a renewal only within a time window", func(v *variant) { v.follow = "window" }),
		with("V3 follow only when the Destroy loaded its session live", func(v *variant) { v.follow = "liveOnly" }),
		with("V4 never follow a renewal", func(v *variant) { v.follow = "never" }),
		with("V5 follow every renewal (ignore the presented mark)", func(v *variant) { v.follow = "ignoreMark" }),
		with("V6 new record written after the Remove", func(v *variant) { v.writeLast = true }),
		with("V7 successor a single value by Replace", func(v *variant) { v.succReplace = true }),
		with("V8 index 'merge, else Replace'", func(v *variant) { v.indexMergeElse = true }),
		with("V9 index entry before the successor", func(v *variant) { v.indexBeforeSuc = true }),
		with("V10 DestroyOthers spares only the current handle", func(v *variant) { v.othersNoSucc = true }),
		with("V11 DestroySession looks in the index only", func(v *variant) { v.revokeIndexOny = true }),
	}
}

// verdict is the outcome of one scenario under one variant.
type verdict struct {
	scenario string
	m        memo
	states   int
}

// check explores every scenario under v.
func check(v variant) []verdict {
	var out []verdict
	for _, sc := range scenarios(v) {
		if v.follow == "window" {
			sc.procs = append(sc.procs, proc{name: "Clock", body: tick})
		}
		s := state{st: store{}, hist: make([][]result, len(sc.procs)),
			g: ghost{parent: map[string]string{}, owner: map[string]string{}, snapshot: map[string][]string{}}}
		sc.init(s.st, &s.g)
		ch := &checker{sc: sc, seen: map[string]memo{}}
		out = append(out, verdict{scenario: sc.name, m: ch.dfs(s), states: len(ch.seen)})
	}
	return out
}

func main() {
	verbose := flag.Bool("v", false, "print a counterexample for every failing scenario (default: the first per property)")
	flag.Parse()
	for _, v := range variants() {
		fmt.Printf("== %s\n", v.name)
		printed := map[string]bool{}
		for _, r := range check(v) {
			verdict := "holds"
			if r.m.bad.Sign() > 0 {
				verdict = "FAILS"
			}
			fmt.Printf("  %-5s %-88s schedules=%s violating=%s states=%d\n", verdict, r.scenario, r.m.total, r.m.bad, r.states)
			if r.m.ex != nil && (*verbose || !printed[r.scenario[:2]]) {
				printed[r.scenario[:2]] = true
				fmt.Printf("      shortest counterexample (%d steps):\n", len(r.m.ex))
				for i, t := range r.m.ex {
					fmt.Printf("      %2d. %s\n", i+1, t)
				}
				fmt.Printf("      %s\n", r.m.msg)
			}
		}
	}
}
