// Command benchtable turns the output of the comparison benchmarks into
// Markdown tables (the median of each metric over -count runs) and checks
// the targets that the benchmarks exist to hold, with the ratios from the
// same run.
//
//	cd benchmarks
//	go test -run '^$' -bench . -count 6 . | tee bench.txt
//	go run ./cmd/benchtable bench.txt
//
// It exits 1 when a target is missed, and 2 when the input has no results.
package main

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

var scenarios = []string{"NoCookieUntouched", "CookieUntouched", "CookieRead", "CookieWrite", "CookieReadWrite", "NewSessionWrite", "Destroy", "Renew"}

// floorOf is the raw go-redis floor of each Redis scenario: the round trips
// it needs at the least (see BenchmarkRedisFloor).
var floorOf = map[string][]string{
	"NoCookieUntouched": {"bare"},
	"CookieUntouched":   {"bare"},
	"CookieRead":        {"1GET"},
	"CookieWrite":       {"1EVALSHA"},
	"CookieReadWrite":   {"2"},
	"NewSessionWrite":   {"1EVALSHA"},
	"Destroy":           {"1EVALSHA"},
	"Renew":             {"1EVALSHA", "3"},
}

// result is the medians of one benchmark's metrics.
type result map[string]float64

type key struct {
	group string // Memory, Redis, Bare, RedisFloor, or SQL-<db>
	sc    string // scenario, or the floor's rt
	lib   string
	run   string // serial or parallel
}

var procsSuffix = regexp.MustCompile(`-\d+$`)

func parse(r io.Reader) (map[key]result, string, string) {
	samples := make(map[key]map[string][]float64)
	cpu, redis := "", ""
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if v, ok := strings.CutPrefix(line, "cpu: "); ok {
			cpu = v
			continue
		}
		f := strings.Fields(line)
		if len(f) < 4 || !strings.HasPrefix(f[0], "Benchmark") {
			continue
		}
		name := procsSuffix.ReplaceAllString(strings.TrimPrefix(f[0], "Benchmark"), "")
		parts := strings.Split(name, "/")
		k := key{group: parts[0]}
		for _, p := range parts[1:] {
			n, v, _ := strings.Cut(p, "=")
			switch n {
			case "sc", "rt":
				k.sc = v
			case "lib":
				k.lib = v
			case "run":
				k.run = v
			case "redis":
				redis = v
			case "db":
				k.group = "SQL-" + v
			}
		}
		if k.group == "Bare" {
			k.sc, k.lib = "bare", "bare"
		}
		if k.group == "RedisFloor" {
			k.lib = "floor"
		}
		m := samples[k]
		if m == nil {
			m = make(map[string][]float64)
			samples[k] = m
		}
		for i := 2; i+1 < len(f); i += 2 {
			v, err := strconv.ParseFloat(f[i], 64)
			if err != nil {
				continue
			}
			m[f[i+1]] = append(m[f[i+1]], v)
		}
	}
	out := make(map[key]result, len(samples))
	for k, m := range samples {
		r := make(result, len(m))
		for unit, vs := range m {
			r[unit] = median(vs)
		}
		out[k] = r
	}
	return out, cpu, redis
}

func median(vs []float64) float64 {
	s := append([]float64(nil), vs...)
	sort.Float64s(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

func ns(v float64) string {
	switch {
	case v >= 1e6:
		return fmt.Sprintf("%.2f ms", v/1e6)
	case v >= 1e3:
		return fmt.Sprintf("%.1f µs", v/1e3)
	}
	return fmt.Sprintf("%.0f ns", v)
}

func num(v float64) string {
	if v == float64(int64(v)) {
		return strconv.FormatInt(int64(v), 10)
	}
	return fmt.Sprintf("%.2f", v)
}

type checker struct {
	w      io.Writer
	missed int
	held   int
}

func (c *checker) check(ok bool, format string, args ...any) {
	mark := "holds"
	if ok {
		c.held++
	} else {
		mark = "MISSED"
		c.missed++
	}
	fmt.Fprintf(c.w, "- %s: %s\n", mark, fmt.Sprintf(format, args...))
}

func main() {
	var in io.Reader = os.Stdin
	if len(os.Args) > 1 {
		f, err := os.Open(os.Args[1])
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(2)
		}
		defer f.Close()
		in = f
	}
	res, cpu, redis := parse(in)
	if len(res) == 0 {
		fmt.Fprintln(os.Stderr, "benchtable: no benchmark results in the input")
		os.Exit(2)
	}
	w := os.Stdout
	if cpu != "" {
		fmt.Fprintf(w, "Go's cpu line: %s. Medians over the runs of each benchmark.\n\n", cpu)
	}
	runs := []string{"serial", "parallel"}

	memLibs := []string{"ours", "scs", "gorilla-cookie"}
	fmt.Fprintf(w, "### Memory stores (gorilla: CookieStore, client-side)\n\n")
	table(w, res, "Memory", memLibs, runs, false)
	if b, ok := res[key{"Bare", "bare", "bare", "serial"}]; ok {
		bp := res[key{"Bare", "bare", "bare", "parallel"}]
		fmt.Fprintf(w, "\nFloor, the bare net/http handler: serial %s, %s B/op, %s allocs/op; parallel %s.\n",
			ns(b["ns/op"]), num(b["B/op"]), num(b["allocs/op"]), ns(bp["ns/op"]))
	}

	redisLibs := []string{"ours", "scs", "gorilla"}
	fmt.Fprintf(w, "\n### Redis (redis=%s)\n\n", redis)
	table(w, res, "Redis", redisLibs, runs, true)
	fmt.Fprintf(w, "\nRaw go-redis floors (bare handler + the round trips alone, same client and server):\n\n")
	fmt.Fprintf(w, "| floor | serial | parallel | B/op | allocs/op |\n|---|---:|---:|---:|---:|\n")
	for _, rt := range []string{"1GET", "1HGETALL", "1HGETALL-ID", "1EVALSHA", "1EVALSHA-HASH", "2", "3"} {
		s, ok := res[key{"RedisFloor", rt, "floor", "serial"}]
		if !ok {
			continue
		}
		p := res[key{"RedisFloor", rt, "floor", "parallel"}]
		fmt.Fprintf(w, "| %s | %s | %s | %s | %s |\n", rt, ns(s["ns/op"]), ns(p["ns/op"]), num(s["B/op"]), num(s["allocs/op"]))
	}

	designFloor(w, res, runs)
	cpuTable(w, res, redisLibs, runs)
	for _, db := range sqlDBs {
		sqlTable(w, res, db, runs)
	}

	c := &checker{w: w}
	fmt.Fprintf(w, "\n### Targets\n\n")
	get := func(group, sc, lib, run string) (result, bool) {
		r, ok := res[key{group, sc, lib, run}]
		return r, ok
	}
	floor := func(rt, run string) (result, bool) {
		if rt == "bare" {
			return get("Bare", "bare", "bare", run)
		}
		return get("RedisFloor", rt, "floor", run)
	}
	// Redis round trips.
	for _, sc := range scenarios {
		for _, run := range runs {
			o, ok := get("Redis", sc, "ours", run)
			if !ok {
				continue
			}
			// A Renew writes the successor record before it removes the
			// old ID, which is what keeps it from undoing a concurrent
			// logout: one round trip more than a Renew without it.
			allowed, why := 0.0, ""
			if sc == "Renew" {
				allowed, why = 1, " (at most one more: the successor record)"
			}
			worst, others := "", ""
			for _, l := range redisLibs[1:] {
				if r, ok := get("Redis", sc, l, run); ok {
					others += fmt.Sprintf(", %s %s", l, num(r["rtt/op"]))
					if o["rtt/op"] > r["rtt/op"]+allowed {
						worst += " " + l
					}
				}
			}
			c.check(worst == "", "Redis %s %s: ours %s round trips/op%s%s", sc, run, num(o["rtt/op"]), others, why)
		}
	}
	for _, run := range runs {
		if o, ok := get("Redis", "CookieUntouched", "ours", run); ok {
			c.check(o["cmds/op"] == 0, "Redis CookieUntouched %s: ours sends %s commands (want 0)", run, num(o["cmds/op"]))
		}
		if o, ok := get("Redis", "CookieRead", "ours", run); ok {
			c.check(o["rtt/op"] <= 1, "Redis CookieRead %s with an idle timeout: ours makes %s round trips, the read only (no write)", run, num(o["rtt/op"]))
		}
	}
	// Redis time against the floor and scs.
	floorTarget := map[string]float64{"CookieRead": 1.10, "CookieWrite": 1.15}
	for _, sc := range []string{"CookieRead", "CookieWrite"} {
		for _, run := range runs {
			o, ok := get("Redis", sc, "ours", run)
			if !ok {
				continue
			}
			for _, rt := range floorOf[sc] {
				if f, ok := floor(rt, run); ok {
					r := o["ns/op"] / f["ns/op"]
					c.check(r <= floorTarget[sc], "Redis %s %s: ours %s = %.2fx the %s floor (%s); target <= %.2fx", sc, run, ns(o["ns/op"]), r, rt, ns(f["ns/op"]), floorTarget[sc])
				}
			}
			if s, ok := get("Redis", sc, "scs", run); ok {
				r := o["ns/op"] / s["ns/op"]
				c.check(r <= 0.6, "Redis %s %s: ours %s = %.2fx scs (%s); target <= 0.6x", sc, run, ns(o["ns/op"]), r, ns(s["ns/op"]))
			}
		}
	}
	// Memory time and allocations against scs.
	for _, sc := range []string{"CookieRead", "CookieWrite"} {
		for _, run := range runs {
			o, ok1 := get("Memory", sc, "ours", run)
			s, ok2 := get("Memory", sc, "scs", run)
			if ok1 && ok2 {
				r := o["ns/op"] / s["ns/op"]
				c.check(r <= 0.3, "Memory %s %s: ours %s = %.2fx scs (%s); target <= 0.3x", sc, run, ns(o["ns/op"]), r, ns(s["ns/op"]))
			}
		}
	}
	for _, sc := range scenarios {
		for _, run := range runs {
			o, ok1 := get("Memory", sc, "ours", run)
			s, ok2 := get("Memory", sc, "scs", run)
			if ok1 && ok2 {
				c.check(o["allocs/op"] < s["allocs/op"], "Memory %s %s: ours %s allocs/op, scs %s; target fewer", sc, run, num(o["allocs/op"]), num(s["allocs/op"]))
			}
		}
	}
	for _, db := range sqlDBs {
		checkSQL(c, res, db, runs)
	}
	fmt.Fprintf(w, "\n%d held, %d missed.\n", c.held, c.missed)
	if c.missed > 0 {
		os.Exit(1)
	}
}

// table prints one row per scenario and run, and for each library its
// ns/op, B/op, allocs/op, rtt/op and cmds/op (Redis) and setcookie/op.
func table(w io.Writer, res map[key]result, group string, libs, runs []string, redis bool) {
	fmt.Fprintf(w, "| scenario | run |")
	sep := "|---|---|"
	for _, l := range libs {
		fmt.Fprintf(w, " %s ns/op | B/op | allocs |", l)
		sep += "---:|---:|---:|"
		if redis {
			fmt.Fprintf(w, " rtt | cmds |")
			sep += "---:|---:|"
		}
		fmt.Fprintf(w, " set-cookie |")
		sep += "---:|"
	}
	fmt.Fprintf(w, "\n%s\n", sep)
	for _, sc := range scenarios {
		for _, run := range runs {
			fmt.Fprintf(w, "| %s | %s |", sc, run)
			for _, l := range libs {
				r, ok := res[key{group, sc, l, run}]
				if !ok {
					fmt.Fprintf(w, " n/a | | |")
					if redis {
						fmt.Fprintf(w, " | |")
					}
					fmt.Fprintf(w, " |")
					continue
				}
				fmt.Fprintf(w, " %s | %.0f | %.0f |", ns(r["ns/op"]), r["B/op"], r["allocs/op"])
				if redis {
					fmt.Fprintf(w, " %s | %s |", num(r["rtt/op"]), num(r["cmds/op"]))
				}
				fmt.Fprintf(w, " %s |", num(r["setcookie/op"]))
			}
			fmt.Fprintln(w)
		}
	}
}

// cpuTable prints the Redis time per request of each library:
// redis-us/op from INFO commandstats (the commands the library sent, a
// script with its own calls) and redis-cpu-us/op, the CPU time of the Redis
// process, connection handling included. Parallel runs are what a busy
// server sees: many connections served per turn of its event loop.
func cpuTable(w io.Writer, res map[key]result, libs, runs []string) {
	if _, ok := res[key{"Redis", "CookieRead", "ours", "serial"}]["redis-us/op"]; !ok {
		return
	}
	fmt.Fprintf(w, "\nRedis time per request (µs): commandstats usec of the commands sent / CPU of the redis-server process:\n\n")
	fmt.Fprintf(w, "| scenario | run |")
	sep := "|---|---|"
	for _, l := range libs {
		fmt.Fprintf(w, " %s commands | %s process |", l, l)
		sep += "---:|---:|"
	}
	fmt.Fprintf(w, "\n%s\n", sep)
	for _, sc := range scenarios {
		for _, run := range runs {
			fmt.Fprintf(w, "| %s | %s |", sc, run)
			for _, l := range libs {
				r, ok := res[key{"Redis", sc, l, run}]
				if !ok {
					fmt.Fprintf(w, " n/a | |")
					continue
				}
				fmt.Fprintf(w, " %.2f | %.1f |", r["redis-us/op"], r["redis-cpu-us/op"])
			}
			fmt.Fprintln(w)
		}
	}
	if s, ok := res[key{"RedisFloor", "1GET", "floor", "parallel"}]; ok {
		e := res[key{"RedisFloor", "1EVALSHA", "floor", "parallel"}]
		fmt.Fprintf(w, "\nFloors, parallel: 1GET %.2f / %.1f, 1EVALSHA %.2f / %.1f.\n", s["redis-us/op"], s["redis-cpu-us/op"], e["redis-us/op"], e["redis-cpu-us/op"])
	}
}

// designFloor prints the read against its floors: one GET, and the least
// that a read of this design does (1HGETALL-ID).
func designFloor(w io.Writer, res map[key]result, runs []string) {
	for _, run := range runs {
		o, ok1 := res[key{"Redis", "CookieRead", "ours", run}]
		d, ok2 := res[key{"RedisFloor", "1HGETALL-ID", "floor", run}]
		g, ok3 := res[key{"RedisFloor", "1GET", "floor", run}]
		if !ok1 || !ok2 || !ok3 {
			continue
		}
		fmt.Fprintf(w, "\nCookieRead %s: ours %s = %.2fx the 1HGETALL-ID floor (%s), which is itself %.2fx the 1GET floor (%s).\n",
			run, ns(o["ns/op"]), o["ns/op"]/d["ns/op"], ns(d["ns/op"]), d["ns/op"]/g["ns/op"], ns(g["ns/op"]))
	}
}
